"""Pure parts of the OpNode controller: child comparison, workload phase, RPC-derived status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from opstack.api.v1alpha1 import OpNodeSpec
from opstack.chain.node import BlockRef, GethHead, MethodNotFound, NodeReport, SyncStatus
from opstack.components.opnode import OpNodeInputs, node_secrets
from opstack.controllers.apply import ChildApplier, ChildRejected
from opstack.controllers.opnode import (
    node_info_from,
    referenced_secrets,
    syncing_state,
    value_digest,
    workload_condition,
)
from opstack.resources.opnode import opnode_statefulset
from opstack.runtime import errors
from opstack.testing.component_scenarios import devnet_network, owner_of

H = "0x" + "ab" * 32


def pod(
    name: str, *, ready: bool = False, waiting: str | None = None, unscheduled: bool = False
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": "Running" if ready else "Pending", "conditions": []}
    if unscheduled:
        status["conditions"].append(
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "no volume"}
        )
    if waiting:
        status["containerStatuses"] = [{"name": "op-geth", "state": {"waiting": {"reason": waiting}}}]
    return {"metadata": {"name": name}, "status": status}


def workload(ready: int, replicas: int, updated: int | None = None) -> dict[str, Any]:
    return {
        "metadata": {"generation": 2},
        "status": {
            "observedGeneration": 2,
            "replicas": replicas,
            "readyReplicas": ready,
            "updatedReplicas": replicas if updated is None else updated,
        },
    }


def test_workload_phases() -> None:
    cond, phase = workload_condition(None, [], 1)
    assert (cond.reason, phase) == ("NotCreated", "Pending")
    cond, phase = workload_condition(workload(0, 1), [pod("n-0", unscheduled=True)], 1)
    assert (cond.reason, phase) == ("PodsUnscheduled", "Pending") and "no volume" in cond.message
    cond, phase = workload_condition(workload(0, 1), [pod("n-0")], 1)
    assert (cond.reason, phase) == ("PodsStarting", "Initializing")
    cond, phase = workload_condition(workload(0, 1), [pod("n-0", waiting="CrashLoopBackOff")], 1)
    assert (cond.reason, phase) == ("PodFailing", "Error")
    cond, phase = workload_condition(
        workload(1, 2), [pod("n-0", ready=True), pod("n-1", waiting="ErrImagePull")], 2
    )
    assert (cond.reason, phase) == ("PodFailing", "Degraded")
    cond, phase = workload_condition(workload(1, 2, updated=1), [pod("n-0", ready=True), pod("n-1")], 2)
    assert (cond.reason, phase) == ("RolloutInProgress", "Degraded")
    cond, phase = workload_condition(workload(2, 2), [pod("n-0", ready=True), pod("n-1", ready=True)], 2)
    assert (cond.status, cond.reason, phase) == ("True", "AllReplicasReady", "Running")
    cond, phase = workload_condition(workload(0, 0), [], 0)
    assert (cond.reason, phase) == ("ScaledToZero", "Pending")


def report(**kw: Any) -> NodeReport:
    return NodeReport(checked_at=datetime(2026, 1, 1, tzinfo=UTC), **kw)


def test_syncing_from_geth_and_derivation_lag() -> None:
    status = SyncStatus(current_l1=BlockRef(100), head_l1=BlockRef(150))
    assert syncing_state(report(geth_syncing=True), 20) == (
        True,
        "op-geth reports it is syncing (eth_syncing)",
    )
    syncing = syncing_state(report(geth_syncing=False, sync_status=status), 20)
    assert syncing is not None and syncing[0] is True and "20 L1 blocks" in syncing[1]
    caught_up = syncing_state(report(geth_syncing=False, sync_status=status), 100)
    assert caught_up is not None and caught_up[0] is False
    assert syncing_state(report(), 20) is None
    # Messages hold no moving numbers: the same judgement at another height reads the same.
    later = SyncStatus(current_l1=BlockRef(200), head_l1=BlockRef(260))
    assert syncing_state(report(geth_syncing=False, sync_status=later), 20) == syncing


def test_node_info_from_a_partial_read() -> None:
    err = MethodNotFound("OpNode", "optimism_syncStatus", "no")
    info = node_info_from(
        report(geth_head=GethHead(7, H, 1_700_000_000), geth_syncing=False, op_node_error=err)
    )
    assert info == {
        "chainHead": {"blockNumber": 7, "blockHash": H, "timestamp": "2023-11-14T22:13:20Z"},
        "syncing": False,
    }
    full = node_info_from(
        report(
            sync_status=SyncStatus(unsafe_l2=BlockRef(10, H, 5), safe_l2=BlockRef(8)),
            peer_count=3,
            version="v1.13.5",
        )
    )
    assert full["syncStatus"]["unsafeL2"]["number"] == 10 and full["peerCount"] == 3
    assert full["engineConnected"] is True and full["version"] == "v1.13.5"


def test_referenced_secrets_and_digests() -> None:
    node = {
        "metadata": {"namespace": "ns"},
        "spec": {
            "opNode": {
                "engine": {"jwtSecret": {"generate": True}},
                "p2p": {"privateKey": {"secretRef": {"name": "p2p", "key": "k"}}},
                "sequencer": {"signingKey": {"name": "signer", "key": "k"}},
            }
        },
    }
    assert referenced_secrets(node) == ["ns/p2p", "ns/signer"]
    assert referenced_secrets({"metadata": {}, "spec": "junk"}) == []
    d = value_digest("Secret", "a", "k", b"value")
    assert d != value_digest("Secret", "a", "k", b"other") and "value" not in d


# The spec of OpNode gen-0014 as the API server stored it in the bad-input run
# OPSTACK_BAD_INPUT_SEED=721330024 (test/integration/reliability/test_bad_input.py): "-1" is a quantity,
# so the schema admits it, but the StatefulSet's volume claim made from it is refused (422), which used to
# escape the reconciler on every retry.
REFUSED_STORAGE_SPEC: dict[str, Any] = {
    "images": {"pullPolicy": "IfNotPresent"},
    "nodeType": "replica",
    "opGeth": {
        "dataDir": "/data/geth",
        "gcMode": "full",
        "metrics": {"port": 6060},
        "networking": {
            "authrpc": {"port": 8551},
            "http": {"apis": ["eth", "net", "web3"], "enabled": True, "port": 8545, "vhosts": ["*"]},
            "p2p": {"maxPeers": 50, "port": 30303},
            "ws": {"enabled": False, "port": 8546},
        },
        "rollup": {"computePendingBlock": False},
        "storage": {"accessMode": "ReadWriteOnce", "size": "-1"},
        "syncMode": "full",
    },
    "opNode": {
        "engine": {},
        "metrics": {"port": 7300},
        "p2p": {
            "discovery": {"allowOnSequencer": False},
            "enabled": True,
            "listenPort": 9222,
            "peerScoring": {"banPeers": True, "enabled": True},
            "peersHi": 30,
            "peersLo": 20,
        },
        "rpc": {"port": 9545},
        "safeDB": False,
        "syncMode": "consensus-layer",
        "verifierL1Confs": 0,
    },
    "optimismNetworkRef": {"name": "devnet"},
    "replicas": 0,
    "service": {"p2p": {"enabled": False, "type": "NodePort"}, "type": "ClusterIP"},
}


def test_a_child_the_api_server_refuses_becomes_a_configuration_condition() -> None:
    spec = OpNodeSpec.model_validate(REFUSED_STORAGE_SPEC)  # admitted: the controller must judge it
    owner = owner_of(
        {
            "apiVersion": "optimism.optimism.io/v1alpha1",
            "kind": "OpNode",
            "metadata": {"name": "gen-0014", "namespace": "ns", "uid": "u-1"},
            "spec": REFUSED_STORAGE_SPEC,
        }
    )
    sts = opnode_statefulset(
        owner, spec, devnet_network(), OpNodeInputs(secrets=node_secrets(owner.name, spec))
    )
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "-1"
    refusal = errors.Invalid(
        'StatefulSet.apps "gen-0014" is invalid: spec.volumeClaimTemplates[0].spec.resources[storage]: '
        'Invalid value: "-1": must be greater than zero'
    )

    class Refusing:
        def apply(self, obj: dict[str, Any], **_: Any) -> dict[str, Any]:
            raise refusal

    applier = ChildApplier(Refusing(), "fm")
    with pytest.raises(ChildRejected) as caught:
        applier.apply(owner, sts, None)
    assert caught.value.reason == "ChildRejected"
    assert "StatefulSet gen-0014" in str(caught.value)
    assert 'resources[storage]: Invalid value: "-1": must be greater than zero' in str(caught.value)
    refusal.message = "x" * 100_000
    with pytest.raises(ChildRejected) as long:
        applier.apply(owner, sts, None)
    assert len(str(long.value)) < 2048  # a condition message has a bounded length (the CRD allows 32768)
