"""Reflector + informer logic against a scripted fake lister/watcher (no API server: pure logic),
and the backoff schedule with an injected clock."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from opstack.runtime.gvk import GVK
from opstack.runtime.informer import Backoff, DeletedFinalStateUnknown, EventHandlerFuncs, SharedInformer
from opstack.runtime.watch import Watch

CM = GVK("", "v1", "ConfigMap")


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def obj(name: str, rv: int, ns: str = "a", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": str(rv), "managedFields": [{"m": 1}]},
        "data": dict(data),
    }


def line(event_type: str, o: dict[str, Any]) -> bytes:
    return json.dumps({"type": event_type, "object": o}).encode() + b"\n"


class FakeClient:
    """Scripted list_all/watch. Each watch script is a list of bytes chunks, optionally ending with
    an exception instance to raise; when the scripts run out, watches block until `done`."""

    def __init__(self) -> None:
        self.lists: list[tuple[list[dict[str, Any]], str]] = []
        self.list_calls: list[str | None] = []
        self.watch_scripts: list[list[Any]] = []
        self.watch_calls: list[str] = []
        self.done = threading.Event()

    def list_all(self, gvk: GVK, namespace: str | None = None, **kw: Any) -> tuple[list[dict[str, Any]], str]:
        self.list_calls.append(kw.get("resource_version"))
        items, rv = self.lists.pop(0) if len(self.lists) > 1 else self.lists[0]
        return [json.loads(json.dumps(i)) for i in items], rv

    def watch(self, gvk: GVK, namespace: str | None = None, **kw: Any) -> Watch:
        self.watch_calls.append(kw["resource_version"])
        script = self.watch_scripts.pop(0) if self.watch_scripts else None

        def chunks() -> Iterator[bytes]:
            if script is None:
                while not self.done.wait(0.01) and not watch.closed:
                    pass
                return
            for part in script:
                if isinstance(part, BaseException):
                    raise part
                yield part

        watch = Watch(chunks=chunks())
        return watch


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_add(self, o: dict[str, Any], initial: bool) -> None:
        self.events.append(("add", o["metadata"]["name"], o["metadata"]["resourceVersion"], initial))

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.events.append(
            (
                "update",
                new["metadata"]["name"],
                old["metadata"]["resourceVersion"],
                new["metadata"]["resourceVersion"],
            )
        )

    def on_delete(self, o: Any) -> None:
        if isinstance(o, DeletedFinalStateUnknown):
            self.events.append(("tombstone", o.key, o.obj["metadata"]["resourceVersion"]))
        else:
            self.events.append(("delete", o["metadata"]["name"], o["metadata"]["resourceVersion"]))


def informer(fake: FakeClient, **kw: Any) -> SharedInformer:
    inf = SharedInformer(fake, CM, rng=random.Random(1), **kw)  # type: ignore[arg-type]
    for r in inf._reflectors:
        r.backoff = Backoff(0.01, 0.05, rng=random.Random(2))
    return inf


@pytest.fixture
def fake() -> Iterator[FakeClient]:
    f = FakeClient()
    yield f
    f.done.set()


def test_list_then_watch_delivers_in_order_and_strips_managed_fields(fake: FakeClient) -> None:
    fake.lists = [([obj("x", 10), obj("y", 11)], "11")]
    fake.watch_scripts = [
        [
            line("MODIFIED", obj("x", 12)),
            line("ADDED", obj("z", 13)),
            line("MODIFIED", obj("x", 12)),  # duplicate: not a change
            line("MODIFIED", obj("y", 9)),  # older than stored: never delivered
            line("DELETED", obj("y", 14)),
            line("BOOKMARK", {"kind": "ConfigMap", "metadata": {"resourceVersion": "20"}}),
        ]
    ]
    rec = Recorder()
    inf = informer(fake)
    inf.add_event_handler(rec)
    inf.start()
    try:
        assert inf.wait_for_sync(5)
        wait_for(lambda: len(rec.events) == 5)
        wait_for(lambda: len(fake.watch_calls) == 2)
        assert rec.events == [
            ("add", "x", "10", True),
            ("add", "y", "11", True),
            ("update", "x", "10", "12"),
            ("add", "z", "13", False),
            ("delete", "y", "14"),
        ]
        assert fake.list_calls == ["0"]  # first list from the watch cache
        assert fake.watch_calls == ["11", "20"]  # clean end: re-watch from the bookmark, no relist
        stored = inf.store.get_by_key("a/x")
        assert stored is not None and "managedFields" not in stored["metadata"]
        with pytest.raises(TypeError):
            stored["data"]["k"] = "v"
        assert inf.stats.stale_dropped == 2
    finally:
        inf.stop()


def test_expiry_relists_from_quorum_and_reports_missed_deletes_as_tombstones(fake: FakeClient) -> None:
    gone = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version"}
    fake.lists = [
        ([obj("keep", 5), obj("change", 6), obj("vanish", 7)], "7"),
        ([obj("keep", 5), obj("change", 30), obj("new", 31)], "31"),
    ]
    fake.watch_scripts = [[line("ERROR", gone)]]
    rec = Recorder()
    inf = informer(fake)
    inf.add_event_handler(rec)
    inf.start()
    try:
        wait_for(lambda: len(rec.events) == 6)
        assert rec.events[3:] == [
            ("update", "change", "6", "30"),
            ("add", "new", "31", False),
            ("tombstone", "a/vanish", "7"),
        ]  # "keep" is unchanged: no event
        assert fake.list_calls == ["0", ""]  # after 410: a quorum read
        wait_for(lambda: fake.watch_calls[-1:] == ["31"])
        assert inf.stats.expired == 1 and inf.stats.relists == 1
        assert sorted(inf.store.list_keys()) == ["a/change", "a/keep", "a/new"]
    finally:
        inf.stop()


def test_a_broken_stream_resumes_from_the_last_version_without_relist(fake: FakeClient) -> None:
    fake.lists = [([], "100")]
    half = line("ADDED", obj("b", 102))
    fake.watch_scripts = [
        [line("ADDED", obj("a", 101)), half[:20], ConnectionResetError("reset")],
        [half, line("MODIFIED", obj("a", 103))],
    ]
    rec = Recorder()
    inf = informer(fake)
    inf.add_event_handler(rec)
    inf.start()
    try:
        wait_for(lambda: len(rec.events) == 3)
        assert rec.events == [
            ("add", "a", "101", False),
            ("add", "b", "102", False),
            ("update", "a", "101", "103"),
        ]
        assert fake.watch_calls[:2] == ["100", "101"]
        assert fake.list_calls == ["0"]
        assert inf.stats.watch_breaks == 1 and inf.stats.mid_line_breaks == 1
    finally:
        inf.stop()


def test_a_very_short_failed_watch_backs_off_and_relists(fake: FakeClient) -> None:
    fake.lists = [([obj("a", 1)], "1")]
    fake.watch_scripts = [[ConnectionResetError("reset at once")]]
    inf = informer(fake)
    inf.start()
    try:
        wait_for(lambda: len(fake.list_calls) == 2)
        assert fake.list_calls == ["0", "1"]  # relist from the last synced version (not a quorum read)
    finally:
        inf.stop()


def test_late_handler_gets_the_store_then_only_later_changes(fake: FakeClient) -> None:
    fake.lists = [([obj("x", 1), obj("y", 2)], "2")]
    gate = threading.Event()
    fake.watch_scripts = []
    first = Recorder()
    inf = informer(fake)
    inf.add_event_handler(first)
    inf.start()
    try:
        assert inf.wait_for_sync(5)
        late = Recorder()
        reg = inf.add_event_handler(late)
        wait_for(reg.has_synced)
        inf._apply("MODIFIED", inf._ingest(obj("x", 3)))
        wait_for(lambda: len(late.events) == 3)
        assert sorted(late.events[:2]) == [("add", "x", "1", True), ("add", "y", "2", True)]
        assert late.events[2] == ("update", "x", "1", "3")
        assert first.events[-1] == ("update", "x", "1", "3") and len(first.events) == 3
    finally:
        gate.set()
        inf.stop()


def test_a_failing_handler_does_not_stop_delivery(fake: FakeClient) -> None:
    fake.lists = [([obj("x", 1), obj("y", 2)], "2")]
    rec = Recorder()

    def explode(o: Any, initial: bool) -> None:
        raise RuntimeError("handler bug")

    inf = informer(fake)
    inf.add_event_handler(EventHandlerFuncs(add=explode))
    inf.add_event_handler(rec)
    inf.start()
    try:
        wait_for(lambda: len(rec.events) == 2)
    finally:
        inf.stop()


def test_per_namespace_reflectors_only_replace_their_namespace(fake: FakeClient) -> None:
    # Both reflectors get the same scripted list; each must keep only its own namespace's keys.
    fake.lists = [([obj("x", 1, ns="a"), obj("y", 2, ns="b")], "2")]
    inf = informer(fake, namespaces=["a", "b"])
    inf.start()
    try:
        assert inf.wait_for_sync(5)
        assert sorted(inf.store.list_keys()) == ["a/x", "b/y"]
        assert inf.namespaces == ["a", "b"]
    finally:
        inf.stop()


def test_resync_redelivers_every_object_as_an_update(fake: FakeClient) -> None:
    fake.lists = [([obj("x", 1)], "1")]
    rec = Recorder()
    inf = informer(fake, resync_period=0.05)
    inf.add_event_handler(rec)
    inf.start()
    try:
        wait_for(lambda: ("update", "x", "1", "1") in rec.events)
    finally:
        inf.stop()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def test_backoff_doubles_from_0_8_to_30_seconds() -> None:
    clock = FakeClock()
    b = Backoff(clock=clock, rng=FixedRandom(0.0))
    delays = []
    for _ in range(9):
        delays.append(round(b.next(), 3))
        clock.now += 1
    assert delays == [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0, 30.0]


def test_backoff_jitter_is_up_to_one_times_the_delay() -> None:
    b = Backoff(clock=FakeClock(), rng=FixedRandom(0.999))
    assert 1.59 < b.next() < 1.6
    rng_backoff = Backoff(clock=FakeClock(), rng=random.Random(7))
    for _ in range(10):
        rng_backoff.next()
    for _ in range(50):
        assert 30.0 <= rng_backoff.next() < 60.0  # "[30, 60) s" at the cap


def test_backoff_resets_after_two_quiet_minutes() -> None:
    clock = FakeClock()
    b = Backoff(clock=clock, rng=FixedRandom(0.0))
    for _ in range(5):
        b.next()
    clock.now += 119
    assert b.next() == 25.6  # not quiet long enough: keeps growing
    clock.now += 121
    assert b.next() == 0.8
