"""The watch stream parser: chunk boundaries anywhere, partial lines, large objects, ERROR events."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opstack.runtime import errors
from opstack.runtime.watch import LineSplitter, Watch, WatchEvent, decode_event, iter_events


def event_line(event_type: str, name: str, rv: int, payload: str = "") -> bytes:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "ns", "resourceVersion": str(rv)},
        "data": {"payload": payload},
    }
    return json.dumps({"type": event_type, "object": obj}).encode() + b"\n"


def stream(n: int = 5, payload: str = "x") -> bytes:
    kinds = ["ADDED", "MODIFIED", "DELETED"]
    return b"".join(event_line(kinds[i % 3], f"cm-{i}", 100 + i, payload) for i in range(n))


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    out, prev = [], 0
    for p in points:
        out.append(data[prev:p])
        prev = p
    out.append(data[prev:])
    return out


def names(events: list[WatchEvent]) -> list[tuple[str, str, str]]:
    return [(e.type, e.object["metadata"]["name"], e.object["metadata"]["resourceVersion"]) for e in events]


def test_every_single_split_point_gives_the_same_events() -> None:
    data = stream(4)
    whole = names(list(iter_events([data])))
    assert len(whole) == 4
    for cut in range(1, len(data)):
        assert names(list(iter_events([data[:cut], data[cut:]]))) == whole, cut


def test_byte_by_byte_and_empty_chunks() -> None:
    data = stream(3)
    chunks = [data[i : i + 1] for i in range(len(data))]
    chunks.insert(5, b"")
    assert names(list(iter_events(chunks))) == names(list(iter_events([data])))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=2000), max_size=30))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    data = stream(6, payload="y" * 50)
    assert names(list(iter_events(chunked(data, cuts)))) == names(list(iter_events([data])))


def test_line_splitter_holds_partial_line_and_counts_it() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'{"a":') == []
    assert splitter.pending == 5
    assert splitter.feed(b"1}\n{") == [b'{"a":1}']
    assert splitter.pending == 1
    assert splitter.feed(b'"b":2}\n\n') == [b'{"b":2}']
    assert splitter.pending == 0
    assert splitter.finish() == b""


def test_large_object_split_in_many_chunks() -> None:
    big = "z" * (3 * 1024 * 1024)  # 3 MiB, the API server's request limit
    data = event_line("ADDED", "big", 7, big) + event_line("MODIFIED", "small", 8)
    chunks = [data[i : i + 16384] for i in range(0, len(data), 16384)]
    events = list(iter_events(chunks))
    assert [e.type for e in events] == ["ADDED", "MODIFIED"]
    assert len(events[0].object["data"]["payload"]) == len(big)


def test_large_object_is_assembled_in_linear_time() -> None:
    # A quadratic re-scan of the pending buffer would take minutes on 8 MiB in 1 KiB chunks.
    import time

    data = event_line("ADDED", "big", 7, "q" * (8 * 1024 * 1024))
    chunks = [data[i : i + 1024] for i in range(0, len(data), 1024)]
    started = time.perf_counter()
    events = list(iter_events(chunks))
    assert len(events) == 1
    assert time.perf_counter() - started < 5.0


def test_many_events_in_one_chunk() -> None:
    data = stream(500)
    assert len(list(iter_events([data]))) == 500


def test_expired_error_event_raises_gone() -> None:
    status = {"kind": "Status", "status": "Failure", "code": 410, "reason": "Expired", "message": "too old"}
    data = event_line("ADDED", "a", 1) + json.dumps({"type": "ERROR", "object": status}).encode() + b"\n"
    events = iter_events([data])
    assert next(events).type == "ADDED"
    with pytest.raises(errors.Gone) as info:
        next(events)
    assert info.value.status == 410 and "too old" in info.value.message


def test_other_error_event_is_handed_out() -> None:
    status = {"kind": "Status", "code": 500, "reason": "InternalError", "message": "boom"}
    event = decode_event(json.dumps({"type": "ERROR", "object": status}).encode())
    assert event.type == "ERROR" and event.object["code"] == 500


def test_bookmark_event() -> None:
    line = json.dumps(
        {"type": "BOOKMARK", "object": {"kind": "ConfigMap", "metadata": {"resourceVersion": "9"}}}
    )
    assert decode_event(line.encode()).type == "BOOKMARK"


def test_final_line_without_newline_is_an_event_if_complete() -> None:
    data = stream(2).rstrip(b"\n")
    assert len(list(iter_events([data]))) == 2


def test_cut_off_final_line_is_a_transport_error() -> None:
    data = stream(2)
    truncated = data[: len(data) - 10]
    events = iter_events([truncated])
    assert next(events).type == "ADDED"
    with pytest.raises(errors.TransportError):
        next(events)


def test_malformed_event_is_rejected() -> None:
    with pytest.raises(errors.TransportError):
        decode_event(b'{"type":"WHAT","object":{}}')


def test_watch_reports_pending_bytes_after_a_mid_line_break() -> None:
    data = stream(3)
    cut = len(data) - 20

    def chunks() -> Iterator[bytes]:
        yield data[:cut]
        raise ConnectionResetError("reset by peer")

    watch = Watch(chunks=chunks())
    got = []
    with pytest.raises(errors.TransportError):
        for event in watch:
            got.append(event)
    assert len(got) == 2
    assert watch.pending_bytes > 0


def test_close_from_another_thread_ends_iteration_quietly() -> None:
    release = threading.Event()

    def chunks() -> Iterator[bytes]:
        yield event_line("ADDED", "a", 1)
        release.wait(5)
        raise OSError("socket shut down")  # what a shut-down socket looks like to the reader

    watch = Watch(chunks=chunks())
    seen: list[WatchEvent] = []

    def consume() -> None:
        seen.extend(watch)

    t = threading.Thread(target=consume)
    t.start()
    watch.close()
    release.set()
    t.join(5)
    assert not t.is_alive()
    assert watch.closed
    assert len(seen) <= 1
