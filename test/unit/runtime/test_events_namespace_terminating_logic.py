"""Events for objects in a namespace that is being deleted: the API server's refusal is a quiet debug-level
drop, not a warning with a traceback; other write failures stay warnings. (Against the real API server:
test/integration/runtime/test_events_namespace_terminating.py.)"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from structlog.testing import capture_logs

from opstack.runtime import errors
from opstack.runtime.events import EventBroadcaster, namespace_terminating
from opstack.runtime.gvk import GVK

# The body kube-apiserver's NamespaceLifecycle admission plugin answers with (apierrors.NewForbidden).
TERMINATING: dict[str, Any] = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": 'events "p.1" is forbidden: unable to create new content in namespace ns because it is being '
    "terminated",
    "reason": "Forbidden",
    "details": {
        "name": "p.1",
        "kind": "events",
        "causes": [
            {
                "reason": "NamespaceTerminating",
                "message": "namespace ns is being terminated",
                "field": "metadata.namespace",
            }
        ],
    },
    "code": 403,
}
RBAC: dict[str, Any] = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": 'events is forbidden: User "x" cannot create resource "events" in API group "" in the '
    'namespace "ns"',
    "reason": "Forbidden",
    "details": {"kind": "events"},
    "code": 403,
}
POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
}


class RefusingClient:
    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status
        self.creates = 0

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.creates += 1
        raise errors.ApiError.from_status(self.status)

    def patch(
        self, gvk: GVK, name: str, patch: Any, namespace: str | None = None, **_: Any
    ) -> dict[str, Any]:
        raise AssertionError("no patch expected")


def record_one(status: dict[str, Any]) -> tuple[list[MutableMapping[str, Any]], int]:
    client = RefusingClient(status)
    broadcaster = EventBroadcaster(client, reporting_instance="test")
    with capture_logs() as logs:
        broadcaster.new_recorder("test-controller").event(POD, "Warning", "Failed", "boom")
        assert broadcaster.flush(10)
        broadcaster.stop()
    return logs, client.creates


def test_a_terminating_namespace_is_a_quiet_debug_drop() -> None:
    assert namespace_terminating(errors.ApiError.from_status(TERMINATING))
    logs, creates = record_one(TERMINATING)
    assert creates == 1
    assert [(e["log_level"], "exc_info" in e) for e in logs] == [("debug", False)], logs
    assert logs[0]["namespace"] == "ns" and logs[0]["reason"] == "Failed"


def test_other_refusals_are_still_warnings_with_the_traceback() -> None:
    assert not namespace_terminating(errors.ApiError.from_status(RBAC))
    assert not namespace_terminating(errors.NotFound('namespaces "ns" not found'))
    logs, _ = record_one(RBAC)
    assert [(e["log_level"], e.get("exc_info")) for e in logs] == [("warning", True)], logs
