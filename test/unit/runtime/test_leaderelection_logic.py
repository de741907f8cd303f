"""Leader-election decisions, one attempt at a time, with injected clocks.

The Lease store here is an in-memory fake with resourceVersion semantics (pure logic); the real API server
path is covered by test/integration/runtime/test_manager_processes.py.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import pytest

from opstack.runtime import errors
from opstack.runtime.gvk import GVK
from opstack.runtime.leaderelection import LeaderElectionConfig, LeaderElector


class LeaseStore:
    def __init__(self) -> None:
        self.obj: dict[str, Any] | None = None
        self.rv = 0
        self.fail = False

    def _check(self) -> None:
        if self.fail:
            raise errors.ApiError("down", status=500)

    def get(self, gvk: GVK, name: str, namespace: str | None = None) -> dict[str, Any]:
        self._check()
        if self.obj is None:
            raise errors.NotFound("not found")
        return copy.deepcopy(self.obj)

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        self._check()
        if self.obj is not None:
            raise errors.AlreadyExists("exists")
        self.rv += 1
        self.obj = copy.deepcopy(obj)
        self.obj["metadata"]["resourceVersion"] = str(self.rv)
        return copy.deepcopy(self.obj)

    def update(self, obj: dict[str, Any]) -> dict[str, Any]:
        self._check()
        assert self.obj is not None
        if obj["metadata"].get("resourceVersion") != self.obj["metadata"]["resourceVersion"]:
            raise errors.Conflict("conflict")
        self.rv += 1
        self.obj = copy.deepcopy(obj)
        self.obj["metadata"]["resourceVersion"] = str(self.rv)
        return copy.deepcopy(self.obj)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def elector(store: LeaseStore, clock: Clock, identity: str, wall: Clock | None = None) -> LeaderElector:
    cfg = LeaderElectionConfig(name="lock", namespace="ns", identity=identity, watch_lease=False)
    return LeaderElector(
        store,
        cfg,
        on_started_leading=lambda: None,
        on_stopped_leading=lambda: None,
        monotonic=clock,
        wall_clock=wall or Clock(),
    )


def spec(store: LeaseStore) -> dict[str, Any]:
    assert store.obj is not None
    return dict(store.obj["spec"])


def test_first_candidate_creates_the_lease() -> None:
    store, clock = LeaseStore(), Clock()
    a = elector(store, clock, "a")
    assert a._attempt()
    s = spec(store)
    assert s["holderIdentity"] == "a" and s["leaseDurationSeconds"] == 15 and s["leaseTransitions"] == 0
    assert s["acquireTime"] == s["renewTime"]


def test_valid_lease_is_not_taken_and_expiry_uses_the_local_observation_time() -> None:
    store, ca, cb = LeaseStore(), Clock(), Clock()
    a, b = elector(store, ca, "a"), elector(store, cb, "b")
    assert a._attempt()
    assert not b._attempt()  # b sees the record for the first time: the lease runs from now, b's clock
    cb.t += 14.9
    assert not b._attempt()  # record unchanged, but 15 s have not passed since b saw it change
    # The holder's own renewTime is irrelevant: even a renewTime far in the past does not make it expire.
    assert store.obj is not None
    store.obj["spec"]["renewTime"] = "2000-01-01T00:00:00.000000Z"
    store.rv += 1
    store.obj["metadata"]["resourceVersion"] = str(store.rv)
    cb.t += 0.2
    assert not b._attempt()  # the record changed: b's observation time restarts
    cb.t += 15.01
    assert b._attempt()  # no change seen for > 15 s: expired
    s = spec(store)
    assert s["holderIdentity"] == "b" and s["leaseTransitions"] == 1


def test_renewal_keeps_acquire_time_and_transitions() -> None:
    store, clock, wall = LeaseStore(), Clock(), Clock()
    a = elector(store, clock, "a", wall)
    assert a._attempt()
    first = spec(store)
    a._leading = True
    wall.t += 2
    assert a._attempt()
    s = spec(store)
    assert s["acquireTime"] == first["acquireTime"] and s["leaseTransitions"] == 0
    assert s["renewTime"] != first["renewTime"]


def test_release_lets_a_candidate_take_over_at_once() -> None:
    store, ca, cb = LeaseStore(), Clock(), Clock()
    a, b = elector(store, ca, "a"), elector(store, cb, "b")
    assert a._attempt()
    assert not b._attempt()
    assert a.release()
    s = spec(store)
    assert s["holderIdentity"] == "" and s["leaseDurationSeconds"] == 1
    assert b._attempt()  # no waiting: nobody holds it
    assert spec(store)["holderIdentity"] == "b"
    assert not a.release()  # not ours any more


def test_conflicting_writers_never_both_win() -> None:
    store, ca, cb = LeaseStore(), Clock(), Clock()
    a, b = elector(store, ca, "a"), elector(store, cb, "b")
    assert a._attempt()
    a.release()
    # both read the released lease, then write: the second write conflicts
    lease = store.get(GVK("", "", ""), "lock")
    wins = []
    for e in (a, b):
        try:
            store.update({**lease, "spec": e._record(lease["spec"])})
            wins.append(e.identity)
        except errors.Conflict:
            pass
    assert wins == ["a"]


def test_errors_count_as_failed_attempts() -> None:
    store, clock = LeaseStore(), Clock()
    a = elector(store, clock, "a")
    store.fail = True
    assert not a._try_acquire_or_renew()


@pytest.mark.parametrize(
    ("lease", "renew", "retry", "message"),
    [
        (10, 10, 2, "greater than renew_deadline"),
        (15, 2, 2, r"1\.2 \* retry_period"),
        (15, 10, 0, "must be > 0"),
        (15.5, 10, 2, "whole seconds"),
    ],
)
def test_validation(lease: float, renew: float, retry: float, message: str) -> None:
    cfg = LeaderElectionConfig("lock", "ns", lease_duration=lease, renew_deadline=renew, retry_period=retry)
    with pytest.raises(ValueError, match=message):
        cfg.validate()


def test_defaults() -> None:
    cfg = LeaderElectionConfig("lock", "ns")
    assert (cfg.lease_duration, cfg.renew_deadline, cfg.retry_period) == (15.0, 10.0, 2.0)
    assert "_" in cfg.identity


def test_release_after_a_late_renewal_retries_with_a_fresh_view() -> None:
    store, ca, cb = LeaseStore(), Clock(), Clock()
    a, b = elector(store, ca, "a"), elector(store, cb, "b")
    assert a._attempt()
    stale = a._observed
    a._leading = True
    assert a._attempt()  # a renewal a's release did not see
    a._observed = stale
    assert a.release()
    assert spec(store)["holderIdentity"] == ""
    assert b._attempt()


class FlakyStore(LeaseStore):
    """Requests either fail at once or hang (never answer) once `mode` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.mode = ""
        self.release_hang = threading.Event()

    def _check(self) -> None:
        if self.mode == "errors":
            raise errors.TransportError("connection refused")
        if self.mode == "hangs":
            self.release_hang.wait(30)


@pytest.mark.parametrize("mode", ["errors", "hangs"])
def test_leader_gives_up_within_the_renew_deadline_even_if_a_request_hangs(mode: str) -> None:
    store = FlakyStore()
    started, stopped = threading.Event(), threading.Event()
    cfg = LeaderElectionConfig(
        "lock", "ns", identity="a", lease_duration=1, renew_deadline=0.5, retry_period=0.1, watch_lease=False
    )
    e = LeaderElector(store, cfg, on_started_leading=started.set, on_stopped_leading=stopped.set)
    t = threading.Thread(target=e.run, daemon=True)
    t.start()
    assert started.wait(5) and e.is_leader()
    store.mode = mode
    failing_since = time.monotonic()
    assert stopped.wait(5)
    took = time.monotonic() - failing_since
    assert e.lost and not e.is_leader()
    assert took <= cfg.renew_deadline + 0.3, took  # never later than the deadline after the last success
    store.release_hang.set()
    t.join(5)


def test_holds_lease_only_while_renewals_are_younger_than_the_renew_deadline() -> None:
    """A leader stopped (SIGSTOP) past its renew deadline knows on waking, before its renew thread runs."""
    store, clock = LeaseStore(), Clock()
    a = elector(store, clock, "a")
    assert not a.holds_lease(), "not leading yet"
    assert a._try_acquire_or_renew()
    a._leading = True
    a._last_renew = clock.t
    assert a.holds_lease()
    clock.t += a.config.renew_deadline - 0.01
    assert a.holds_lease()
    clock.t += 0.02  # the monotonic clock ran on while the process was stopped
    assert not a.holds_lease()


def test_manager_fence_refuses_writes_without_the_lease_but_lets_lease_requests_through() -> None:
    from opstack.runtime.manager import Manager

    class NoClient:
        host = "https://127.0.0.1:1"

    mgr = Manager(
        NoClient(),  # type: ignore[arg-type]
        cache=object(),  # type: ignore[arg-type]
        leader_election=True,
        leader_election_id="lock",
        leader_election_namespace="ns",
    )
    store, clock = LeaseStore(), Clock()
    mgr._elector = elector(store, clock, "a")
    with pytest.raises(errors.LeadershipLost, match="no longer holds the leader Lease lock"):
        mgr._fence_writes("PATCH", "/apis/apps/v1/namespaces/x/statefulsets/y")
    mgr._fence_writes("PUT", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/lock")  # campaigning
    mgr._elector._leading, mgr._elector._last_renew = True, clock.t
    mgr._fence_writes("PATCH", "/apis/apps/v1/namespaces/x/statefulsets/y")  # holds it: allowed
