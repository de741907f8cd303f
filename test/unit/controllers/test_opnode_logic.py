"""Pure parts of the OpNode controller: child comparison, workload phase, RPC-derived status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opstack.chain.node import BlockRef, GethHead, MethodNotFound, NodeReport, SyncStatus
from opstack.controllers.opnode import (
    node_info_from,
    referenced_secrets,
    syncing_state,
    value_digest,
    workload_condition,
)

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
