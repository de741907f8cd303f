"""`kubectl apply -k config/default` and `helm template` against the real API server.

On the test control plane kwok plays the kubelet: it marks a scheduled Pod Running and Ready without running
its containers, so what is shown here is that the manifests are accepted, the Deployment gets a Pod that is
scheduled onto the (fake) node and reported Ready; the image itself is not run (no container engine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from _ship import OPERATOR_NAMESPACE, ROOT, SERVICE_ACCOUNT, kubectl, objects

from opstack.testing.envtest import KWOK_NODE, ControlPlane

CHART = ROOT / "helm" / "opstack-operator"


def test_kustomize_default_deploys_a_manager_pod_that_becomes_ready(
    control_plane: ControlPlane, deployed: dict[str, Any]
) -> None:
    out = deployed["output"]
    for what in (
        "namespace/opstack-system",
        "customresourcedefinition.apiextensions.k8s.io/opnodes.optimism.optimism.io",
        f"serviceaccount/{SERVICE_ACCOUNT}",
        "clusterrole.rbac.authorization.k8s.io/opstack-manager-role",
        "clusterrolebinding.rbac.authorization.k8s.io/opstack-manager-rolebinding",
        "role.rbac.authorization.k8s.io/opstack-leader-election-role",
        "service/opstack-controller-manager-metrics-service",
        "deployment.apps/opstack-controller-manager",
    ):
        assert what in out, f"{what} not in the apply's output:\n{out}"

    kubectl(
        control_plane,
        "-n",
        OPERATOR_NAMESPACE,
        "wait",
        "--for=condition=Available",
        "deployment/opstack-controller-manager",
        "--timeout=90s",
    )
    kubectl(
        control_plane,
        "-n",
        OPERATOR_NAMESPACE,
        "wait",
        "--for=condition=Ready",
        "pod",
        "-l",
        "control-plane=controller-manager",
        "--timeout=90s",
    )
    pods = json.loads(
        kubectl(
            control_plane,
            "-n",
            OPERATOR_NAMESPACE,
            "get",
            "pods",
            "-l",
            "control-plane=controller-manager",
            "-o",
            "json",
        )
    )["items"]
    (pod,) = pods
    assert pod["spec"]["nodeName"] == KWOK_NODE
    assert pod["spec"]["serviceAccountName"] == SERVICE_ACCOUNT
    (container,) = pod["spec"]["containers"]
    assert "--leader-elect" in container["args"]
    assert container["image"] == "opstack-operator:dev"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    assert sc["readOnlyRootFilesystem"] is True and sc["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    # The namespace enforces the restricted Pod Security Standard and the Pod was admitted under it.
    ns = json.loads(kubectl(control_plane, "get", "namespace", OPERATOR_NAMESPACE, "-o", "json"))
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"

    # A second apply changes nothing (the manifests are stable).
    again = kubectl(control_plane, "apply", "-k", str(ROOT / "config" / "default"))
    changed = [line for line in again.splitlines() if not line.endswith(" unchanged")]
    assert not changed, changed


def test_prometheus_and_network_policy_overlays_build_and_are_accepted(control_plane: ControlPlane) -> None:
    monitor = objects(kubectl(control_plane, "kustomize", str(ROOT / "config" / "prometheus")))
    assert [o["kind"] for o in monitor] == ["ServiceMonitor"]
    assert monitor[0]["spec"]["endpoints"][0]["port"] == "metrics"  # the metrics Service's port name
    policy = kubectl(control_plane, "kustomize", str(ROOT / "config" / "network-policy"))
    out = kubectl(control_plane, "apply", "--dry-run=server", "-f", "-", input=policy)
    assert "networkpolicy.networking.k8s.io/opstack-allow-metrics-traffic" in out


def _template(helm: Path, *args: str) -> str:
    done = subprocess.run(
        [str(helm), "template", "opstack-operator", str(CHART), "--namespace", OPERATOR_NAMESPACE, *args],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_helm_lint_passes(helm: Path) -> None:
    done = subprocess.run([str(helm), "lint", "--strict", str(CHART)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


def test_helm_chart_matches_config(helm: Path) -> None:
    """The chart's CRDs and RBAC rules are those of config/ (`make manifests` keeps them in sync)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "hack" / "helm" / "sync_chart.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    rendered = objects(_template(helm, "--include-crds"))
    role = next(o for o in rendered if o["kind"] == "ClusterRole")
    generated = next(d for d in yaml.safe_load_all((ROOT / "config/rbac/role.yaml").read_text()) if d)
    assert role["rules"] == generated["rules"]
    crds = sorted(o["metadata"]["name"] for o in rendered if o["kind"] == "CustomResourceDefinition")
    assert crds == sorted(
        yaml.safe_load(p.read_text())["metadata"]["name"] for p in (ROOT / "config/crd/bases").glob("*.yaml")
    )


def test_helm_template_is_accepted_by_the_api_server(
    helm: Path, control_plane: ControlPlane, deployed: dict[str, Any], namespace: str
) -> None:
    """Server-side dry run of the chart's output: default values (cluster-wide), and watched namespaces."""
    for args, expect in (
        ((), {"ClusterRoleBinding"}),
        (
            ("--set", f"watchNamespaces={{{namespace}}}", "--set", "leaderElection.enabled=false"),
            {"RoleBinding"},
        ),
    ):
        text = _template(helm, "--include-crds", *args)
        kinds = {o["kind"] for o in objects(text)}
        assert expect <= kinds, kinds
        assert {"Deployment", "ServiceAccount", "ClusterRole", "Service", "CustomResourceDefinition"} <= kinds
        out = kubectl(control_plane, "apply", "--dry-run=server", "-f", "-", input=text)
        assert "deployment.apps/opstack-operator created (server dry run)" in out, out
        deployment = next(o for o in objects(text) if o["kind"] == "Deployment")
        container_args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        if args:
            assert f"--namespace={namespace}" in container_args and "--leader-elect=false" in container_args
        else:
            assert "--leader-elect=true" in container_args
            assert not [a for a in container_args if a.startswith("--namespace")]

    # The ServiceMonitor renders when asked for (its CRD belongs to the Prometheus Operator; not served here).
    text = _template(helm, "--set", "metrics.serviceMonitor.enabled=true")
    assert "ServiceMonitor" in {o["kind"] for o in objects(text)}
    text = _template(helm, "--set", "metrics.enabled=false")
    kinds = {o["kind"] for o in objects(text)}
    assert "Service" not in kinds and "ServiceMonitor" not in kinds
