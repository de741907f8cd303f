"""The shared informer cache: one informer per kind, reads served from memory (controller-runtime's
informer cache).

Invariants:
- At most one `SharedInformer` per kind per cache; it is created on first use and started at once
  if the cache is running (or by `start()`).
- `get`/`list` read the informer's store only, never the API server. A read of a kind whose
  informer has not synced yet blocks until it has (up to `sync_timeout`), as controller-runtime's
  cache reader does; a read before `start()` raises `CacheNotStarted`.
- Restricting the cache to `namespaces` gives namespaced kinds one list+watch per namespace (one
  store); cluster-scoped kinds are still watched cluster-wide. Reading a namespace outside the set
  is an error, not an empty answer. `label_selector` restricts every informer's list+watch;
  `restrict(gvk, selector)` gives one kind its own selector instead (controller-runtime's
  `cache.Options.ByObject[...].Label`): a controller that only reads its own objects of a kind (e.g. the
  Pods of its workloads) need not hold every one in the cluster. A kind's selector is fixed once its
  informer exists.
- Every informer has the indexes "namespace" and "owner-uid" (metadata.ownerReferences[*].uid).
- Resync defaults to controller-runtime's SyncPeriod: 10 h, times a factor drawn from [0.9, 1.1)
  per informer so that informers do not resync in lock-step; `resync_period=0` turns it off.

Immutability: what a caller receives cannot mutate the cache, because the cache holds *frozen*
objects (`frozen.FrozenDict` / `FrozenList`: dict and list subclasses whose mutators raise
TypeError) and hands them out as they are. A caller that wants to edit calls `frozen.thaw(obj)`
(or `copy.deepcopy(obj)`, which thaws) and gets a plain dict.
Why frozen rather than deep copies on read (measured on this machine, Python 3.11, one object):
    ConfigMap (267 B JSON): json.loads 5 us; copy.deepcopy 7.9 us; freeze 1.3 us; read 0.08 us
    Pod (4.2 KB JSON):      json.loads 23 us; copy.deepcopy 108 us; thaw 39 us; freeze ~40-65 us
    memory per object: frozen == plain within 1 % (1.6 KB / 25 KB)
Freezing costs about one copy per *change*, paid once on the informer thread; copying costs one
deep copy per *read*, on every reconcile, for every object listed (a list of 1,000 pods would cost
~0.1 s of deep copies). Reads outnumber changes in a controller, so frozen wins, and it keeps
handler and store objects identical (no divergence between what a handler saw and the cache).
"""

from __future__ import annotations

import builtins
import random
import threading
import time
from collections.abc import Iterable
from typing import Any

from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.runtime.informer import (
    NAMESPACE_INDEX,
    IndexFunc,
    SharedInformer,
    Transform,
    strip_managed_fields,
)
from opstack.runtime.labels import parse_selector

Obj = dict[str, Any]

DEFAULT_SYNC_PERIOD = 10 * 3600.0
DEFAULT_SYNC_TIMEOUT = 120.0  # controller-runtime's CacheSyncTimeout


class CacheNotStarted(RuntimeError):
    """A read from a cache that has not been started (controller-runtime's ErrCacheNotStarted)."""


class Cache:
    def __init__(
        self,
        client: Client,
        *,
        namespaces: Iterable[str] | None = None,
        label_selector: str | None = None,
        resync_period: float | None = None,
        transform: Transform | None = strip_managed_fields,
        sync_timeout: float = DEFAULT_SYNC_TIMEOUT,
    ) -> None:
        self.client = client
        self.namespaces: frozenset[str] | None = frozenset(namespaces) if namespaces else None
        self.label_selector = label_selector
        self.resync_period = DEFAULT_SYNC_PERIOD if resync_period is None else resync_period
        self.transform = transform
        self.sync_timeout = sync_timeout
        self._informers: dict[GVK, SharedInformer] = {}
        self._selectors: dict[GVK, str] = {}  # kinds restricted to their own label selector
        self._lock = threading.Lock()
        self._started = False
        self._stopped = False

    # -- informers

    def informer_for(self, gvk: GVK) -> SharedInformer:
        """The kind's shared informer, created on first use (raises errors.NoKindMatch for a kind
        the API server does not serve)."""
        with self._lock:
            informer = self._informers.get(gvk)
            if informer is not None:
                return informer
        namespaced = self.client.resource_for(gvk).namespaced  # outside the lock: may do I/O
        with self._lock:
            informer = self._informers.get(gvk)
            if informer is None:
                resync = self.resync_period * random.uniform(0.9, 1.1) if self.resync_period > 0 else None
                informer = SharedInformer(
                    self.client,
                    gvk,
                    namespaces=self.namespaces if namespaced else None,
                    label_selector=self._selectors.get(gvk, self.label_selector),
                    transform=self.transform,
                    resync_period=resync,
                )
                self._informers[gvk] = informer
                if self._started and not self._stopped:
                    informer.start()
            return informer

    def restrict(self, gvk: GVK, label_selector: str) -> None:
        """Cache only the objects of `gvk` matching `label_selector` (in place of the cache-wide selector).
        Must come before the kind's informer exists; the same restriction again is a no-op."""
        parse_selector(label_selector)  # a bad selector fails here, not in a reflector thread
        with self._lock:
            current = self._selectors.get(gvk)
            if current == label_selector:
                return
            if current is not None:
                raise ValueError(f"{gvk.kind} is already restricted to {current!r}, not {label_selector!r}")
            if gvk in self._informers:
                raise ValueError(f"the {gvk.kind} informer exists already: restrict the kind before using it")
            self._selectors[gvk] = label_selector

    def informers(self) -> builtins.list[SharedInformer]:
        with self._lock:
            return list(self._informers.values())

    def add_index(self, gvk: GVK, name: str, fn: IndexFunc) -> None:
        self.informer_for(gvk).add_indexer(name, fn)

    # -- reads

    def get(self, gvk: GVK, name: str, namespace: str | None = None) -> Obj:
        """The cached object (frozen: read-only); raises errors.NotFound."""
        informer = self._reader(gvk, namespace)
        key = f"{namespace}/{name}" if namespace else name
        obj = informer.indexer.get_by_key(key)
        if obj is None:
            plural = self.client.resource_for(gvk).plural
            raise errors.NotFound(f'{plural} "{name}" not found', reason="NotFound")
        return obj

    def list(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        index: tuple[str, str] | None = None,
    ) -> builtins.list[Obj]:
        """Cached objects of a kind (frozen), narrowed by namespace, an index and a label selector."""
        informer = self._reader(gvk, namespace)
        store = informer.indexer
        if index is not None:
            items = store.by_index(*index)
            if namespace:
                items = [o for o in items if (o.get("metadata") or {}).get("namespace") == namespace]
        elif namespace:
            items = store.by_index(NAMESPACE_INDEX, namespace)
        else:
            items = store.list()
        selector = parse_selector(label_selector)
        if not selector.empty():
            items = [o for o in items if selector.matches_object(o)]
        return items

    def _reader(self, gvk: GVK, namespace: str | None) -> SharedInformer:
        if not self._started:
            raise CacheNotStarted(
                "the cache has not been started: call Cache.start() (or Manager.start()) first"
            )
        if self.namespaces is not None and namespace and namespace not in self.namespaces:
            raise ValueError(
                f"namespace {namespace!r} is not watched by this cache"
                f" (namespaces: {sorted(self.namespaces)})"
            )
        informer = self.informer_for(gvk)
        if not informer.has_synced() and not informer.wait_for_sync(self.sync_timeout):
            raise TimeoutError(f"{informer.name} did not sync within {self.sync_timeout:.0f}s")
        return informer

    # -- lifecycle

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
            informers = list(self._informers.values())
        for informer in informers:
            informer.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            informers = list(self._informers.values())
        for informer in informers:
            informer.stop()

    def has_synced(self) -> bool:
        return all(i.has_synced() for i in self.informers())

    def wait_for_sync(self, timeout: float) -> bool:
        """True once every informer created so far has synced; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        for informer in self.informers():
            if not informer.wait_for_sync(max(0.0, deadline - time.monotonic())):
                return False
        return True

    wait_for_cache_sync = wait_for_sync
