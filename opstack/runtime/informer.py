"""Reflector + thread-safe indexed store + event dispatch (client-go's SharedIndexInformer).

Invariants:
- List, then watch from the list's resourceVersion. The first list asks for resourceVersion "0"
  (served from the API server's watch cache); later lists ask for the last synced version; after a
  410 Gone/Expired (or "too large resource version") the next list uses "" (a quorum read from
  etcd). Lists are paginated (`page_size`, default 500).
- Watches ask for bookmarks and a server-side timeout drawn uniformly from [5 min, 10 min). A watch
  that ends cleanly, or breaks after delivering events / living at least a second, is reopened from
  the last synced resourceVersion without a relist. Expiry relists. Anything else backs off
  (0.8 s doubling to 30 s, jitter 1.0, reset after 2 min without a backoff) and relists.
- The store is updated before handlers hear of a change; every change is delivered to each handler
  exactly once, in order, from one dispatch thread per informer (so a slow handler never stalls the
  watch: notifications queue up behind it, unbounded, as in client-go's processorListener).
- Per key, resourceVersions only move forward: an ADDED/MODIFIED no newer than what the store holds
  is dropped (never delivered as a change, never delivered backwards); a relist that returns an
  unchanged object emits nothing. (client-go emits Update(old, new) for every relisted object; we
  do not, because those "changes" are duplicates; a resync does emit them, on purpose.)
- A relist that no longer contains a key deletes it and hands handlers
  `DeletedFinalStateUnknown(key, last known object)`: the delete happened while we were not
  watching, so its final state is unknown.
- Objects are passed through `transform` (default: drop `metadata.managedFields`) and then frozen
  (`frozen.freeze`): whatever the store returns or a handler receives is read-only, shared, and
  never copied on read. See cache.py for the measurement behind this choice.
- `has_synced()` turns true once every reflector of the informer has completed its first list, and
  never turns false again.
- An exception in a handler or an index function is logged and contained; it never stops the
  informer.
"""

from __future__ import annotations

import builtins
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from opstack.runtime import errors
from opstack.runtime.frozen import freeze
from opstack.runtime.gvk import GVK
from opstack.runtime.watch import Watch, WatchEvent

if TYPE_CHECKING:
    from opstack.runtime.client import Client

Obj = dict[str, Any]
IndexFunc = Callable[[Obj], list[str]]
Transform = Callable[[Obj], Obj]

log = logging.getLogger("opstack.runtime.informer")

NAMESPACE_INDEX = "namespace"
OWNER_UID_INDEX = "owner-uid"


# -- keys, tombstones, handlers ---------------------------------------------------------------


def object_key(obj: Obj) -> str:
    """`namespace/name`, or `name` for a cluster-scoped object (client-go's MetaNamespaceKeyFunc)."""
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name', '')}" if ns else str(meta.get("name", ""))


def split_key(key: str) -> tuple[str | None, str]:
    ns, sep, name = key.partition("/")
    return (ns, name) if sep else (None, ns)


class DeletedFinalStateUnknown(NamedTuple):
    """A delete noticed by a relist rather than a watch event; `obj` is the last state we knew."""

    key: str
    obj: Obj


class ResourceEventHandler(Protocol):
    def on_add(self, obj: Obj, is_in_initial_list: bool) -> None: ...

    def on_update(self, old: Obj, new: Obj) -> None: ...

    def on_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None: ...


@dataclass
class EventHandlerFuncs:
    """A handler from plain functions; any may be omitted (client-go's ResourceEventHandlerFuncs)."""

    add: Callable[[Obj, bool], None] | None = None
    update: Callable[[Obj, Obj], None] | None = None
    delete: Callable[[Obj | DeletedFinalStateUnknown], None] | None = None

    def on_add(self, obj: Obj, is_in_initial_list: bool) -> None:
        if self.add:
            self.add(obj, is_in_initial_list)

    def on_update(self, old: Obj, new: Obj) -> None:
        if self.update:
            self.update(old, new)

    def on_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        if self.delete:
            self.delete(obj)


# -- transforms and built-in indexes -----------------------------------------------------------


def strip_managed_fields(obj: Obj) -> Obj:
    """Default transform: managedFields are large, and nothing in a controller reads them."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return obj


def namespace_index(obj: Obj) -> list[str]:
    ns = (obj.get("metadata") or {}).get("namespace")
    return [ns] if ns else []


def owner_uid_index(obj: Obj) -> list[str]:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return [r["uid"] for r in refs if r.get("uid")]


def resource_version(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def compare_resource_versions(a: str, b: str) -> int:
    """-1/0/1. resourceVersions are decimal etcd revisions on every API server we talk to; when one
    is not a number, equality is all we can tell, and a different version counts as newer."""
    if a == b:
        return 0
    try:
        ia, ib = int(a), int(b)
    except ValueError:
        return 1
    return (ia > ib) - (ia < ib)


# -- the store ---------------------------------------------------------------------------------


class Indexer:
    """A thread-safe key -> object map with secondary indexes (client-go's threadSafeMap + Indexer).

    Writers are the informer only; readers may call from any thread. Reads return the stored
    (frozen) objects themselves.
    """

    def __init__(self, indexers: dict[str, IndexFunc] | None = None) -> None:
        self._lock = threading.RLock()
        self._items: dict[str, Obj] = {}
        self._indexers: dict[str, IndexFunc] = {}
        self._indices: dict[str, dict[str, set[str]]] = {}
        for name, fn in (indexers or {}).items():
            self.add_indexer(name, fn)

    def add_indexer(self, name: str, fn: IndexFunc) -> None:
        """Adds an index; existing items are indexed at once (client-go refuses after start)."""
        with self._lock:
            if name in self._indexers:
                raise ValueError(f"index {name!r} already exists")
            self._indexers[name] = fn
            index: dict[str, set[str]] = {}
            self._indices[name] = index
            for key, obj in self._items.items():
                for value in self._values(name, fn, obj):
                    index.setdefault(value, set()).add(key)

    def index_names(self) -> builtins.list[str]:
        with self._lock:
            return builtins.list(self._indexers)

    # reads

    def get_by_key(self, key: str) -> Obj | None:
        with self._lock:
            return self._items.get(key)

    def list(self) -> builtins.list[Obj]:
        with self._lock:
            return builtins.list(self._items.values())

    def list_keys(self) -> builtins.list[str]:
        with self._lock:
            return builtins.list(self._items)

    def by_index(self, name: str, value: str) -> builtins.list[Obj]:
        with self._lock:
            keys = self._index(name).get(value, ())
            return [self._items[k] for k in keys]

    def index_keys(self, name: str, value: str) -> builtins.list[str]:
        with self._lock:
            return sorted(self._index(name).get(value, ()))

    def index_values(self, name: str) -> builtins.list[str]:
        with self._lock:
            return [v for v, keys in self._index(name).items() if keys]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    # writes (the informer's)

    def upsert(self, key: str, obj: Obj) -> Obj | None:
        with self._lock:
            old = self._items.get(key)
            self._items[key] = obj
            self._reindex(key, old, obj)
            return old

    def remove(self, key: str) -> Obj | None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._reindex(key, old, None)
            return old

    def _index(self, name: str) -> dict[str, set[str]]:
        try:
            return self._indices[name]
        except KeyError:
            raise KeyError(f"no index named {name!r} (have: {sorted(self._indices)})") from None

    def _reindex(self, key: str, old: Obj | None, new: Obj | None) -> None:
        for name, fn in self._indexers.items():
            before = self._values(name, fn, old) if old is not None else []
            after = self._values(name, fn, new) if new is not None else []
            if before == after:
                continue
            index = self._indices[name]
            for value in before:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
            for value in after:
                index.setdefault(value, set()).add(key)

    @staticmethod
    def _values(name: str, fn: IndexFunc, obj: Obj) -> builtins.list[str]:
        try:
            return builtins.list(fn(obj))
        except Exception:
            log.exception("index function %r failed on %s", name, object_key(obj))
            return []


# -- backoff -----------------------------------------------------------------------------------


class Backoff:
    """client-go's exponential backoff manager: initial 0.8 s, x2, cap 30 s, jitter 1.0 (a delay d
    becomes d..2d), reset to the initial delay after `reset_after` seconds without a backoff."""

    def __init__(
        self,
        initial: float = 0.8,
        cap: float = 30.0,
        factor: float = 2.0,
        jitter: float = 1.0,
        reset_after: float = 120.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.initial, self.cap, self.factor, self.jitter, self.reset_after = (
            initial,
            cap,
            factor,
            jitter,
            reset_after,
        )
        self._clock = clock
        self._rng = rng or random.Random()
        self._duration = initial
        self._last_start: float | None = None
        self._lock = threading.Lock()

    def next(self) -> float:
        with self._lock:
            now = self._clock()
            if self._last_start is not None and now - self._last_start > self.reset_after:
                self._duration = self.initial
            self._last_start = now
            delay = self._duration
            self._duration = min(self._duration * self.factor, self.cap)
        return delay + self._rng.random() * self.jitter * delay if self.jitter > 0 else delay


# -- reflector ---------------------------------------------------------------------------------


@dataclass
class InformerStats:
    """Counters for tests and debugging (not metrics: their labels would be unbounded)."""

    lists: int = 0
    relists: int = 0
    expired: int = 0
    watches: int = 0
    watch_breaks: int = 0
    mid_line_breaks: int = 0
    errors: int = 0
    events: int = 0
    stale_dropped: int = 0
    last_error: str = ""


class _Reflector:
    """One list+watch loop for one namespace (or all); feeds its informer's store."""

    def __init__(self, informer: SharedInformer, namespace: str | None) -> None:
        self.informer = informer
        self.namespace = namespace
        self.last_sync_rv = ""
        self.rv_unavailable = False
        self.synced = False
        self.backoff = Backoff(rng=informer._rng)
        self._watch: Watch | None = None
        self._watch_lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        inf = self.informer
        while not stop.is_set():
            try:
                self._list_and_watch(stop)
            except Exception as exc:
                if stop.is_set():
                    break
                inf.stats.errors += 1
                inf.stats.last_error = str(exc)
                log.warning("%s: list/watch failed: %s", inf.name, exc)
            if stop.wait(self.backoff.next()):
                break

    def close_watch(self) -> None:
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()

    def _list(self) -> tuple[list[Obj], str]:
        inf = self.informer
        rv = "" if self.rv_unavailable else (self.last_sync_rv or "0")
        try:
            return inf._client.list_all(
                inf.gvk,
                self.namespace,
                label_selector=inf.label_selector,
                field_selector=inf.field_selector,
                page_size=inf.page_size,
                resource_version=rv,
            )
        except errors.ApiError as exc:
            if not errors.is_expired(exc) or rv == "":
                raise
            # The version we asked for is gone: fall back at once to a quorum read, as client-go does.
            self.rv_unavailable = True
            return inf._client.list_all(
                inf.gvk,
                self.namespace,
                label_selector=inf.label_selector,
                field_selector=inf.field_selector,
                page_size=inf.page_size,
                resource_version="",
            )

    def _list_and_watch(self, stop: threading.Event) -> None:
        inf = self.informer
        items, list_rv = self._list()
        if stop.is_set():
            return
        inf.stats.lists += 1
        if self.synced:
            inf.stats.relists += 1
        self.rv_unavailable = False
        inf._replace(self, items, list_rv)
        self.last_sync_rv = list_rv
        self.synced = True
        inf._reflector_synced()
        self._watch_loop(stop)

    def _watch_loop(self, stop: threading.Event) -> None:
        inf = self.informer
        client = inf._client
        while not stop.is_set():
            timeout = int(inf.min_watch_timeout * (1.0 + inf._rng.random()))
            try:
                watch = client.watch(
                    inf.gvk,
                    self.namespace,
                    resource_version=self.last_sync_rv,
                    label_selector=inf.label_selector,
                    field_selector=inf.field_selector,
                    timeout_seconds=timeout,
                    allow_bookmarks=True,
                )
            except (errors.TransportError, errors.TooManyRequests, errors.ServiceUnavailable) as exc:
                # Retriable without a relist (connection refused, throttled): back off, re-watch.
                inf.stats.errors += 1
                inf.stats.last_error = str(exc)
                log.info("%s: watch could not start, backing off: %s", inf.name, exc)
                if stop.wait(self.backoff.next()):
                    return
                continue
            except errors.ApiError as exc:
                if errors.is_expired(exc):
                    inf.stats.expired += 1
                    self.rv_unavailable = True
                    return
                raise
            with self._watch_lock:
                self._watch = watch
            if stop.is_set():
                watch.close()
                return
            inf.stats.watches += 1
            started = time.monotonic()
            try:
                for event in watch:
                    self._handle(event)
            except errors.TransportError as exc:
                inf.stats.watch_breaks += 1
                if watch.pending_bytes:
                    inf.stats.mid_line_breaks += 1
                if watch.events == 0 and time.monotonic() - started < 1.0:
                    raise errors.TransportError(f"very short watch: {exc}") from exc
                log.info("%s: watch broke, resuming from %s: %s", inf.name, self.last_sync_rv, exc)
                continue
            except errors.ApiError as exc:
                if errors.is_expired(exc):
                    inf.stats.expired += 1
                    self.rv_unavailable = True
                    log.info("%s: watch expired (%s); relisting", inf.name, exc.message)
                    return
                raise
            finally:
                with self._watch_lock:
                    self._watch = None
                watch.close()

    def _handle(self, event: WatchEvent) -> None:
        inf = self.informer
        obj = event.object
        if event.type == "ERROR":
            raise errors.ApiError.from_status(obj)
        rv = resource_version(obj)
        if event.type == "BOOKMARK":
            if rv:
                self.last_sync_rv = rv
            return
        inf.stats.events += 1
        obj.setdefault("apiVersion", inf.gvk.api_version)
        obj.setdefault("kind", inf.gvk.kind)
        inf._apply(event.type, inf._ingest(obj))
        if rv:
            self.last_sync_rv = rv


# -- the informer ------------------------------------------------------------------------------


class HandlerRegistration:
    """Returned by `add_event_handler`; `has_synced()` once the handler has been handed every
    object of the informer's first list (or, for a late handler, the store as it was)."""

    def __init__(self, informer: SharedInformer, handler: ResourceEventHandler, seq: int) -> None:
        self.informer = informer
        self.handler = handler
        self._seq = seq

    def has_synced(self) -> bool:
        inf = self.informer
        if not inf.has_synced():
            return False
        return inf._dispatched_seq >= max(self._seq, inf._synced_seq)

    def remove(self) -> None:
        self.informer.remove_event_handler(self.handler)


_Note = tuple[tuple[ResourceEventHandler, ...], str, Any, Any]


class SharedInformer:
    """One kind's list+watch, indexed store and event dispatch, shared by every handler."""

    def __init__(
        self,
        client: Client,
        gvk: GVK,
        *,
        namespaces: Iterable[str] | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        transform: Transform | None = strip_managed_fields,
        resync_period: float | None = None,
        page_size: int = 500,
        min_watch_timeout: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self.gvk = gvk
        self.name = f"informer[{gvk}]"
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.transform = transform
        self.resync_period = resync_period if resync_period and resync_period > 0 else None
        self.page_size = page_size
        self.min_watch_timeout = min_watch_timeout
        self._rng = rng or random.Random()
        self.indexer = Indexer({NAMESPACE_INDEX: namespace_index, OWNER_UID_INDEX: owner_uid_index})
        self.store = self.indexer
        self.stats = InformerStats()
        # _lock orders store writes, notification enqueues and handler registration together.
        self._lock = threading.RLock()
        self._handlers: tuple[ResourceEventHandler, ...] = ()
        self._queue: deque[tuple[int, _Note]] = deque()
        self._cv = threading.Condition(threading.Lock())
        self._seq = 0
        self._dispatched_seq = 0
        self._synced_seq = 0
        ns_list = sorted(set(namespaces)) if namespaces else []
        self._reflectors = [_Reflector(self, ns) for ns in ns_list] or [_Reflector(self, None)]
        self._synced = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False

    # -- public surface

    @property
    def namespaces(self) -> list[str] | None:
        return [r.namespace for r in self._reflectors if r.namespace] or None

    def add_event_handler(self, handler: ResourceEventHandler) -> HandlerRegistration:
        """Registers a handler; if objects are already stored it first gets them all as adds
        (is_in_initial_list=True), then every change after them, never one twice."""
        with self._lock:
            items = self.indexer.list()
            self._handlers = (*self._handlers, handler)
            only = (handler,)
            with self._cv:
                for obj in items:
                    self._push((only, "add", obj, True))
                seq = self._seq
        return HandlerRegistration(self, handler, seq)

    def remove_event_handler(self, handler: ResourceEventHandler) -> None:
        with self._lock:
            self._handlers = tuple(h for h in self._handlers if h is not handler)

    def add_indexer(self, name: str, fn: IndexFunc) -> None:
        self.indexer.add_indexer(name, fn)

    def has_synced(self) -> bool:
        return self._synced.is_set()

    def wait_for_sync(self, timeout: float | None = None) -> bool:
        return self._synced.wait(timeout)

    @property
    def last_sync_resource_version(self) -> str:
        return max((r.last_sync_rv for r in self._reflectors), key=lambda v: int(v) if v.isdigit() else 0)

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        self._spawn(self._dispatch_loop, "dispatch")
        for r in self._reflectors:
            self._spawn(partial(r.run, self._stop), f"reflector-{r.namespace or 'all'}")
        if self.resync_period:
            self._spawn(self._resync_loop, "resync")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for r in self._reflectors:
            r.close_watch()
        with self._cv:
            self._cv.notify_all()
        me = threading.current_thread()
        for t in self._threads:
            if t is not me:
                t.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # -- feeding the store (reflector threads)

    def _ingest(self, obj: Obj) -> Obj:
        if self.transform is not None:
            obj = self.transform(obj)
        frozen: Obj = freeze(obj)
        return frozen

    def _replace(self, reflector: _Reflector, items: list[Obj], list_rv: str) -> None:
        api_version, kind = self.gvk.api_version, self.gvk.kind
        initial = not reflector.synced
        fresh: dict[str, Obj] = {}
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
            obj = self._ingest(item)
            fresh[object_key(obj)] = obj
        ns = reflector.namespace
        with self._lock:
            store = self.indexer
            notes: list[tuple[str, Any, Any]] = []
            for key, obj in fresh.items():
                old = store.get_by_key(key)
                if old is None:
                    store.upsert(key, obj)
                    notes.append(("add", obj, initial))
                    continue
                order = compare_resource_versions(resource_version(obj), resource_version(old))
                if order > 0:
                    store.upsert(key, obj)
                    notes.append(("update", old, obj))
                elif order < 0:
                    self.stats.stale_dropped += 1
            scope = store.index_keys(NAMESPACE_INDEX, ns) if ns else store.list_keys()
            for key in scope:
                if key not in fresh:
                    old = store.remove(key)
                    if old is not None:
                        notes.append(("delete", DeletedFinalStateUnknown(key, old), None))
            self._notify_all(notes)

    def _apply(self, event_type: str, obj: Obj) -> None:
        key = object_key(obj)
        with self._lock:
            store = self.indexer
            old = store.get_by_key(key)
            if event_type == "DELETED":
                if old is not None:
                    if compare_resource_versions(resource_version(obj), resource_version(old)) < 0:
                        self.stats.stale_dropped += 1
                        return
                    store.remove(key)
                self._notify_all([("delete", obj, None)])
                return
            if old is None:
                store.upsert(key, obj)
                self._notify_all([("add", obj, False)])
                return
            if compare_resource_versions(resource_version(obj), resource_version(old)) <= 0:
                self.stats.stale_dropped += 1
                return
            store.upsert(key, obj)
            self._notify_all([("update", old, obj)])

    def _reflector_synced(self) -> None:
        if self._synced.is_set():
            return
        if all(r.synced for r in self._reflectors):
            with self._cv:
                self._synced_seq = self._seq
            self._synced.set()

    # -- dispatch

    def _notify_all(self, notes: list[tuple[str, Any, Any]]) -> None:
        handlers = self._handlers
        if not notes or not handlers:
            return
        with self._cv:
            for kind, a, b in notes:
                self._push((handlers, kind, a, b))

    def _push(self, note: _Note) -> None:
        # caller holds self._cv
        self._seq += 1
        self._queue.append((self._seq, note))
        self._cv.notify()

    def _dispatch_loop(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stop.is_set():
                    self._cv.wait()
                if self._stop.is_set():
                    return
                seq, (handlers, kind, a, b) = self._queue.popleft()
            for handler in handlers:
                try:
                    if kind == "add":
                        handler.on_add(a, b)
                    elif kind == "update":
                        handler.on_update(a, b)
                    else:
                        handler.on_delete(a)
                except Exception:
                    log.exception("%s: event handler %r failed on %s", self.name, handler, kind)
            with self._cv:
                self._dispatched_seq = seq

    def _resync_loop(self) -> None:
        period = self.resync_period
        assert period is not None
        while not self._stop.wait(period):
            if not self.has_synced():
                continue
            with self._lock:
                self._notify_all([("update", obj, obj) for obj in self.indexer.list()])

    def _spawn(self, target: Callable[[], None], what: str) -> None:
        t = threading.Thread(target=target, name=f"{self.name}-{what}", daemon=True)
        self._threads.append(t)
        t.start()
