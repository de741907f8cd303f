"""The controller: informer events -> predicates -> handlers -> work queue -> N workers -> Reconciler.

controller-runtime's `pkg/internal/controller`, on threads.

Invariants:
- One request is never reconciled by two workers at once (the work queue's processing set), and a request
  enqueued while it is being reconciled is reconciled again afterwards.
- Outcomes, exactly as controller-runtime's reconcileHandler (and counted in
  `controller_runtime_reconcile_total{controller,result}`):
    exception (not terminal)      -> add_rate_limited          result="error"  (+ reconcile_errors_total)
    TerminalError (or from one)   -> no requeue, no forget     result="error"  (+ errors + terminal_errors)
    Result(requeue_after=d > 0)   -> forget, add_after(d)      result="requeue_after"
    Result(requeue=True)          -> add_rate_limited          result="requeue"   (deprecated form)
    anything else                 -> forget                    result="success"
  An exception is logged with its traceback. A BaseException that is not an Exception (e.g. a reconciler
  calling sys.exit) is a "panic": counted in reconcile_panics_total, then handled as an error. A worker
  thread never dies of what a reconciler does.
- Every reconcile runs with structlog context vars controller, namespace, name and reconcile_id (a UUID),
  and with a `reconcile.current()` context (deadline and stop flag) for cooperative timeouts.
- Metric series of the controller are created at 0 when the controller is built; max_concurrent_reconciles
  is set to the worker count; active_workers counts reconciles in progress.
- Event sources are registered on the shared informers when the controller starts (after leader election,
  as controller-runtime does); start() returns once every source has delivered its informer's initial
  state (or raises after cache_sync_timeout) and the workers run.
- stop(): no new reconcile starts (queued requests are dropped, the queue is shut down), in-flight
  reconciles see `current().stopping` set and are waited for up to the timeout. abort(): the same without
  waiting (used when leadership is lost).
- Handlers and predicates run on the informer's thread; an exception in them is logged and the event is
  dropped, so a bad handler never stops an informer.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from opstack.runtime import metrics as m
from opstack.runtime import reconcile as rec
from opstack.runtime.handler import (
    CreateEvent,
    DeleteEvent,
    EventHandler,
    GenericEvent,
    ObjView,
    UpdateEvent,
)
from opstack.runtime.informer import DeletedFinalStateUnknown, HandlerRegistration, SharedInformer
from opstack.runtime.predicate import Predicate
from opstack.runtime.reconcile import Reconciler, Request, Result, is_terminal
from opstack.runtime.workqueue import Clock, RateLimiter, RateLimitingQueue

log = structlog.get_logger("opstack.runtime.controller")

DEFAULT_CACHE_SYNC_TIMEOUT = 120.0


class _Source:
    """Adapts informer callbacks to controller events: predicates first, then the handler."""

    def __init__(
        self,
        controller: Controller,
        informer: SharedInformer,
        handler: EventHandler,
        predicates: Sequence[Predicate],
    ) -> None:
        self.controller = controller
        self.informer = informer
        self.handler = handler
        self.predicates = tuple(predicates)
        self.registration: HandlerRegistration | None = None

    def _guard(self, what: str, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception(
                "event handler failed; event dropped",
                controller=self.controller.name,
                kind=str(self.informer.gvk),
                event=what,
            )

    def on_add(self, obj: ObjView, is_in_initial_list: bool) -> None:
        event = CreateEvent(obj, is_in_initial_list)
        self._guard("create", self._create, event)

    def _create(self, event: CreateEvent) -> None:
        if all(p.create(event) for p in self.predicates):
            self.handler.create(event, self.controller.queue)

    def on_update(self, old: ObjView, new: ObjView) -> None:
        self._guard("update", self._update, UpdateEvent(old, new))

    def _update(self, event: UpdateEvent) -> None:
        if all(p.update(event) for p in self.predicates):
            self.handler.update(event, self.controller.queue)

    def on_delete(self, obj: ObjView | DeletedFinalStateUnknown) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            event = DeleteEvent(obj.obj, delete_state_unknown=True)
        else:
            event = DeleteEvent(obj)
        self._guard("delete", self._delete, event)

    def _delete(self, event: DeleteEvent) -> None:
        if all(p.delete(event) for p in self.predicates):
            self.handler.delete(event, self.controller.queue)

    def generic(self, obj: ObjView) -> None:
        event = GenericEvent(obj)
        if all(p.generic(event) for p in self.predicates):
            self.handler.generic(event, self.controller.queue)


@dataclass(frozen=True)
class ControllerOptions:
    max_concurrent_reconciles: int = 1
    reconcile_timeout: float | None = None
    cache_sync_timeout: float = DEFAULT_CACHE_SYNC_TIMEOUT
    need_leader_election: bool = True

    def validate(self) -> None:
        if self.max_concurrent_reconciles < 1:
            raise ValueError(f"max_concurrent_reconciles must be >= 1, got {self.max_concurrent_reconciles}")
        if self.reconcile_timeout is not None and self.reconcile_timeout <= 0:
            raise ValueError(f"reconcile_timeout must be > 0 seconds, got {self.reconcile_timeout}")
        if self.cache_sync_timeout <= 0:
            raise ValueError(f"cache_sync_timeout must be > 0 seconds, got {self.cache_sync_timeout}")


class Controller:
    """Reconciles requests from its sources with `max_concurrent_reconciles` worker threads."""

    def __init__(
        self,
        name: str,
        reconciler: Reconciler,
        *,
        options: ControllerOptions | None = None,
        rate_limiter: RateLimiter[Request] | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not name:
            raise ValueError("a controller needs a name (it labels metrics and logs)")
        self.name = name
        self.reconciler = reconciler
        self.options = options or ControllerOptions()
        self.options.validate()
        self.queue: RateLimitingQueue[Request] = RateLimitingQueue(rate_limiter, name=name, clock=clock)
        self._sources: list[_Source] = []
        self._workers: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._started = False
        self._lock = threading.Lock()
        self._init_metrics()

    @property
    def need_leader_election(self) -> bool:
        return self.options.need_leader_election

    def _init_metrics(self) -> None:
        name = self.name
        for result in m.RECONCILE_RESULTS:
            m.RECONCILE_TOTAL.labels(name, result)
        m.RECONCILE_ERRORS.labels(name)
        m.TERMINAL_RECONCILE_ERRORS.labels(name)
        m.RECONCILE_PANICS.labels(name)
        m.RECONCILE_TIMEOUTS.labels(name)
        m.RECONCILE_TIME.labels(name)
        m.MAX_CONCURRENT_RECONCILES.labels(name).set(self.options.max_concurrent_reconciles)
        m.ACTIVE_WORKERS.labels(name).set(0)

    # -- wiring -------------------------------------------------------------------------------------------

    def watch(
        self, informer: SharedInformer, handler: EventHandler, predicates: Sequence[Predicate] = ()
    ) -> None:
        """Feed `informer`'s events through `predicates` into `handler` (registered at start)."""
        source = _Source(self, informer, handler, predicates)
        with self._lock:
            self._sources.append(source)
            started = self._started
        if started:
            source.registration = informer.add_event_handler(source)

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Register sources, wait until each has delivered its informer's state, start the workers."""
        with self._lock:
            if self._started:
                raise RuntimeError(f"controller {self.name!r} was already started")
            self._started = True
            sources = list(self._sources)
        log.info(
            "starting event sources", controller=self.name, sources=[str(s.informer.gvk) for s in sources]
        )
        for source in sources:
            source.registration = source.informer.add_event_handler(source)
        deadline = time.monotonic() + self.options.cache_sync_timeout
        for source in sources:
            while not (source.registration is not None and source.registration.has_synced()):
                if self._stopping.is_set():
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"controller {self.name!r}: timed out after {self.options.cache_sync_timeout:.0f}s "
                        f"waiting for the {source.informer.gvk} cache to sync (check RBAC and that the "
                        "kind is served)"
                    )
                time.sleep(0.01)
        log.info("starting workers", controller=self.name, workers=self.options.max_concurrent_reconciles)
        for i in range(self.options.max_concurrent_reconciles):
            t = threading.Thread(target=self._worker, name=f"{self.name}-worker-{i}", daemon=True)
            self._workers.append(t)
            t.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Take no new work; wait up to `timeout` seconds for in-flight reconciles. True if all finished."""
        self.abort()
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in self._workers:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            t.join(remaining)
        finished = not any(t.is_alive() for t in self._workers)
        if not finished:
            log.warning("reconciles still running after the grace period", controller=self.name)
        return finished

    def abort(self) -> None:
        """Take no new work, at once; in-flight reconciles are told to stop but not waited for."""
        self._stopping.set()
        for source in self._sources:
            source.informer.remove_event_handler(source)
        self.queue.shut_down()

    # -- workers ------------------------------------------------------------------------------------------

    def _worker(self) -> None:
        while True:
            request = self.queue.get()
            if request is None:
                return
            try:
                if not self._stopping.is_set():
                    self._reconcile_handler(request)
            except BaseException:  # never let a worker die, whatever happens
                log.exception("controller worker error", controller=self.name)
            finally:
                self.queue.done(request)

    def _reconcile_handler(self, request: Request) -> None:
        name = self.name
        reconcile_id = str(uuid.uuid4())
        deadline = None
        if self.options.reconcile_timeout is not None:
            deadline = time.monotonic() + self.options.reconcile_timeout
        ctx = rec.ReconcileContext(name, request, reconcile_id, deadline, self._stopping)
        active = m.ACTIVE_WORKERS.labels(name)
        with structlog.contextvars.bound_contextvars(
            controller=name, namespace=request.namespace, name=request.name, reconcile_id=reconcile_id
        ):
            token = rec._set_current(ctx)
            active.inc()
            started = time.monotonic()
            result: Result | None = None
            error: BaseException | None = None
            try:
                result = self.reconciler.reconcile(request)
            except Exception as exc:
                error = exc
            except BaseException as exc:  # sys.exit() and the like inside a reconciler: Go's panic
                m.RECONCILE_PANICS.labels(name).inc()
                error = exc
            finally:
                m.RECONCILE_TIME.labels(name).observe(time.monotonic() - started)
                active.dec()
                rec._reset_current(token)
            timed_out = ctx.expired() or isinstance(error, rec.ReconcileTimeout)
            if timed_out and not self._stopping.is_set():
                m.RECONCILE_TIMEOUTS.labels(name).inc()
                log.warning("reconcile exceeded its timeout", timeout=self.options.reconcile_timeout)
            self._apply_outcome(request, result, error)

    def _apply_outcome(self, request: Request, result: Result | None, error: BaseException | None) -> None:
        name = self.name
        if error is not None:
            m.RECONCILE_TOTAL.labels(name, "error").inc()
            m.RECONCILE_ERRORS.labels(name).inc()
            if is_terminal(error):
                m.TERMINAL_RECONCILE_ERRORS.labels(name).inc()
                log.error("Reconciler error (terminal; not requeued)", exc_info=error)
                return
            log.error("Reconciler error", exc_info=error)
            self.queue.add_rate_limited(request)
            return
        if result is None:
            result = Result()
        elif not isinstance(result, Result):
            log.warning(
                "reconcile returned something other than a Result; treated as success", got=repr(result)
            )
            result = Result()
        if result.requeue_after > 0:
            self.queue.forget(request)
            self.queue.add_after(request, result.requeue_after)
            m.RECONCILE_TOTAL.labels(name, "requeue_after").inc()
            return
        if result.requeue:
            self.queue.add_rate_limited(request)
            m.RECONCILE_TOTAL.labels(name, "requeue").inc()
            return
        self.queue.forget(request)
        m.RECONCILE_TOTAL.labels(name, "success").inc()
        log.debug("reconcile succeeded")
