"""Micro-benchmark of the runtime's data path against a real local control plane.

Reports, into bench/results/informer.json:
- watch_decode_events_per_s: a watch replaying a backlog of updates from the API server's watch
  cache, read and decoded by `Watch` (network + TLS + line splitting + json.loads);
- informer_events_per_s: the same event lines pushed through a SharedInformer's ingest path
  (transform + freeze + store + indexes + dispatch to a handler), without and with managedFields
  stripping;
- end_to_end_events_per_s: an informer watching while writer threads patch objects (bounded by
  the API server on this machine, reported for context);
- bytes_per_cached_object: traced Python memory of a synced informer's store divided by the
  number of objects, without and with managedFields stripping (objects written by two field
  managers, as controllers' objects are).

Run: python bench/bench_informer.py [--objects 2000] [--updates 3000]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.runtime.informer import EventHandlerFuncs, SharedInformer, strip_managed_fields
from opstack.runtime.watch import LineSplitter, decode_event
from opstack.testing.envtest import ControlPlane

CM = GVK("", "v1", "ConfigMap")
RESULTS = Path(__file__).parent / "results" / "informer.json"


def configmap(name: str, ns: str, payload: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"app.kubernetes.io/name": "bench", "i": name[-1]},
        },
        "data": {"payload": payload, "config.toml": "x = 1\n" * 20},
    }


def populate(client: Client, ns: str, n: int) -> None:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    def one(i: int) -> None:
        name = f"cm-{i:05d}"
        client.apply(configmap(name, ns, "a" * 200), field_manager="opstack-operator")
        # a second manager, as when a user or another controller touches the object
        client.patch(CM, name, {"metadata": {"annotations": {"note": "x"}}}, ns, field_manager="kubectl-edit")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(one, range(n)))


def store_bytes(client: Client, ns: str, strip: bool) -> tuple[float, int]:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    informer = SharedInformer(client, CM, namespaces=[ns], transform=strip_managed_fields if strip else None)
    informer.start()
    assert informer.wait_for_sync(120)
    informer.stop()
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    n = len(informer.store)
    del informer
    return used / n, n


def record_backlog(client: Client, ns: str, updates: int) -> tuple[list[bytes], float, int]:
    """Makes `updates` changes, then replays them with one watch; returns the raw lines."""
    start_rv = client.list(CM, ns, limit=1)["metadata"]["resourceVersion"]

    def bump(i: int) -> None:
        client.patch(CM, f"cm-{i % 500:05d}", {"data": {"payload": f"v{i}" * 50}}, ns)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(bump, range(updates)))
    lines: list[bytes] = []
    splitter = LineSplitter()
    watch = client.watch(CM, ns, resource_version=start_rv, timeout_seconds=60)
    started = time.perf_counter()
    n_bytes = 0
    for chunk in watch._read_chunks():
        n_bytes += len(chunk)
        for line in splitter.feed(chunk):
            decode_event(line)
            lines.append(line)
        if len(lines) >= updates:
            break
    elapsed = time.perf_counter() - started
    watch.close()
    return lines, len(lines) / elapsed, n_bytes


def informer_ingest_rate(client: Client, lines: list[bytes], strip: bool) -> float:
    informer = SharedInformer(client, CM, transform=strip_managed_fields if strip else None)
    done = threading.Event()
    count = [0]
    target = len(lines)

    def seen(*_: Any) -> None:
        count[0] += 1
        if count[0] == target:
            done.set()

    informer.add_event_handler(EventHandlerFuncs(add=seen, update=seen, delete=seen))
    informer._spawn(informer._dispatch_loop, "dispatch")  # dispatch only: no list/watch here
    started = time.perf_counter()
    for line in lines:
        event = decode_event(line)
        informer._apply(event.type, informer._ingest(event.object))
    assert done.wait(60)
    elapsed = time.perf_counter() - started
    informer.stop()
    return target / elapsed


def end_to_end_rate(client: Client, ns: str, updates: int) -> float:
    informer = SharedInformer(client, CM, namespaces=[ns])
    done = threading.Event()
    count = [0]

    def seen(_old: Any, _new: Any) -> None:
        count[0] += 1
        if count[0] == updates:
            done.set()

    informer.add_event_handler(EventHandlerFuncs(update=seen))
    informer.start()
    assert informer.wait_for_sync(60)
    started = time.perf_counter()

    def bump(i: int) -> None:
        client.patch(CM, f"cm-{i % 500:05d}", {"data": {"payload": f"e2e{i}"}}, ns)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(bump, range(updates)))
    assert done.wait(120)
    elapsed = time.perf_counter() - started
    informer.stop()
    return updates / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--updates", type=int, default=3000)
    args = parser.parse_args()
    with ControlPlane(controller_manager=False, scheduler=False, kwok=False, audit=False) as plane:
        client = Client.from_kubeconfig(str(plane.kubeconfig))
        ns = "bench"
        t0 = time.perf_counter()
        populate(client, ns, args.objects)
        populate_s = time.perf_counter() - t0
        sample = client.get(CM, "cm-00000", ns)
        with_mf = len(json.dumps(sample))
        without_mf = len(json.dumps(strip_managed_fields(sample)))

        bytes_plain, n = store_bytes(client, ns, strip=False)
        bytes_stripped, _ = store_bytes(client, ns, strip=True)
        lines, decode_rate, replay_bytes = record_backlog(client, ns, args.updates)
        ingest_plain = informer_ingest_rate(client, lines, strip=False)
        ingest_strip = informer_ingest_rate(client, lines, strip=True)
        e2e = end_to_end_rate(client, ns, min(args.updates, 2000))

    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": _cpus()},
        "objects": n,
        "populate_seconds": round(populate_s, 1),
        "object_json_bytes": {"with_managed_fields": with_mf, "stripped": without_mf},
        "bytes_per_cached_object": {
            "with_managed_fields": round(bytes_plain),
            "stripped": round(bytes_stripped),
            "saving_percent": round(100 * (1 - bytes_stripped / bytes_plain), 1),
        },
        "watch_decode_events_per_s": round(decode_rate),
        "watch_replay_bytes_per_event": round(replay_bytes / max(1, len(lines))),
        "informer_events_per_s": {
            "with_managed_fields": round(ingest_plain),
            "stripped": round(ingest_strip),
        },
        "end_to_end_events_per_s": round(e2e),
        "events": len(lines),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)


if __name__ == "__main__":
    raise SystemExit(main())
