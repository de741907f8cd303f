"""The manager: one process's client, shared cache, controllers, HTTP servers, leader election and shutdown.

controller-runtime's `pkg/manager`, on threads.

Start order (invariants):
1. The health-probe and metrics servers start first, so `/healthz` answers at once and `/readyz` answers
   503 until the caches have synced (plus any custom readiness checks).
2. The shared cache starts and every informer created so far syncs (up to `cache_sync_timeout`).
3. Runnables that do not need leadership start.
4. With leader election, the manager campaigns for the Lease; once elected (or at once without leader
   election) the leader-election runnables, i.e. the controllers, start. `elected` is set then.

Stop (first SIGTERM/SIGINT, or `stop()`), in controller-runtime's order:
controllers stop taking work and in-flight reconciles get the rest of `graceful_shutdown_timeout`
(default 30 s; 0 = don't wait; negative = wait forever) -> other runnables -> the cache -> pending Events
are flushed -> the Lease is released (a successor can take over at once) -> HTTP servers stop. `start()`
then returns and `run()` returns 0. If the grace period ran out, `run()` exits 1. A second signal exits 1
at once.

Lost leadership (renewals failed for `renew_deadline`): controllers stop taking work at once (no grace
period: another replica may already be leading), `start()` raises `LeaderElectionLost` at once, without
stopping the cache or servers, and `run()` exits the process with status 1 (`os._exit`), because a reconcile
still running on a thread cannot be killed. A caller of `start()` must exit the process too. Until it has
exited, the client's write fence refuses every write but the elector's own Lease requests as soon as the
last renewal is older than the renew deadline (`errors.LeadershipLost`), so a reconcile that was in flight,
or a process resumed after being stopped for longer than its lease, cannot write in another leader's term.

A runnable or controller that fails to start (e.g. its cache never syncs) stops the manager; `start()`
raises `ManagerError` and `run()` returns 1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, Protocol, runtime_checkable

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from opstack.runtime import errors
from opstack.runtime.cache import Cache
from opstack.runtime.client import Client
from opstack.runtime.controller import Controller
from opstack.runtime.events import EventBroadcaster, EventRecorder
from opstack.runtime.leaderelection import LeaderElectionConfig, LeaderElector, default_identity
from opstack.runtime.metrics import REGISTRY

log = structlog.get_logger("opstack.runtime.manager")

SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT = 30.0
DEFAULT_CACHE_SYNC_TIMEOUT = 120.0

Check = Callable[[], bool | None]  # raise or return False to fail
Route = Callable[[str], tuple[int, bytes, str]]


class LeaderElectionLost(RuntimeError):
    """This process's Lease could not be renewed; it must exit."""


class ManagerError(RuntimeError):
    """The manager could not start or stop cleanly."""


@runtime_checkable
class Runnable(Protocol):
    """Something the manager starts and stops. `start()` returns once running (threads of its own)."""

    def start(self) -> None: ...

    def stop(self, timeout: float | None = None) -> bool: ...


@dataclass
class _Entry:
    runnable: Runnable
    need_leader_election: bool
    started: bool = False


def parse_bind_address(address: str | None) -> tuple[str, int] | None:
    """':8080' -> ('', 8080) (all interfaces); '127.0.0.1:0' -> an ephemeral port; '0'/''/None -> off."""
    if address is None or address in ("", "0"):
        return None
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"bind address {address!r} must be HOST:PORT or :PORT (or 0 to disable)")
    return host.strip("[]"), int(port)


class _Server:
    """A small threaded HTTP server on its own thread."""

    def __init__(self, name: str, address: tuple[str, int], routes: dict[str, Route]) -> None:
        routes_ = routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.partition("?")[0]
                route = routes_.get(path) or routes_.get("/" + path.strip("/").split("/")[0])
                if route is None:
                    self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
                    return
                try:
                    status, body, content_type = route(self.path)
                except Exception as exc:
                    status, body, content_type = 500, f"internal error: {exc}\n".encode(), "text/plain"
                self._send(status, body, content_type)

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        host, port = address
        server_cls: type[ThreadingHTTPServer] = ThreadingHTTPServer
        if ":" in host:

            class V6(ThreadingHTTPServer):
                address_family = socket.AF_INET6

            server_cls = V6
        self.name = name
        self.httpd = server_cls((host, port), Handler)
        self.httpd.daemon_threads = True
        self.address: tuple[str, int] = (str(self.httpd.server_address[0]), int(self.httpd.server_address[1]))
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=f"{name}-server", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("serving", server=self.name, address=f"{self.address[0]}:{self.address[1]}")

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Manager:
    """Runs a shared cache, controllers and other runnables; see the module docstring for the lifecycle."""

    def __init__(
        self,
        client: Client | None = None,
        *,
        namespaces: Iterable[str] | None = None,
        label_selector: str | None = None,
        cache: Cache | None = None,
        leader_election: bool = False,
        leader_election_id: str = "",
        leader_election_namespace: str | None = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        leader_election_release_on_cancel: bool = True,
        identity: str | None = None,
        metrics_bind_address: str | None = "0",
        health_probe_bind_address: str | None = None,
        graceful_shutdown_timeout: float = DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT,
        cache_sync_timeout: float = DEFAULT_CACHE_SYNC_TIMEOUT,
        name: str = "opstack-operator",
    ) -> None:
        self.client = client or Client.auto()
        self.cache = cache or Cache(self.client, namespaces=namespaces, label_selector=label_selector)
        self.name = name
        self.identity = identity or default_identity()
        self.graceful_shutdown_timeout = graceful_shutdown_timeout
        self.cache_sync_timeout = cache_sync_timeout
        self._metrics_bind = parse_bind_address(metrics_bind_address)
        self._health_bind = parse_bind_address(health_probe_bind_address)
        self._le_config: LeaderElectionConfig | None = None
        if leader_election:
            if not leader_election_id:
                raise ValueError("leader_election=True needs leader_election_id (the Lease's name)")
            namespace = leader_election_namespace or _in_cluster_namespace()
            if not namespace:
                raise ValueError(
                    "leader election needs leader_election_namespace when not running in a cluster"
                )
            self._le_config = LeaderElectionConfig(
                name=leader_election_id,
                namespace=namespace,
                identity=self.identity,
                lease_duration=lease_duration,
                renew_deadline=renew_deadline,
                retry_period=retry_period,
                release_on_cancel=leader_election_release_on_cancel,
            )
            self._le_config.validate()
        self._entries: list[_Entry] = []
        self._controller_names: set[str] = set()
        self._healthz: dict[str, Check] = {"ping": lambda: True}
        self._readyz: dict[str, Check] = {"cache-sync": self._caches_synced_check}
        self._caches_synced = threading.Event()
        self._broadcaster = EventBroadcaster(self.client, reporting_instance=self.identity)
        self._servers: list[_Server] = []
        self._elector: LeaderElector | None = None
        self._elector_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = False
        self._lost = False
        self._failure: BaseException | None = None
        self.elected = threading.Event()
        self.metrics_address: tuple[str, int] | None = None
        self.health_probe_address: tuple[str, int] | None = None

    # -- set-up -------------------------------------------------------------------------------------------

    def add(self, runnable: Runnable, *, need_leader_election: bool | None = None) -> None:
        """Run `runnable` with the manager; by default only while leading if it says so
        (`need_leader_election` attribute), else always."""
        if need_leader_election is None:
            need_leader_election = bool(getattr(runnable, "need_leader_election", False))
        entry = _Entry(runnable, need_leader_election)
        with self._lock:
            self._entries.append(entry)
            start_now = self._started and (not need_leader_election or self.elected.is_set())
        if start_now:
            self._start_entry(entry)

    def add_controller(self, controller: Controller) -> None:
        with self._lock:
            if controller.name in self._controller_names:
                raise ValueError(
                    f"a controller named {controller.name!r} already exists in this manager; "
                    "give each controller a unique name with ControllerBuilder.named()"
                )
            self._controller_names.add(controller.name)
        self.add(controller, need_leader_election=controller.need_leader_election)

    def add_healthz_check(self, name: str, check: Check) -> None:
        self._healthz[name] = check

    def add_readyz_check(self, name: str, check: Check) -> None:
        self._readyz[name] = check

    def event_recorder(self, name: str) -> EventRecorder:
        """An Event recorder reporting as controller `name` (reportingController) from this instance."""
        return self._broadcaster.new_recorder(name)

    def is_leader(self) -> bool:
        return self._le_config is None or (self._elector is not None and self._elector.is_leader())

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start everything and block until stopped. Raises LeaderElectionLost or ManagerError."""
        with self._lock:
            if self._started:
                raise ManagerError("the manager was already started")
            self._started = True
        try:
            self._run_until_stopped()
        except BaseException as exc:  # a failure to start, or KeyboardInterrupt without run()'s handlers
            if self._failure is None:
                self._failure = exc
        self._shutdown()

    def _run_until_stopped(self) -> None:
        self._start_servers()
        self.cache.start()
        if not self._wait_for_caches():
            return
        self._caches_synced.set()
        log.info("caches synced")
        for entry in self._entries_where(leader=False):
            self._start_entry(entry)
        if self._le_config is None:
            self._on_started_leading()
        else:
            self._elector = LeaderElector(
                self.client,
                self._le_config,
                on_started_leading=self._on_started_leading,
                on_stopped_leading=self._on_stopped_leading,
            )
            self.client.write_fence = self._fence_writes
            self._elector_thread = threading.Thread(
                target=self._elector.run, name="leader-election", daemon=True
            )
            self._elector_thread.start()
        while not self._stop.wait(0.5):
            pass

    def _fence_writes(self, method: str, path: str) -> None:
        """Refuse a write unless this process holds its Lease; the elector's own Lease requests pass (they
        are how it campaigns, renews and releases)."""
        elector, config = self._elector, self._le_config
        if elector is None or config is None or elector.holds_lease():
            return
        if path.startswith(f"/apis/coordination.k8s.io/v1/namespaces/{config.namespace}/leases"):
            return
        raise errors.LeadershipLost(
            f"{method} {path}: refused, this process no longer holds the leader Lease {config.name}"
        )

    def stop(self) -> None:
        """Begin a graceful stop; `start()` returns once it is done."""
        self._stop.set()

    def _wait_for_caches(self) -> bool:
        deadline = time.monotonic() + self.cache_sync_timeout
        while not self._stop.is_set():
            if self.cache.wait_for_sync(min(0.5, max(0.0, deadline - time.monotonic()))):
                return True
            if time.monotonic() >= deadline:
                self._failure = ManagerError(
                    f"caches did not sync within {self.cache_sync_timeout:.0f}s "
                    "(check RBAC for list/watch and that every watched kind is served)"
                )
                return False
        return False

    def _entries_where(self, *, leader: bool) -> list[_Entry]:
        with self._lock:
            return [e for e in self._entries if e.need_leader_election == leader]

    def _start_entry(self, entry: _Entry) -> None:
        if self._stop.is_set():
            return
        entry.started = True
        try:
            entry.runnable.start()
        except Exception as exc:
            log.error("runnable failed to start; stopping the manager", exc_info=exc)
            if self._failure is None:
                self._failure = ManagerError(f"{_name_of(entry.runnable)} failed to start: {exc}")
            self._stop.set()

    def _on_started_leading(self) -> None:
        self.elected.set()
        for entry in self._entries_where(leader=True):
            if not entry.started:
                self._start_entry(entry)

    def _on_stopped_leading(self) -> None:
        if self._stop.is_set() and not (self._elector is not None and self._elector.lost):
            return  # a clean stop released the lease
        self._lost = True
        log.error("leader election lost; stopping all reconciles at once")
        for entry in self._entries_where(leader=True):
            abort = getattr(entry.runnable, "abort", None)
            if callable(abort):
                abort()
        self._stop.set()

    def _shutdown(self) -> None:
        if self._lost:
            # No grace and no tidying up: another replica may lead already. The caller exits the process
            # (run() does so at once); servers and informer threads die with it.
            raise LeaderElectionLost("leader election lost")
        grace = self.graceful_shutdown_timeout
        deadline = None if grace < 0 else time.monotonic() + grace
        log.info("stopping: no new work; waiting for in-flight reconciles", grace_period=grace)

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        finished = True
        for leader in (True, False):
            for entry in self._entries_where(leader=leader):
                if entry.started:
                    try:
                        finished = bool(entry.runnable.stop(remaining())) and finished
                    except Exception:
                        log.exception("runnable failed to stop", runnable=_name_of(entry.runnable))
                        finished = False
        self.cache.stop()
        self._broadcaster.stop(timeout=min(remaining() or 5.0, 5.0))
        if self._elector is not None:
            self._elector.stop()
            if self._elector_thread is not None:
                self._elector_thread.join(10.0)
        if self._lost:  # lost while we were stopping
            self._stop_servers()
            raise LeaderElectionLost("leader election lost")
        self._stop_servers()
        if self._failure is not None:
            raise ManagerError(str(self._failure)) from self._failure
        if not finished:
            raise ManagerError(f"in-flight reconciles did not finish within the grace period of {grace:.0f}s")
        log.info("stopped cleanly")

    # -- HTTP servers -------------------------------------------------------------------------------------

    def _start_servers(self) -> None:
        if self._health_bind is not None:
            health = _Server(
                "health-probe",
                self._health_bind,
                {
                    "/healthz": lambda path: self._checks(self._healthz, path),
                    "/readyz": lambda path: self._checks(self._readyz, path),
                },
            )
            health.start()
            self.health_probe_address = health.address
            self._servers.append(health)
        if self._metrics_bind is not None:
            metrics = _Server("metrics", self._metrics_bind, {"/metrics": self._metrics})
            metrics.start()
            self.metrics_address = metrics.address
            self._servers.append(metrics)

    def _stop_servers(self) -> None:
        # In parallel: each shutdown() waits for its serve_forever loop to notice (up to 0.5 s).
        stoppers = [threading.Thread(target=_quietly(server.stop), daemon=True) for server in self._servers]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join(5.0)
        self._servers.clear()

    @staticmethod
    def _metrics(_path: str) -> tuple[int, bytes, str]:
        return 200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST

    def _caches_synced_check(self) -> bool:
        if not self._caches_synced.is_set():
            raise RuntimeError("caches not synced yet")
        return True

    @staticmethod
    def _checks(checks: dict[str, Check], path: str) -> tuple[int, bytes, str]:
        """controller-runtime's healthz handler: 200 "ok" or 503 listing failures; `/readyz/<name>` runs
        one check; `?verbose` lists every check."""
        route, _, query = path.partition("?")
        parts = route.strip("/").split("/", 1)
        selected = dict(checks)
        if len(parts) == 2 and parts[1]:
            if parts[1] not in checks:
                return 404, f"no check named {parts[1]!r}\n".encode(), "text/plain; charset=utf-8"
            selected = {parts[1]: checks[parts[1]]}
        lines, failed = [], False
        for name, check in sorted(selected.items()):
            try:
                ok = check() is not False
                reason = "" if ok else "check returned false"
            except Exception as exc:
                ok, reason = False, str(exc)
            failed = failed or not ok
            lines.append(f"[+]{name} ok" if ok else f"[-]{name} failed: {reason}")
        verbose = "verbose" in query.split("&")
        if failed or verbose:
            summary = f"{parts[0]} check failed" if failed else f"{parts[0]} check passed"
            body = "\n".join([*lines, summary]) + "\n"
        else:
            body = "ok"
        return (503 if failed else 200), body.encode(), "text/plain; charset=utf-8"

    # -- process entry point ------------------------------------------------------------------------------

    def run(self) -> int:
        """Install SIGTERM/SIGINT handlers, start, and return the process exit code (0 after a clean stop).

        On lost leadership the process exits at once with status 1 (reconcile threads cannot be killed)."""
        signals_seen = 0

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            nonlocal signals_seen
            signals_seen += 1
            if signals_seen > 1:
                log.warning("second signal; exiting at once", signal=signal.Signals(signum).name)
                _hard_exit(1)
            log.info("signal received; shutting down gracefully", signal=signal.Signals(signum).name)
            self.stop()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
        else:
            log.warning("Manager.run() not on the main thread: signal handlers not installed")
        try:
            self.start()
        except LeaderElectionLost:
            log.error("exiting: leader election lost")
            _hard_exit(1)
        except ManagerError as exc:
            log.error("manager stopped with an error", error=str(exc))
            _hard_exit(1)
        return 0


def _quietly(fn: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        with contextlib.suppress(Exception):
            fn()

    return run


def _hard_exit(code: int) -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _in_cluster_namespace() -> str | None:
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE) as f:
            return f.read().strip() or None
    except OSError:
        return None


def _name_of(runnable: object) -> str:
    return str(getattr(runnable, "name", type(runnable).__name__))
