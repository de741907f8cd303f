"""The kopf peer of the OpNode benchmark (bench/README.md): the same work as opstack's OpNode controller for
the benchmark's workload, rendered in process with opstack's builders (`bench.workload.render`), so that only
the runtime differs. Children are found through kopf in-memory indexes (kopf's idiom for "a cache of other
kinds"); writes go through opstack's REST client (plain dicts, no model classes); status is set through
kopf's `patch` (kopf writes it together with its own bookkeeping annotation).

Run: KUBECONFIG=... BENCH_LATENCY_LOG=... kopf run --standalone --namespace NS bench/peers/kopf_operator.py
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import kopf

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.workload import NETWORK_NAME, STAMP, network_facts, ready_condition, render, up_to_date
from opstack.runtime import errors
from opstack.runtime.client import Client

FIELD_MANAGER = "opstack-opnode"
MANAGED = {"app.kubernetes.io/managed-by": kopf.PRESENT}

_client: Client | None = None
_log = open(os.environ.get("BENCH_LATENCY_LOG", os.devnull), "a", buffering=1)  # noqa: SIM115
_lock = threading.Lock()


def client() -> Client:
    global _client
    if _client is None:
        _client = Client.from_kubeconfig(os.environ.get("KUBECONFIG"))
    return _client


def _key(namespace: str | None, name: str | None, **_: Any) -> tuple[str | None, str | None]:
    return namespace, name


@kopf.index("optimismnetworks.optimism.optimism.io")
def networks(body: kopf.Body, namespace: str | None, name: str | None, **_: Any) -> Any:
    return {(namespace, name): dict(body)}


@kopf.index("secrets", labels=MANAGED)
def secrets(body: kopf.Body, namespace: str | None, name: str | None, **_: Any) -> Any:
    return {(namespace, name): dict(body)}


@kopf.index("services", labels=MANAGED)
def services(body: kopf.Body, namespace: str | None, name: str | None, **_: Any) -> Any:
    return {(namespace, name): dict(body)}


@kopf.index("apps", "v1", "statefulsets", labels=MANAGED)
def statefulsets(body: kopf.Body, namespace: str | None, name: str | None, **_: Any) -> Any:
    return {(namespace, name): dict(body)}


def _one(index: kopf.Index[Any, Any], key: tuple[str | None, str | None]) -> Mapping[str, Any] | None:
    for value in index.get(key, ()):
        return value  # type: ignore[no-any-return]
    return None


@kopf.on.resume("optimism.optimism.io", "v1alpha1", "opnodes")
@kopf.on.create("optimism.optimism.io", "v1alpha1", "opnodes")
@kopf.on.update("optimism.optimism.io", "v1alpha1", "opnodes", field="spec")
def reconcile(
    body: kopf.Body,
    meta: kopf.Meta,
    patch: kopf.Patch,
    namespace: str,
    networks: kopf.Index[Any, Any],
    secrets: kopf.Index[Any, Any],
    services: kopf.Index[Any, Any],
    statefulsets: kopf.Index[Any, Any],
    **_: Any,
) -> None:
    now = time.time()
    generation = int(meta.get("generation") or 0)
    with _lock:
        _log.write(f"{meta['name']} {generation} {meta.annotations.get(STAMP, '-')} {now:.6f}\n")
    network = _one(networks, (namespace, NETWORK_NAME))
    if network is None:
        raise kopf.TemporaryError(f"OptimismNetwork {NETWORK_NAME} not found", delay=1)
    node = dict(body)
    to_create, to_apply = render(node, network_facts(network), lambda n: _one(secrets, (namespace, n)))
    api = client()
    for secret in to_create:
        with contextlib.suppress(errors.AlreadyExists):
            api.create(secret, field_manager=FIELD_MANAGER)
    sts: Mapping[str, Any] | None = None
    for obj in to_apply:
        index = statefulsets if obj["kind"] == "StatefulSet" else services
        current = _one(index, (namespace, obj["metadata"]["name"]))
        if current is None or not up_to_date(obj, current):
            current = api.apply(obj, field_manager=FIELD_MANAGER, force=True)
        if obj["kind"] == "StatefulSet":
            sts = current
    stored = body.get("status") or {}
    cond = ready_condition(sts, generation)
    for old in stored.get("conditions") or ():
        if old.get("type") == "Ready" and old.get("status") == cond["status"]:
            cond["lastTransitionTime"] = old.get("lastTransitionTime")
    cond.setdefault("lastTransitionTime", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    status = {"observedGeneration": generation, "conditions": [cond]}
    if {k: stored.get(k) for k in status} != status:
        patch.status.update(status)
