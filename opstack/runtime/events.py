"""Kubernetes Events: what an operator's user sees in `kubectl describe` (client-go's `tools/record`).

An `EventRecorder` (one per controller, from `EventBroadcaster.new_recorder`, usually via
`Manager.event_recorder(name)`) turns `event(obj, type, reason, message)` into core/v1 Events. Recording never
blocks the caller and never raises: events go through a bounded queue to one writer thread.

Invariants:
- Identical events (same involved object, type, reason, message, reporting controller) are aggregated:
  the first creates an Event with count 1, repeats PATCH that Event's `count` and `lastTimestamp`; one
  Event object per distinct message, not one per occurrence (client-go's eventLogger). The memory of
  recent Events is an LRU of `cache_size` entries.
- Similar events (same object, type, reason, controller; different messages): once `similar_max` (10) distinct
  messages are seen within `similar_interval` (10 min), further ones are combined into one Event whose message
  reads "(combined from similar events): <latest message>" (client-go's EventAggregator).
- Spam filter: per involved object and reporting controller, a token bucket of burst 25 refilling one token
  every 5 minutes (client-go's defaults); events over the limit are dropped (logged at debug level).
- The queue holds at most 1000 events; when it is full new events are dropped (client-go's
  DropIfChannelFull), so a slow API server can never stall a reconcile.
- Messages longer than 1024 characters are truncated. Callers must never put secrets in reason or message.
- A PATCH that finds the Event gone (expired by the API server's event TTL) creates a new one.
- An Event the API server refuses because its namespace is being deleted (403 Forbidden, cause
  `NamespaceTerminating`: "... because it is being terminated") is dropped at debug level without a traceback,
  as client-go's `recordToSink` gives up on it; every other failure to write is a logged warning.
- Time comes from an injectable clock (wall clock: Events carry timestamps).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol

import structlog

from opstack.runtime import errors
from opstack.runtime.gvk import EVENT, GVK

log = structlog.get_logger("opstack.runtime.events")

EventType = Literal["Normal", "Warning"]
NORMAL: Final = "Normal"
WARNING: Final = "Warning"

MAX_MESSAGE = 1024
QUEUE_SIZE = 1000


class EventClient(Protocol):
    """The part of `Client` that events need."""

    def create(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    def patch(
        self,
        gvk: GVK,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: Literal["merge", "json", "strategic", "apply"] = "merge",
    ) -> dict[str, Any]: ...


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def involved_object_ref(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    ref = {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    return {k: v for k, v in ref.items() if v}


# --- the pure aggregation logic -----------------------------------------------------------------------------


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    first_timestamp: str


@dataclass
class _Similar:
    messages: set[str] = field(default_factory=set)
    last: float = 0.0


@dataclass(frozen=True)
class Decision:
    """What to do with an event: 'create' the Event `event`, or 'patch' the Event `name` with `patch`."""

    action: Literal["create", "patch", "drop"]
    event: dict[str, Any]
    patch: dict[str, Any] | None = None
    key: tuple[str, ...] = ()


class _TokenBucket:
    def __init__(self, burst: int, refill_seconds: float, now: float) -> None:
        self.tokens = float(burst)
        self.burst = burst
        self.refill_seconds = refill_seconds
        self.last = now

    def take(self, now: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + (now - self.last) / self.refill_seconds)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class EventCorrelator:
    """Decides, for each new event, whether to create an Event, patch an earlier one, or drop it.

    Not thread-safe: the broadcaster's single writer thread owns it.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        cache_size: int = 4096,
        spam_burst: int = 25,
        spam_refill_seconds: float = 300.0,
        similar_max: int = 10,
        similar_interval: float = 600.0,
    ) -> None:
        self._clock = clock
        self._cache_size = cache_size
        self._spam_burst = spam_burst
        self._spam_refill = spam_refill_seconds
        self._similar_max = similar_max
        self._similar_interval = similar_interval
        self._seen: OrderedDict[tuple[str, ...], _Seen] = OrderedDict()
        self._similar: OrderedDict[tuple[str, ...], _Similar] = OrderedDict()
        self._spam: OrderedDict[tuple[str, ...], _TokenBucket] = OrderedDict()

    @staticmethod
    def _object_key(event: Mapping[str, Any]) -> tuple[str, ...]:
        ref = event.get("involvedObject") or {}
        return (
            str(event.get("reportingComponent", "")),
            str(event.get("reportingInstance", "")),
            str(ref.get("apiVersion", "")),
            str(ref.get("kind", "")),
            str(ref.get("namespace", "")),
            str(ref.get("name", "")),
            str(ref.get("uid", "")),
        )

    def _lru_put(self, cache: OrderedDict[tuple[str, ...], Any], key: tuple[str, ...], value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > self._cache_size:
            cache.popitem(last=False)

    def correlate(self, event: dict[str, Any]) -> Decision:
        """`event` is a complete new Event (name, namespace, count 1, timestamps); returns what to write."""
        now = self._clock()
        obj_key = self._object_key(event)

        bucket = self._spam.get(obj_key)
        if bucket is None:
            bucket = _TokenBucket(self._spam_burst, self._spam_refill, now)
        self._lru_put(self._spam, obj_key, bucket)
        if not bucket.take(now):
            return Decision("drop", event)

        # Similar events with many different messages collapse into one combined Event.
        similar_key = (*obj_key, str(event.get("type", "")), str(event.get("reason", "")))
        similar = self._similar.get(similar_key)
        if similar is None or now - similar.last > self._similar_interval:
            similar = _Similar()
        similar.messages.add(str(event.get("message", "")))
        similar.last = now
        self._lru_put(self._similar, similar_key, similar)
        if len(similar.messages) > self._similar_max:
            event = {**event, "message": f"(combined from similar events): {event.get('message', '')}"}
            seen_key = (*similar_key, "\x00combined")
        else:
            seen_key = (*similar_key, str(event.get("message", "")))

        seen = self._seen.get(seen_key)
        if seen is None:
            self._lru_put(self._seen, seen_key, self._seen_from(event))
            return Decision("create", event, key=seen_key)
        seen.count += 1
        self._lru_put(self._seen, seen_key, seen)
        merged = {
            **event,
            "metadata": {**event.get("metadata", {}), "name": seen.name, "namespace": seen.namespace},
            "count": seen.count,
            "firstTimestamp": seen.first_timestamp,
        }
        patch = {
            "count": seen.count,
            "lastTimestamp": event.get("lastTimestamp"),
            "message": event["message"],
        }
        return Decision("patch", merged, patch, key=seen_key)

    @staticmethod
    def _seen_from(event: Mapping[str, Any]) -> _Seen:
        meta = event.get("metadata") or {}
        return _Seen(
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "")),
            count=int(event.get("count", 1)),
            first_timestamp=str(event.get("firstTimestamp", "")),
        )

    def renamed(self, key: tuple[str, ...], name: str) -> None:
        """The Event behind `key` was gone and has been created anew as `name`."""
        seen = self._seen.get(key)
        if seen is not None:
            seen.name = name


# --- recorder and broadcaster -------------------------------------------------------------------------------


class EventBroadcaster:
    """Owns the writer thread and the aggregation state shared by the recorders of one manager."""

    def __init__(
        self,
        client: EventClient,
        *,
        reporting_instance: str,
        clock: Callable[[], float] = time.time,
        correlator: EventCorrelator | None = None,
    ) -> None:
        self.client = client
        self.reporting_instance = reporting_instance
        self._clock = clock
        self._correlator = correlator or EventCorrelator(clock=clock)
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(QUEUE_SIZE)
        self._seq = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def now(self) -> float:
        """Wall-clock seconds (Events carry timestamps); injectable for tests."""
        return self._clock()

    def new_recorder(self, reporting_controller: str) -> EventRecorder:
        return EventRecorder(self, reporting_controller)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="event-broadcaster", daemon=True)
                self._thread.start()

    def submit(self, event: dict[str, Any]) -> None:
        if self._stopped:
            return
        self._start()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning("event queue full; dropping event", reason=event.get("reason"))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted event is written (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued (up to `timeout`), then stop the writer thread."""
        self.flush(timeout)
        self._stopped = True
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
            self._thread.join(timeout)

    def new_name(self, involved_name: str) -> str:
        with self._lock:
            self._seq += 1
            return f"{involved_name}.{time.time_ns():x}{self._seq:x}"[:253]

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                self._write(event)
            except Exception as exc:
                if namespace_terminating(exc):
                    log.debug(
                        "event dropped: its namespace is being deleted",
                        reason=(event or {}).get("reason"),
                        namespace=((event or {}).get("metadata") or {}).get("namespace"),
                    )
                else:
                    log.warning("could not write event", exc_info=True, reason=(event or {}).get("reason"))
            finally:
                self._queue.task_done()

    def _write(self, event: dict[str, Any]) -> None:
        decision = self._correlator.correlate(event)
        if decision.action == "drop":
            log.debug("event rate-limited; dropped", reason=event.get("reason"))
            return
        if decision.action == "create":
            self.client.create(decision.event)
            return
        meta = decision.event["metadata"]
        try:
            self.client.patch(EVENT, meta["name"], decision.patch, meta["namespace"], patch_type="merge")
        except Exception as exc:  # the Event expired (TTL) or was deleted: write it anew
            if getattr(exc, "status", None) != 404:
                raise
            fresh = {**decision.event, "metadata": {**meta, "name": self.new_name(meta["name"])}}
            fresh.pop("resourceVersion", None)
            self.client.create(fresh)
            self._correlator.renamed(decision.key, fresh["metadata"]["name"])


def namespace_terminating(exc: BaseException) -> bool:
    """Whether `exc` is the API server refusing a create in a namespace that is being deleted: 403 Forbidden
    with the cause NamespaceTerminating (the NamespaceLifecycle admission plugin's answer)."""
    if not isinstance(exc, errors.Forbidden):
        return False
    return any(c.get("reason") == "NamespaceTerminating" for c in exc.causes) or (
        "because it is being terminated" in exc.message
    )


class EventRecorder:
    """Records Events about objects on behalf of one controller."""

    def __init__(self, broadcaster: EventBroadcaster, reporting_controller: str) -> None:
        self._broadcaster = broadcaster
        self.reporting_controller = reporting_controller

    def event(self, obj: Mapping[str, Any], type_: EventType, reason: str, message: str) -> None:
        """Record that `reason` (UpperCamelCase, e.g. "SecretMissing") happened to `obj`; never raises."""
        if type_ not in (NORMAL, WARNING):
            raise ValueError(f"event type must be 'Normal' or 'Warning', got {type_!r}")
        try:
            self._broadcaster.submit(self.build(obj, type_, reason, message))
        except Exception:
            log.warning("could not record event", exc_info=True, reason=reason)

    def build(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> dict[str, Any]:
        ref = involved_object_ref(obj)
        now = _rfc3339(self._broadcaster.now())
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": self._broadcaster.new_name(str(ref.get("name", "event"))),
                # Events about cluster-scoped objects live in "default", as client-go puts them.
                "namespace": ref.get("namespace") or "default",
            },
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "type": type_,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": self.reporting_controller},
            "reportingComponent": self.reporting_controller,
            "reportingInstance": self._broadcaster.reporting_instance,
        }
