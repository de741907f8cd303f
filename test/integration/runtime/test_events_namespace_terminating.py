"""Events in a namespace that is being deleted, against the real API server: its refusal (403, cause
NamespaceTerminating) is recognised and dropped at debug level without a traceback.

A ConfigMap with a finalizer holds the namespace in Terminating for as long as the test needs it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.events import EventBroadcaster, namespace_terminating
from opstack.runtime.gvk import EVENT, GVK

pytestmark = pytest.mark.integration

CM = GVK("", "v1", "ConfigMap")
NAMESPACE = GVK("", "v1", "Namespace")
HOLD = "opstack.test/hold-namespace"


@pytest.fixture
def client(kubeconfig: str) -> Iterator[Client]:
    c = Client.from_kubeconfig(kubeconfig)
    yield c
    c.close()


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_an_event_in_a_terminating_namespace_is_dropped_quietly(client: Client, namespace: str) -> None:
    holder = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "holder", "namespace": namespace, "finalizers": [HOLD]},
    }
    obj = client.create(holder)
    try:
        client.delete(NAMESPACE, namespace)

        def refused() -> errors.ApiError | None:
            meta = {"generateName": "probe-", "namespace": namespace}
            probe = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
            try:
                client.create(probe)
            except errors.Forbidden as exc:
                return exc
            return None

        # The admission plugin sees the namespace's phase through its informer: wait until it refuses.
        refusal = wait_for(refused, 30, "the API server to refuse new objects in the terminating namespace")
        assert namespace_terminating(refusal), refusal.body

        broadcaster = EventBroadcaster(client, reporting_instance="test")
        with capture_logs() as logs:
            broadcaster.new_recorder("test-controller").event(obj, "Warning", "Failed", "boom")
            assert broadcaster.flush(15)
            broadcaster.stop()
        assert [(e["log_level"], "exc_info" in e) for e in logs] == [("debug", False)], logs
        assert logs[0]["namespace"] == namespace
        items, _ = client.list_all(EVENT, namespace)
        assert not [e for e in items if e.get("reason") == "Failed"]
    finally:
        client.patch(CM, "holder", {"metadata": {"finalizers": None}}, namespace)
