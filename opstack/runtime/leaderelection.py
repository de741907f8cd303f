"""Leader election on a coordination.k8s.io/v1 Lease (client-go's `tools/leaderelection` + `LeaseLock`).

One of several replicas of a manager holds the Lease and runs the leader-only runnables (the controllers);
the others stand by and take over when the holder stops renewing or releases the Lease.

Invariants:
- Expiry is judged on the LOCAL monotonic clock: a candidate considers another holder's lease expired only
  when `leaseDurationSeconds` have passed since the candidate itself last SAW the Lease record change, never
  by comparing the Lease's `renewTime` with its own wall clock (clocks of different machines disagree).
- A leader renews every `retry_period`; if no renewal succeeded within `renew_deadline` of the last
  success, it considers the Lease lost, calls `on_stopped_leading` at once and never leads again (the
  manager exits). Because renew_deadline < lease_duration, a leader stops before any candidate could
  consider its Lease expired. The deadline is watched apart from the renew call, so a hung request cannot
  stretch it.
- Writes use optimistic concurrency (the Lease's resourceVersion): two candidates never both win one term.
- A leader takes over with `leaseTransitions` + 1 and a fresh `acquireTime`; a renewal keeps both.
- On a clean stop (`stop()` while leading) with `release_on_cancel` (our default, see below) the Lease is
  released: holder cleared and leaseDurationSeconds 1, so a candidate can take over at once.
- Validation as client-go: lease_duration > renew_deadline > jitter_factor * retry_period, all > 0.
- `leader_election_master_status{name}` is 1 exactly while this process leads.
- `holds_lease()` is true only while leading AND the last successful renewal is younger than the renew
  deadline by the local monotonic clock, which keeps running while the process is stopped (SIGSTOP, a VM
  pause): a leader that wakes up after its lease could have expired knows it at once, before the renew
  thread has had a chance to notice. The manager fences every write of its client with it.

Choices that differ from client-go / controller-runtime (see docs/runtime.md):
- `release_on_cancel` defaults to True (controller-runtime's LeaderElectionReleaseOnCancel defaults to false):
  the issue asks for a successor to take over at once after a clean shutdown.
- Besides client-go's jittered polling (retry_period, jitter 1.2), a candidate WATCHES the Lease: it sees
  changes (and their local time) as they happen, wakes at once when the Lease is released, and schedules its
  next attempt for the moment the observed lease would expire. Takeover after a release is then immediate
  and after a crash within lease_duration (+ one request), also with the default 15 s / 10 s / 2 s. If the
  watch fails, polling alone still works.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from opstack.runtime import errors
from opstack.runtime import metrics as m
from opstack.runtime.gvk import LEASE

log = structlog.get_logger("opstack.runtime.leaderelection")

JITTER_FACTOR = 1.2


def default_identity() -> str:
    """hostname + "_" + a UUID, as controller-runtime names candidates."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def _micro_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class LeaderElectionConfig:
    """Where the Lease lives and how long a term lasts (seconds)."""

    name: str
    namespace: str
    identity: str = field(default_factory=default_identity)
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    release_on_cancel: bool = True
    watch_lease: bool = True

    def validate(self) -> None:
        if not self.name:
            raise ValueError("leader election: the Lease name (leader_election_id) is required")
        if not self.namespace:
            raise ValueError("leader election: the Lease namespace is required (leader_election_namespace)")
        if not self.identity:
            raise ValueError("leader election: identity must not be empty")
        if self.retry_period <= 0 or self.renew_deadline <= 0 or self.lease_duration <= 0:
            raise ValueError("leader election: lease_duration, renew_deadline and retry_period must be > 0")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError(
                f"leader election: lease_duration ({self.lease_duration}s) must be greater than "
                f"renew_deadline ({self.renew_deadline}s)"
            )
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError(
                f"leader election: renew_deadline ({self.renew_deadline}s) must be greater than "
                f"{JITTER_FACTOR} * retry_period ({self.retry_period}s)"
            )
        if self.lease_duration != int(self.lease_duration):
            raise ValueError("leader election: lease_duration must be whole seconds (Lease stores an int)")


def _spec(lease: Mapping[str, Any] | None) -> dict[str, Any]:
    spec = (lease or {}).get("spec") or {}
    return dict(spec)


class LeaderElector:
    """Campaigns for the Lease, renews it while leading, and reports start/stop of leadership.

    `run()` blocks until leadership is lost or `stop()` is called; run it on its own thread.
    """

    def __init__(
        self,
        client: Any,
        config: LeaderElectionConfig,
        *,
        on_started_leading: Callable[[], None],
        on_stopped_leading: Callable[[], None],
        on_new_leader: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        config.validate()
        self.client = client
        self.config = config
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._on_new_leader = on_new_leader
        self._now = monotonic
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._observed: dict[str, Any] | None = None  # the Lease object as last seen
        self._observed_time = 0.0  # local monotonic time the record was last seen to change
        self._reported_leader: str | None = None
        self._last_renew = 0.0
        self._leading = False
        self.lost = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._watch: Any = None
        self._renewer: threading.Thread | None = None
        self._status = m.LEADER_ELECTION_MASTER_STATUS.labels(config.name)
        self._status.set(0)

    # -- public --------------------------------------------------------------------------------------

    @property
    def identity(self) -> str:
        return self.config.identity

    def is_leader(self) -> bool:
        return self._leading

    def holds_lease(self) -> bool:
        """Leading, and renewed within the renew deadline (local monotonic clock): safe to write."""
        return self._leading and not self.lost and self._now() - self._last_renew < self.config.renew_deadline

    def stop(self) -> None:
        """Stop campaigning/renewing; `run()` releases the Lease (if configured) and returns."""
        self._stop.set()
        self._wake.set()
        with contextlib.suppress(Exception):
            if self._watch is not None:
                self._watch.close()

    def run(self) -> None:
        watcher = None
        if self.config.watch_lease:
            watcher = threading.Thread(target=self._watch_loop, name="leader-election-watch", daemon=True)
            watcher.start()
        try:
            if not self._acquire():
                return
            self._last_renew = self._now()  # before leading: holds_lease() must be true from the start
            self._leading = True
            self._status.set(1)
            log.info("became leader", lease=self._lease_ref(), identity=self.identity)
            threading.Thread(target=self._on_started, name="leader-election-started", daemon=True).start()
            self._renew_until_lost()
        finally:
            was_leading = self._leading
            self._leading = False
            self._status.set(0)
            self._stop.set()
            with contextlib.suppress(Exception):
                if self._watch is not None:
                    self._watch.close()
            if was_leading:
                if not self.lost and self.config.release_on_cancel:
                    # A renewal in flight would make our release conflict: let it land first.
                    if self._renewer is not None:
                        self._renewer.join(self.config.renew_deadline)
                    self.release()
                self._on_stopped()

    # -- campaign ------------------------------------------------------------------------------------

    def _acquire(self) -> bool:
        log.info("attempting to acquire leader lease", lease=self._lease_ref(), identity=self.identity)
        while not self._stop.is_set():
            if self._try_acquire_or_renew():
                return True
            self._wake.clear()
            self._wake.wait(self._next_attempt_in())
        return False

    def _next_attempt_in(self) -> float:
        delay = self.config.retry_period * (1.0 + random.random() * JITTER_FACTOR)
        with self._lock:
            spec = _spec(self._observed)
            if self._observed is not None and spec.get("holderIdentity"):
                duration = float(spec.get("leaseDurationSeconds") or self.config.lease_duration)
                until_expiry = self._observed_time + duration - self._now()
                # Try right when the observed lease expires, if that is sooner than the next poll.
                delay = min(delay, max(until_expiry + 0.01, 0.01))
        return delay

    def _renew_until_lost(self) -> None:
        self._last_renew = self._now()
        renewer = threading.Thread(target=self._renew_loop, name="leader-election-renew", daemon=True)
        self._renewer = renewer
        renewer.start()
        # Watch the deadline here, apart from the renew calls, so that a hung request cannot stretch it.
        while not self._stop.is_set():
            overdue = self._now() - self._last_renew - self.config.renew_deadline
            if overdue >= 0:
                self.lost = True
                log.error(
                    "leader election lost: no renewal within the renew deadline",
                    lease=self._lease_ref(),
                    renew_deadline=self.config.renew_deadline,
                )
                return
            self._stop.wait(min(-overdue, self.config.retry_period / 4, 0.25))

    def _renew_loop(self) -> None:
        while not self._stop.is_set():
            if self._try_acquire_or_renew() and not self._stop.is_set():
                self._last_renew = self._now()
            self._stop.wait(self.config.retry_period)

    # -- one attempt ---------------------------------------------------------------------------------

    def _observe(self, lease: Mapping[str, Any] | None) -> None:
        """Record `lease` as seen now; the observed time moves only when the record itself changed."""
        with self._lock:
            if lease is None:
                self._observed = None
                return
            if self._observed is None or _spec(self._observed) != _spec(lease):
                self._observed_time = self._now()
            self._observed = dict(lease)
            holder = _spec(lease).get("holderIdentity") or ""
        if holder and holder != self._reported_leader:
            self._reported_leader = holder
            if holder != self.identity:
                log.info("new leader observed", lease=self._lease_ref(), leader=holder)
            if self._on_new_leader is not None:
                with contextlib.suppress(Exception):
                    self._on_new_leader(holder)

    def _record(self, previous: Mapping[str, Any] | None) -> dict[str, Any]:
        """The spec to write: a renewal keeps acquireTime and leaseTransitions, a takeover bumps them."""
        now = _micro_time(self._wall())
        if previous is None:  # creating the Lease
            spec: dict[str, Any] = {"acquireTime": now, "leaseTransitions": 0}
        else:
            spec = dict(previous)
            if spec.get("holderIdentity") != self.identity:
                spec["acquireTime"] = now
                spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        spec["holderIdentity"] = self.identity
        spec["leaseDurationSeconds"] = int(self.config.lease_duration)
        spec["renewTime"] = now
        return spec

    def _try_acquire_or_renew(self) -> bool:
        try:
            return self._attempt()
        except Exception as exc:
            log.warning("leader election attempt failed", lease=self._lease_ref(), error=str(exc))
            return False

    def _attempt(self) -> bool:
        name, namespace = self.config.name, self.config.namespace
        # Fast path: a leader renews from the record it last wrote, without a GET.
        if self._leading:
            with self._lock:
                observed = self._observed
            if observed is not None and _spec(observed).get("holderIdentity") == self.identity:
                try:
                    updated = self.client.update({**observed, "spec": self._record(_spec(observed))})
                    self._observe(updated)
                    return True
                except Exception as exc:
                    m.LEADER_ELECTION_SLOWPATH.labels(name).inc()
                    log.debug("lease fast-path renewal failed; falling back to GET", error=str(exc))
        try:
            lease = self.client.get(LEASE, name, namespace)
        except errors.NotFound:
            lease = None
        if lease is None:
            body = {
                "apiVersion": LEASE.api_version,
                "kind": LEASE.kind,
                "metadata": {"name": name, "namespace": namespace},
                "spec": self._record(None),
            }
            try:
                created = self.client.create(body)
            except errors.AlreadyExists:
                return False
            self._observe(created)
            return True
        self._observe(lease)
        spec = _spec(lease)
        holder = spec.get("holderIdentity") or ""
        if holder and holder != self.identity:
            duration = float(spec.get("leaseDurationSeconds") or self.config.lease_duration)
            with self._lock:
                valid = self._observed_time + duration > self._now()
            if valid:
                return False
        try:
            updated = self.client.update({**lease, "spec": self._record(spec)})
        except errors.Conflict:
            return False
        self._observe(updated)
        return True

    def release(self) -> bool:
        """Give the Lease up (holder cleared, duration 1 s) if we hold it."""
        with self._lock:
            observed = self._observed
        for attempt in range(2):
            if observed is None or _spec(observed).get("holderIdentity") != self.identity:
                return False
            now = _micro_time(self._wall())
            spec = {
                **_spec(observed),
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "acquireTime": now,
                "renewTime": now,
            }
            try:
                self.client.update({**observed, "spec": spec})
            except errors.Conflict:
                if attempt == 0:  # our view was stale (e.g. a late renewal): look again, once
                    with contextlib.suppress(Exception):
                        observed = self.client.get(LEASE, self.config.name, self.config.namespace)
                        continue
                log.warning(
                    "could not release the leader lease: it changed meanwhile", lease=self._lease_ref()
                )
                return False
            except Exception as exc:
                log.warning("could not release the leader lease", lease=self._lease_ref(), error=str(exc))
                return False
            log.info("released the leader lease", lease=self._lease_ref())
            return True
        return False

    # -- watching the Lease (a standby's fast path) -------------------------------------------------

    def _watch_loop(self) -> None:
        name, namespace = self.config.name, self.config.namespace
        while not self._stop.is_set():
            try:
                try:
                    lease = self.client.get(LEASE, name, namespace)
                    rv = lease["metadata"]["resourceVersion"]
                    self._observe_from_watch(lease)
                except errors.NotFound:
                    page = self.client.list(LEASE, namespace, field_selector=f"metadata.name={name}", limit=1)
                    rv = page["metadata"]["resourceVersion"]
                    self._wake.set()
                self._watch = self.client.watch(
                    LEASE, namespace, resource_version=rv, field_selector=f"metadata.name={name}"
                )
                if self._stop.is_set():
                    self._watch.close()
                    return
                for event in self._watch:
                    if self._stop.is_set():
                        break
                    if event.type in ("ADDED", "MODIFIED"):
                        self._observe_from_watch(event.object)
                    elif event.type == "DELETED":
                        self._observe(None)
                        self._wake.set()
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.debug("lease watch ended; retrying", error=str(exc))
            self._stop.wait(self.config.retry_period)

    def _observe_from_watch(self, lease: Mapping[str, Any]) -> None:
        if self._leading:
            return  # the leader's own writes are tracked by its renewals
        self._observe(lease)
        if not _spec(lease).get("holderIdentity"):
            self._wake.set()  # released: try at once

    def _lease_ref(self) -> str:
        return f"{self.config.namespace}/{self.config.name}"
