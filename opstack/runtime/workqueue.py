"""Work queues: a de-duplicating queue, a delaying queue and a rate-limited queue, plus rate limiters.

The Python counterpart of client-go's `util/workqueue` (classic `Typed[T]` queue), which controllers use to
turn events into reconciles.

Invariants of `Queue` (client-go's "Fair", "Stingy", concurrency and shutdown properties):
- Fair: items are handed out in the order in which they were first added (FIFO).
- Stingy: an item added several times before it is processed is processed once (`dirty` set). Adding an item
  that is already waiting is a no-op.
- An item is never handed to two consumers at once (`processing` set). An item added while it is being
  processed is not handed out again until `done(item)` is called; then it is queued once more.
- Every element of the FIFO is in `dirty` and not in `processing`; `len()` is the FIFO's length.
- After `shut_down()` adds are ignored; `get()` still returns what is queued (so consumers can drain) and
  then returns None. `shut_down_with_drain()` additionally waits until every handed-out item is `done`.

Invariants of `DelayingQueue`:
- `add_after(item, d)` adds the item once `d` seconds have passed on the queue's clock (at once if d <= 0).
  An item waiting to be added keeps the earliest of its requested ready times. Nothing is added after
  shutdown.

Invariants of `RateLimitingQueue` and the rate limiters:
- `add_rate_limited(item)` waits `limiter.when(item)` seconds. `forget(item)` clears only the limiter's memory
  of the item (the item must still be `done`); `num_requeues(item)` reports the failures the limiter counts.
- `ItemExponentialFailureRateLimiter`: delay = base * 2**failures, capped at max_delay (5 ms -> 1000 s).
- `BucketRateLimiter`: a token bucket (10 qps, burst 100): `when()` reserves a token and returns how long
  until it is available (reservations may go into debt, as golang.org/x/time/rate's Reserve does).
- `MaxOfRateLimiter`: the worst (longest) delay of its limiters; forget/num_requeues apply to all.

Time comes from an injectable `Clock` (monotonic seconds) so that tests can step time deterministically.

Metrics (names of client-go, labels of controller-runtime: `name` and `controller`, both the queue's name; the
depth gauge also carries controller-runtime's `priority` label, always "" for this classic queue). An unnamed
queue records no metrics. Unfinished-work and longest-running-processor gauges are computed at scrape time
rather than by client-go's 500 ms ticker: same values, no extra thread.

Choice (documented in docs/runtime.md): this is client-go's classic queue with controller-runtime's classic
default limiter (max of 5 ms -> 1000 s per item and 10 qps / burst 100 overall), not controller-runtime's
priority queue (its default since v0.23). We have no `priority` field on `Result` and no low-priority
treatment of initial-list events.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import weakref
from collections import deque
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from opstack.runtime import metrics as m

T = TypeVar("T", bound=Hashable)

# client-go's delaying queue wakes at least this often even if nothing happens (a safety heartbeat).
MAX_WAIT = 10.0


# --- clocks -------------------------------------------------------------------------------------------------


class Clock(Protocol):
    """Monotonic time plus a way to wait for it to pass; injectable for tests."""

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def condition(self) -> threading.Condition:
        """A condition variable that `wait` can block on and that the clock wakes when its time moves."""
        ...

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        """Wait on `cond` (held by the caller) for at most `timeout` seconds of this clock's time."""
        ...


class RealClock:
    """The process's monotonic clock."""

    def now(self) -> float:
        return time.monotonic()

    def condition(self) -> threading.Condition:
        return threading.Condition()

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        cond.wait(timeout)


class FakeClock:
    """A clock that only moves when `step()` is called; wakes every condition it made when it moves."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._conds: weakref.WeakSet[threading.Condition] = weakref.WeakSet()

    def now(self) -> float:
        with self._lock:
            return self._now

    def condition(self) -> threading.Condition:
        cond = threading.Condition()
        with self._lock:
            self._conds.add(cond)
        return cond

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        # Fake time does not pass while we wait: only step() (or another notify) can wake us. A short real
        # timeout guards against a lost wake-up turning into a hung test.
        cond.wait(0.5)

    def step(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
            conds = list(self._conds)
        for cond in conds:
            with cond:
                cond.notify_all()

    def set(self, t: float) -> None:
        self.step(t - self.now())


REAL_CLOCK: Clock = RealClock()


# --- metrics ------------------------------------------------------------------------------------------------


class _QueueMetrics:
    """Per-queue metric series; a no-op when the queue has no name."""

    def __init__(self, name: str, clock: Clock) -> None:
        self.enabled = bool(name)
        self._clock = clock
        self._added_at: dict[Hashable, float] = {}
        self._started_at: dict[Hashable, float] = {}
        if not self.enabled:
            return
        self._depth = m.WORKQUEUE_DEPTH.labels(name, name, "")
        self._adds = m.WORKQUEUE_ADDS.labels(name, name)
        self._latency = m.WORKQUEUE_QUEUE_DURATION.labels(name, name)
        self._work = m.WORKQUEUE_WORK_DURATION.labels(name, name)
        self._retries = m.WORKQUEUE_RETRIES.labels(name, name)
        # Evaluated at scrape time; a weak reference so a dropped queue does not live on in the registry.
        ref = weakref.ref(self)
        m.WORKQUEUE_UNFINISHED_WORK.labels(name, name).set_function(
            lambda: q.unfinished_work() if (q := ref()) is not None else 0.0
        )
        m.WORKQUEUE_LONGEST_RUNNING_PROCESSOR.labels(name, name).set_function(
            lambda: q.longest_running() if (q := ref()) is not None else 0.0
        )
        self._depth.set(0)

    # Called with the queue's lock held.
    def add(self, item: Hashable) -> None:
        if not self.enabled:
            return
        self._adds.inc()
        self._added_at.setdefault(item, self._clock.now())

    def depth(self, depth: int) -> None:
        if self.enabled:
            self._depth.set(depth)

    def get(self, item: Hashable, depth: int) -> None:
        if not self.enabled:
            return
        now = self._clock.now()
        self._depth.set(depth)
        self._started_at[item] = now
        added = self._added_at.pop(item, None)
        if added is not None:
            self._latency.observe(max(0.0, now - added))

    def done(self, item: Hashable) -> None:
        if not self.enabled:
            return
        started = self._started_at.pop(item, None)
        if started is not None:
            self._work.observe(max(0.0, self._clock.now() - started))

    def retry(self) -> None:
        if self.enabled:
            self._retries.inc()

    def unfinished_work(self) -> float:
        now = self._clock.now()
        return sum(now - t for t in list(self._started_at.values()))

    def longest_running(self) -> float:
        now = self._clock.now()
        starts = list(self._started_at.values())
        return now - min(starts) if starts else 0.0


# --- the de-duplicating queue -------------------------------------------------------------------------------


class Queue(Generic[T]):
    """A FIFO work queue with `dirty` and `processing` sets (see the module invariants)."""

    def __init__(self, name: str = "", *, clock: Clock | None = None) -> None:
        self.name = name
        self._clock: Clock = clock or REAL_CLOCK
        self._cond = self._clock.condition()
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._shutting_down = False
        self._drain = False
        self._metrics = _QueueMetrics(name, self._clock)

    def add(self, item: T) -> None:
        """Mark `item` as needing processing. A no-op if it is already waiting or the queue is shut down."""
        with self._cond:
            if self._shutting_down or item in self._dirty:
                return
            self._dirty.add(item)
            self._metrics.add(item)
            if item in self._processing:
                return  # queued again by done()
            self._queue.append(item)
            self._metrics.depth(len(self._queue))
            self._cond.notify()

    def get(self, timeout: float | None = None) -> T | None:
        """Block until an item is available and hand it out; None once shut down and empty (or timed out).

        The caller must call `done(item)` when finished with it.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._queue and not self._shutting_down:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if not self._queue:
                return None
            item = self._queue.popleft()
            self._processing.add(item)
            self._dirty.discard(item)
            self._metrics.get(item, len(self._queue))
            return item

    def done(self, item: T) -> None:
        """Mark `item` as processed; if it was added meanwhile, queue it again."""
        with self._cond:
            self._metrics.done(item)
            self._processing.discard(item)
            if item in self._dirty:
                self._queue.append(item)
                self._metrics.depth(len(self._queue))
                self._cond.notify()
            elif not self._processing:
                self._cond.notify_all()  # a drain may be waiting for the last done()

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue)

    def shut_down(self) -> None:
        """Ignore new adds; `get()` hands out what is queued, then returns None."""
        with self._cond:
            self._shutting_down = True
            self._cond.notify_all()
        self._on_shut_down()

    def shut_down_with_drain(self, timeout: float | None = None) -> bool:
        """Shut down and wait until every handed-out item is done; False if `timeout` (real seconds) passed.

        Items still queued are not waited for: consumers must keep calling `get()` until it returns None.
        """
        with self._cond:
            self._drain = True
        self.shut_down()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._processing:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is not None else 1.0)
            return True

    def shutting_down(self) -> bool:
        with self._cond:
            return self._shutting_down

    def _on_shut_down(self) -> None:
        """Hook for subclasses (the delaying queue stops its timer thread)."""

    # For tests and debugging.
    def processing(self) -> frozenset[T]:
        with self._cond:
            return frozenset(self._processing)

    def dirty(self) -> frozenset[T]:
        with self._cond:
            return frozenset(self._dirty)


# --- the delaying queue -------------------------------------------------------------------------------------


class DelayingQueue(Queue[T]):
    """A `Queue` with `add_after`: a timer thread moves items into the queue when their time comes."""

    def __init__(self, name: str = "", *, clock: Clock | None = None) -> None:
        super().__init__(name, clock=clock)
        self._wait_cond = self._clock.condition()
        self._heap: list[tuple[float, int, T]] = []
        self._ready_at: dict[T, float] = {}  # item -> its earliest ready time (entries in _heap may be stale)
        self._seq = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(
            target=self._waiting_loop, name=f"workqueue-delay-{name or id(self)}", daemon=True
        )
        self._thread.start()

    def add_after(self, item: T, delay: float) -> None:
        """Add `item` after `delay` seconds of the queue's clock (at once if delay <= 0)."""
        if self.shutting_down():
            return
        self._metrics.retry()
        if delay <= 0:
            self.add(item)
            return
        with self._wait_cond:
            ready = self._clock.now() + delay
            current = self._ready_at.get(item)
            if current is not None and current <= ready:
                return
            self._ready_at[item] = ready
            heapq.heappush(self._heap, (ready, next(self._seq), item))
            self._wait_cond.notify()

    def waiting(self) -> int:
        """How many items wait for their delay to pass."""
        with self._wait_cond:
            return len(self._ready_at)

    def _waiting_loop(self) -> None:
        while True:
            ready_items: list[T] = []
            with self._wait_cond:
                if self._stopped:
                    return
                now = self._clock.now()
                while self._heap and self._heap[0][0] <= now:
                    ready, _, item = heapq.heappop(self._heap)
                    if self._ready_at.get(item) == ready:
                        del self._ready_at[item]
                        ready_items.append(item)
                if not ready_items:
                    timeout = MAX_WAIT
                    if self._heap:
                        timeout = min(timeout, self._heap[0][0] - now)
                    self._clock.wait(self._wait_cond, timeout)
                    continue
            for item in ready_items:
                self.add(item)

    def _on_shut_down(self) -> None:
        with self._wait_cond:
            self._stopped = True
            self._heap.clear()
            self._ready_at.clear()
            self._wait_cond.notify_all()


# --- rate limiters ------------------------------------------------------------------------------------------


class RateLimiter(Protocol[T]):  # type: ignore[misc]
    """Decides how long an item waits before it is retried."""

    def when(self, item: T) -> float:
        """Seconds to wait before `item` is processed again (records a failure)."""
        ...

    def forget(self, item: T) -> None:
        """Stop tracking `item` (it succeeded)."""
        ...

    def num_requeues(self, item: T) -> int:
        """How many failures of `item` are being tracked."""
        ...


class ItemExponentialFailureRateLimiter(Generic[T]):
    """Per item: base_delay * 2**failures, capped at max_delay."""

    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[T, int] = {}
        self._lock = threading.Lock()

    def when(self, item: T) -> float:
        with self._lock:
            exp = self._failures.get(item, 0)
            self._failures[item] = exp + 1
        if exp > 1000:  # 2**exp would overflow a float; the cap applies long before
            return self.max_delay
        return min(self.base_delay * 2.0**exp, self.max_delay)

    def forget(self, item: T) -> None:
        with self._lock:
            self._failures.pop(item, None)

    def num_requeues(self, item: T) -> int:
        with self._lock:
            return self._failures.get(item, 0)


class BucketRateLimiter(Generic[T]):
    """An overall token bucket: `qps` tokens a second, at most `burst` saved; items share it."""

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock | None = None) -> None:
        self.qps = qps
        self.burst = burst
        self._clock: Clock = clock or REAL_CLOCK
        self._tokens = float(burst)
        self._last = self._clock.now()
        self._lock = threading.Lock()

    def when(self, item: T) -> float:
        with self._lock:
            now = self._clock.now()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
            self._last = now
            self._tokens -= 1.0  # reserve a token; a negative balance is a debt later callers also wait for
            return 0.0 if self._tokens >= -1e-9 else -self._tokens / self.qps  # tolerate float rounding

    def forget(self, item: T) -> None:
        pass

    def num_requeues(self, item: T) -> int:
        return 0


class MaxOfRateLimiter(Generic[T]):
    """The longest delay of several limiters."""

    def __init__(self, *limiters: RateLimiter[T]) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self.limiters = limiters

    def when(self, item: T) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: T) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(*, clock: Clock | None = None) -> MaxOfRateLimiter[T]:
    """controller-runtime's classic default: max(per item 5 ms -> 1000 s, overall 10 qps burst 100)."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(0.005, 1000.0),
        BucketRateLimiter(10.0, 100, clock=clock),
    )


# --- the rate-limited queue ---------------------------------------------------------------------------------


class RateLimitingQueue(DelayingQueue[T]):
    """A `DelayingQueue` whose retries wait as long as a `RateLimiter` says."""

    def __init__(
        self,
        rate_limiter: RateLimiter[T] | None = None,
        name: str = "",
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name, clock=clock)
        self.rate_limiter: RateLimiter[T] = rate_limiter or default_controller_rate_limiter(clock=self._clock)

    def add_rate_limited(self, item: T) -> None:
        """Add `item` once the rate limiter says it may be retried."""
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """Stop tracking `item`'s failures (it still has to be `done`)."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)
