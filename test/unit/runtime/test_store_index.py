"""The indexed store, frozen objects, label selectors and typed errors (pure logic)."""

from __future__ import annotations

import copy
import json
import pickle
import threading

import pytest

from opstack.runtime import errors
from opstack.runtime.frozen import FrozenDict, FrozenList, freeze, is_frozen, thaw
from opstack.runtime.informer import (
    NAMESPACE_INDEX,
    OWNER_UID_INDEX,
    Indexer,
    namespace_index,
    object_key,
    owner_uid_index,
    split_key,
    strip_managed_fields,
)
from opstack.runtime.labels import parse_selector, selector_from_dict


def cm(
    name: str, ns: str = "a", rv: int = 1, labels: dict[str, str] | None = None, owners: tuple[str, ...] = ()
):
    return freeze(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": ns,
                "resourceVersion": str(rv),
                "labels": labels or {},
                "ownerReferences": [{"uid": u, "kind": "X", "name": "x", "apiVersion": "v1"} for u in owners],
            },
        }
    )


def store() -> Indexer:
    return Indexer({NAMESPACE_INDEX: namespace_index, OWNER_UID_INDEX: owner_uid_index})


def test_keys() -> None:
    assert object_key(cm("x", "ns")) == "ns/x"
    assert object_key({"metadata": {"name": "node-1"}}) == "node-1"
    assert split_key("ns/x") == ("ns", "x")
    assert split_key("node-1") == (None, "node-1")


def test_indexes_follow_updates_and_removals() -> None:
    s = store()
    s.upsert("a/x", cm("x", "a", owners=("u1",)))
    s.upsert("b/y", cm("y", "b", owners=("u1", "u2")))
    assert sorted(object_key(o) for o in s.by_index(OWNER_UID_INDEX, "u1")) == ["a/x", "b/y"]
    assert s.index_keys(NAMESPACE_INDEX, "a") == ["a/x"]
    # an update that drops an owner moves the key out of that index value
    s.upsert("b/y", cm("y", "b", rv=2, owners=("u2",)))
    assert s.index_keys(OWNER_UID_INDEX, "u1") == ["a/x"]
    assert s.index_keys(OWNER_UID_INDEX, "u2") == ["b/y"]
    s.remove("a/x")
    assert s.by_index(OWNER_UID_INDEX, "u1") == []
    assert "u1" not in s.index_values(OWNER_UID_INDEX)
    assert s.index_keys(NAMESPACE_INDEX, "a") == []
    assert len(s) == 1 and "b/y" in s


def test_custom_index_added_after_items_indexes_them() -> None:
    s = store()
    s.upsert("a/x", cm("x", labels={"tier": "db"}))
    s.upsert("a/y", cm("y", labels={"tier": "web"}))
    s.add_indexer(
        "tier", lambda o: [o["metadata"]["labels"]["tier"]] if "tier" in o["metadata"]["labels"] else []
    )
    assert s.index_keys("tier", "db") == ["a/x"]
    s.upsert("a/z", cm("z", labels={"tier": "db"}))
    assert s.index_keys("tier", "db") == ["a/x", "a/z"]
    with pytest.raises(ValueError):
        s.add_indexer("tier", namespace_index)
    with pytest.raises(KeyError, match="no index named 'nope'"):
        s.by_index("nope", "x")


def test_failing_index_function_is_contained() -> None:
    s = store()

    def broken(obj: dict) -> list[str]:
        raise RuntimeError("bad index")

    s.add_indexer("broken", broken)
    s.upsert("a/x", cm("x"))
    assert s.get_by_key("a/x") is not None
    assert s.by_index("broken", "anything") == []


def test_concurrent_writers_and_readers_keep_indexes_consistent() -> None:
    s = store()

    def writer(ns: str) -> None:
        for i in range(300):
            s.upsert(f"{ns}/c{i}", cm(f"c{i}", ns, rv=i))
            if i % 3 == 0:
                s.remove(f"{ns}/c{i}")

    threads = [threading.Thread(target=writer, args=(f"ns{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for _ in range(200):
        s.list()
        s.by_index(NAMESPACE_INDEX, "ns1")
    for t in threads:
        t.join()
    for k in range(4):
        keys = s.index_keys(NAMESPACE_INDEX, f"ns{k}")
        assert len(keys) == 200
        assert all(s.get_by_key(key) is not None for key in keys)
    assert len(s) == 800


def test_frozen_objects_refuse_mutation_everywhere() -> None:
    obj = cm("x", labels={"a": "b"}, owners=("u",))
    assert is_frozen(obj) and isinstance(obj, dict)
    with pytest.raises(TypeError, match="thaw"):
        obj["data"] = {}
    with pytest.raises(TypeError):
        obj["metadata"]["labels"]["a"] = "c"
    with pytest.raises(TypeError):
        obj["metadata"]["ownerReferences"].append({})
    with pytest.raises(TypeError):
        obj["metadata"].pop("name")
    with pytest.raises(TypeError):
        obj["metadata"]["labels"].update(x="y")
    with pytest.raises(TypeError):
        obj["metadata"]["ownerReferences"][0]["uid"] = "v"
    with pytest.raises(TypeError):
        obj |= {"x": 1}


def test_thaw_and_deepcopy_give_plain_mutable_copies() -> None:
    obj = cm("x", labels={"a": "b"}, owners=("u",))
    for copied in (thaw(obj), copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))):
        assert type(copied) is dict
        assert type(copied["metadata"]["ownerReferences"]) is list
        copied["metadata"]["labels"]["a"] = "changed"
        assert obj["metadata"]["labels"]["a"] == "b"
        assert copied["metadata"]["name"] == "x"
    shallow = copy.copy(obj)
    assert type(shallow) is dict
    shallow["data"] = {}  # the top level is mutable, nested parts remain frozen
    assert "data" not in obj


def test_frozen_objects_serialise_and_compare_like_plain_ones() -> None:
    plain = {"a": [1, {"b": None}], "c": "d"}
    frozen = freeze(plain)
    assert frozen == plain
    assert json.loads(json.dumps(frozen)) == plain
    assert freeze(frozen) is frozen
    assert isinstance(frozen["a"], FrozenList) and isinstance(frozen["a"][1], FrozenDict)


def test_strip_managed_fields() -> None:
    obj = {"metadata": {"name": "x", "managedFields": [{"manager": "kubectl"}]}}
    assert strip_managed_fields(obj) == {"metadata": {"name": "x"}}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", {}, True),
        ("a=b", {"a": "b"}, True),
        ("a==b", {"a": "c"}, False),
        ("a!=b", {}, True),
        ("a!=b", {"a": "b"}, False),
        ("a in (x, y),b", {"a": "y", "b": ""}, True),
        ("a in (x,y)", {}, False),
        ("a notin (x,y)", {}, True),
        ("a notin (x,y)", {"a": "x"}, False),
        ("!a", {"a": "1"}, False),
        ("!a", {}, True),
        ("app.kubernetes.io/name=op-node,tier", {"app.kubernetes.io/name": "op-node", "tier": "1"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_selector(selector).matches(labels) is expected


def test_bad_label_selector_names_the_part() -> None:
    with pytest.raises(ValueError, match="'a=b=c'"):
        parse_selector("x=y,a=b=c")


def test_label_selector_from_dict() -> None:
    sel = selector_from_dict(
        {"matchLabels": {"a": "b"}, "matchExpressions": [{"key": "c", "operator": "Exists"}]}
    )
    assert sel.matches({"a": "b", "c": ""}) and not sel.matches({"a": "b"})
    with pytest.raises(ValueError, match="operator"):
        selector_from_dict({"matchExpressions": [{"key": "c", "operator": "Near"}]})


@pytest.mark.parametrize(
    ("code", "reason", "cls"),
    [
        (404, "NotFound", errors.NotFound),
        (409, "AlreadyExists", errors.AlreadyExists),
        (409, "Conflict", errors.Conflict),
        (422, "Invalid", errors.Invalid),
        (403, "Forbidden", errors.Forbidden),
        (401, "Unauthorized", errors.Unauthorized),
        (410, "Gone", errors.Gone),
        (410, "Expired", errors.Gone),
        (429, "TooManyRequests", errors.TooManyRequests),
        (504, "Timeout", errors.ServerTimeout),
        (500, "ServerTimeout", errors.ServerTimeout),
        (400, "BadRequest", errors.BadRequest),
        (500, "InternalError", errors.InternalError),
        (418, "", errors.ApiError),
    ],
)
def test_status_maps_to_typed_error(code: int, reason: str, cls: type[errors.ApiError]) -> None:
    body = json.dumps({"kind": "Status", "code": code, "reason": reason, "message": "m"}).encode()
    err = errors.ApiError.from_response(code, body, {"Retry-After": "3"})
    assert type(err) is cls
    assert err.status == code and err.message == "m" and err.retry_after == 3.0


def test_non_status_body_is_typed_by_code() -> None:
    err = errors.ApiError.from_response(503, b"<html>upstream down</html>")
    assert isinstance(err, errors.ServiceUnavailable) and "upstream down" in err.message


def test_too_large_resource_version_counts_as_expired() -> None:
    status = {
        "kind": "Status",
        "code": 504,
        "reason": "Timeout",
        "message": "Too large resource version",
        "details": {
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}]
        },
    }
    assert errors.is_expired(errors.ApiError.from_status(status))
    assert errors.is_expired(errors.Gone("x"))
    assert not errors.is_expired(errors.ServerTimeout("x"))
