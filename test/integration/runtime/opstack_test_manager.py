"""A small manager process for the multi-process tests: `python -m opstack_test_manager --help`.

It reconciles the ConfigMaps of one namespace with a reconciler that touches nothing: it prints a JSON
line to stdout when a reconcile starts and ends (so the test sees who reconciles, when), optionally takes
`--reconcile-seconds` and asks to be requeued after `--requeue-after`. Lifecycle lines: "servers",
"elected", "exit". Logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

from opstack import runtime as rt

CM = rt.GVK("", "v1", "ConfigMap")
_out_lock = threading.Lock()


def emit(event: str, **fields: Any) -> None:
    with _out_lock:
        sys.stdout.write(json.dumps({"event": event, "t": time.time(), **fields}) + "\n")
        sys.stdout.flush()


class PrintingReconciler:
    def __init__(self, identity: str, seconds: float, requeue_after: float) -> None:
        self.identity = identity
        self.seconds = seconds
        self.requeue_after = requeue_after

    def reconcile(self, request: rt.Request) -> rt.Result:
        emit("reconcile_start", name=request.name, identity=self.identity)
        if self.seconds:
            time.sleep(self.seconds)
        emit("reconcile_end", name=request.name, identity=self.identity)
        return rt.Result(requeue_after=self.requeue_after)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--namespace", required=True)
    p.add_argument("--identity", required=True)
    p.add_argument("--lease-name", default="")
    p.add_argument("--lease-duration", type=float, default=15)
    p.add_argument("--renew-deadline", type=float, default=10)
    p.add_argument("--retry-period", type=float, default=2)
    p.add_argument("--grace", type=float, default=30)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--reconcile-seconds", type=float, default=0)
    p.add_argument("--requeue-after", type=float, default=0)
    p.add_argument("--log-level", default="info")
    args = p.parse_args()

    rt.configure_logging(args.log_level, "json")
    mgr = rt.Manager(
        rt.Client.from_kubeconfig(args.kubeconfig),
        namespaces=[args.namespace],
        leader_election=bool(args.lease_name),
        leader_election_id=args.lease_name,
        leader_election_namespace=args.namespace,
        lease_duration=args.lease_duration,
        renew_deadline=args.renew_deadline,
        retry_period=args.retry_period,
        identity=args.identity,
        metrics_bind_address="127.0.0.1:0",
        health_probe_bind_address="127.0.0.1:0",
        graceful_shutdown_timeout=args.grace,
    )
    rt.ControllerBuilder(mgr).named("printer").for_(CM).with_options(
        max_concurrent_reconciles=args.workers
    ).complete(PrintingReconciler(args.identity, args.reconcile_seconds, args.requeue_after))

    def announce() -> None:
        while mgr.health_probe_address is None or mgr.metrics_address is None:
            time.sleep(0.01)
        emit("servers", health_port=mgr.health_probe_address[1], metrics_port=mgr.metrics_address[1])
        mgr.elected.wait()
        emit("elected", identity=args.identity)

    threading.Thread(target=announce, daemon=True).start()
    code = mgr.run()
    emit("exit", code=code)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
