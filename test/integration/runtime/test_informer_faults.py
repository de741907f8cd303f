"""Informers under network faults: connections reset at random byte offsets (inside JSON lines),
and the API server stopped for 20 s and started again."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import defaultdict
from typing import Any

import pytest
from _data_path_helpers import (
    CM,
    EventLog,
    client_via,
    configmap,
    handlers_match_server,
    parallel,
    store_matches_server,
    wait_for,
)

from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.informer import SharedInformer, object_key
from opstack.testing.faultproxy import FaultProxy

pytestmark = pytest.mark.integration


def test_random_connection_resets_lose_nothing_and_duplicate_nothing(
    kubeconfig: str, control_plane: Any, namespace: str
) -> None:
    writer = Client.from_kubeconfig(kubeconfig)
    small, big = "s" * 3_000, "B" * 40_000  # big events span several TLS records: cuts land mid-line
    names = [f"churn-{i:02d}" for i in range(40)]
    bigs = set(names[:6])
    written: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()

    def record(obj: dict[str, Any]) -> None:
        with lock:
            written[object_key(obj)].append(obj["metadata"]["resourceVersion"])

    for o in parallel(lambda n: writer.create(configmap(n, namespace, big if n in bigs else small)), names):
        record(o)

    with FaultProxy(control_plane.server, seed=20240611) as proxy:
        informer = SharedInformer(client_via(kubeconfig, proxy.url), CM, namespaces=[namespace])
        log = EventLog()
        informer.add_event_handler(log)
        informer.start()
        try:
            assert informer.wait_for_sync(30)
            proxy.set_faults(reset_after=(400_000, 1_200_000))
            proxy.reset_all()

            deleted: set[str] = set()
            rng = random.Random(7)

            steps = itertools.count()

            def churn(worker: int, count: int) -> None:
                mine = names[worker::2]
                for _ in range(count):
                    step = next(steps)
                    name = rng.choice(mine)
                    key = f"{namespace}/{name}"
                    payload = (big if name in bigs else small) + str(step)
                    if key in deleted:
                        record(writer.create(configmap(name, namespace, payload)))
                        deleted.discard(key)
                    elif step % 25 == 24:
                        writer.delete(CM, name, namespace)
                        deleted.add(key)
                    else:
                        record(writer.patch(CM, name, {"data": {"payload": payload}}, namespace))
                    if step % 100 == 50:
                        proxy.reset_all()

            def faults_enough() -> bool:
                s = informer.stats
                return proxy.stats.resets >= 5 and s.watch_breaks >= 3 and s.mid_line_breaks >= 1

            # Churn in rounds until the faults this test is about have happened (how many bytes flow before
            # a cut depends on the machine's load), at most 8 rounds.
            for _ in range(8):
                # After a cut the informer backs off (0.8 s doubling) before it watches again; a cut made
                # while it is not watching breaks nothing, so each round starts with a live watch.
                wait_for(lambda: informer.stats.watches > informer.stats.watch_breaks, 60, "a live watch")
                threads = [threading.Thread(target=churn, args=(w, 150)) for w in range(2)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                if faults_enough():
                    break
                proxy.reset_all()
            proxy.set_faults(None)  # let the last watch converge without new faults

            fresh, _ = writer.list_all(CM, namespace)
            wait_for(lambda: store_matches_server(informer.store.list(), fresh), 120, "the store to converge")
            keys = {f"{namespace}/{n}" for n in names}
            wait_for(lambda: handlers_match_server(log, fresh, keys), 30, "handlers to hear the final state")

            stats = informer.stats
            print(f"\nproxy {proxy.stats}; informer {stats}")
            assert proxy.stats.resets >= 5
            assert stats.watch_breaks >= 3
            assert stats.mid_line_breaks >= 1, "no reset landed inside a JSON line"
            assert log.violations == []  # never backwards, never a duplicate delivered as a change
            for key in keys:
                delivered = [rv for kind, rv in log.by_key[key] if kind != "delete"]
                assert set(delivered) <= set(written[key]), key  # no invented versions
                if stats.relists == 0:
                    assert delivered == written[key], key  # and, without a relist, none lost
        finally:
            informer.stop()


def test_api_server_down_for_20s_informer_backs_off_and_converges(
    kubeconfig: str, control_plane: Any, namespace: str
) -> None:
    writer = Client.from_kubeconfig(kubeconfig)
    parallel(lambda i: writer.create(configmap(f"keep-{i}", namespace)), list(range(20)))
    informer = SharedInformer(Client.from_kubeconfig(kubeconfig), CM, namespaces=[namespace])
    log = EventLog()
    informer.add_event_handler(log)
    informer.start()
    try:
        assert informer.wait_for_sync(30)
        errors_before = informer.stats.errors
        control_plane.stop_apiserver()
        try:
            with pytest.raises(errors.TransportError):
                writer.list(CM, namespace)
            time.sleep(20)  # the outage itself, not a wait for a condition
            attempts = informer.stats.errors - errors_before
        finally:
            control_plane.start_apiserver()
        # backoff 0.8 s doubling (jitter x1-2): 3..6 attempts in 20 s, not hundreds
        assert 2 <= attempts <= 8, attempts

        for i in range(5):
            writer.patch(CM, f"keep-{i}", {"data": {"payload": "after"}}, namespace)
            writer.delete(CM, f"keep-{10 + i}", namespace)
            writer.create(configmap(f"new-{i}", namespace))
        fresh, _ = writer.list_all(CM, namespace)
        wait_for(lambda: store_matches_server(informer.store.list(), fresh), 90, "the store to converge")
        keys = {object_key(o) for o in fresh} | {f"{namespace}/keep-{10 + i}" for i in range(5)}
        wait_for(lambda: handlers_match_server(log, fresh, keys), 30, "handlers to hear the final state")
        assert log.violations == []
        print(f"\n{attempts} attempts while down; informer {informer.stats}")
    finally:
        informer.stop()
