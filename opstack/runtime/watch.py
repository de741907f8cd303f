"""A raw watch stream: line-delimited JSON events read incrementally from a chunked HTTP answer.

Invariants:
- The stream is read as it arrives, chunk by chunk; an event is handed out as soon as its line is
  complete. A line may span any number of chunks and a chunk may hold any number of lines; a
  pending partial line costs O(its length) to finish, never a rescan of what came before.
- Events come out in the order the server sent them; nothing is buffered past a complete line.
- An ERROR event whose Status says 410 / Expired raises `errors.Gone` (the caller must relist);
  any other ERROR event is handed out as `WatchEvent("ERROR", status)`.
- The stream ends quietly (StopIteration) when the server closes it cleanly (its timeoutSeconds
  elapsed) or when `close()` was called, from any thread. A connection that breaks mid-stream
  raises `errors.TransportError`; `Watch.pending_bytes` then tells how much of a line was cut off.
- A closed watch never returns its connection to the pool (its state is unknown).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from opstack.runtime import errors

Obj = dict[str, Any]

EVENT_TYPES = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"})


class WatchEvent(NamedTuple):
    type: str
    object: Obj


class LineSplitter:
    """Splits a byte stream into lines on b"\\n"; keeps the unfinished tail between chunks."""

    __slots__ = ("_parts", "_pending")

    def __init__(self) -> None:
        self._parts: list[bytes] = []  # pieces of the current, unfinished line
        self._pending = 0

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held back."""
        return self._pending

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines completed by `chunk` (without their newline; empty lines dropped)."""
        lines: list[bytes] = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            if self._parts:
                self._parts.append(chunk[start:end])
                line = b"".join(self._parts)
                self._parts.clear()
                self._pending = 0
            else:
                line = chunk[start:end]
            if line.strip():
                lines.append(line)
            start = end + 1
        if start < len(chunk):
            rest = chunk[start:] if start else chunk
            self._parts.append(rest)
            self._pending += len(rest)
        return lines

    def finish(self) -> bytes:
        """What is left at the end of the stream (a final line without a newline, or a cut-off one)."""
        tail = b"".join(self._parts)
        self._parts.clear()
        self._pending = 0
        return tail


def decode_event(line: bytes) -> WatchEvent:
    """One watch line -> WatchEvent; raises `errors.Gone` for an expired-watch ERROR event."""
    raw = json.loads(line)
    event_type = raw.get("type")
    obj = raw.get("object")
    if event_type not in EVENT_TYPES or not isinstance(obj, dict):
        raise errors.TransportError(f"malformed watch event: {line[:200]!r}")
    if event_type == "ERROR":
        status = obj
        if status.get("code") == 410 or status.get("reason") in ("Expired", "Gone"):
            raise errors.ApiError.from_status(status)
    return WatchEvent(event_type, obj)


def iter_events(chunks: Iterable[bytes]) -> Iterator[WatchEvent]:
    """Events from a chunk iterator (no connection handling): the pure core of `Watch`."""
    splitter = LineSplitter()
    for chunk in chunks:
        for line in splitter.feed(chunk):
            yield decode_event(line)
    tail = splitter.finish()
    if tail.strip():
        yield decode_event(_complete_or_raise(tail))


def _complete_or_raise(tail: bytes) -> bytes:
    # A final line without its newline is only an event if it parses: a cut-off line never does,
    # because its outermost object cannot be closed before the cut.
    try:
        json.loads(tail)
    except ValueError:
        raise errors.TransportError(f"watch stream ended inside an event ({len(tail)} bytes)") from None
    return tail


class Watch:
    """An open watch: iterate for `WatchEvent`s; `close()` from any thread stops it.

    `response` is a urllib3 HTTPResponse opened with preload_content=False (or anything with
    `stream()`/`read1()`/`close()`); `chunks` may replace it in tests.
    """

    def __init__(
        self,
        response: Any = None,
        *,
        chunks: Iterable[bytes] | None = None,
        on_close: Callable[[], None] | None = None,
        read_size: int = 65536,
    ) -> None:
        self._response = response
        self._chunks = chunks
        self._on_close = on_close
        self._read_size = read_size
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._splitter = LineSplitter()
        self._iterating = False
        self.events = 0
        self.bytes_read = 0

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def pending_bytes(self) -> int:
        """Bytes of a partial line held when the stream stopped (non-zero after a mid-line cut)."""
        return self._splitter.pending

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[WatchEvent]:
        if self._iterating:
            raise RuntimeError("a Watch can be iterated once")
        self._iterating = True
        try:
            yield from self._events()
        finally:
            self.close()

    def _events(self) -> Iterator[WatchEvent]:
        splitter = self._splitter
        source = self._chunks if self._chunks is not None else self._read_chunks()
        try:
            for chunk in source:
                if self._closed.is_set():
                    return
                self.bytes_read += len(chunk)
                for line in splitter.feed(chunk):
                    event = decode_event(line)
                    self.events += 1
                    yield event
                    if self._closed.is_set():
                        return
        except errors.ApiError:
            raise
        except Exception as exc:  # urllib3 / ssl / socket errors while reading
            if self._closed.is_set():
                return
            raise errors.TransportError(f"watch stream broken: {exc}") from exc
        if self._closed.is_set():
            return
        pending = splitter.pending
        tail = splitter.finish()
        if tail.strip():
            self._splitter._pending = pending  # keep it visible to the caller after the failure
            event = decode_event(_complete_or_raise(tail))
            self._splitter._pending = 0
            self.events += 1
            yield event

    def _read_chunks(self) -> Iterator[bytes]:
        # read1 hands out whatever has arrived (the decrypted part of an HTTP chunk included), so a
        # large event is assembled as it streams in and a cut connection leaves a visible partial
        # line, rather than urllib3's per-chunk reader silently dropping the unfinished chunk.
        resp = self._response
        while True:
            data = resp.read1(self._read_size)
            if not data:
                return
            yield data

    def close(self) -> None:
        """Stops the watch; safe from any thread and more than once. A blocked read is woken by
        shutting the socket down, so the connection is never reused."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
        resp = self._response
        if resp is not None:
            sock = _socket_of(resp)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                resp.close()
        if self._on_close is not None:
            self._on_close()


def _socket_of(resp: Any) -> socket.socket | None:
    conn = getattr(resp, "connection", None) or getattr(resp, "_connection", None)
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    fp = getattr(resp, "_fp", None)
    raw = getattr(getattr(fp, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None
