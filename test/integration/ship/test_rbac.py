"""The operator with its own ServiceAccount's credentials deploys the sample devnet with zero 403s, and its
generated role (config/rbac/role.yaml + the leader-election Role) grants nothing it does not use.

The identity is real: a token from the TokenRequest API for ServiceAccount
opstack-system/opstack-controller-manager, bound by config/rbac (applied with config/default), against an API
server that enforces RBAC. The operator runs as a subprocess (`python -m opstack`, leader election on, its
Lease namespace from POD_NAMESPACE as in a Pod), watching the test's namespace only, so that it leaves the
session's other tests alone. What it did is read from the API server's audit log, filtered by the service
account's user name.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from _ship import OPERATOR_NAMESPACE, ROOT, SERVICE_ACCOUNT, kubectl

from opstack.runtime.client import Client
from opstack.testing import audit
from opstack.testing.anvil import Anvil
from opstack.testing.devnet import (
    L1_CHAIN_ID,
    L2_CHAIN_ID,
    OBJECTS,
    VOLUMES,
    BeaconStub,
    Devnet,
    persistent_volumes,
)
from opstack.testing.envtest import ControlPlane, free_port
from opstack.testing.l1 import deploy_op_stack

USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{SERVICE_ACCOUNT}"

# Grants the run below may not exercise (another input, or a race it does not always lose), each with the
# code path that needs it. Anything else granted but unused fails the test: remove it from
# opstack/controllers/*_rules.py and run `make manifests`.
NOT_EXERCISED: dict[tuple[str, str, str], str] = {
    (
        "",
        "configmaps",
        "create",
    ): "OptimismNetwork with an inline rollupConfig/l2Genesis: applies its ConfigMap",
    ("", "configmaps", "patch"): "the same ConfigMap, applied again when the inline document changes",
    ("", "configmaps", "delete"): "the same ConfigMap, deleted when the network switches to a configMapRef",
    ("", "secrets", "get"): "OpNode: creating a generated Secret the cache has not seen yet (AlreadyExists)",
    ("", "events", "patch"): "the Event recorder aggregating a repeated Event (count, lastTimestamp)",
    ("", "services", "delete"): "OpNode: P2P Services of pods removed by a scale-down",
    ("policy", "poddisruptionbudgets", "delete"): "OpNode scaled to one pod: its PDB goes",
    (
        "apps",
        "deployments",
        "delete",
    ): "OpBatcher/OpProposer refused as a duplicate signer: its workload goes",
    ("apps", "statefulsets", "delete"): "OpChallenger refused as a duplicate signer: its workload goes",
    **{
        ("optimism.optimism.io", f"{kind}/finalizers", "update"): (
            "blockOwnerDeletion on children, checked by the OwnerReferencesPermissionEnforcement admission "
            "plugin (on in some distributions, not in a default kube-apiserver)"
        )
        for kind in ("optimismnetworks", "opnodes", "opbatchers", "opproposers", "opchallengers")
    },
}


def token_kubeconfig(plane: ControlPlane, path: Path) -> Path:
    """A kubeconfig with a token from the TokenRequest API for the operator's ServiceAccount."""
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": 3600},
    }
    answer = plane.request(
        "POST",
        f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/serviceaccounts/{SERVICE_ACCOUNT}/token",
        request,
    )
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "envtest",
                "cluster": {
                    "server": plane.server,
                    "certificate-authority-data": base64.b64encode(plane.ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": SERVICE_ACCOUNT, "user": {"token": answer["status"]["token"]}}],
        "contexts": [{"name": "sa", "context": {"cluster": "envtest", "user": SERVICE_ACCOUNT}}],
        "current-context": "sa",
    }
    path.write_text(json.dumps(cfg))
    path.chmod(0o600)
    return path


def granted(files: tuple[str, ...] = ("role.yaml", "leader_election_role.yaml")) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) for every grant of the generated roles."""
    out = set()
    for name in files:
        doc = next(d for d in yaml.safe_load_all((ROOT / "config" / "rbac" / name).read_text()) if d)
        for rule in doc["rules"]:
            assert not rule.get("resourceNames"), rule
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        out.add((group, resource, verb))
    return out


def audit_of(plane: ControlPlane, user: str) -> list[dict[str, Any]]:
    return list(audit.entries(plane.audit_log, [user]))


def used(entries: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    out: Counter[tuple[str, str, str]] = Counter()
    for e in entries:
        ref = e.get("objectRef") or {}
        if not ref.get("resource"):
            continue  # discovery (/api, /apis): no RBAC rule involved
        resource = ref["resource"] + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        key = (ref.get("apiGroup", ""), resource, e["verb"])
        out[key] += 1
        if e["verb"] == "patch" and (e.get("responseStatus") or {}).get("code") == 201:
            # A server-side apply that created the object: the API server authorized it as `create` too
            # (the audit entry names only the request's verb).
            out[(key[0], key[1], "create")] += 1
    return out


@pytest.fixture
def operator_process(
    control_plane: ControlPlane, deployed: dict[str, Any], namespace: str, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    kubeconfig = token_kubeconfig(control_plane, tmp_path / "sa-kubeconfig.json")
    log = tmp_path / "operator.log"
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
        env["POD_NAMESPACE"] = OPERATOR_NAMESPACE  # as the downward API sets it in config/manager
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "opstack",
                    f"--kubeconfig={kubeconfig}",
                    f"--namespace={namespace}",
                    "--leader-elect",
                    "--leader-election-id=opstack-rbac-test",
                    "--metrics-bind-address=0",
                    f"--health-probe-bind-address=127.0.0.1:{free_port()}",
                    "--log-format=json",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
            )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if log.exists():
        print("operator log (tail):\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:]))


def test_operator_with_its_service_account_deploys_the_devnet_with_least_privilege(
    control_plane: ControlPlane,
    namespace: str,
    anvil: Callable[..., Anvil],
    operator_process: Callable[[], subprocess.Popen[bytes]],
) -> None:
    client = Client.from_kubeconfig(str(control_plane.kubeconfig))
    l1 = anvil(chain_id=L1_CHAIN_ID)
    op_stack = deploy_op_stack(l1.url, l2_chain_id=L2_CHAIN_ID)
    volumes = persistent_volumes(client, VOLUMES, f"pv-{namespace}")
    try:
        with BeaconStub() as beacon:
            started = time.monotonic()
            proc = operator_process()
            Devnet(client, namespace, op_stack, beacon.url).apply()
            for _, plural, name in OBJECTS:
                kubectl(
                    control_plane,
                    "-n",
                    namespace,
                    "wait",
                    "--for=condition=Ready",
                    f"{plural}/{name}",
                    "--timeout=180s",
                )
            ready = time.monotonic() - started
            # The steady state that follows (status from pods, balances) uses nothing new; let a few
            # periodic reconciles happen before reading the log.
            time.sleep(3)
            assert proc.poll() is None, "the operator exited"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0, "the operator did not stop cleanly on SIGTERM"
    finally:
        for name in volumes:
            kubectl(control_plane, "delete", "pv", name, "--wait=false", "--ignore-not-found")
        client.close()

    entries = audit_of(control_plane, USER)
    assert entries, f"no audit entry for {USER}"
    forbidden = [e for e in entries if (e.get("responseStatus") or {}).get("code") == 403]
    usage = used(entries)
    grants = granted()
    print(
        f"\ndevnet Ready {ready:.1f}s after start as {USER}: {len(entries)} requests, {len(forbidden)} 403s"
    )
    for key, n in sorted(usage.items()):
        print(f"  {n:5d} {key[2]:7s} {key[0] or 'core'}/{key[1]}")
    unused = sorted(grants - set(usage) - set(NOT_EXERCISED))
    print("granted but unused: " + (", ".join(f"{v} {g or 'core'}/{r}" for g, r, v in unused) or "none"))
    assert not forbidden, [
        (e["verb"], e.get("objectRef"), (e.get("responseStatus") or {}).get("message")) for e in forbidden
    ]
    assert set(usage) <= grants, sorted(set(usage) - grants)  # RBAC's own check, from the other side
    assert not unused, f"the role grants what the operator did not use: {unused}"
    assert set(NOT_EXERCISED) <= grants, sorted(set(NOT_EXERCISED) - grants)  # the list is not stale
