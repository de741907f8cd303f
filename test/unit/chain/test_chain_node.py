"""Parsers of the node status RPC responses, on responses shaped as in facts/opstack.md §2."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from opstack.chain.node import (
    MethodNotFound,
    NodeReport,
    NodeUnreachable,
    hex_quantity,
    parse_block,
    parse_peer_stats,
    parse_sync_status,
    parse_syncing,
    read_node,
)

H = "0x" + "ab" * 32
ZERO = "0x" + "00" * 32


def l1(number: int) -> dict[str, Any]:
    return {"hash": H, "number": number, "parentHash": H, "timestamp": 1_700_000_000 + number}


def l2(number: int) -> dict[str, Any]:
    return {
        "hash": H,
        "number": number,
        "parentHash": H,
        "timestamp": 1_700_000_000 + 2 * number,
        "l1origin": {"hash": H, "number": 100},
        "sequenceNumber": 3,
    }


SYNC_STATUS = {
    "current_l1": l1(100),
    "current_l1_finalized": l1(90),
    "head_l1": l1(104),
    "safe_l1": l1(95),
    "finalized_l1": l1(90),
    "unsafe_l2": l2(5000),
    "safe_l2": l2(4900),
    "finalized_l2": l2(4800),
    "pending_safe_l2": l2(4900),
    "cross_unsafe_l2": l2(5000),
    "local_safe_l2": l2(4900),
}


def test_sync_status_reads_plain_json_numbers() -> None:
    status = parse_sync_status(SYNC_STATUS)
    assert status.unsafe_l2 is not None and status.unsafe_l2.number == 5000
    assert status.safe_l2 is not None and status.safe_l2.number == 4900
    assert status.finalized_l2 is not None and status.finalized_l2.timestamp == 1_700_000_000 + 9600
    assert status.current_l1 is not None and status.current_l1.hash == H
    assert status.l1_lag == 4


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {},
        {"unsafe_l2": {"number": "0x10", "hash": H}},  # hex is geth's spelling, not op-node's
        {"unsafe_l2": {"number": -1}},
        {"unsafe_l2": {"number": True}},
        {"unsafe_l2": "block"},
    ],
)
def test_sync_status_refuses_other_shapes(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_sync_status(bad)


def test_peer_stats() -> None:
    stats = {"connected": 12, "table": 40, "blocksTopic": 10, "blocksTopicV2": 10, "banned": 0, "known": 55}
    assert parse_peer_stats(stats) == 12
    with pytest.raises(ValueError):
        parse_peer_stats({"table": 3})


def test_geth_quantities_and_syncing() -> None:
    assert hex_quantity("0x1a") == 26
    with pytest.raises(ValueError):
        hex_quantity(26)
    with pytest.raises(ValueError):
        hex_quantity("0xzz")
    head = parse_block({"number": "0x10", "hash": H, "timestamp": "0x6553f100"})
    assert (head.number, head.hash, head.timestamp) == (16, H, 0x6553F100)
    assert parse_syncing(False) is False
    assert parse_syncing({"startingBlock": "0x0", "currentBlock": "0x5", "highestBlock": "0x9"}) is True
    with pytest.raises(ValueError):
        parse_syncing(True)


def test_unreachable_endpoint_fails_fast_with_a_reason_and_no_path() -> None:
    # Port 9 on loopback: nothing listens; the URL's path (often an API key) is not in the message.
    report = read_node("http://127.0.0.1:9/secret-key", "http://127.0.0.1:9/secret-key", timeout=0.5)
    assert isinstance(report.geth_error, NodeUnreachable) and isinstance(
        report.op_node_error, NodeUnreachable
    )
    assert report.geth_error.reason == "OpGethUnreachable"
    assert report.op_node_error.reason == "OpNodeUnreachable"
    assert "secret-key" not in str(report.geth_error) and not report.reachable


def test_method_not_found_reason() -> None:
    err = MethodNotFound("OpNode", "optimism_syncStatus", "x")
    assert err.reason == "OpNodeMethodNotFound"
    assert NodeReport(checked_at=datetime.now(UTC)).reachable
