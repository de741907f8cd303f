"""Every pod the builders make satisfies the `restricted` Pod Security Standard (v1.3x), field by field."""

from __future__ import annotations

from typing import Any

import pytest

from opstack.testing.component_scenarios import Scenario, scenarios

SCENARIOS = scenarios()
ALLOWED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def pod_specs(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        o["spec"]["template"]["spec"] for o in scenario.render() if o["kind"] in ("StatefulSet", "Deployment")
    ]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_restricted_pod_security_standard(scenario: Scenario) -> None:
    pods = pod_specs(scenario)
    assert pods
    for pod in pods:
        psc = pod["securityContext"]
        assert psc["runAsNonRoot"] is True
        assert psc["runAsUser"] != 0
        assert psc["seccompProfile"]["type"] in ("RuntimeDefault", "Localhost")
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
        for vol in pod.get("volumes", []):
            kinds = set(vol) - {"name"}
            assert kinds <= ALLOWED_VOLUME_TYPES, vol
        for c in [*pod.get("initContainers", []), *pod["containers"]]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc.get("privileged", False) is False
            assert sc["runAsNonRoot"] is True
            assert sc["readOnlyRootFilesystem"] is True
            assert sc.get("runAsUser", 1) != 0
            assert "seccompProfile" not in sc or sc["seccompProfile"]["type"] in (
                "RuntimeDefault",
                "Localhost",
            )
            assert not any(p.get("hostPort") for p in c.get("ports", []))
            # A read-only root needs a writable /tmp.
            assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"])
