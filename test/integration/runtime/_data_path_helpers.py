"""Shared bits of the data-path integration tests (runtime client, watch, informer, cache)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import config as kube_config
from kubernetes.client import Configuration

from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.runtime.informer import DeletedFinalStateUnknown, compare_resource_versions, object_key

CM = GVK("", "v1", "ConfigMap")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def client_via(kubeconfig: str, server: str) -> Client:
    """A client that authenticates as the kubeconfig's user but dials `server` (e.g. a proxy)."""
    cfg = Configuration()
    kube_config.load_kube_config(config_file=kubeconfig, client_configuration=cfg, persist_config=False)
    cfg.host = server
    return Client(cfg)


def configmap(name: str, namespace: str, payload: str = "v", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"payload": payload},
    }


def parallel(fn: Callable[[Any], Any], items: list[Any], workers: int = 8) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


class EventLog:
    """A handler that records, per key, what it was told; and checks ordering as it goes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_key: dict[str, list[tuple[str, str]]] = defaultdict(list)  # key -> [(kind, rv)]
        self.violations: list[str] = []
        self.tombstones: list[str] = []
        self.count = 0

    def _record(self, kind: str, key: str, rv: str) -> None:
        with self.lock:
            seen = self.by_key[key]
            if seen and kind != "add" and seen[-1][0] != "delete":
                last_rv = seen[-1][1]
                if compare_resource_versions(rv, last_rv) < 0:
                    self.violations.append(f"{key}: {kind} rv {rv} after rv {last_rv}")
            seen.append((kind, rv))
            self.count += 1

    def on_add(self, obj: dict[str, Any], is_in_initial_list: bool) -> None:
        self._record("add", object_key(obj), obj["metadata"]["resourceVersion"])

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        old_rv, new_rv = old["metadata"]["resourceVersion"], new["metadata"]["resourceVersion"]
        if compare_resource_versions(new_rv, old_rv) <= 0:
            with self.lock:
                self.violations.append(f"{object_key(new)}: update {old_rv} -> {new_rv} is not a change")
        self._record("update", object_key(new), new_rv)

    def on_delete(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            with self.lock:
                self.tombstones.append(obj.key)
            self._record("delete", obj.key, obj.obj["metadata"]["resourceVersion"])
            return
        self._record("delete", object_key(obj), obj["metadata"]["resourceVersion"])

    def last(self, key: str) -> tuple[str, str] | None:
        with self.lock:
            seen = self.by_key.get(key)
            return seen[-1] if seen else None


def store_matches_server(store_items: list[dict[str, Any]], server_items: list[dict[str, Any]]) -> bool:
    mine = {object_key(o): o["metadata"]["resourceVersion"] for o in store_items}
    theirs = {object_key(o): o["metadata"]["resourceVersion"] for o in server_items}
    return mine == theirs


def handlers_match_server(log: EventLog, server_items: list[dict[str, Any]], keys: set[str]) -> bool:
    """The last thing the handler heard of every key is the server's state (deleted or its rv)."""
    theirs = {object_key(o): o["metadata"]["resourceVersion"] for o in server_items}
    for key in keys:
        last = log.last(key)
        if key in theirs:
            if last is None or last[0] == "delete" or last[1] != theirs[key]:
                return False
        elif last is not None and last[0] != "delete":
            return False
    return True
