"""Shared bits of the control-path integration tests (controllers, manager, leader election, events)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from opstack import runtime as rt
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.runtime.manager import Manager

HERE = Path(__file__).resolve().parent
GROUP = "ctl.test.opstack.io"
WIDGET = GVK(GROUP, "v1", "Widget")
CM = GVK("", "v1", "ConfigMap")
LEASE = GVK("coordination.k8s.io", "v1", "Lease")
EVENT = GVK("", "v1", "Event")
CRD = GVK("apiextensions.k8s.io", "v1", "CustomResourceDefinition")


def wait_for(
    predicate: Callable[[], bool], timeout: float, what: str = "condition", every: float = 0.05
) -> float:
    """Poll `predicate` until true; returns the seconds it took. Raises AssertionError on timeout."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def widget_crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"value": {"type": "string"}, "fail": {"type": "boolean"}},
                                },
                                "status": {
                                    "type": "object",
                                    "properties": {
                                        "observedGeneration": {"type": "integer"},
                                        "configMap": {"type": "string"},
                                        "note": {"type": "string"},
                                    },
                                },
                            },
                        }
                    },
                }
            ],
        },
    }


def install_widget_crd(client: Client) -> None:
    from opstack.runtime import errors

    with contextlib.suppress(errors.AlreadyExists):
        client.create(widget_crd())

    def established() -> bool:
        crd = client.get(CRD, f"widgets.{GROUP}")
        conds = (crd.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conds)

    wait_for(established, 30, "the Widget CRD to be established")
    # discovery must know the new kind before informers ask for it
    wait_for(lambda: _served(client), 30, "Widget discovery")


def _served(client: Client) -> bool:
    try:
        client.resource_for(WIDGET)
        return True
    except Exception:
        return False


def widget(name: str, namespace: str, value: str = "v1", fail: bool = False) -> dict[str, Any]:
    return {
        "apiVersion": WIDGET.api_version,
        "kind": "Widget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"value": value, "fail": fail},
    }


@contextlib.contextmanager
def running(mgr: Manager, timeout: float = 60) -> Iterator[Manager]:
    """Run `mgr.start()` on a thread; yield once elected (controllers running); stop and join after."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            mgr.start()
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=run, name="test-manager", daemon=True)
    t.start()
    try:
        wait_for(lambda: mgr.elected.is_set() or bool(errors), timeout, "the manager to start")
        if errors:
            raise errors[0]
        yield mgr
    finally:
        mgr.stop()
        t.join(60)
        assert not t.is_alive(), "manager did not stop"
    if errors:
        raise errors[0]


# --- the out-of-process test manager -------------------------------------------------------------------


class ManagerProcess:
    """`python -m opstack_test_manager ...` with its stdout JSON lines collected by a thread."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "opstack_test_manager", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
            cwd=str(HERE.parents[2]),
        )
        self.lines: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self._lock = threading.Lock()
        self.exited_at: float | None = None  # wall-clock time the process was seen to exit
        threading.Thread(target=self._wait_exit, daemon=True).start()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _wait_exit(self) -> None:
        self.proc.wait()
        self.exited_at = time.time()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            line["_seen"] = time.time()
            with self._lock:
                self.lines.append(line)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self._lock:
                self.stderr.append(raw.rstrip())

    def events(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [line for line in self.lines if line.get("event") == kind]

    def wait_event(self, kind: str, timeout: float, count: int = 1) -> dict[str, Any]:
        def seen() -> bool:
            return len(self.events(kind)) >= count or self.proc.poll() is not None

        wait_for(seen, timeout, f"{kind!r} from the manager process")
        found = self.events(kind)
        if len(found) < count:
            raise AssertionError(
                f"manager exited ({self.proc.returncode}) before {kind!r}:\n{self.log_tail()}"
            )
        return found[count - 1]

    def log_tail(self, n: int = 40) -> str:
        with self._lock:
            return "\n".join(self.stderr[-n:])

    def signal(self, sig: signal.Signals) -> float:
        t = time.time()
        self.proc.send_signal(sig)
        return t

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"manager did not exit within {timeout}s:\n{self.log_tail()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


# --- the test controller ---------------------------------------------------------------------------------

FIELD_MANAGER = "widget-controller"


class WidgetReconciler:
    """For each Widget: an owned ConfigMap `<name>-cm` with data.value = spec.value, and status.
    Writes only what differs from the cache. Widgets with spec.fail always raise."""

    def __init__(self, mgr: rt.Manager) -> None:
        self.cache, self.client = mgr.cache, mgr.client
        self.lock = threading.Lock()
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.writes = 0

    def count(self, name: str) -> int:
        with self.lock:
            return len(self.calls[name])

    def reconcile(self, request: rt.Request) -> rt.Result:
        with self.lock:
            self.calls[request.name].append(time.monotonic())
        try:
            w = self.cache.get(WIDGET, request.name, request.namespace)
        except rt.NotFound:
            return rt.Result()
        if w["spec"].get("fail"):
            raise RuntimeError(f"widget {request.name} is set to fail")
        meta = w["metadata"]
        cm_name = f"{request.name}-cm"
        desired_data = {"value": w["spec"].get("value", "")}
        try:
            current = self.cache.get(CM, cm_name, request.namespace)
        except rt.NotFound:
            current = None
        if current is None or dict(current.get("data") or {}) != desired_data:
            self.client.apply(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": cm_name,
                        "namespace": request.namespace,
                        "ownerReferences": [
                            {
                                "apiVersion": WIDGET.api_version,
                                "kind": "Widget",
                                "name": meta["name"],
                                "uid": meta["uid"],
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                    },
                    "data": desired_data,
                },
                field_manager=FIELD_MANAGER,
            )
            with self.lock:
                self.writes += 1
        status = w.get("status") or {}
        if status.get("observedGeneration") != meta["generation"] or status.get("configMap") != cm_name:
            self.client.patch(
                WIDGET,
                request.name,
                {"status": {"observedGeneration": meta["generation"], "configMap": cm_name}},
                request.namespace,
                subresource="status",
            )
            with self.lock:
                self.writes += 1
        return rt.Result()


def make_manager(kubeconfig: str, namespace: str) -> rt.Manager:
    return rt.Manager(rt.Client.from_kubeconfig(kubeconfig), namespaces=[namespace])


def converged(client: rt.Client, namespace: str, count: int) -> bool:
    widgets, _ = client.list_all(WIDGET, namespace)
    cms, _ = client.list_all(CM, namespace)
    done = [
        w for w in widgets if (w.get("status") or {}).get("observedGeneration") == w["metadata"]["generation"]
    ]
    owned = [c for c in cms if c["metadata"].get("ownerReferences")]
    return len(widgets) == count and len(done) == count and len(owned) == count
