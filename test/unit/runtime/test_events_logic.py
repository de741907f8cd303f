"""Event aggregation, similar-event combining and spam filtering (pure logic, injected clock)."""

from __future__ import annotations

from typing import Any

from opstack.runtime.events import EventBroadcaster, EventCorrelator, EventRecorder
from opstack.runtime.gvk import GVK


class FakeTime:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t


class RecordingClient:
    """Records writes; a fake is fine here: this tests the aggregation logic, not the API server."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.patched: list[tuple[str, str, Any]] = []

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.created.append(obj)
        return obj

    def patch(
        self, gvk: GVK, name: str, patch: Any, namespace: str | None = None, *, patch_type: str = "merge"
    ) -> dict[str, Any]:
        self.patched.append((namespace or "", name, patch))
        return {}


POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
}


def make(clock: FakeTime, **kw: Any) -> tuple[EventRecorder, EventCorrelator, RecordingClient]:
    client = RecordingClient()
    correlator = EventCorrelator(clock=clock, **kw)
    b = EventBroadcaster(client, reporting_instance="inst-1", clock=clock, correlator=correlator)
    return b.new_recorder("test-controller"), correlator, client


def test_identical_events_aggregate_into_one_with_a_count() -> None:
    clock = FakeTime()
    rec, corr, _ = make(clock)
    decisions = []
    for _ in range(5):
        clock.t += 1
        decisions.append(corr.correlate(rec.build(POD, "Warning", "Failed", "boom")))
    assert [d.action for d in decisions] == ["create", "patch", "patch", "patch", "patch"]
    first = decisions[0].event
    assert first["count"] == 1
    assert first["involvedObject"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": "p",
        "namespace": "ns",
        "uid": "u1",
    }
    assert first["reportingComponent"] == "test-controller" and first["reportingInstance"] == "inst-1"
    last = decisions[-1]
    assert last.event["metadata"]["name"] == first["metadata"]["name"]
    assert last.patch is not None and last.patch["count"] == 5
    assert last.event["firstTimestamp"] == first["firstTimestamp"]
    assert last.patch["lastTimestamp"] != first["lastTimestamp"]


def test_different_message_reason_type_or_object_are_separate() -> None:
    clock = FakeTime()
    rec, corr, _ = make(clock)
    other = {**POD, "metadata": {**POD["metadata"], "name": "q", "uid": "u2"}}
    actions = [
        corr.correlate(rec.build(POD, "Warning", "Failed", "boom")).action,
        corr.correlate(rec.build(POD, "Warning", "Failed", "bang")).action,
        corr.correlate(rec.build(POD, "Warning", "Other", "boom")).action,
        corr.correlate(rec.build(POD, "Normal", "Failed", "boom")).action,
        corr.correlate(rec.build(other, "Warning", "Failed", "boom")).action,
    ]
    assert actions == ["create"] * 5


def test_many_similar_messages_are_combined() -> None:
    clock = FakeTime()
    rec, corr, _ = make(clock, similar_max=3)
    ds = [corr.correlate(rec.build(POD, "Warning", "Failed", f"error {i}")) for i in range(6)]
    assert [d.action for d in ds] == ["create", "create", "create", "create", "patch", "patch"]
    assert ds[3].event["message"] == "(combined from similar events): error 3"
    assert ds[5].patch is not None and ds[5].patch["message"] == "(combined from similar events): error 5"
    assert ds[5].patch["count"] == 3
    clock.t += 601  # the similarity window closes
    assert corr.correlate(rec.build(POD, "Warning", "Failed", "error 99")).event["message"] == "error 99"


def test_spam_filter_burst_then_one_per_five_minutes() -> None:
    clock = FakeTime()
    rec, corr, _ = make(clock)
    actions = [corr.correlate(rec.build(POD, "Normal", "Tick", f"m{i % 2}")).action for i in range(30)]
    assert actions.count("drop") == 5 and "drop" not in actions[:25]
    clock.t += 299
    assert corr.correlate(rec.build(POD, "Normal", "Tick", "m0")).action == "drop"
    clock.t += 1
    assert corr.correlate(rec.build(POD, "Normal", "Tick", "m0")).action == "patch"
    other = {**POD, "metadata": {**POD["metadata"], "name": "q", "uid": "u2"}}
    assert corr.correlate(rec.build(other, "Normal", "Tick", "m0")).action == "create"  # per object


def test_cluster_scoped_objects_get_events_in_default() -> None:
    rec, _, _ = make(FakeTime())
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "uid": "u"}}
    assert rec.build(node, "Normal", "X", "y")["metadata"]["namespace"] == "default"


def test_long_messages_are_truncated() -> None:
    rec, _, _ = make(FakeTime())
    assert len(rec.build(POD, "Normal", "X", "m" * 5000)["message"]) == 1024


def test_broadcaster_writes_creates_then_patches() -> None:
    clock = FakeTime()
    rec, _, client = make(clock)
    for _ in range(5):
        rec.event(POD, "Normal", "Synced", "all good")
    assert rec._broadcaster.flush(5)
    assert len(client.created) == 1
    assert [p[2]["count"] for p in client.patched] == [2, 3, 4, 5]
    assert {p[1] for p in client.patched} == {client.created[0]["metadata"]["name"]}
    rec._broadcaster.stop()


def test_invalid_type_is_refused() -> None:
    rec, _, _ = make(FakeTime())
    try:
        rec.event(POD, "Error", "X", "y")  # type: ignore[arg-type]
    except ValueError as e:
        assert "Normal" in str(e)
    else:
        raise AssertionError("expected ValueError")
