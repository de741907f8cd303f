"""Handlers (which requests an event enqueues) and predicates (which events pass)."""

from __future__ import annotations

from typing import Any

from opstack.runtime.gvk import GVK
from opstack.runtime.handler import (
    CreateEvent,
    DeleteEvent,
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
    GenericEvent,
    UpdateEvent,
)
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
from opstack.runtime.reconcile import Request

PARENT = GVK("example.com", "v1", "Parent")


class ListQueue:
    def __init__(self) -> None:
        self.items: list[Request] = []

    def add(self, item: Request) -> None:
        self.items.append(item)


def obj(name: str = "a", ns: str = "ns", **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, **meta}}


def owner_ref(
    name: str, *, controller: bool = True, api_version: str = "example.com/v1", kind: str = "Parent"
) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": f"uid-{name}",
        "controller": controller,
    }


# --- handlers -----------------------------------------------------------------------------------------------


def test_enqueue_for_object() -> None:
    q, h = ListQueue(), EnqueueRequestForObject()
    h.create(CreateEvent(obj("a")), q)
    h.update(UpdateEvent(obj("a"), obj("a")), q)
    h.delete(DeleteEvent(obj("b"), delete_state_unknown=True), q)
    h.generic(GenericEvent(obj("c", ns="")), q)
    assert q.items == [Request("ns", "a"), Request("ns", "a"), Request("ns", "b"), Request("", "c")]


def test_enqueue_for_owner_controller_only_by_default() -> None:
    q, h = ListQueue(), EnqueueRequestForOwner(PARENT)
    child = obj(
        "child",
        ownerReferences=[
            owner_ref("not-controller", controller=False),
            owner_ref("boss"),
            owner_ref("other-kind", kind="Other"),
            owner_ref("other-group", api_version="other.com/v1"),
        ],
    )
    h.create(CreateEvent(child), q)
    assert q.items == [Request("ns", "boss")]


def test_enqueue_for_owner_all_owners_and_any_version() -> None:
    q, h = ListQueue(), EnqueueRequestForOwner(PARENT, only_controller=False)
    child = obj(
        "child",
        ownerReferences=[owner_ref("x", controller=False), owner_ref("y", api_version="example.com/v2")],
    )
    h.create(CreateEvent(child), q)
    assert q.items == [Request("ns", "x"), Request("ns", "y")]


def test_enqueue_for_cluster_scoped_owner() -> None:
    q, h = ListQueue(), EnqueueRequestForOwner(PARENT, owner_namespaced=False)
    h.create(CreateEvent(obj("child", ownerReferences=[owner_ref("p")])), q)
    assert q.items == [Request("", "p")]


def test_enqueue_for_owner_update_reaches_old_and_new_owner() -> None:
    q, h = ListQueue(), EnqueueRequestForOwner(PARENT)
    old = obj("child", ownerReferences=[owner_ref("old")])
    new = obj("child", ownerReferences=[owner_ref("new")])
    h.update(UpdateEvent(old, new), q)
    assert q.items == [Request("ns", "old"), Request("ns", "new")]
    q.items.clear()
    h.update(UpdateEvent(new, new), q)
    assert q.items == [Request("ns", "new")]


def test_enqueue_for_owner_without_owner_refs() -> None:
    q, h = ListQueue(), EnqueueRequestForOwner(PARENT)
    h.delete(DeleteEvent(obj("orphan")), q)
    assert q.items == []


def test_enqueue_from_map_func() -> None:
    q = ListQueue()
    h = EnqueueRequestsFromMapFunc(
        lambda o: [Request("ns", f"{o['metadata']['name']}-1"), Request("ns", f"{o['metadata']['name']}-2")]
    )
    h.create(CreateEvent(obj("a")), q)
    h.update(UpdateEvent(obj("a"), obj("b")), q)
    assert q.items == [
        Request("ns", "a-1"),
        Request("ns", "a-2"),
        Request("ns", "a-1"),
        Request("ns", "a-2"),
        Request("ns", "b-1"),
        Request("ns", "b-2"),
    ]


# --- predicates ---------------------------------------------------------------------------------------------


def upd(old: dict[str, Any], new: dict[str, Any]) -> UpdateEvent:
    return UpdateEvent(old, new)


def test_generation_changed() -> None:
    p = GenerationChangedPredicate()
    assert p.update(upd(obj(generation=1), obj(generation=2)))
    assert not p.update(upd(obj(generation=1, resourceVersion="1"), obj(generation=1, resourceVersion="2")))
    assert not p.update(upd(obj(), obj()))  # nothing to compare
    assert p.create(CreateEvent(obj())) and p.delete(DeleteEvent(obj())) and p.generic(GenericEvent(obj()))


def test_resource_version_changed() -> None:
    p = ResourceVersionChangedPredicate()
    assert p.update(upd(obj(resourceVersion="1"), obj(resourceVersion="2")))
    assert not p.update(upd(obj(resourceVersion="1"), obj(resourceVersion="1")))  # a resync


def test_label_and_annotation_changed() -> None:
    lp, ap = LabelChangedPredicate(), AnnotationChangedPredicate()
    assert lp.update(upd(obj(labels={"a": "1"}), obj(labels={"a": "2"})))
    assert lp.update(upd(obj(), obj(labels={"a": "1"})))
    assert not lp.update(upd(obj(labels={"a": "1"}), obj(labels={"a": "1"})))
    assert not lp.update(upd(obj(labels={}), obj()))  # empty and absent are the same
    assert ap.update(upd(obj(annotations={"x": "1"}), obj(annotations={"x": "2"})))
    assert not ap.update(upd(obj(annotations={"x": "1"}, labels={"a": "1"}), obj(annotations={"x": "1"})))


def test_combinators() -> None:
    yes, no = Predicate(), Not(Predicate())
    e = upd(obj(), obj())
    assert And(yes, yes).update(e) and not And(yes, no).update(e) and And().update(e)
    assert Or(no, yes).update(e) and not Or(no, no).update(e) and not Or().update(e)
    assert not Not(yes).update(e)
    assert (yes & yes).update(e) and not (yes & no).update(e)
    assert (no | yes).update(e) and not (~yes).update(e)
    gen_or_labels = GenerationChangedPredicate() | LabelChangedPredicate()
    assert gen_or_labels.update(upd(obj(generation=1), obj(generation=1, labels={"a": "b"})))
    assert not gen_or_labels.update(upd(obj(generation=1), obj(generation=1)))


def test_funcs() -> None:
    p = Funcs(create=lambda e: e.is_in_initial_list is False)
    assert p.create(CreateEvent(obj())) and not p.create(CreateEvent(obj(), is_in_initial_list=True))
    assert p.update(upd(obj(), obj())) and p.delete(DeleteEvent(obj()))


def test_label_selector() -> None:
    p = LabelSelectorPredicate("app=node,tier!=db")
    assert p.create(CreateEvent(obj(labels={"app": "node"})))
    assert not p.create(CreateEvent(obj(labels={"app": "node", "tier": "db"})))
    assert p.update(upd(obj(), obj(labels={"app": "node"})))  # the new object decides
    assert not p.delete(DeleteEvent(obj()))
    q = LabelSelectorPredicate({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]})
    assert q.generic(GenericEvent(obj(labels={"app": "b"}))) and not q.generic(GenericEvent(obj()))
