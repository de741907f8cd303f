"""L1 access: the execution JSON-RPC endpoint and the beacon API, with a timeout on every call.

This is the only module (with the rest of `opstack/chain/`) that talks to Ethereum. Inputs and outputs
are plain values and dataclasses; nothing here knows Kubernetes.

Invariants:
- Every request carries a timeout (`L1Client.timeout`, `check_beacon(timeout=...)`); providers never retry
  on their own (web3's default retry loop would turn a closed port into seconds of backoff), so one call
  is one round trip and the caller's requeue is the retry.
- Every failure of a call surfaces as an `EndpointError` subclass with a stable `reason` (CamelCase, usable
  as a condition reason as is): `<Endpoint>Unreachable`, `<Endpoint>Timeout`, `<Endpoint>BadResponse`,
  `<Endpoint>WrongChain`, for the endpoints `L1` and `Beacon`. A contract revert is not an endpoint
  failure: `L1Client.call` returns it as a `CallOutcome`.
- Messages never contain an endpoint URL's path, query or credentials (RPC URLs often embed an API key):
  only `scheme://host[:port]` (see `redact_url`).
- Every call is observed in the `opstack_l1_rpc_*` metrics on the runtime's registry, labelled by method
  only (bounded cardinality).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import requests
from eth_typing import ChecksumAddress
from prometheus_client import Counter, Histogram
from web3 import HTTPProvider, Web3
from web3.beacon import Beacon
from web3.exceptions import (
    BadResponseFormat,
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    ProviderConnectionError,
    RequestTimedOut,
    Web3RPCError,
)

from opstack.runtime.metrics import REGISTRY

DEFAULT_TIMEOUT = 10.0

# --- metrics ---------------------------------------------------------------------------------------------

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

L1_RPC_REQUESTS = Counter(
    "opstack_l1_rpc_requests_total",
    "L1 requests made by the operator (execution JSON-RPC methods and beacon API calls), by method",
    ["method"],
    registry=REGISTRY,
)
L1_RPC_DURATION = Histogram(
    "opstack_l1_rpc_request_duration_seconds",
    "Round-trip latency of L1 requests (failed ones included), by method",
    ["method"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
L1_RPC_ERRORS = Counter(
    "opstack_l1_rpc_errors_total",
    "L1 requests that failed, by method and kind (unreachable, timeout, bad_response, wrong_chain)",
    ["method", "kind"],
    registry=REGISTRY,
)


# --- errors ----------------------------------------------------------------------------------------------


class EndpointError(Exception):
    """A failed request to an L1 endpoint. `reason` is stable and CamelCase (a condition reason)."""

    kind: ClassVar[str] = "Error"
    metric_kind: ClassVar[str] = "error"

    def __init__(self, endpoint: str, method: str, detail: str) -> None:
        self.endpoint = endpoint  # "L1" (execution JSON-RPC) or "Beacon"
        self.method = method
        self.detail = detail
        super().__init__(f"{endpoint} {method}: {detail}")

    @property
    def reason(self) -> str:
        return f"{self.endpoint}{self.kind}"


class EndpointUnreachable(EndpointError):
    """Nothing answered: connection refused, DNS failure, TLS failure, reset."""

    kind = "Unreachable"
    metric_kind = "unreachable"


class EndpointTimeout(EndpointError):
    """No answer within the timeout."""

    kind = "Timeout"
    metric_kind = "timeout"


class BadResponse(EndpointError):
    """An answer that is not what the method promises: an HTTP error status, not JSON, a JSON-RPC error."""

    kind = "BadResponse"
    metric_kind = "bad_response"


class WrongChain(EndpointError):
    """The endpoint serves another chain than the one expected; the message states both numbers."""

    kind = "WrongChain"
    metric_kind = "wrong_chain"

    def __init__(self, endpoint: str, method: str, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            endpoint,
            method,
            f"the endpoint serves chain id {actual}, but chain id {expected} is expected; "
            f"point it at a node of chain {expected} or correct the expected chain id",
        )


# --- helpers ---------------------------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """`scheme://host[:port]` of a URL: what may appear in a message, a log line or a status field."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    return f"{parts.scheme}://{host}{port}" if parts.scheme else "<invalid URL>"


def _scrub(text: str, url: str) -> str:
    """Remove every piece of `url` that could carry a secret (path, query, user info) from `text`."""
    parts = urlsplit(url)
    secrets = [url, url.rstrip("/")]
    if parts.path not in ("", "/"):
        secrets.append(parts.path)
    if parts.query:
        secrets.append(parts.query)
    if parts.username or parts.password:
        secrets.append(parts.netloc)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = exc.__cause__ or exc.__context__
        reason = getattr(exc, "reason", None)  # urllib3's MaxRetryError keeps the real error here
        if isinstance(reason, BaseException):
            inner = reason
        if inner is None:
            break
        exc = inner
    return exc


def classify(endpoint: str, method: str, exc: BaseException, url: str) -> EndpointError:
    """Map an exception from requests/web3 to the typed error a controller turns into a condition."""
    if isinstance(exc, EndpointError):
        return exc
    root = _root_cause(exc)
    detail = _scrub(f"{type(root).__name__}: {root}", url)
    if isinstance(exc, requests.Timeout | RequestTimedOut | TimeoutError):
        return EndpointTimeout(endpoint, method, f"no answer from {redact_url(url)} in time ({detail})")
    if isinstance(exc, requests.ConnectionError | ProviderConnectionError | ConnectionError):
        return EndpointUnreachable(endpoint, method, f"cannot connect to {redact_url(url)} ({detail})")
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return BadResponse(endpoint, method, f"{redact_url(url)} answered HTTP {exc.response.status_code}")
    if isinstance(exc, Web3RPCError):
        return BadResponse(endpoint, method, _scrub(f"JSON-RPC error: {exc.message}", url))
    if isinstance(exc, BadResponseFormat | ValueError | KeyError | TypeError):
        return BadResponse(endpoint, method, f"unexpected answer from {redact_url(url)} ({detail})")
    return BadResponse(endpoint, method, f"request to {redact_url(url)} failed ({detail})")


_T = TypeVar("_T")


@contextlib.contextmanager
def _observed(method: str) -> Iterator[None]:
    L1_RPC_REQUESTS.labels(method).inc()
    start = time.perf_counter()
    try:
        yield
    except EndpointError as err:
        L1_RPC_ERRORS.labels(method, err.metric_kind).inc()
        raise
    finally:
        L1_RPC_DURATION.labels(method).observe(time.perf_counter() - start)


# --- the execution endpoint ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallOutcome:
    """The result of an `eth_call`: return data, or a revert (with its reason when the contract gave one)."""

    data: bytes = b""
    reverted: bool = False
    revert_reason: str | None = None  # decoded Error(string) / Panic / custom error selector

    @property
    def ok(self) -> bool:
        return not self.reverted


class L1Client:
    """One L1 execution endpoint, every request bounded by `timeout` seconds and observed in metrics."""

    endpoint = "L1"

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout
        provider = HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        self.web3 = Web3(provider)

    def __repr__(self) -> str:
        return f"L1Client({redact_url(self.url)})"

    def _request(self, method: str, do: Callable[[], _T]) -> _T:
        with _observed(method):
            try:
                return do()
            except (ContractLogicError, ContractPanicError, ContractCustomError):
                raise
            except Exception as exc:
                raise classify(self.endpoint, method, exc, self.url) from exc

    def chain_id(self) -> int:
        return self._request("eth_chainId", lambda: int(self.web3.eth.chain_id))

    def head(self) -> tuple[int, int]:
        """(number, timestamp) of the latest block."""

        def get() -> tuple[int, int]:
            block = self.web3.eth.get_block("latest")
            return int(block["number"]), int(block["timestamp"])

        return self._request("eth_getBlockByNumber", get)

    def balance(self, address: str) -> int:
        """`eth_getBalance` of `address` at the latest block, in wei."""
        target = Web3.to_checksum_address(address)
        return self._request("eth_getBalance", lambda: int(self.web3.eth.get_balance(target)))

    def code_size(self, address: str) -> int:
        target = Web3.to_checksum_address(address)
        return self._request("eth_getCode", lambda: len(self.web3.eth.get_code(target)))

    def call(self, to: str, data: bytes) -> CallOutcome:
        """`eth_call` at the latest block. A revert is an outcome, not an error."""
        target: ChecksumAddress = Web3.to_checksum_address(to)
        try:
            result = self._request(
                "eth_call", lambda: bytes(self.web3.eth.call({"to": target, "data": data}))
            )
        except ContractPanicError as exc:
            return CallOutcome(reverted=True, revert_reason=str(exc.message))
        except ContractCustomError as exc:
            return CallOutcome(reverted=True, revert_reason=f"custom error {str(exc.data)[:10]}")
        except ContractLogicError as exc:
            return CallOutcome(reverted=True, revert_reason=_revert_reason(exc))
        return CallOutcome(data=result)


def _revert_reason(exc: ContractLogicError) -> str | None:
    """The contract's reason, or None for a bare revert (what a missing function gives)."""
    message = str(exc.message or "")
    data = exc.data if isinstance(exc.data, str) else None
    if data in (None, "", "0x") and message.strip().lower() in ("execution reverted", "execution reverted:"):
        return None
    prefix = "execution reverted: "
    return message[len(prefix) :] if message.startswith(prefix) else message or None


@dataclass(frozen=True)
class L1Status:
    """What a check of the L1 execution endpoint found."""

    chain_id: int
    head_number: int
    head_timestamp: int
    latency_seconds: float  # round trip of eth_chainId
    checked_at: datetime

    @property
    def head_time(self) -> datetime:
        return datetime.fromtimestamp(self.head_timestamp, UTC)


def check_l1(
    client: L1Client, expected_chain_id: int, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> L1Status:
    """eth_chainId must equal `expected_chain_id` (else `WrongChain`); then the head block."""
    start = time.perf_counter()
    actual = client.chain_id()
    latency = time.perf_counter() - start
    if actual != expected_chain_id:
        err = WrongChain(client.endpoint, "eth_chainId", expected_chain_id, actual)
        L1_RPC_ERRORS.labels("eth_chainId", err.metric_kind).inc()
        raise err
    number, timestamp = client.head()
    return L1Status(actual, number, timestamp, latency, now())


# --- the beacon endpoint ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BeaconStatus:
    """What a check of the L1 beacon (consensus layer) API found."""

    version: str  # /eth/v1/node/version, e.g. "Lighthouse/v7.0.1-..."
    genesis_time: int  # /eth/v1/beacon/genesis
    deposit_chain_id: int | None  # /eth/v1/config/deposit_contract; checked only when a chain id is expected
    latency_seconds: float  # round trip of /eth/v1/node/version
    checked_at: datetime


def _beacon_get(
    url: str, method: str, do: Callable[[], dict[str, Any]], parse: Callable[[dict[str, Any]], _T]
) -> _T:
    """One beacon API request; `parse` turns its `data` object into the value (a failure is BadResponse)."""
    with _observed(method):
        try:
            data = do()["data"]
            if not isinstance(data, dict):
                raise TypeError(f"'data' is a {type(data).__name__}, not an object")
            return parse(data)
        except Exception as exc:
            raise classify("Beacon", method, exc, url) from exc


def check_beacon(
    url: str,
    expected_chain_id: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BeaconStatus:
    """The beacon API answers its version and genesis; with `expected_chain_id`, its deposit contract's
    chain id must match (a beacon node of another network is a `WrongChain`)."""
    beacon = Beacon(url.rstrip("/"), request_timeout=timeout)
    start = time.perf_counter()
    version = _beacon_get(url, "beacon_getNodeVersion", beacon.get_version, lambda d: str(d["version"]))
    latency = time.perf_counter() - start
    genesis_time = _beacon_get(url, "beacon_getGenesis", beacon.get_genesis, lambda d: int(d["genesis_time"]))
    deposit_chain_id: int | None = None
    if expected_chain_id is not None:
        method = "beacon_getDepositContract"
        deposit_chain_id = _beacon_get(url, method, beacon.get_deposit_contract, lambda d: int(d["chain_id"]))
        if deposit_chain_id != expected_chain_id:
            err = WrongChain("Beacon", method, expected_chain_id, deposit_chain_id)
            L1_RPC_ERRORS.labels(method, err.metric_kind).inc()
            raise err
    return BeaconStatus(version, genesis_time, deposit_chain_id, latency, now())
