"""Informer and cache under a burst of 2,000 objects created, updated and deleted by another client;
the paginated list; cached reads by namespace, label and index."""

from __future__ import annotations

import time
from typing import Any

import pytest
from _data_path_helpers import CM, EventLog, configmap, parallel, store_matches_server, wait_for

from opstack.runtime import errors
from opstack.runtime.cache import Cache, CacheNotStarted
from opstack.runtime.client import Client
from opstack.runtime.frozen import thaw
from opstack.runtime.informer import OWNER_UID_INDEX, SharedInformer

pytestmark = pytest.mark.integration

N = 2000


@pytest.fixture(scope="module")
def client(kubeconfig: str) -> Client:
    return Client.from_kubeconfig(kubeconfig)


def test_burst_of_2000_creates_updates_deletes(client: Client, kubeconfig: str, namespace: str) -> None:
    writer = Client.from_kubeconfig(kubeconfig)  # "another client": its own connections
    informer = SharedInformer(client, CM, namespaces=[namespace])
    log = EventLog()
    informer.add_event_handler(log)
    informer.start()
    try:
        assert informer.wait_for_sync(30)
        names = [f"burst-{i:04d}" for i in range(N)]
        started = time.monotonic()
        created = parallel(lambda n: writer.create(configmap(n, namespace, "0")), names)
        written: dict[str, list[str]] = {
            f"{namespace}/{o['metadata']['name']}": [o["metadata"]["resourceVersion"]] for o in created
        }

        # The paginated list: 2,000 objects with limit 500 come back in 4 pages, all of them.
        page = client.list(CM, namespace, limit=500)
        pages, token = 1, page["metadata"].get("continue")
        seen = {o["metadata"]["name"] for o in page["items"]}
        while token:
            page = client.list(CM, namespace, limit=500, continue_token=token)
            seen |= {o["metadata"]["name"] for o in page["items"]}
            pages, token = pages + 1, page["metadata"].get("continue")
        assert pages >= 4 and set(names) <= seen
        items, list_rv = client.list_all(CM, namespace, page_size=500)
        assert {o["metadata"]["name"] for o in items} >= set(names) and int(list_rv) > 0

        def update(obj: dict[str, Any]) -> dict[str, Any]:
            obj["data"]["payload"] = "1"
            return writer.update(obj)

        for o in parallel(update, created):
            written[f"{namespace}/{o['metadata']['name']}"].append(o["metadata"]["resourceVersion"])
        doomed = names[::2]
        parallel(lambda n: writer.delete(CM, n, namespace), doomed)
        burst_seconds = time.monotonic() - started

        fresh, _ = client.list_all(CM, namespace)
        wait_for(
            lambda: store_matches_server(informer.store.list(), fresh), 60, "the store to equal a fresh list"
        )

        def deletes_delivered() -> bool:
            return all((log.last(f"{namespace}/{n}") or ("",))[0] == "delete" for n in doomed)

        wait_for(deletes_delivered, 30, "every delete to reach the handler")

        assert log.violations == []
        assert log.tombstones == []  # nothing was missed: no relist
        # Every change was delivered, in order: add(create rv), update(update rv)[, delete].
        for key, rvs in written.items():
            kinds = [k for k, _ in log.by_key[key]]
            delivered = [rv for k, rv in log.by_key[key] if k != "delete"]
            assert delivered == rvs, key
            assert kinds == (
                ["add", "update", "delete"] if key.split("/")[1] in set(doomed) else ["add", "update"]
            )
        assert sum(1 for k in informer.store.list_keys() if "/burst-" in k) == N - len(doomed)
        print(f"\nburst of {3 * N // 2 + N} writes in {burst_seconds:.1f}s; {log.count} events delivered")
    finally:
        informer.stop()


def test_cache_reads_by_namespace_label_index_and_are_read_only(client: Client, namespace: str) -> None:
    owner = client.create(configmap("owner", namespace, role="owner"))
    uid = owner["metadata"]["uid"]
    for i in range(10):
        obj = configmap(f"child-{i}", namespace, tier="db" if i < 4 else "web")
        if i % 2 == 0:
            obj["metadata"]["ownerReferences"] = [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}
            ]
        client.create(obj)

    cache = Cache(client, namespaces=[namespace])
    with pytest.raises(CacheNotStarted):
        cache.get(CM, "owner", namespace)
    cache.add_index(CM, "tier", lambda o: [o["metadata"].get("labels", {}).get("tier", "")])
    cache.start()
    try:
        assert cache.wait_for_sync(30) and cache.has_synced()
        got = cache.get(CM, "owner", namespace)
        assert got["metadata"]["uid"] == uid and "managedFields" not in got["metadata"]
        with pytest.raises(TypeError):
            got["data"]["payload"] = "mutated"
        with pytest.raises(TypeError):
            got["metadata"]["labels"]["x"] = "y"
        assert cache.get(CM, "owner", namespace)["data"]["payload"] == "v"
        mine = thaw(got)
        mine["data"]["payload"] = "mine"
        assert cache.get(CM, "owner", namespace)["data"]["payload"] == "v"

        server_names = sorted(o["metadata"]["name"] for o in client.list(CM, namespace)["items"])
        assert sorted(o["metadata"]["name"] for o in cache.list(CM, namespace)) == server_names
        assert len(server_names) >= 11
        assert len(cache.list(CM, namespace, label_selector="tier=db")) == 4
        assert len(cache.list(CM, namespace, label_selector="tier in (db,web),tier!=db")) == 6
        assert len(cache.list(CM, index=(OWNER_UID_INDEX, uid))) == 5
        assert len(cache.list(CM, namespace, index=("tier", "web"))) == 6
        with pytest.raises(errors.NotFound):
            cache.get(CM, "nope", namespace)
        with pytest.raises(ValueError, match="not watched"):
            cache.get(CM, "owner", "kube-system")

        # A change on the server shows up in the cache; a cluster-scoped kind is watched cluster-wide.
        client.patch(CM, "child-0", {"data": {"payload": "changed"}}, namespace)
        wait_for(
            lambda: cache.get(CM, "child-0", namespace)["data"]["payload"] == "changed", 10, "the change"
        )
        from opstack.runtime.gvk import NAMESPACE

        assert any(o["metadata"]["name"] == namespace for o in cache.list(NAMESPACE))
    finally:
        cache.stop()


def test_a_restricted_kind_caches_only_what_its_selector_matches(client: Client, namespace: str) -> None:
    """`Cache.restrict`: one kind with its own label selector (the OpNode controller caches only its own
    Pods); other kinds are cached whole; objects that gain or lose the label come and go."""
    from opstack.runtime.gvk import GVK

    secret = GVK("", "v1", "Secret")
    for i in range(6):
        client.create(configmap(f"cm-{i}", namespace, **({"mine": "yes"} if i < 2 else {})))
        obj = configmap(f"s-{i}", namespace)
        client.create({**obj, "kind": "Secret", "data": {}, "stringData": {"k": "v"}})
    cache = Cache(client, namespaces=[namespace])
    cache.restrict(CM, "mine=yes")
    cache.restrict(CM, "mine=yes")  # the same again: fine
    with pytest.raises(ValueError, match="already restricted"):
        cache.restrict(CM, "mine=no")
    cache.start()
    try:
        assert cache.wait_for_sync(30)
        assert sorted(o["metadata"]["name"] for o in cache.list(CM, namespace)) == ["cm-0", "cm-1"]
        with pytest.raises(errors.NotFound):
            cache.get(CM, "cm-2", namespace)
        assert len(cache.list(secret, namespace)) == 6  # not restricted: all of them
        with pytest.raises(ValueError, match="exists already"):
            cache.restrict(secret, "mine=yes")

        client.patch(CM, "cm-2", {"metadata": {"labels": {"mine": "yes"}}}, namespace)
        client.patch(CM, "cm-0", {"metadata": {"labels": {"mine": None}}}, namespace)
        wait_for(
            lambda: sorted(o["metadata"]["name"] for o in cache.list(CM, namespace)) == ["cm-1", "cm-2"],
            10,
            "cm-2 in the cache and cm-0 out of it",
        )
    finally:
        cache.stop()
