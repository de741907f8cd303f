"""Event handlers: which `Request`s an informer event enqueues (controller-runtime's `pkg/handler`).

Invariants:
- A handler only reads the objects it is given (they belong to the cache) and only calls `queue.add`.
- `EnqueueRequestForObject` enqueues the object itself.
- `EnqueueRequestForOwner(owner)` enqueues the owners of the object whose ownerReference matches the owner's
  group and kind (the version is ignored, as owner references outlive API versions); by default only the
  reference with `controller: true` counts. Owners of a namespaced kind are looked up in the object's
  namespace (Kubernetes forbids cross-namespace owners); cluster-scoped owners get namespace "".
- `EnqueueRequestsFromMapFunc(fn)` enqueues whatever `fn(obj)` returns.
- On update, owner and map-func handlers enqueue for both the old and the new object (a changed owner
  reference must reach the old owner too); duplicates collapse in the queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from opstack.runtime.gvk import GVK
from opstack.runtime.reconcile import Request

ObjView = Mapping[str, Any]


# --- events (controller-runtime's pkg/event) ----------------------------------------------------------------


@dataclass(frozen=True)
class CreateEvent:
    object: ObjView
    is_in_initial_list: bool = False


@dataclass(frozen=True)
class UpdateEvent:
    object_old: ObjView
    object_new: ObjView


@dataclass(frozen=True)
class DeleteEvent:
    object: ObjView
    delete_state_unknown: bool = False  # the watch missed the delete; `object` is the last state seen


@dataclass(frozen=True)
class GenericEvent:
    object: ObjView


class RequestQueue(Protocol):
    """The part of a work queue that handlers use."""

    def add(self, item: Request) -> None: ...


class EventHandler(Protocol):
    def create(self, event: CreateEvent, queue: RequestQueue) -> None: ...
    def update(self, event: UpdateEvent, queue: RequestQueue) -> None: ...
    def delete(self, event: DeleteEvent, queue: RequestQueue) -> None: ...
    def generic(self, event: GenericEvent, queue: RequestQueue) -> None: ...


def _meta(obj: ObjView) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def request_for(obj: ObjView) -> Request | None:
    meta = _meta(obj)
    name = meta.get("name")
    if not name:
        return None
    return Request(str(meta.get("namespace") or ""), str(name))


class _PerObjectHandler:
    """Base for handlers that compute requests from one object at a time."""

    def requests(self, obj: ObjView) -> Iterable[Request]:
        raise NotImplementedError

    def create(self, event: CreateEvent, queue: RequestQueue) -> None:
        for req in self.requests(event.object):
            queue.add(req)

    def update(self, event: UpdateEvent, queue: RequestQueue) -> None:
        seen: set[Request] = set()
        for obj in (event.object_old, event.object_new):
            for req in self.requests(obj):
                if req not in seen:
                    seen.add(req)
                    queue.add(req)

    def delete(self, event: DeleteEvent, queue: RequestQueue) -> None:
        for req in self.requests(event.object):
            queue.add(req)

    def generic(self, event: GenericEvent, queue: RequestQueue) -> None:
        for req in self.requests(event.object):
            queue.add(req)


class EnqueueRequestForObject(_PerObjectHandler):
    """Reconcile the object the event is about."""

    def requests(self, obj: ObjView) -> Iterable[Request]:
        req = request_for(obj)
        return [req] if req is not None else []

    def update(self, event: UpdateEvent, queue: RequestQueue) -> None:
        # Name and namespace cannot change, so the new object alone decides.
        req = request_for(event.object_new) or request_for(event.object_old)
        if req is not None:
            queue.add(req)


class EnqueueRequestForOwner(_PerObjectHandler):
    """Reconcile the owner (of kind `owner`) of the object the event is about."""

    def __init__(self, owner: GVK, *, only_controller: bool = True, owner_namespaced: bool = True) -> None:
        self.owner = owner
        self.only_controller = only_controller
        self.owner_namespaced = owner_namespaced

    def requests(self, obj: ObjView) -> Iterable[Request]:
        meta = _meta(obj)
        namespace = str(meta.get("namespace") or "") if self.owner_namespaced else ""
        out: list[Request] = []
        for ref in meta.get("ownerReferences") or ():
            if not isinstance(ref, Mapping):
                continue
            if self.only_controller and not ref.get("controller"):
                continue
            if ref.get("kind") != self.owner.kind:
                continue
            group, _, _version = str(ref.get("apiVersion", "")).rpartition("/")
            if group != self.owner.group:
                continue
            name = ref.get("name")
            if name:
                out.append(Request(namespace, str(name)))
        return out


class EnqueueRequestsFromMapFunc(_PerObjectHandler):
    """Reconcile whatever `fn(obj)` names (e.g. every network that references a changed Secret)."""

    def __init__(self, fn: Callable[[ObjView], Iterable[Request]]) -> None:
        self.fn = fn

    def requests(self, obj: ObjView) -> Iterable[Request]:
        return list(self.fn(obj))
