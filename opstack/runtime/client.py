"""REST client for the Kubernetes API on plain dicts (client-go's dynamic client + RESTMapper).

Invariants:
- Objects go in and out as `dict`s parsed straight from JSON (`json.loads` of the body bytes);
  the kubernetes package's generated models are never used. The kubernetes package supplies only
  configuration (kubeconfig / in-cluster), authentication (bearer tokens with their refresh hook,
  exec plugins, client certificates), TLS and the urllib3 connection pool.
- One `Client` is shared by every thread: the pool, the discovery cache and the rate limiter are
  thread-safe, and the auth-refresh hook (which mutates the shared Configuration) runs under a lock.
- Every failed request raises a typed `errors.ApiError` (no HTTP answer: `errors.TransportError`).
  A 429 carrying Retry-After is retried after the advised delay, at most `max_retries` times,
  as client-go does; nothing else is retried here (informers and reconcilers own retry policy).
- Kind -> resource mapping comes from API discovery of the kind's group/version, cached, and
  refreshed on a miss, so a CRD installed after the client started is found by kind.
- Items of a List lack apiVersion/kind on the wire; `list`/`list_all` fill them in, so every object
  this client returns names its kind.
- Every request is counted in `rest_client_requests_total{code,method,host}` (code `<error>` when
  there was no answer) and timed in `rest_client_request_duration_seconds{verb,host}` (for a watch:
  until the response headers).
- With a `write_fence` set, no write (any method but GET) leaves the process unless the fence lets it.
- A server-side apply body is read by the API server as YAML: it is JSON whose characters outside the Basic
  Multilingual Plane are spelled as YAML escapes (`\\U0001f600`), never as JSON's surrogate pairs, which
  YAML refuses ("invalid Unicode character escape code").
"""

from __future__ import annotations

import builtins
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlparse

import urllib3
from kubernetes import config as kube_config
from kubernetes.client import Configuration
from kubernetes.client.rest import RESTClientObject
from prometheus_client import Counter, Histogram

from opstack.runtime import errors
from opstack.runtime.gvk import GVK
from opstack.runtime.metrics import REGISTRY
from opstack.runtime.watch import Watch

Obj = dict[str, Any]
PatchType = Literal["merge", "json", "strategic", "apply"]

PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",  # the body is JSON, made YAML-safe by apply_body
}

# One backslash escape of JSON text, a surrogate pair (its halves in groups 1 and 2) or any other; matched
# left to right, so the text "\\ud83d" (an escaped backslash, then "ud83d") is never taken for one.
_JSON_ESCAPE = re.compile(r"\\(?:u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|.)")


def _yaml_escape(m: re.Match[str]) -> str:
    high, low = m.group(1), m.group(2)
    if high is None:
        return m.group(0)
    return f"\\U{0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00):08x}"


def apply_body(obj: Any) -> bytes:
    """`obj` as an apply-patch+yaml body: ASCII JSON, except that a character outside the BMP (an emoji in a
    user's string) is a YAML escape: JSON spells it as a surrogate pair, which the API server's YAML decoder
    refuses with a 400 (so the apply of any object holding one would fail forever)."""
    text = json.dumps(obj, separators=(",", ":"))
    if "\\ud" in text:
        text = _JSON_ESCAPE.sub(_yaml_escape, text)
    return text.encode()


USER_AGENT = "opstack-operator/0.1.0 (python; opstack.runtime)"

REQUESTS = Counter(
    "rest_client_requests_total",
    "Number of HTTP requests, partitioned by status code, method, and host.",
    ["code", "method", "host"],
    registry=REGISTRY,
)
REQUEST_DURATION = Histogram(
    "rest_client_request_duration_seconds",
    "Request latency in seconds. Broken down by verb, and host.",
    ["verb", "host"],
    buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0),
    registry=REGISTRY,
)


@dataclass(frozen=True)
class ResourceInfo:
    """What discovery says about a kind: its URL name, scope, verbs and subresources."""

    gvk: GVK
    plural: str
    namespaced: bool
    verbs: frozenset[str]
    subresources: frozenset[str]


class TokenBucket:
    """Client-side rate limit (client-go's flowcontrol token bucket); qps <= 0 disables it."""

    def __init__(self, qps: float, burst: int) -> None:
        self.qps = qps
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if self.qps <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.qps if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)


class Client:
    """A thread-safe Kubernetes API client on plain dicts. See the module invariants."""

    max_retries = 10  # client-go's maxRetries for Retry-After answers
    request_timeout = urllib3.Timeout(connect=10.0, read=90.0)

    def __init__(
        self,
        configuration: Configuration,
        *,
        qps: float = -1.0,
        burst: int = 0,
        pool_maxsize: int = 64,
        user_agent: str = USER_AGENT,
    ) -> None:
        # controller-runtime >= 0.21 disables client-side rate limiting (qps -1) and relies on API
        # Priority and Fairness; pass qps/burst to restore a limit.
        configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 0, pool_maxsize)
        if hasattr(configuration, "keep_alive") and configuration.socket_options is None:
            configuration.keep_alive = True  # client-go dials with a 30 s TCP keepalive
        self.configuration = configuration
        self._rest = RESTClientObject(configuration)
        self._pool = self._rest.pool_manager
        self.host: str = configuration.host.rstrip("/")
        self._host_label = urlparse(self.host).netloc or self.host
        self._user_agent = user_agent
        self._auth_lock = threading.Lock()
        self._limiter = TokenBucket(qps, burst)
        self._discovery_lock = threading.Lock()
        self._resources: dict[GVK, ResourceInfo] = {}
        self._discovered_at: dict[tuple[str, str], float] = {}
        # Called with (method, path) before every write; raises to refuse it (the manager fences the writes
        # of a leader-elected process with its Lease: see Manager and LeaderElector.holds_lease).
        self.write_fence: Callable[[str, str], None] | None = None

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_kubeconfig(
        cls, path: str | None = None, context: str | None = None, *, qps: float = -1.0, burst: int = 0
    ) -> Client:
        configuration = Configuration()
        kube_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=path, context=context, client_configuration=configuration, persist_config=False
        )
        return cls(configuration, qps=qps, burst=burst)

    @classmethod
    def in_cluster(cls, *, qps: float = -1.0, burst: int = 0) -> Client:
        configuration = Configuration()
        kube_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        return cls(configuration, qps=qps, burst=burst)

    @classmethod
    def auto(cls, *, qps: float = -1.0, burst: int = 0) -> Client:
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            return cls.in_cluster(qps=qps, burst=burst)
        return cls.from_kubeconfig(os.environ.get("KUBECONFIG") or None, qps=qps, burst=burst)

    def close(self) -> None:
        self._pool.clear()

    # -- discovery ------------------------------------------------------------------------------

    def resource_for(self, gvk: GVK) -> ResourceInfo:
        """The resource serving `gvk`; discovery of its group/version is refreshed on a miss."""
        info = self._resources.get(gvk)
        if info is not None:
            return info
        with self._discovery_lock:
            info = self._resources.get(gvk)
            if info is None:
                self._discover(gvk.group, gvk.version)
                info = self._resources.get(gvk)
        if info is None:
            raise errors.NoKindMatch(f"no matches for kind {gvk.kind!r} in version {gvk.api_version!r}")
        return info

    def invalidate_discovery(self) -> None:
        with self._discovery_lock:
            self._resources.clear()
            self._discovered_at.clear()

    def _discover(self, group: str, version: str) -> None:
        path = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        try:
            listing = self._json("GET", path)
        except errors.NotFound:
            raise errors.NoKindMatch(
                f"the API server does not serve {group + '/' if group else ''}{version}"
            ) from None
        found: dict[str, dict[str, Any]] = {}
        subresources: dict[str, set[str]] = {}
        for res in listing.get("resources") or []:
            name = res.get("name", "")
            if "/" in name:
                parent, _, sub = name.partition("/")
                subresources.setdefault(parent, set()).add(sub)
            else:
                found[name] = res
        for name, res in found.items():
            gvk = GVK(group, version, res["kind"])
            self._resources[gvk] = ResourceInfo(
                gvk=gvk,
                plural=name,
                namespaced=bool(res.get("namespaced")),
                verbs=frozenset(res.get("verbs") or ()),
                subresources=frozenset(subresources.get(name, ())),
            )
        self._discovered_at[(group, version)] = time.monotonic()

    def _path(
        self, gvk: GVK, namespace: str | None, name: str | None = None, subresource: str | None = None
    ) -> str:
        info = self.resource_for(gvk)
        base = f"/api/{gvk.version}" if not gvk.group else f"/apis/{gvk.group}/{gvk.version}"
        parts = [base]
        if info.namespaced and namespace:
            parts += ["namespaces", quote(namespace, safe="")]
        elif info.namespaced and name is not None:
            raise ValueError(f"{gvk.kind} is namespaced: a namespace is required to address {name!r}")
        parts.append(info.plural)
        if name is not None:
            if not name:
                raise ValueError(f"{gvk.kind}: an empty name cannot be addressed")
            parts.append(quote(name, safe=""))
            if subresource:
                parts.append(subresource)
        return "/".join(parts)

    # -- reads ----------------------------------------------------------------------------------

    def get(
        self, gvk: GVK, name: str, namespace: str | None = None, *, subresource: str | None = None
    ) -> Obj:
        obj: Obj = self._json("GET", self._path(gvk, namespace, name, subresource))
        return obj

    def list(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
    ) -> Obj:
        """One page of a list: the List object (items carry apiVersion and kind)."""
        query = _query(
            labelSelector=label_selector,
            fieldSelector=field_selector,
            limit=limit,
            resourceVersion=resource_version,
            resourceVersionMatch=resource_version_match,
        )
        if continue_token:
            query["continue"] = continue_token
        page: Obj = self._json("GET", self._path(gvk, namespace), query=query)
        api_version, kind = gvk.api_version, gvk.kind
        for item in page.get("items") or ():
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return page

    def list_all(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
        resource_version: str | None = None,
    ) -> tuple[builtins.list[Obj], str]:
        """Every item, page by page (client-go's pager): (items, the list's resourceVersion).

        If a continue token expires between pages (410), the list restarts unpaginated, as the
        pager's FullListIfExpired does.
        """
        items: builtins.list[Obj] = []
        token: str | None = None
        limit: int | None = page_size if page_size and page_size > 0 else None
        while True:
            try:
                page = self.list(
                    gvk,
                    namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    limit=limit,
                    continue_token=token,
                    resource_version=None if token else resource_version,
                )
            except errors.Gone:
                if token is None:
                    raise
                items, token, limit = [], None, None
                continue
            items.extend(page.get("items") or ())
            meta = page.get("metadata") or {}
            token = meta.get("continue") or None
            if not token:
                return items, str(meta.get("resourceVersion") or "")

    def watch(
        self,
        gvk: GVK,
        namespace: str | None = None,
        *,
        resource_version: str,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> Watch:
        """Opens a watch from `resource_version`; iterate the returned `Watch` for events."""
        query = _query(
            watch="true",
            resourceVersion=resource_version,
            allowWatchBookmarks="true" if allow_bookmarks else None,
            timeoutSeconds=timeout_seconds,
            labelSelector=label_selector,
            fieldSelector=field_selector,
        )
        read_timeout = (timeout_seconds + 30.0) if timeout_seconds else None
        resp = self._request(
            "GET",
            self._path(gvk, namespace),
            query=query,
            stream=True,
            timeout=urllib3.Timeout(connect=10.0, read=read_timeout),
        )
        return Watch(resp)

    # -- writes ---------------------------------------------------------------------------------

    def create(
        self, obj: Mapping[str, Any], *, dry_run: bool = False, field_manager: str | None = None
    ) -> Obj:
        gvk, namespace, _ = _identity(obj, need_name=False)
        if not namespace and self.resource_for(gvk).namespaced:
            raise ValueError(f"{gvk.kind} is namespaced: metadata.namespace is required to create it")
        query = _query(dryRun="All" if dry_run else None, fieldManager=field_manager)
        created: Obj = self._json("POST", self._path(gvk, namespace), query=query, body=obj)
        return created

    def update(
        self, obj: Mapping[str, Any], *, dry_run: bool = False, field_manager: str | None = None
    ) -> Obj:
        return self._put(obj, None, dry_run, field_manager)

    def update_status(
        self, obj: Mapping[str, Any], *, dry_run: bool = False, field_manager: str | None = None
    ) -> Obj:
        return self._put(obj, "status", dry_run, field_manager)

    def _put(
        self, obj: Mapping[str, Any], subresource: str | None, dry_run: bool, manager: str | None
    ) -> Obj:
        gvk, namespace, name = _identity(obj)
        query = _query(dryRun="All" if dry_run else None, fieldManager=manager)
        updated: Obj = self._json("PUT", self._path(gvk, namespace, name, subresource), query=query, body=obj)
        return updated

    def patch(
        self,
        gvk: GVK,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
        force: bool | None = None,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        if patch_type not in PATCH_CONTENT_TYPES:
            raise ValueError(f"patch_type must be one of {sorted(PATCH_CONTENT_TYPES)}, not {patch_type!r}")
        if patch_type == "apply" and not field_manager:
            raise ValueError("a server-side apply patch needs a field_manager")
        query = _query(
            dryRun="All" if dry_run else None,
            fieldManager=field_manager,
            force=("true" if force else "false") if force is not None else None,
        )
        patched: Obj = self._json(
            "PATCH",
            self._path(gvk, namespace, name, subresource),
            query=query,
            body=patch,
            content_type=PATCH_CONTENT_TYPES[patch_type],
        )
        return patched

    def apply(
        self,
        obj: Mapping[str, Any],
        *,
        field_manager: str,
        force: bool = True,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Server-side apply of `obj` (which names its apiVersion, kind, name and namespace)."""
        gvk, namespace, name = _identity(obj)
        return self.patch(
            gvk,
            name,
            obj,
            namespace,
            patch_type="apply",
            field_manager=field_manager,
            force=force,
            subresource=subresource,
            dry_run=dry_run,
        )

    def delete(
        self,
        gvk: GVK,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
    ) -> Obj | None:
        """Deletes; returns the object as the server last saw it (e.g. with deletionTimestamp when
        finalizers hold it), or None when the server answers with a bare Status."""
        options: Obj = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if preconditions:
            options["preconditions"] = dict(preconditions)
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if dry_run:
            options["dryRun"] = ["All"]
        result = self._json("DELETE", self._path(gvk, namespace, name), body=options)
        if not isinstance(result, dict) or result.get("kind") == "Status":
            return None
        return result

    # -- transport ------------------------------------------------------------------------------

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": self._user_agent}
        if content_type:
            headers["Content-Type"] = content_type
        cfg = self.configuration
        with self._auth_lock:  # the refresh hook rewrites cfg.api_key (token expiry, exec plugins)
            settings: dict[str, Any] = dict(cfg.auth_settings())
            for setting in settings.values():
                if setting.get("in") == "header" and setting.get("value"):
                    headers[str(setting["key"])] = str(setting["value"])
            if cfg.username or cfg.password:
                headers["Authorization"] = str(cfg.get_basic_auth_token())
        return headers

    def _json(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        data = self._request(method, path, query=query, body=body, content_type=content_type)
        return json.loads(data) if data else None

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        stream: bool = False,
        timeout: urllib3.Timeout | None = None,
    ) -> Any:
        """Sends one request (retrying 429 + Retry-After); returns the body bytes, or with
        `stream=True` the open urllib3 response. Raises typed errors."""
        if method != "GET" and self.write_fence is not None:
            self.write_fence(method, path)
        url = self.host + path + (("?" + urlencode(query)) if query else "")
        if body is None:
            payload = None
        elif content_type == PATCH_CONTENT_TYPES["apply"]:
            payload = apply_body(body)
        else:
            payload = json.dumps(body, separators=(",", ":")).encode()
        for attempt in range(self.max_retries + 1):
            self._limiter.acquire()
            headers = self._headers(content_type if payload is not None else None)
            started = time.perf_counter()
            try:
                resp = self._pool.request(
                    method,
                    url,
                    body=payload,
                    headers=headers,
                    preload_content=False,
                    timeout=timeout or self.request_timeout,
                    retries=urllib3.Retry(total=2, connect=2, read=0, status=0, redirect=0, other=0),
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                REQUEST_DURATION.labels(method, self._host_label).observe(time.perf_counter() - started)
                REQUESTS.labels("<error>", method, self._host_label).inc()
                raise errors.TransportError(f"{method} {path}: {_root_cause(exc)}") from exc
            REQUEST_DURATION.labels(method, self._host_label).observe(time.perf_counter() - started)
            REQUESTS.labels(str(resp.status), method, self._host_label).inc()
            if resp.status < 400:
                if stream:
                    return resp
                try:
                    data = resp.read()
                except (urllib3.exceptions.HTTPError, OSError) as exc:
                    resp.close()
                    raise errors.TransportError(f"{method} {path}: reading the answer: {exc}") from exc
                resp.release_conn()
                return data
            try:
                data = resp.read()
            except (urllib3.exceptions.HTTPError, OSError):
                data = b""
            resp.release_conn()
            error = errors.ApiError.from_response(resp.status, data, resp.headers)
            retryable = error.retry_after is not None and (
                resp.status == 429 or (resp.status >= 500 and "Retry-After" in resp.headers)
            )
            if not retryable or attempt == self.max_retries:
                raise error
            assert error.retry_after is not None
            time.sleep(min(error.retry_after, 30.0) + random.uniform(0, 0.1))
        raise AssertionError("unreachable")


def _query(**params: Any) -> dict[str, str]:
    return {k: str(v) for k, v in params.items() if v is not None and v != ""}


def _identity(obj: Mapping[str, Any], need_name: bool = True) -> tuple[GVK, str | None, str]:
    try:
        gvk = GVK.of(obj["apiVersion"], obj["kind"])
    except KeyError:
        raise ValueError("the object needs apiVersion and kind") from None
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    if need_name and not name:
        raise ValueError(f"{gvk.kind}: metadata.name is required")
    return gvk, meta.get("namespace"), name


def _root_cause(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason) if reason is not None else str(exc)
