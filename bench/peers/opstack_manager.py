"""opstack's real manager (`python -m opstack`), with one instrument: every OpNode reconcile start is logged
as "name generation stamp now" to $BENCH_LATENCY_LOG, as the other contenders log theirs (bench/README.md).

Run: BENCH_LATENCY_LOG=... python bench/peers/opstack_manager.py --kubeconfig ... [python -m opstack flags]
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

import opstack.controllers.opnode as opnode
from opstack.__main__ import main
from opstack.runtime import errors
from opstack.runtime.reconcile import Request, Result

STAMP = "bench.opstack.io/stamp"


def instrument(path: str) -> None:
    out = open(path, "a", buffering=1)  # noqa: SIM115 (lives as long as the process)
    lock = threading.Lock()
    original = opnode.OpNodeReconciler.reconcile

    def reconcile(self: Any, request: Request) -> Result:
        now = time.time()
        try:
            node = self.cache.get(opnode.OPNODE, request.name, request.namespace)
        except errors.NotFound:
            node = None
        if node is not None:
            meta = node["metadata"]
            stamp = (meta.get("annotations") or {}).get(STAMP, "-")
            with lock:
                out.write(f"{meta['name']} {meta.get('generation')} {stamp} {now:.6f}\n")
        return original(self, request)

    opnode.OpNodeReconciler.reconcile = reconcile  # type: ignore[method-assign]


if __name__ == "__main__":
    instrument(os.environ["BENCH_LATENCY_LOG"])
    sys.exit(main())
