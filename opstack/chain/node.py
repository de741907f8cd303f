"""Status reads from an OpNode's own RPC: op-node (`optimism_syncStatus`, `opp2p_peerStats`,
`optimism_version`) and op-geth (`eth_getBlockByNumber`, `eth_syncing`).

Plain JSON-RPC over HTTP with `requests`: a handful of small calls, no web3 middleware needed.

Invariants:
- Every call carries a short timeout (connect and read) and is made once: no retry loop here, the
  controller's requeue is the retry. An unreachable node costs at most `timeout` per endpoint.
- Failures surface as `NodeRpcError` subclasses with a stable CamelCase `reason` (`<Endpoint>Unreachable`,
  `<Endpoint>Timeout`, `<Endpoint>MethodNotFound`, `<Endpoint>BadResponse`; endpoints `OpNode`, `OpGeth`).
  Messages name the endpoint as `scheme://host[:port]` only.
- Parsers are pure and accept exactly the shapes of facts/opstack.md §2: op-node block refs carry plain JSON
  numbers; geth quantities are 0x-hex. Anything else is a `NodeRpcError` (BadResponse), never a crash.
- Every call is counted in `opstack_node_rpc_requests_total{method}`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
from prometheus_client import Counter

from opstack.chain.l1 import redact_url
from opstack.runtime.metrics import REGISTRY

DEFAULT_TIMEOUT = 2.0

NODE_RPC_REQUESTS = Counter(
    "opstack_node_rpc_requests_total",
    "JSON-RPC requests the operator made to op-node / op-geth for status, by method",
    ["method"],
    registry=REGISTRY,
)

_ids = itertools.count(1)


# --- errors ----------------------------------------------------------------------------------------------


class NodeRpcError(Exception):
    kind: ClassVar[str] = "Error"

    def __init__(self, endpoint: str, method: str, detail: str) -> None:
        self.endpoint = endpoint  # "OpNode" or "OpGeth"
        self.method = method
        self.detail = detail
        super().__init__(f"{endpoint} {method}: {detail}")

    @property
    def reason(self) -> str:
        return f"{self.endpoint}{self.kind}"


class NodeUnreachable(NodeRpcError):
    kind = "Unreachable"


class NodeTimeout(NodeRpcError):
    kind = "Timeout"


class MethodNotFound(NodeRpcError):
    """The endpoint answers JSON-RPC but does not serve the method (e.g. a plain execution client asked
    for optimism_syncStatus)."""

    kind = "MethodNotFound"


class NodeBadResponse(NodeRpcError):
    kind = "BadResponse"


# --- parsers (pure) ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockRef:
    number: int
    hash: str | None = None
    timestamp: int | None = None


@dataclass(frozen=True)
class SyncStatus:
    current_l1: BlockRef | None = None
    head_l1: BlockRef | None = None
    finalized_l1: BlockRef | None = None
    unsafe_l2: BlockRef | None = None
    safe_l2: BlockRef | None = None
    finalized_l2: BlockRef | None = None

    @property
    def l1_lag(self) -> int | None:
        """L1 blocks between the L1 head and where derivation is."""
        if self.head_l1 is None or self.current_l1 is None:
            return None
        return max(0, self.head_l1.number - self.current_l1.number)


@dataclass(frozen=True)
class GethHead:
    number: int
    hash: str | None
    timestamp: int | None


def _plain_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where} is not a non-negative JSON number")
    return value


def hex_quantity(value: Any, where: str = "result") -> int:
    """A JSON-RPC QUANTITY ("0x1a") as an int."""
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise ValueError(f"{where} is not a 0x-hex quantity")
    try:
        return int(value, 16)
    except ValueError:
        raise ValueError(f"{where} is not a 0x-hex quantity") from None


def _block_ref(raw: Any, where: str) -> BlockRef | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} is not an object")
    block_hash = raw.get("hash")
    ts = raw.get("timestamp")
    return BlockRef(
        number=_plain_int(raw.get("number"), f"{where}.number"),
        hash=block_hash if isinstance(block_hash, str) else None,
        timestamp=_plain_int(ts, f"{where}.timestamp") if ts is not None else None,
    )


def parse_sync_status(result: Any) -> SyncStatus:
    """op-node's optimism_syncStatus result (op-service/eth/sync_status.go); ValueError on another shape."""
    if not isinstance(result, Mapping):
        raise ValueError("optimism_syncStatus result is not an object")
    fields = ("current_l1", "head_l1", "finalized_l1", "unsafe_l2", "safe_l2", "finalized_l2")
    if not any(f in result for f in fields):
        raise ValueError("optimism_syncStatus result has none of current_l1, head_l1, unsafe_l2, ...")
    return SyncStatus(**{f: _block_ref(result.get(f), f) for f in fields})


def parse_peer_stats(result: Any) -> int:
    """Connected peers from opp2p_peerStats ({connected, table, blocksTopic, ...})."""
    if not isinstance(result, Mapping):
        raise ValueError("opp2p_peerStats result is not an object")
    return _plain_int(result.get("connected"), "connected")


def parse_syncing(result: Any) -> bool:
    """eth_syncing: false when synced, else an object with startingBlock/currentBlock/highestBlock."""
    if result is False:
        return False
    if isinstance(result, Mapping):
        return True
    raise ValueError("eth_syncing result is neither false nor an object")


def parse_block(result: Any) -> GethHead:
    """eth_getBlockByNumber("latest", false): number, hash and timestamp as 0x-hex."""
    if not isinstance(result, Mapping):
        raise ValueError("eth_getBlockByNumber result is not an object")
    block_hash = result.get("hash")
    ts = result.get("timestamp")
    return GethHead(
        number=hex_quantity(result.get("number"), "number"),
        hash=block_hash if isinstance(block_hash, str) else None,
        timestamp=hex_quantity(ts, "timestamp") if ts is not None else None,
    )


# --- transport -------------------------------------------------------------------------------------------


class JsonRpc:
    """One endpoint; `call` makes one POST with the timeout and returns the result or raises."""

    def __init__(self, url: str, endpoint: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.endpoint = endpoint
        self.timeout = timeout
        self.shown = redact_url(url)

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        NODE_RPC_REQUESTS.labels(method=method).inc()
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params or []}
        try:
            resp = requests.post(self.url, json=body, timeout=(self.timeout, self.timeout))
        except requests.Timeout:
            raise NodeTimeout(
                self.endpoint, method, f"no answer from {self.shown} within {self.timeout:g}s"
            ) from None
        except requests.RequestException as exc:
            raise NodeUnreachable(
                self.endpoint, method, f"cannot connect to {self.shown} ({type(exc).__name__})"
            ) from None
        try:
            doc = resp.json()
        except ValueError:
            raise NodeBadResponse(
                self.endpoint, method, f"{self.shown} answered HTTP {resp.status_code} without JSON"
            ) from None
        if not isinstance(doc, Mapping):
            raise NodeBadResponse(self.endpoint, method, f"{self.shown} answered a non-object")
        error = doc.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, Mapping) else None
            message = str(error.get("message", ""))[:200] if isinstance(error, Mapping) else str(error)[:200]
            if code == -32601:
                raise MethodNotFound(
                    self.endpoint, method, f"{self.shown} does not serve {method} ({message})"
                )
            raise NodeBadResponse(self.endpoint, method, f"{self.shown} answered error {code}: {message}")
        if "result" not in doc:
            raise NodeBadResponse(self.endpoint, method, f"{self.shown} answered without a result")
        return doc["result"]


def _parsed(rpc: JsonRpc, method: str, params: list[Any] | None, parse: Any) -> Any:
    raw = rpc.call(method, params)
    try:
        return parse(raw)
    except ValueError as exc:
        raise NodeBadResponse(rpc.endpoint, method, f"{rpc.shown}: {exc}") from None


# --- one status read ---------------------------------------------------------------------------------------


@dataclass
class NodeReport:
    """What one read of a node found; an endpoint's error is set when it failed."""

    checked_at: datetime
    geth_head: GethHead | None = None
    geth_syncing: bool | None = None
    geth_error: NodeRpcError | None = None
    sync_status: SyncStatus | None = None
    peer_count: int | None = None
    version: str | None = None
    op_node_error: NodeRpcError | None = None

    @property
    def reachable(self) -> bool:
        return self.geth_error is None and self.op_node_error is None


def read_node(
    op_node_url: str,
    geth_url: str | None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    p2p_enabled: bool = True,
) -> NodeReport:
    """Read op-geth's head and syncing state, then op-node's sync status, peers and version. An endpoint's
    first failure stops the reads of that endpoint (so an unreachable one costs one timeout)."""
    report = NodeReport(checked_at=datetime.now(UTC))
    if geth_url is not None:
        geth = JsonRpc(geth_url, "OpGeth", timeout)
        try:
            report.geth_head = _parsed(geth, "eth_getBlockByNumber", ["latest", False], parse_block)
            report.geth_syncing = _parsed(geth, "eth_syncing", None, parse_syncing)
        except NodeRpcError as exc:
            report.geth_error = exc
    node = JsonRpc(op_node_url, "OpNode", timeout)
    try:
        report.sync_status = _parsed(node, "optimism_syncStatus", None, parse_sync_status)
        version = node.call("optimism_version")
        report.version = str(version)[:128] if isinstance(version, str) else None
        if p2p_enabled:
            report.peer_count = _parsed(node, "opp2p_peerStats", None, parse_peer_stats)
    except NodeRpcError as exc:
        report.op_node_error = exc
    return report


__all__ = [
    "BlockRef",
    "GethHead",
    "JsonRpc",
    "MethodNotFound",
    "NodeBadResponse",
    "NodeReport",
    "NodeRpcError",
    "NodeTimeout",
    "NodeUnreachable",
    "SyncStatus",
    "hex_quantity",
    "parse_block",
    "parse_peer_stats",
    "parse_sync_status",
    "parse_syncing",
    "read_node",
]
