"""The controller's reconcile loop without informers: outcomes, metrics, logging context, timeouts,
concurrency and stopping. Requests are added to the controller's queue directly; time is a FakeClock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog

from opstack.runtime import metrics as m
from opstack.runtime import reconcile as rec
from opstack.runtime.controller import Controller, ControllerOptions
from opstack.runtime.manager import Manager, parse_bind_address
from opstack.runtime.reconcile import Request, Result, TerminalError
from opstack.runtime.workqueue import FakeClock

_seq = iter(range(10**6))
Maker = Callable[..., tuple[Controller, FakeClock]]


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.002)


class Scripted:
    """Answers each reconcile of a request with the next scripted outcome (a Result or an exception)."""

    def __init__(self, script: dict[str, list[Any]], default: Any = None) -> None:
        self.script = script
        self.default = default if default is not None else Result()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def reconcile(self, request: Request) -> Result:
        with self.lock:
            self.calls.append((request.name, dict(structlog.contextvars.get_contextvars())))
            steps = self.script.get(request.name) or []
            outcome = steps.pop(0) if steps else self.default
        if isinstance(outcome, BaseException):
            raise outcome
        if callable(outcome):
            result: Result = outcome()
            return result
        assert isinstance(outcome, Result)
        return outcome

    def count(self, name: str) -> int:
        with self.lock:
            return sum(1 for n, _ in self.calls if n == name)


@pytest.fixture
def make() -> Iterator[Maker]:
    made: list[Controller] = []

    def factory(reconciler: Any, **options: Any) -> tuple[Controller, FakeClock]:
        clock = FakeClock()
        c = Controller(f"unit-{next(_seq)}", reconciler, options=ControllerOptions(**options), clock=clock)
        made.append(c)
        c.start()
        return c, clock

    yield factory
    for c in made:
        c.stop(5)


def total(c: Controller, result: str) -> float:
    return (
        m.REGISTRY.get_sample_value(
            "controller_runtime_reconcile_total", {"controller": c.name, "result": result}
        )
        or 0
    )


def counter(c: Controller, name: str) -> float:
    return m.REGISTRY.get_sample_value(name, {"controller": c.name}) or 0


def idle(c: Controller) -> bool:
    return len(c.queue) == 0 and not c.queue.processing()


R = Request("ns", "a")


def test_series_are_preinitialised() -> None:
    c = Controller(f"unit-{next(_seq)}", Scripted({}), options=ControllerOptions(max_concurrent_reconciles=3))
    for result in ("success", "error", "requeue", "requeue_after"):
        assert total(c, result) == 0
    for name in (
        "controller_runtime_reconcile_errors_total",
        "controller_runtime_terminal_reconcile_errors_total",
        "controller_runtime_reconcile_panics_total",
        "controller_runtime_reconcile_timeouts_total",
        "controller_runtime_active_workers",
    ):
        assert m.REGISTRY.get_sample_value(name, {"controller": c.name}) == 0
    assert counter(c, "controller_runtime_max_concurrent_reconciles") == 3
    assert (
        m.REGISTRY.get_sample_value("controller_runtime_reconcile_time_seconds_count", {"controller": c.name})
        == 0
    )
    c.queue.shut_down()


def test_success_forgets(make: Maker) -> None:
    c, _ = make(Scripted({}))
    c.queue.add(R)
    wait_for(lambda: total(c, "success") == 1 and idle(c))
    assert c.queue.num_requeues(R) == 0 and c.queue.waiting() == 0


def test_error_is_requeued_rate_limited_then_success_forgets(
    make: Maker,
) -> None:
    r = Scripted({"a": [RuntimeError("boom"), RuntimeError("boom again")]})
    c, clock = make(r)
    c.queue.add(R)
    wait_for(lambda: total(c, "error") == 1 and idle(c))
    assert c.queue.waiting() == 1 and c.queue.num_requeues(R) == 1
    assert counter(c, "controller_runtime_reconcile_errors_total") == 1
    clock.step(0.004)
    time.sleep(0.02)
    assert r.count("a") == 1  # 5 ms have not passed
    clock.step(0.001)
    wait_for(lambda: total(c, "error") == 2 and idle(c))
    assert c.queue.num_requeues(R) == 2
    clock.step(0.010)  # second failure: 10 ms
    wait_for(lambda: total(c, "success") == 1 and idle(c))
    assert r.count("a") == 3 and c.queue.num_requeues(R) == 0


@pytest.mark.parametrize("wrapped", [False, True])
def test_terminal_error_is_counted_not_requeued(make: Maker, wrapped: bool) -> None:
    terminal = TerminalError("spec.x is invalid")
    if wrapped:
        try:
            raise RuntimeError("outer") from terminal
        except RuntimeError as e:
            error: BaseException = e
    else:
        error = terminal
    c, clock = make(Scripted({"a": [error]}))
    c.queue.add(R)
    wait_for(lambda: total(c, "error") == 1 and idle(c))
    assert counter(c, "controller_runtime_terminal_reconcile_errors_total") == 1
    assert counter(c, "controller_runtime_reconcile_errors_total") == 1
    assert c.queue.waiting() == 0
    clock.step(1000)
    time.sleep(0.02)
    assert total(c, "error") == 1 and total(c, "success") == 0


def test_requeue_after_forgets_and_readds_after_the_delay(
    make: Maker,
) -> None:
    r = Scripted({"a": [RuntimeError("x"), Result(requeue_after=30)]})
    c, clock = make(r)
    c.queue.add(R)
    wait_for(lambda: total(c, "error") == 1 and idle(c))
    clock.step(0.005)
    wait_for(lambda: total(c, "requeue_after") == 1 and idle(c))
    assert c.queue.num_requeues(R) == 0  # forgotten
    assert c.queue.waiting() == 1
    clock.step(29.9)
    time.sleep(0.02)
    assert r.count("a") == 2
    clock.step(0.101)  # (a hair more: float sums of steps may fall short of 30 s by an ulp)
    wait_for(lambda: total(c, "success") == 1)
    assert r.count("a") == 3


def test_deprecated_requeue_is_rate_limited(make: Maker) -> None:
    c, _ = make(Scripted({"a": [Result(requeue=True)]}))
    c.queue.add(R)
    wait_for(lambda: total(c, "requeue") == 1 and idle(c))
    assert c.queue.num_requeues(R) == 1 and c.queue.waiting() == 1


def test_panics_are_counted_and_the_worker_survives(
    make: Maker,
) -> None:
    r = Scripted({"a": [SystemExit(2)], "b": [KeyboardInterrupt()]})
    c, _ = make(r)
    c.queue.add(R)
    c.queue.add(Request("ns", "b"))
    c.queue.add(Request("ns", "c"))
    wait_for(lambda: total(c, "success") == 1 and idle(c))
    assert counter(c, "controller_runtime_reconcile_panics_total") == 2
    assert total(c, "error") == 2 and c.queue.waiting() == 2


def test_reconciles_carry_log_context_with_a_fresh_reconcile_id(
    make: Maker,
) -> None:
    r = Scripted({})
    c, _ = make(r)
    c.queue.add(R)
    wait_for(lambda: total(c, "success") == 1 and idle(c))
    c.queue.add(R)
    wait_for(lambda: total(c, "success") == 2 and idle(c))
    (_, first), (_, second) = r.calls
    assert {k: first[k] for k in ("controller", "namespace", "name")} == {
        "controller": c.name,
        "namespace": "ns",
        "name": "a",
    }
    assert first["reconcile_id"] != second["reconcile_id"] and len(first["reconcile_id"]) == 36
    assert structlog.contextvars.get_contextvars().get("reconcile_id") is None  # not leaked


def test_cooperative_timeout_is_counted_and_requeued(
    make: Maker,
) -> None:
    def slow() -> Result:
        ctx = rec.current()
        assert ctx is not None and ctx.deadline is not None
        while True:
            ctx.check()  # raises ReconcileTimeout once the deadline passed
            time.sleep(0.005)

    c, _ = make(Scripted({"a": [slow]}), reconcile_timeout=0.05)
    c.queue.add(R)
    wait_for(lambda: total(c, "error") == 1 and idle(c))
    assert counter(c, "controller_runtime_reconcile_timeouts_total") == 1
    assert c.queue.num_requeues(R) == 1


def test_one_request_is_never_reconciled_concurrently_but_different_ones_are(
    make: Maker,
) -> None:
    lock = threading.Lock()
    running: dict[str, int] = {}
    overlaps: list[str] = []
    peak = [0]

    def work(name: str) -> Callable[[], Result]:
        def run() -> Result:
            with lock:
                running[name] = running.get(name, 0) + 1
                if running[name] > 1:
                    overlaps.append(name)
                peak[0] = max(peak[0], sum(running.values()))
            time.sleep(0.01)
            with lock:
                running[name] -= 1
            return Result()

        return run

    class Many:
        def reconcile(self, request: Request) -> Result:
            return work(request.name)()

    c, _ = make(Many(), max_concurrent_reconciles=4)
    for i in range(200):
        c.queue.add(Request("ns", f"k{i % 6}"))
        if i % 20 == 0:
            time.sleep(0.005)
    wait_for(lambda: idle(c), 10)
    assert overlaps == []
    assert peak[0] > 1  # workers really ran in parallel
    assert peak[0] <= 4


def test_stop_waits_for_in_flight_and_starts_nothing_new(
    make: Maker,
) -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    class Slow:
        def reconcile(self, request: Request) -> Result:
            started.set()
            release.wait(5)
            finished.append(request.name)
            return Result()

    c, _ = make(Slow())
    c.queue.add(Request("ns", "first"))
    assert started.wait(5)
    c.queue.add(Request("ns", "queued"))
    stopper = threading.Thread(target=lambda: results.append(c.stop(5)))
    results: list[bool] = []
    stopper.start()
    time.sleep(0.05)
    assert stopper.is_alive()  # waiting for "first"
    release.set()
    stopper.join(5)
    assert results == [True] and finished == ["first"]


def test_stop_reports_reconciles_that_outlive_the_grace_period(
    make: Maker,
) -> None:
    release = threading.Event()

    class Stuck:
        def reconcile(self, request: Request) -> Result:
            release.wait(5)
            return Result()

    c, _ = make(Stuck())
    c.queue.add(R)
    wait_for(lambda: bool(c.queue.processing()))
    assert c.stop(0.05) is False
    release.set()


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="max_concurrent_reconciles"):
        ControllerOptions(max_concurrent_reconciles=0).validate()
    with pytest.raises(ValueError, match="reconcile_timeout"):
        ControllerOptions(reconcile_timeout=0).validate()


# --- manager pieces that need no API server ---------------------------------------------------------


def test_parse_bind_address() -> None:
    assert (
        parse_bind_address("0") is None
        and parse_bind_address("") is None
        and parse_bind_address(None) is None
    )
    assert parse_bind_address(":8080") == ("", 8080)
    assert parse_bind_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_bind_address("[::1]:8081") == ("::1", 8081)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_bind_address("8080x")


def test_health_checks_answer_like_controller_runtime() -> None:
    def broken() -> bool:
        raise RuntimeError("database unreachable")

    checks: dict[str, Callable[[], bool | None]] = {"ping": lambda: True, "db": broken, "off": lambda: False}
    status, body, _ = Manager._checks(checks, "/readyz")
    text = body.decode()
    assert status == 503
    assert "[-]db failed: database unreachable" in text and "[-]off failed" in text and "[+]ping ok" in text
    assert Manager._checks(checks, "/readyz/ping") == (200, b"ok", "text/plain; charset=utf-8")
    assert Manager._checks(checks, "/readyz/nope")[0] == 404
    status, body, _ = Manager._checks({"ping": lambda: None}, "/healthz?verbose")
    assert status == 200 and body.decode() == "[+]ping ok\nhealthz check passed\n"


def test_manager_validates_its_configuration() -> None:
    fake_client: Any = object()
    with pytest.raises(ValueError, match="leader_election_id"):
        Manager(fake_client, leader_election=True)
    with pytest.raises(ValueError, match="renew_deadline"):
        Manager(
            fake_client,
            leader_election=True,
            leader_election_id="x",
            leader_election_namespace="ns",
            lease_duration=10,
            renew_deadline=10,
        )
    mgr = Manager(fake_client)
    mgr.add_controller(Controller("dup", Scripted({})))
    with pytest.raises(ValueError, match="unique name"):
        mgr.add_controller(Controller("dup", Scripted({})))
