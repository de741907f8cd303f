"""A loopback TCP proxy that injects network faults: resets at random byte offsets, pauses.

It forwards bytes and nothing else, so TLS passes through untouched (the client still verifies the
API server's certificate, which must be valid for the proxy's address: 127.0.0.1 works for the
local control plane).

Invariants:
- Faults are reproducible: every random choice comes from one `random.Random(seed)`, drawn in
  connection-accept order.
- With `reset_after=(lo, hi)`, each connection gets a budget of downstream (server -> client) bytes
  drawn uniformly from [lo, hi]; exactly that many bytes are forwarded, then both sides are reset
  (RST, not FIN). A budget falls anywhere in the stream, so cuts land inside TLS records and hence
  inside JSON lines of the plaintext.
- `pause()` stops forwarding in both directions (bytes wait in kernel buffers, connections stay
  open); `resume()` lets them flow again. `reset_all()` resets every open connection now.
- `stop()` closes the listener and every connection and joins every thread it started.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
from dataclasses import dataclass
from urllib.parse import urlparse


@dataclass
class ProxyStats:
    connections: int = 0
    resets: int = 0
    bytes_down: int = 0
    bytes_up: int = 0


class _Conn:
    def __init__(self, client: socket.socket, upstream: socket.socket, budget: int | None) -> None:
        self.client = client
        self.upstream = upstream
        self.budget = budget  # downstream bytes left before a reset; None = no fault
        self.closed = threading.Event()
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class FaultProxy:
    """`FaultProxy("https://127.0.0.1:6443", seed=1, reset_after=(10_000, 100_000)).start()`;
    point a client at `proxy.url`."""

    def __init__(
        self,
        target: str,
        *,
        seed: int = 0,
        reset_after: tuple[int, int] | None = None,
        listen_host: str = "127.0.0.1",
    ) -> None:
        parsed = urlparse(target if "://" in target else f"tcp://{target}")
        if not parsed.hostname or not parsed.port:
            raise ValueError(f"target must name a host and port, e.g. https://127.0.0.1:6443, not {target!r}")
        self.scheme = parsed.scheme if parsed.scheme != "tcp" else "https"
        self.target = (parsed.hostname, parsed.port)
        self.listen_host = listen_host
        self.stats = ProxyStats()
        self._rng = random.Random(seed)
        self._reset_after = reset_after
        self._flowing = threading.Event()
        self._flowing.set()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._conns: set[_Conn] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self.port = 0

    # -- control

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.listen_host}:{self.port}"

    def start(self) -> FaultProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.listen_host, 0))
        listener.listen(128)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._spawn(self._accept_loop, "accept")
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._flowing.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.close()
        for t in list(self._threads):
            if t is not threading.current_thread():
                t.join(5.0)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_faults(self, reset_after: tuple[int, int] | None) -> None:
        """Changes the reset policy for connections accepted from now on."""
        with self._lock:
            self._reset_after = reset_after

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def reset_all(self) -> int:
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.reset()
        with self._lock:
            self.stats.resets += len(conns)
        return len(conns)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for c in self._conns if not c.closed.is_set())

    # -- forwarding

    def _spawn(self, target: object, name: str, *args: object) -> None:
        t = threading.Thread(target=target, args=args, name=f"faultproxy-{name}", daemon=True)  # type: ignore[arg-type]
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
        t.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                bounds = self._reset_after
                budget = self._rng.randint(*bounds) if bounds else None
                conn = _Conn(client, upstream, budget)
                self._conns.add(conn)
                self.stats.connections += 1
            self._spawn(self._pump, "up", conn, client, upstream, False)
            self._spawn(self._pump, "down", conn, upstream, client, True)

    def _pump(self, conn: _Conn, src: socket.socket, dst: socket.socket, downstream: bool) -> None:
        try:
            while not conn.closed.is_set():
                try:
                    data = src.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                while not self._flowing.wait(0.2):
                    if conn.closed.is_set() or self._stopped.is_set():
                        return
                if downstream and conn.budget is not None:
                    if len(data) >= conn.budget:
                        dst.sendall(data[: conn.budget])
                        with self._lock:
                            self.stats.bytes_down += conn.budget
                            self.stats.resets += 1
                        conn.budget = 0
                        conn.reset()
                        return
                    conn.budget -= len(data)
                try:
                    dst.sendall(data)
                except OSError:
                    break
                with self._lock:
                    if downstream:
                        self.stats.bytes_down += len(data)
                    else:
                        self.stats.bytes_up += len(data)
            # One side finished: pass the half-close on, and close the pair when both are done.
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
            if not downstream:
                return
            conn.close()
        except OSError:
            conn.close()
        finally:
            if downstream or conn.closed.is_set():
                with self._lock:
                    self._conns.discard(conn)
