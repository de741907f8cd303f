"""opstack.runtime: a Python controller runtime (client-go + controller-runtime semantics) on plain dicts.

One import point for everything an operator needs::

    from opstack import runtime as rt

    class WidgetReconciler:
        def __init__(self, mgr: rt.Manager) -> None:
            self.cache, self.client = mgr.cache, mgr.client
            self.events = mgr.event_recorder("widget")

        def reconcile(self, request: rt.Request) -> rt.Result:
            try:
                widget = self.cache.get(WIDGET, request.name, request.namespace)
            except rt.NotFound:
                return rt.Result()              # deleted: owned objects are garbage-collected
            ...                                 # compare with the cache; write only what differs
            return rt.Result(requeue_after=60)  # or rt.Result(); raise to retry with backoff;
                                                # raise rt.TerminalError(...) for bad input

    rt.configure_logging(level="info")
    mgr = rt.Manager(rt.Client.auto(), leader_election=True, leader_election_id="widgets",
                     leader_election_namespace="ops", metrics_bind_address=":8080",
                     health_probe_bind_address=":8081")
    (rt.ControllerBuilder(mgr).for_(WIDGET, predicates=[rt.GenerationChangedPredicate()])
        .owns(rt.GVK("", "v1", "ConfigMap")).complete(WidgetReconciler(mgr)))
    raise SystemExit(mgr.run())   # SIGTERM: drain within 30 s, release the lease, exit 0

Data path (client, watch, informer, cache): talk to the API server and keep a read-only cache.
Control path (work queue, controller, builder, manager, leader election, events, logging): turn cached
events into reconciles. Semantics, defaults and where we differ from controller-runtime: docs/runtime.md.
"""

from __future__ import annotations

from opstack.runtime.builder import ControllerBuilder
from opstack.runtime.cache import Cache, CacheNotStarted
from opstack.runtime.client import Client, ResourceInfo
from opstack.runtime.controller import Controller, ControllerOptions
from opstack.runtime.errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    InternalError,
    Invalid,
    MethodNotAllowed,
    NoKindMatch,
    NotFound,
    ServerTimeout,
    ServiceUnavailable,
    TooManyRequests,
    TransportError,
    Unauthorized,
)
from opstack.runtime.events import NORMAL, WARNING, EventBroadcaster, EventRecorder
from opstack.runtime.frozen import freeze, is_frozen, thaw
from opstack.runtime.gvk import GVK
from opstack.runtime.handler import (
    CreateEvent,
    DeleteEvent,
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
    EventHandler,
    GenericEvent,
    UpdateEvent,
)
from opstack.runtime.informer import (
    DeletedFinalStateUnknown,
    EventHandlerFuncs,
    HandlerRegistration,
    ResourceEventHandler,
    SharedInformer,
    object_key,
)
from opstack.runtime.labels import Selector, parse_selector, selector_from_dict
from opstack.runtime.leaderelection import LeaderElectionConfig, LeaderElector
from opstack.runtime.logging import configure_logging
from opstack.runtime.manager import LeaderElectionLost, Manager, ManagerError, Runnable
from opstack.runtime.metrics import REGISTRY
from opstack.runtime.predicate import (
    And,
    AnnotationChangedPredicate,
    Funcs,
    GenerationChangedPredicate,
    LabelChangedPredicate,
    LabelSelectorPredicate,
    Not,
    Or,
    Predicate,
    ResourceVersionChangedPredicate,
)
from opstack.runtime.reconcile import (
    ReconcileContext,
    Reconciler,
    ReconcileTimeout,
    Request,
    Result,
    TerminalError,
    current,
    is_terminal,
)
from opstack.runtime.watch import Watch, WatchEvent
from opstack.runtime.workqueue import (
    BucketRateLimiter,
    Clock,
    DelayingQueue,
    FakeClock,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    Queue,
    RateLimiter,
    RateLimitingQueue,
    default_controller_rate_limiter,
)

__all__ = [
    "GVK",
    "NORMAL",
    "REGISTRY",
    "WARNING",
    "AlreadyExists",
    "And",
    "AnnotationChangedPredicate",
    "ApiError",
    "BadRequest",
    "BucketRateLimiter",
    "Cache",
    "CacheNotStarted",
    "Client",
    "Clock",
    "Conflict",
    "Controller",
    "ControllerBuilder",
    "ControllerOptions",
    "CreateEvent",
    "DelayingQueue",
    "DeleteEvent",
    "DeletedFinalStateUnknown",
    "EnqueueRequestForObject",
    "EnqueueRequestForOwner",
    "EnqueueRequestsFromMapFunc",
    "EventBroadcaster",
    "EventHandler",
    "EventHandlerFuncs",
    "EventRecorder",
    "FakeClock",
    "Forbidden",
    "Funcs",
    "GenerationChangedPredicate",
    "GenericEvent",
    "Gone",
    "HandlerRegistration",
    "InternalError",
    "Invalid",
    "ItemExponentialFailureRateLimiter",
    "LabelChangedPredicate",
    "LabelSelectorPredicate",
    "LeaderElectionConfig",
    "LeaderElectionLost",
    "LeaderElector",
    "Manager",
    "ManagerError",
    "MaxOfRateLimiter",
    "MethodNotAllowed",
    "NoKindMatch",
    "Not",
    "NotFound",
    "Or",
    "Predicate",
    "Queue",
    "RateLimiter",
    "RateLimitingQueue",
    "ReconcileContext",
    "ReconcileTimeout",
    "Reconciler",
    "Request",
    "ResourceEventHandler",
    "ResourceInfo",
    "ResourceVersionChangedPredicate",
    "Result",
    "Runnable",
    "Selector",
    "ServerTimeout",
    "ServiceUnavailable",
    "SharedInformer",
    "TerminalError",
    "TooManyRequests",
    "TransportError",
    "Unauthorized",
    "UpdateEvent",
    "Watch",
    "WatchEvent",
    "configure_logging",
    "current",
    "default_controller_rate_limiter",
    "freeze",
    "is_frozen",
    "is_terminal",
    "object_key",
    "parse_selector",
    "selector_from_dict",
    "thaw",
]
