"""Fluent set-up of a controller (controller-runtime's `builder`).

    ControllerBuilder(mgr) \\
        .named("opnode") \\
        .for_(OPNODE, predicates=[GenerationChangedPredicate()]) \\
        .owns(STATEFULSET) \\
        .watches(SECRET, EnqueueRequestsFromMapFunc(secret_to_nodes)) \\
        .with_options(max_concurrent_reconciles=4, reconcile_timeout=60) \\
        .complete(reconciler)

Invariants:
- Exactly one `for_` kind; its objects are reconciled by EnqueueRequestForObject.
- `owns(kind)` reconciles the controlling owner of kind `for_` of each changed object of `kind`
  (EnqueueRequestForOwner, controller references only unless `only_controller=False`).
- `watches(kind, handler)` adds any other source.
- `with_event_filter(p)` applies `p` to every source (before the source's own predicates).
- The controller name defaults to the lower-cased `for_` kind and must be unique within a manager.
- `complete()` creates the informers in the manager's shared cache (one per kind, shared with every other
  controller), builds the controller and adds it to the manager as a leader-election runnable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opstack.runtime.controller import Controller, ControllerOptions
from opstack.runtime.gvk import GVK
from opstack.runtime.handler import EnqueueRequestForObject, EnqueueRequestForOwner, EventHandler
from opstack.runtime.predicate import Predicate
from opstack.runtime.reconcile import Reconciler, Request
from opstack.runtime.workqueue import RateLimiter


class ControllerBuilder:
    def __init__(self, manager: Any) -> None:
        self._mgr = manager
        self._name: str | None = None
        self._for: tuple[GVK, list[Predicate]] | None = None
        self._owns: list[tuple[GVK, list[Predicate], bool]] = []
        self._watches: list[tuple[GVK, EventHandler, list[Predicate]]] = []
        self._filters: list[Predicate] = []
        self._options: dict[str, Any] = {}
        self._rate_limiter: RateLimiter[Request] | None = None

    def named(self, name: str) -> ControllerBuilder:
        self._name = name
        return self

    def for_(self, gvk: GVK, *, predicates: Sequence[Predicate] = ()) -> ControllerBuilder:
        if self._for is not None:
            raise ValueError(
                f"for_() was already called with {self._for[0]}; a controller reconciles one kind"
            )
        self._for = (gvk, list(predicates))
        return self

    def owns(
        self, gvk: GVK, *, predicates: Sequence[Predicate] = (), only_controller: bool = True
    ) -> ControllerBuilder:
        self._owns.append((gvk, list(predicates), only_controller))
        return self

    def watches(
        self, gvk: GVK, handler: EventHandler, *, predicates: Sequence[Predicate] = ()
    ) -> ControllerBuilder:
        self._watches.append((gvk, handler, list(predicates)))
        return self

    def with_event_filter(self, predicate: Predicate) -> ControllerBuilder:
        self._filters.append(predicate)
        return self

    def with_options(
        self,
        *,
        max_concurrent_reconciles: int | None = None,
        reconcile_timeout: float | None = None,
        cache_sync_timeout: float | None = None,
        need_leader_election: bool | None = None,
        rate_limiter: RateLimiter[Request] | None = None,
    ) -> ControllerBuilder:
        for key, value in (
            ("max_concurrent_reconciles", max_concurrent_reconciles),
            ("reconcile_timeout", reconcile_timeout),
            ("cache_sync_timeout", cache_sync_timeout),
            ("need_leader_election", need_leader_election),
        ):
            if value is not None:
                self._options[key] = value
        if rate_limiter is not None:
            self._rate_limiter = rate_limiter
        return self

    def build(self, reconciler: Reconciler) -> Controller:
        """Build and wire the controller without adding it to the manager."""
        if self._for is None:
            raise ValueError("ControllerBuilder: call for_(kind) before complete()")
        if not callable(getattr(reconciler, "reconcile", None)):
            raise TypeError("the reconciler must have a reconcile(request) -> Result method")
        for_gvk, for_predicates = self._for
        name = self._name or for_gvk.kind.lower()
        cache = self._mgr.cache
        controller = Controller(
            name, reconciler, options=ControllerOptions(**self._options), rate_limiter=self._rate_limiter
        )
        controller.watch(
            cache.informer_for(for_gvk), EnqueueRequestForObject(), [*self._filters, *for_predicates]
        )
        owner_namespaced = self._namespaced(for_gvk)
        for gvk, predicates, only_controller in self._owns:
            handler = EnqueueRequestForOwner(
                for_gvk, only_controller=only_controller, owner_namespaced=owner_namespaced
            )
            controller.watch(cache.informer_for(gvk), handler, [*self._filters, *predicates])
        for gvk, watch_handler, predicates in self._watches:
            controller.watch(cache.informer_for(gvk), watch_handler, [*self._filters, *predicates])
        return controller

    def complete(self, reconciler: Reconciler) -> Controller:
        """Build the controller and add it to the manager."""
        controller = self.build(reconciler)
        self._mgr.add_controller(controller)
        return controller

    def _namespaced(self, gvk: GVK) -> bool:
        try:
            return bool(self._mgr.client.resource_for(gvk).namespaced)
        except Exception:
            return True
