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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _ship import OPERATOR_NAMESPACE, ROOT, SERVICE_ACCOUNT, kubectl

from opstack.runtime.client import Client
from opstack.testing import audit, rbac
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

# The run below deploys the devnet and stops: the grants of rarer code paths (rbac.RARELY_USED,
# each with the code path that needs it) are shown by the reliability suite's full devnet run
# (test/integration/reliability/test_full_devnet.py). Anything else granted but unused fails the test:
# remove it from opstack/controllers/*_rules.py and run `make manifests`.
NOT_EXERCISED = rbac.RARELY_USED


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


def audit_of(plane: ControlPlane, user: str) -> list[dict[str, Any]]:
    return list(audit.entries(plane.audit_log, [user]))


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
    forbidden = rbac.forbidden(entries)
    usage = rbac.used(entries)
    grants = rbac.granted(ROOT / "config" / "rbac")
    print(
        f"\ndevnet Ready {ready:.1f}s after start as {USER}: {len(entries)} requests, {len(forbidden)} 403s"
    )
    for key, n in sorted(usage.items()):
        print(f"  {n:5d} {key[2]:7s} {key[0] or 'core'}/{key[1]}")
    unused = sorted(grants - set(usage) - set(NOT_EXERCISED))
    print("granted but unused: " + rbac.describe(unused))
    assert not forbidden, forbidden
    assert set(usage) <= grants, sorted(set(usage) - grants)  # RBAC's own check, from the other side
    assert not unused, f"the role grants what the operator did not use: {unused}"
    assert set(NOT_EXERCISED) <= grants, sorted(set(NOT_EXERCISED) - grants)  # the list is not stale
