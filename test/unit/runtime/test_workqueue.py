"""Work-queue invariants and rate-limiter delays, with an injected clock where time matters."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import pytest

from opstack.runtime import metrics as m
from opstack.runtime.workqueue import (
    BucketRateLimiter,
    DelayingQueue,
    FakeClock,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    Queue,
    RateLimitingQueue,
    default_controller_rate_limiter,
)


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.002)


# --- Queue ----------------------------------------------------------------------------------------


def test_fifo_order() -> None:
    q: Queue[str] = Queue()
    for item in "abc":
        q.add(item)
    assert [q.get(), q.get(), q.get()] == ["a", "b", "c"]


def test_adding_a_waiting_item_is_a_noop() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.add("b")
    q.add("a")
    assert len(q) == 2
    assert q.get() == "a"
    assert q.get() == "b"
    assert q.get(timeout=0.01) is None


def test_item_is_never_handed_to_two_consumers() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    assert q.get() == "a"
    q.add("a")  # added while processing: must not be handed out yet
    assert len(q) == 0
    assert q.get(timeout=0.02) is None
    assert q.dirty() == {"a"} and q.processing() == {"a"}
    q.done("a")  # comes back after done
    assert len(q) == 1
    assert q.get() == "a"
    q.done("a")
    assert len(q) == 0 and not q.dirty() and not q.processing()


def test_several_adds_while_processing_collapse_to_one() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.get()
    for _ in range(5):
        q.add("a")
    q.done("a")
    assert len(q) == 1
    assert q.get() == "a"
    q.done("a")
    assert q.get(timeout=0.01) is None


def test_done_without_readd_does_not_requeue() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.get()
    q.done("a")
    assert len(q) == 0


def test_concurrent_consumers_never_share_an_item() -> None:
    q: Queue[int] = Queue()
    in_flight: set[int] = set()
    violations: list[int] = []
    processed: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while (item := q.get()) is not None:
            with lock:
                if item in in_flight:
                    violations.append(item)
                in_flight.add(item)
            time.sleep(0.0005)
            with lock:
                in_flight.discard(item)
                processed.append(item)
            q.done(item)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(300):
        q.add(i % 7)  # heavy re-adding of a few keys while they are processed
        if i % 50 == 0:
            time.sleep(0.001)
    wait_for(lambda: len(q) == 0 and not q.processing())
    q.shut_down()
    for t in threads:
        t.join(5)
    assert violations == []
    assert set(processed) == set(range(7))


def test_get_blocks_until_add() -> None:
    q: Queue[str] = Queue()
    got: list[str | None] = []
    t = threading.Thread(target=lambda: got.append(q.get()))
    t.start()
    time.sleep(0.02)
    assert got == []
    q.add("x")
    t.join(2)
    assert got == ["x"]


def test_shut_down_ignores_adds_and_drains_queued_items() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.shut_down()
    q.add("b")
    assert q.shutting_down()
    assert q.get() == "a"  # what was queued is still handed out
    assert q.get() is None  # then consumers are told to stop


def test_shut_down_wakes_blocked_consumers() -> None:
    q: Queue[str] = Queue()
    got: list[str | None] = ["unset"]

    def consume() -> None:
        got[0] = q.get()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.02)
    q.shut_down()
    t.join(2)
    assert not t.is_alive() and got == [None]


def test_shut_down_with_drain_waits_for_in_flight_items() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    assert q.get() == "a"
    finished = threading.Event()

    def drain() -> None:
        assert q.shut_down_with_drain()
        finished.set()

    t = threading.Thread(target=drain)
    t.start()
    assert not finished.wait(0.05)  # "a" is still being processed
    q.done("a")
    assert finished.wait(2)
    t.join(2)


def test_shut_down_with_drain_times_out() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.get()
    assert q.shut_down_with_drain(timeout=0.05) is False


# --- DelayingQueue --------------------------------------------------------------------------------


def test_add_after_waits_for_the_clock() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("a", 1.0)
    assert q.waiting() == 1
    clock.step(0.5)
    time.sleep(0.02)
    assert len(q) == 0
    clock.step(0.6)
    wait_for(lambda: len(q) == 1)
    assert q.get() == "a" and q.waiting() == 0
    q.shut_down()


def test_add_after_keeps_the_earliest_ready_time() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("a", 10.0)
    q.add_after("a", 1.0)
    q.add_after("a", 5.0)  # later than the current earliest: ignored
    assert q.waiting() == 1
    clock.step(1.0)
    wait_for(lambda: len(q) == 1)
    assert q.get() == "a"
    q.done("a")
    clock.step(10.0)  # the superseded entries must not add it again
    time.sleep(0.02)
    assert len(q) == 0
    q.shut_down()


def test_add_after_orders_by_ready_time() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("late", 3.0)
    q.add_after("early", 1.0)
    q.add_after("middle", 2.0)
    clock.step(3.0)
    wait_for(lambda: len(q) == 3)
    assert [q.get(), q.get(), q.get()] == ["early", "middle", "late"]
    q.shut_down()


def test_add_after_nonpositive_adds_at_once() -> None:
    q: DelayingQueue[str] = DelayingQueue(clock=FakeClock())
    q.add_after("a", 0)
    assert len(q) == 1
    q.shut_down()


def test_add_after_is_ignored_after_shut_down() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("a", 1.0)
    q.shut_down()
    q.add_after("b", 1.0)
    clock.step(5)
    time.sleep(0.02)
    assert q.get() is None


def test_add_after_with_real_clock() -> None:
    q: DelayingQueue[str] = DelayingQueue()
    start = time.monotonic()
    q.add_after("a", 0.05)
    assert q.get(timeout=2) == "a"
    assert time.monotonic() - start >= 0.05
    q.shut_down()


# --- rate limiters --------------------------------------------------------------------------------


def test_item_exponential_delays_double_from_5ms_to_1000s() -> None:
    rl: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter()
    delays = [rl.when("a") for _ in range(20)]
    assert delays[:5] == [0.005, 0.01, 0.02, 0.04, 0.08]
    assert all(b == min(2 * a, 1000.0) for a, b in itertools.pairwise(delays))
    assert delays[-1] == 1000.0  # 0.005 * 2**19 > 1000: capped
    assert rl.num_requeues("a") == 20
    assert rl.when("b") == 0.005  # per item
    for _ in range(2000):  # no overflow however many failures
        rl.when("c")
    assert rl.when("c") == 1000.0


def test_item_exponential_forget_resets() -> None:
    rl: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter()
    rl.when("a")
    rl.when("a")
    rl.forget("a")
    assert rl.num_requeues("a") == 0
    assert rl.when("a") == 0.005


def test_bucket_allows_burst_then_10_qps() -> None:
    clock = FakeClock()
    rl: BucketRateLimiter[str] = BucketRateLimiter(qps=10, burst=100, clock=clock)
    assert [rl.when(f"i{i}") for i in range(100)] == [0.0] * 100
    assert rl.when("x") == pytest.approx(0.1)
    assert rl.when("y") == pytest.approx(0.2)  # reservations queue up behind each other
    clock.step(0.3)  # debt of 2 tokens repaid, 1 new
    assert rl.when("z") == 0.0
    assert rl.when("z2") == pytest.approx(0.1)
    clock.step(1000)  # refills to the burst, not beyond
    assert [rl.when("w") for _ in range(100)] == [0.0] * 100
    assert rl.when("w") > 0
    assert rl.num_requeues("w") == 0


def test_max_of_takes_the_longest_delay() -> None:
    clock = FakeClock()
    rl = MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter[str](0.005, 1000.0), BucketRateLimiter[str](10, 1, clock=clock)
    )
    assert rl.when("a") == 0.005  # bucket had a token; per-item says 5 ms
    assert rl.when("a") == pytest.approx(0.1)  # bucket empty: 100 ms beats 10 ms
    clock.step(10)
    assert rl.when("a") == pytest.approx(0.02)  # bucket full again: per-item 20 ms wins
    assert rl.num_requeues("a") == 3
    rl.forget("a")
    assert rl.num_requeues("a") == 0


def test_default_controller_rate_limiter_values() -> None:
    clock = FakeClock()
    rl: MaxOfRateLimiter[str] = default_controller_rate_limiter(clock=clock)
    item, bucket = rl.limiters
    assert isinstance(item, ItemExponentialFailureRateLimiter)
    assert (item.base_delay, item.max_delay) == (0.005, 1000.0)
    assert isinstance(bucket, BucketRateLimiter)
    assert (bucket.qps, bucket.burst) == (10.0, 100)


# --- RateLimitingQueue ----------------------------------------------------------------------------


def test_add_rate_limited_backs_off_and_forget_resets() -> None:
    clock = FakeClock()
    q: RateLimitingQueue[str] = RateLimitingQueue(ItemExponentialFailureRateLimiter(1.0, 100.0), clock=clock)
    q.add_rate_limited("a")  # 1 s
    q.add_rate_limited("b")  # 1 s
    q.add_rate_limited("a")  # 2 s, but the earlier 1 s entry wins
    assert q.num_requeues("a") == 2
    clock.step(1.0)
    wait_for(lambda: len(q) == 2)
    assert {q.get(), q.get()} == {"a", "b"}
    q.done("a")
    q.done("b")
    q.add_rate_limited("a")  # third failure: 4 s
    clock.step(3.9)
    time.sleep(0.02)
    assert len(q) == 0
    clock.step(0.1)
    wait_for(lambda: len(q) == 1)
    q.forget("a")
    assert q.num_requeues("a") == 0
    q.shut_down()


def test_rate_limiting_queue_default_limiter() -> None:
    clock = FakeClock()
    q: RateLimitingQueue[str] = RateLimitingQueue(clock=clock)
    q.add_rate_limited("a")
    assert len(q) == 0 and q.waiting() == 1
    clock.step(0.005)
    wait_for(lambda: len(q) == 1)
    q.shut_down()


# --- metrics --------------------------------------------------------------------------------------


def _sample(name: str, labels: dict[str, str]) -> float | None:
    return m.REGISTRY.get_sample_value(name, labels)


def test_metrics_are_labelled_by_name() -> None:
    clock = FakeClock()
    q: RateLimitingQueue[str] = RateLimitingQueue(name="unit-metrics", clock=clock)
    labels = {"name": "unit-metrics", "controller": "unit-metrics"}
    q.add("a")
    q.add("b")
    q.add("a")
    assert _sample("workqueue_adds_total", labels) == 2
    assert _sample("workqueue_depth", {**labels, "priority": ""}) == 2
    clock.step(2.0)
    assert q.get() == "a"
    assert _sample("workqueue_queue_duration_seconds_count", labels) == 1
    assert _sample("workqueue_queue_duration_seconds_sum", labels) == pytest.approx(2.0)
    clock.step(3.0)
    assert _sample("workqueue_unfinished_work_seconds", labels) == pytest.approx(3.0)
    assert _sample("workqueue_longest_running_processor_seconds", labels) == pytest.approx(3.0)
    q.done("a")
    assert _sample("workqueue_work_duration_seconds_sum", labels) == pytest.approx(3.0)
    assert _sample("workqueue_unfinished_work_seconds", labels) == 0
    q.add_rate_limited("c")
    q.add_after("d", 1.0)
    assert _sample("workqueue_retries_total", labels) == 2
    assert _sample("workqueue_depth", {**labels, "priority": ""}) == 1
    q.shut_down()


def test_unnamed_queue_records_no_metrics() -> None:
    before = {s.name for metric in m.REGISTRY.collect() for s in metric.samples if s.labels.get("name") == ""}
    q: Queue[str] = Queue()
    q.add("a")
    after = {s.name for metric in m.REGISTRY.collect() for s in metric.samples if s.labels.get("name") == ""}
    assert before == after
