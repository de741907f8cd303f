"""What a reconciler is given and what it answers: `Request`, `Result`, `TerminalError`, `Reconciler`.

Invariants:
- A `Request` names one object by namespace and name ("" namespace for cluster-scoped kinds); it is hashable
  and is the work queue's key, so one object is never reconciled by two workers at once.
- Outcomes (applied by the controller, as controller-runtime's `reconcileHandler` does):
  an exception -> rate-limited requeue; a `TerminalError` (raised, or the `__cause__` of what was raised) ->
  no requeue, counted; `Result(requeue_after=d)` with d > 0 -> forget failures, re-add after d seconds;
  `Result(requeue=True)` (deprecated, as in controller-runtime) -> rate-limited requeue; anything else ->
  success, failures forgotten.
- `ReconcileContext` (from `current()`) is set for the duration of one reconcile on the worker's thread.
  Python threads cannot be cancelled, so a reconcile timeout is cooperative, like Go's context deadline: a
  reconciler may call `current().check()` (raises `ReconcileTimeout` when the deadline passed or the manager
  stops) or read `remaining()`; a reconcile that overruns its deadline is counted as a timeout and treated
  as an error.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable


class Request(NamedTuple):
    """The object to reconcile."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @classmethod
    def for_object(cls, obj: dict[str, object]) -> Request:
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            raise ValueError("object has no metadata")
        return cls(str(meta.get("namespace") or ""), str(meta["name"]))


@dataclass(frozen=True)
class Result:
    """What the reconciler asks for next.

    requeue_after: seconds after which to reconcile again (> 0), e.g. to poll something no watch can see.
    requeue: deprecated (as in controller-runtime): requeue with the rate limiter's backoff. Prefer
        `requeue_after`, or raise an exception for a failure.
    """

    requeue_after: float = 0.0
    requeue: bool = False

    def __post_init__(self) -> None:
        if self.requeue_after < 0:
            raise ValueError(f"Result.requeue_after must be >= 0 seconds, got {self.requeue_after}")


class TerminalError(Exception):
    """An error that retrying cannot fix (e.g. invalid user input): logged and counted, never requeued.

    `raise TerminalError("spec.replicas must be positive")`, or wrap: `raise TerminalError(str(e)) from e`.
    """


def is_terminal(exc: BaseException) -> bool:
    """True if `exc` is a TerminalError or was raised `from` one (Go's errors.Is over the wrap chain)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, TerminalError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__
    return False


@runtime_checkable
class Reconciler(Protocol):
    """Drives the object named by `request` towards its desired state. Must be safe to call concurrently for
    different requests; the runtime never calls it concurrently for the same request."""

    def reconcile(self, request: Request) -> Result: ...


class ReconcileTimeout(Exception):
    """The reconcile's deadline passed (or the manager is stopping): counted as a timeout, requeued."""


@dataclass
class ReconcileContext:
    """Per-reconcile facts a reconciler may consult (Go's `ctx`)."""

    controller: str
    request: Request
    reconcile_id: str
    deadline: float | None = None  # time.monotonic() seconds
    stopping: threading.Event = field(default_factory=threading.Event)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def check(self) -> None:
        """Raise `ReconcileTimeout` if the deadline passed or the controller is stopping."""
        if self.expired():
            raise ReconcileTimeout(f"reconcile of {self.request} exceeded its deadline")
        if self.stopping.is_set():
            raise ReconcileTimeout(f"reconcile of {self.request} cancelled: controller stopping")


_CURRENT: contextvars.ContextVar[ReconcileContext | None] = contextvars.ContextVar(
    "opstack_reconcile_context", default=None
)


def current() -> ReconcileContext | None:
    """The context of the reconcile running on this thread, if any."""
    return _CURRENT.get()


def _set_current(ctx: ReconcileContext | None) -> contextvars.Token[ReconcileContext | None]:
    return _CURRENT.set(ctx)


def _reset_current(token: contextvars.Token[ReconcileContext | None]) -> None:
    _CURRENT.reset(token)
