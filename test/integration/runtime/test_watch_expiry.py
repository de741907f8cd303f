"""Watch expiry against an API server that compacts etcd every 2 s and has no watch cache (so an
old resourceVersion really is gone): 410 as a typed error, and an informer that relists and hands
its handlers tombstones for the deletes it missed while disconnected."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _data_path_helpers import CM, EventLog, client_via, configmap, parallel, store_matches_server, wait_for

from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.informer import SharedInformer
from opstack.testing.envtest import ControlPlane
from opstack.testing.faultproxy import FaultProxy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def compacting() -> Iterator[ControlPlane]:
    plane = ControlPlane(
        controller_manager=False,
        scheduler=False,
        kwok=False,
        audit=False,
        apiserver_args=["--etcd-compaction-interval=2s", "--watch-cache=false"],
    )
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="module")
def client(compacting: ControlPlane) -> Client:
    return Client.from_kubeconfig(str(compacting.kubeconfig))


def fresh_namespace(client: Client, name: str) -> str:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def compacted_past(client: Client, namespace: str, rv: str) -> bool:
    """True once a watch from `rv` is refused with 410 (etcd has compacted that revision away)."""
    try:
        with client.watch(CM, namespace, resource_version=rv, timeout_seconds=1) as watch:
            for _ in watch:
                pass
    except errors.Gone:
        return True
    return False


def test_gone_from_a_compacted_resource_version(client: Client) -> None:
    ns = fresh_namespace(client, "expiry-typed")
    old = client.create(configmap("c", ns))["metadata"]["resourceVersion"]
    for i in range(3):
        client.patch(CM, "c", {"data": {"payload": str(i)}}, ns)
    wait_for(lambda: compacted_past(client, ns, old), 30, "etcd compaction")
    with pytest.raises(errors.Gone) as gone:
        client.list(CM, ns, resource_version=old, resource_version_match="Exact")
    assert gone.value.status == 410
    with pytest.raises(errors.Gone), client.watch(CM, ns, resource_version=old, timeout_seconds=5) as watch:
        list(watch)


def test_informer_relists_after_expiry_and_reports_missed_deletes_as_tombstones(
    compacting: ControlPlane, client: Client
) -> None:
    ns = fresh_namespace(client, "expiry-informer")
    names = [f"obj-{i:02d}" for i in range(30)]
    parallel(lambda n: client.create(configmap(n, ns)), names)
    with FaultProxy(compacting.server, seed=3) as proxy:
        informer = SharedInformer(client_via(str(compacting.kubeconfig), proxy.url), CM, namespaces=[ns])
        log = EventLog()
        informer.add_event_handler(log)
        informer.start()
        try:
            assert informer.wait_for_sync(30)
            wait_for(lambda: informer.stats.watches >= 1, 10, "the watch to open")
            last_seen = informer.last_sync_resource_version

            proxy.pause()  # the informer hears nothing from here on
            deleted = names[:10]
            parallel(lambda n: client.delete(CM, n, ns), deleted)
            parallel(lambda n: client.patch(CM, n, {"data": {"payload": "while-away"}}, ns), names[10:20])
            parallel(lambda i: client.create(configmap(f"late-{i}", ns)), list(range(5)))
            wait_for(lambda: compacted_past(client, ns, last_seen), 30, "etcd to compact past the informer")
            assert log.tombstones == []
            proxy.reset_all()
            proxy.resume()

            fresh, _ = client.list_all(CM, ns)
            wait_for(lambda: store_matches_server(informer.store.list(), fresh), 60, "the store to converge")
            wait_for(lambda: len(log.tombstones) == len(deleted), 10, "the tombstones")
            assert sorted(log.tombstones) == sorted(f"{ns}/{n}" for n in deleted)
            assert informer.stats.expired >= 1 and informer.stats.relists >= 1
            for n in names[10:20]:
                assert log.last(f"{ns}/{n}") == (
                    "update",
                    informer.store.get_by_key(f"{ns}/{n}")["metadata"]["resourceVersion"],
                )  # type: ignore[index]
            for i in range(5):
                assert (log.last(f"{ns}/late-{i}") or ("",))[0] == "add"
            assert log.violations == []
        finally:
            informer.stop()
