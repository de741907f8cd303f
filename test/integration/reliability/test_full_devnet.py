"""The full sample devnet under the operator's generated role, in a namespace enforcing the `restricted` Pod
Security Standard, then the code paths a devnet that only comes up never takes.

Every component's pods (op-node + op-geth of the sequencer and of both replica pods, op-batcher,
op-proposer, op-challenger) must be admitted and Running; a Pod breaking the standard is refused in the
same namespace (the namespace does enforce it). Then, on the live devnet:
- the network's rollup config switched to an inline document (its ConfigMap is created), changed
  (patched), and switched back to the referenced ConfigMap (deleted);
- the replica given per-pod P2P Services, then scaled from two pods to one (a P2P Service and the PDB go);
- a second OpBatcher and a second OpChallenger, each Ready with its own key, then pointed at the first
  one's key (DuplicateSigner: the Deployment and the StatefulSet go).

The namespace's Secrets (the four signer keys, generated JWT and P2P keys) become evidence for the secrets
scan of test_zz_secrets_and_privilege.py, and its operator's requests for the least-privilege check, which
after this run requires every grant of the role to have been used.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from _fixtures import OperatorFactory
from _reliability import EVIDENCE, NETWORK, NS, OPNODE, SVC, condition, report, scan_logs, wait_for

from opstack.api.v1alpha1 import OP_BATCHER, OP_CHALLENGER, OP_PROPOSER
from opstack.components.keys import address_of, generate_signing_key, parse_signing_key
from opstack.resources.meta import LABEL_INSTANCE, Owner, controlled_by
from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.testing.anvil import Anvil, rpc
from opstack.testing.devnet import (
    ETH,
    L1_CHAIN_ID,
    L2_CHAIN_ID,
    OBJECTS,
    ROLLUP,
    VOLUMES,
    BeaconStub,
    Devnet,
    persistent_volumes,
    secret,
)
from opstack.testing.envtest import ControlPlane
from opstack.testing.l1 import deploy_op_stack

pytestmark = pytest.mark.integration

POD = GVK("", "v1", "Pod")
PV = GVK("", "v1", "PersistentVolume")
CM = GVK("", "v1", "ConfigMap")
PDB = GVK("policy", "v1", "PodDisruptionBudget")
DEPLOYMENT = GVK("apps", "v1", "Deployment")
STATEFULSET = GVK("apps", "v1", "StatefulSet")
KIND_GVK = {
    "optimismnetworks": NETWORK,
    "opnodes": OPNODE,
    "opbatchers": OP_BATCHER.gvk,
    "opproposers": OP_PROPOSER.gvk,
    "opchallengers": OP_CHALLENGER.gvk,
}
# instance label -> pods its workload runs (as in the samples: the replica has two pods)
PODS = {
    "devnet-sequencer": 1,
    "devnet-replica": 2,
    "devnet-batcher": 1,
    "devnet-proposer": 1,
    "devnet-challenger": 1,
}
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}


def ready(client: Client, gvk: GVK, name: str, namespace: str) -> bool:
    return (condition(client.get(gvk, name, namespace), "Ready") or {}).get("status") == "True"


def owned(client: Client, gvk: GVK, namespace: str, owner: dict[str, Any]) -> list[dict[str, Any]]:
    parent = Owner.of(owner)
    return [c for c in client.list_all(gvk, namespace)[0] if controlled_by(c, parent)]


def running_pods(client: Client, namespace: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pod in client.list_all(POD, namespace)[0]:
        if (pod.get("status") or {}).get("phase") == "Running":
            instance = (pod["metadata"].get("labels") or {}).get(LABEL_INSTANCE, "?")
            counts[instance] = counts.get(instance, 0) + 1
    return counts


def test_full_devnet_restricted_and_every_code_path(
    control_plane: ControlPlane,
    admin: Client,
    operators: OperatorFactory,
    namespace: str,
    anvil: Callable[..., Anvil],
) -> None:
    ns = namespace
    admin.patch(NS, ns, {"metadata": {"labels": RESTRICTED}})
    # The namespace enforces the standard: a Pod with no securityContext at all is refused.
    with pytest.raises(errors.Forbidden) as refused:
        admin.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "not-restricted", "namespace": ns},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            }
        )
    assert "violates PodSecurity" in str(refused.value), refused.value

    l1 = anvil(chain_id=L1_CHAIN_ID)
    op_stack = deploy_op_stack(l1.url, l2_chain_id=L2_CHAIN_ID)
    volumes = persistent_volumes(admin, VOLUMES + 1, f"pv-{ns}")  # +1: the second challenger
    figures: dict[str, Any] = {}
    try:
        with BeaconStub() as beacon:
            op = operators([ns], name="devnet", leader_election_id=f"devnet-{ns}")
            wait_for(op.ready, 60, "/readyz")
            devnet = Devnet(admin, ns, op_stack, beacon.url)
            started = time.monotonic()
            devnet.apply()
            for _, plural, name in OBJECTS:
                wait_for(partial(ready, admin, KIND_GVK[plural], name, ns), 180, f"{plural}/{name} Ready")
            figures["devnet_ready_s"] = time.monotonic() - started

            # Every component's pods admitted under `restricted` and Running (kwok runs them).
            wait_for(
                lambda: all(running_pods(admin, ns).get(i, 0) >= n for i, n in PODS.items()),
                120,
                "every component's pods Running",
                explain=lambda: running_pods(admin, ns),
            )
            pods = running_pods(admin, ns)
            refusals = [
                e["message"]
                for e in admin.list_all(GVK("", "v1", "Event"), ns)[0]
                if e.get("reason") == "FailedCreate" and "PodSecurity" in e.get("message", "")
            ]
            assert refusals == [], refusals
            figures["pods_running"] = sum(pods.values())

            figures |= inline_rollup_config(admin, ns)
            figures |= replica_p2p_and_scale_down(admin, ns)
            figures |= duplicate_signers(admin, ns, l1.url)

            scan = scan_logs(op)
            assert scan.escaped == [], scan.escaped
            assert scan.tracebacks_outside_reconcile == [], scan.tracebacks_outside_reconcile
            assert op.alive(), op.tail()
            figures["reconcile_errors"] = scan.reconcile_errors
            EVIDENCE.full_devnet_users.add(op.user)
    finally:
        for name in volumes:
            with contextlib.suppress(errors.NotFound):
                admin.delete(PV, name)
    report("full devnet", **figures)


def inline_rollup_config(admin: Client, ns: str) -> dict[str, float]:
    """configMapRef -> inline (ConfigMap applied) -> changed inline (patched) -> configMapRef (deleted)."""
    network = admin.get(NETWORK, "devnet", ns)

    def published() -> dict[str, Any] | None:
        cms = owned(admin, CM, ns, network)
        return cms[0] if len(cms) == 1 else None

    spec_patch: dict[str, Any] = {"spec": {"rollupConfig": {"configMapRef": None, "inline": ROLLUP}}}
    admin.patch(NETWORK, "devnet", spec_patch, ns)
    t_create = wait_for(published, 60, "the inline rollup config published in a ConfigMap")
    changed = json.dumps({**json.loads(ROLLUP), "max_sequencer_drift": 600})
    admin.patch(NETWORK, "devnet", {"spec": {"rollupConfig": {"inline": changed}}}, ns)
    t_patch = wait_for(
        lambda: (cm := published()) is not None and changed in (cm.get("data") or {}).values(),
        60,
        "the changed inline document in its ConfigMap",
    )
    back = {
        "spec": {
            "rollupConfig": {"inline": None, "configMapRef": {"name": "devnet-rollup", "key": "rollup.json"}}
        }
    }
    admin.patch(NETWORK, "devnet", back, ns)
    t_delete = wait_for(lambda: owned(admin, CM, ns, network) == [], 60, "the published ConfigMap deleted")
    wait_for(lambda: ready(admin, NETWORK, "devnet", ns), 60, "the network Ready again")
    return {"inline_create_s": t_create, "inline_patch_s": t_patch, "inline_delete_s": t_delete}


def replica_p2p_and_scale_down(admin: Client, ns: str) -> dict[str, float]:
    """Per-pod P2P Services for the two replica pods, then one pod: a P2P Service and the PDB go."""
    replica = admin.get(OPNODE, "devnet-replica", ns)

    def p2p_services() -> list[str]:
        return sorted(
            s["metadata"]["name"] for s in owned(admin, SVC, ns, replica) if "-p2p-" in s["metadata"]["name"]
        )

    assert len(owned(admin, PDB, ns, replica)) == 1, "a replica of two pods has a PDB"
    admin.patch(OPNODE, "devnet-replica", {"spec": {"service": {"p2p": {"enabled": True}}}}, ns)
    t_up = wait_for(lambda: len(p2p_services()) == 2, 60, "two P2P Services")
    admin.patch(OPNODE, "devnet-replica", {"spec": {"replicas": 1}}, ns)
    t_down = wait_for(
        lambda: p2p_services() == ["devnet-replica-p2p-0"] and owned(admin, PDB, ns, replica) == [],
        60,
        "one P2P Service and no PDB",
        explain=lambda: (p2p_services(), len(owned(admin, PDB, ns, replica))),
    )
    wait_for(lambda: ready(admin, OPNODE, "devnet-replica", ns), 120, "the replica Ready with one pod")
    return {"p2p_services_s": t_up, "scale_down_s": t_down}


def duplicate_signers(admin: Client, ns: str, l1_url: str) -> dict[str, float]:
    """A second OpBatcher and OpChallenger with keys of their own (Ready, workloads made), then with the first
    ones' keys: refused as DuplicateSigner, their workloads deleted."""
    out: dict[str, float] = {}
    for kind, gvk, workload in (
        ("opbatcher", OP_BATCHER.gvk, DEPLOYMENT),
        ("opchallenger", OP_CHALLENGER.gvk, STATEFULSET),
    ):
        role = kind.removeprefix("op")
        first = admin.get(gvk, f"devnet-{role}", ns)
        key = generate_signing_key()
        rpc(l1_url, "anvil_setBalance", [address_of(parse_signing_key(key)), hex(10 * ETH)])
        admin.create(secret(f"devnet-{role}-2-key", ns, {"private-key": key}))
        second = copy.deepcopy({k: first[k] for k in ("apiVersion", "kind", "spec")})
        second["metadata"] = {"name": f"devnet-{role}-2", "namespace": ns}
        second["spec"]["privateKey"]["secretRef"]["name"] = f"devnet-{role}-2-key"
        admin.create(second)
        out[f"{role}_2_ready_s"] = wait_for(
            partial(ready, admin, gvk, f"devnet-{role}-2", ns), 120, f"{kind} 2 Ready"
        )
        created = admin.get(gvk, f"devnet-{role}-2", ns)
        assert len(owned(admin, workload, ns, created)) == 1
        admin.patch(
            gvk,
            f"devnet-{role}-2",
            {"spec": {"privateKey": {"secretRef": {"name": f"devnet-{role}-key"}}}},
            ns,
        )

        def refused(
            g: GVK = gvk, n: str = f"devnet-{role}-2", obj: dict[str, Any] = created, w: GVK = workload
        ) -> bool:
            signer = condition(admin.get(g, n, ns), "SignerReady") or {}
            return signer.get("reason") == "DuplicateSigner" and owned(admin, w, ns, obj) == []

        out[f"{role}_duplicate_s"] = wait_for(
            refused, 60, f"{kind} 2 refused as a duplicate signer, workload gone"
        )
        assert ready(admin, gvk, f"devnet-{role}", ns), f"the first {kind} keeps its key and stays Ready"
    return out
