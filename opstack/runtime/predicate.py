"""Predicates: which informer events reach a handler (controller-runtime's `pkg/predicate`).

Invariants:
- A predicate is pure: it reads the event's objects and answers; it never mutates them.
- The "changed" predicates filter only updates; create, delete and generic events pass (as in
  controller-runtime). An update whose objects lack the compared field does not pass (nothing to compare).
- `GenerationChangedPredicate` passes an update only when `metadata.generation` differs, so status-only
  writes (status subresource) and informer resyncs (old == new) never trigger a reconcile. The price, as in
  controller-runtime: a wiped status is not healed until the next spec change or requeue.
- `LabelSelectorPredicate` filters every event type by the object's labels (the new object on update).
- `And` passes when all pass (empty: True); `Or` when any passes (empty: False); `Not` inverts. Predicates
  combine with `&`, `|` and `~` too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opstack.runtime.handler import CreateEvent, DeleteEvent, GenericEvent, ObjView, UpdateEvent
from opstack.runtime.labels import Selector, parse_selector, selector_from_dict


class Predicate:
    """Lets every event through; subclasses override what they filter."""

    def create(self, event: CreateEvent) -> bool:
        return True

    def update(self, event: UpdateEvent) -> bool:
        return True

    def delete(self, event: DeleteEvent) -> bool:
        return True

    def generic(self, event: GenericEvent) -> bool:
        return True

    def __and__(self, other: Predicate) -> Predicate:
        return And(self, other)

    def __or__(self, other: Predicate) -> Predicate:
        return Or(self, other)

    def __invert__(self) -> Predicate:
        return Not(self)


class Funcs(Predicate):
    """A predicate from functions; a missing function lets the event through."""

    def __init__(
        self,
        *,
        create: Callable[[CreateEvent], bool] | None = None,
        update: Callable[[UpdateEvent], bool] | None = None,
        delete: Callable[[DeleteEvent], bool] | None = None,
        generic: Callable[[GenericEvent], bool] | None = None,
    ) -> None:
        self._create, self._update, self._delete, self._generic = create, update, delete, generic

    def create(self, event: CreateEvent) -> bool:
        return self._create(event) if self._create else True

    def update(self, event: UpdateEvent) -> bool:
        return self._update(event) if self._update else True

    def delete(self, event: DeleteEvent) -> bool:
        return self._delete(event) if self._delete else True

    def generic(self, event: GenericEvent) -> bool:
        return self._generic(event) if self._generic else True


def _meta(obj: ObjView) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


class _MetadataFieldChanged(Predicate):
    field = ""

    def update(self, event: UpdateEvent) -> bool:
        old, new = _meta(event.object_old), _meta(event.object_new)
        if not old or not new:
            return False
        return (old.get(self.field) or None) != (new.get(self.field) or None)


class GenerationChangedPredicate(_MetadataFieldChanged):
    """Updates pass only when metadata.generation changed (i.e. the spec changed)."""

    field = "generation"

    def update(self, event: UpdateEvent) -> bool:
        old, new = _meta(event.object_old), _meta(event.object_new)
        if "generation" not in old or "generation" not in new:
            return False
        return bool(old["generation"] != new["generation"])


class ResourceVersionChangedPredicate(_MetadataFieldChanged):
    """Updates pass only when metadata.resourceVersion changed (filters informer resyncs)."""

    field = "resourceVersion"


class LabelChangedPredicate(_MetadataFieldChanged):
    """Updates pass only when metadata.labels changed."""

    field = "labels"


class AnnotationChangedPredicate(_MetadataFieldChanged):
    """Updates pass only when metadata.annotations changed."""

    field = "annotations"


class LabelSelectorPredicate(Predicate):
    """Events pass only if the object's labels match the selector ("app=x,tier!=db", or a
    metav1.LabelSelector dict with matchLabels/matchExpressions); on update the new object decides."""

    def __init__(self, selector: str | Mapping[str, Any]) -> None:
        self.selector: Selector = (
            parse_selector(selector) if isinstance(selector, str) else selector_from_dict(selector)
        )

    def _matches(self, obj: ObjView) -> bool:
        return self.selector.matches_object(obj)

    def create(self, event: CreateEvent) -> bool:
        return self._matches(event.object)

    def update(self, event: UpdateEvent) -> bool:
        return self._matches(event.object_new)

    def delete(self, event: DeleteEvent) -> bool:
        return self._matches(event.object)

    def generic(self, event: GenericEvent) -> bool:
        return self._matches(event.object)


class And(Predicate):
    def __init__(self, *predicates: Predicate) -> None:
        self.predicates = predicates

    def create(self, event: CreateEvent) -> bool:
        return all(p.create(event) for p in self.predicates)

    def update(self, event: UpdateEvent) -> bool:
        return all(p.update(event) for p in self.predicates)

    def delete(self, event: DeleteEvent) -> bool:
        return all(p.delete(event) for p in self.predicates)

    def generic(self, event: GenericEvent) -> bool:
        return all(p.generic(event) for p in self.predicates)


class Or(Predicate):
    def __init__(self, *predicates: Predicate) -> None:
        self.predicates = predicates

    def create(self, event: CreateEvent) -> bool:
        return any(p.create(event) for p in self.predicates)

    def update(self, event: UpdateEvent) -> bool:
        return any(p.update(event) for p in self.predicates)

    def delete(self, event: DeleteEvent) -> bool:
        return any(p.delete(event) for p in self.predicates)

    def generic(self, event: GenericEvent) -> bool:
        return any(p.generic(event) for p in self.predicates)


class Not(Predicate):
    def __init__(self, predicate: Predicate) -> None:
        self.predicate = predicate

    def create(self, event: CreateEvent) -> bool:
        return not self.predicate.create(event)

    def update(self, event: UpdateEvent) -> bool:
        return not self.predicate.update(event)

    def delete(self, event: DeleteEvent) -> bool:
        return not self.predicate.delete(event)

    def generic(self, event: GenericEvent) -> bool:
        return not self.predicate.generic(event)
