"""Summarize a py-spy profile in raw (collapsed stacks) format, as `bench_opnode.py --profile DIR` writes:
where the on-CPU samples of the process went, by layer (innermost matching frame wins) and by thread.

Run: python bench/profile_summary.py DIR/opstack-300-0.txt
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# (layer, a substring of the frame "function (path:line)"); checked from the innermost frame outwards.
LAYERS = (
    ("json decode", "json/decoder.py"),
    ("json encode", "json/encoder.py"),
    ("TLS / socket", "ssl.py"),
    ("TLS / socket", "socket.py"),
    ("http.client", "http/client.py"),
    ("urllib3", "urllib3/"),
    ("logging (structlog)", "structlog/"),
    ("logging (stdlib)", "logging/"),
    ("pydantic", "pydantic"),
    ("builders (resources/components)", "opstack/resources/"),
    ("builders (resources/components)", "opstack/components/"),
    ("key generation", "cryptography/"),
    ("key generation", "coincurve"),
    ("frozen views (runtime/frozen.py)", "opstack/runtime/frozen.py"),
    ("informer / watch (runtime)", "opstack/runtime/informer.py"),
    ("informer / watch (runtime)", "opstack/runtime/watch.py"),
    ("cache (runtime)", "opstack/runtime/cache.py"),
    ("work queue / controller (runtime)", "opstack/runtime/workqueue.py"),
    ("work queue / controller (runtime)", "opstack/runtime/controller.py"),
    ("client (runtime)", "opstack/runtime/client.py"),
    ("events (runtime)", "opstack/runtime/events.py"),
    ("OpNode controller", "opstack/controllers/opnode.py"),
    ("network controller", "opstack/controllers/optimismnetwork.py"),
    ("controllers (other)", "opstack/controllers/"),
    ("kopf", "kopf/"),
    ("aiohttp", "aiohttp/"),
    ("asyncio", "asyncio/"),
    ("threading", "threading.py"),
)


def layer_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, marker in LAYERS:
            if marker in frame:
                return name
    return "other"


def main(argv: list[str]) -> int:
    layers: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in Path(argv[1]).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        n = int(count)
        total += n
        layers[layer_of(frames[1:])] += n
        thread = frames[0]
        # "thread (0x7f..)" -> group threads by the outermost function they run
        threads[frames[2] if len(frames) > 2 and frames[0].startswith("thread") else thread] += n
    print(f"{total} on-CPU samples")
    for name, n in layers.most_common():
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("by thread entry point:")
    for name, n in threads.most_common(8):
        print(f"  {100 * n / total:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
