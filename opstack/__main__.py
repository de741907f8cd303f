"""The manager process: `python -m opstack` runs one reconciler per CRD.

Flags carry the names Kubebuilder's scaffolded `cmd/main.go` uses, so that manifests and habits carry over;
each can also come from the environment (`OPSTACK_<FLAG>`, e.g. `OPSTACK_LEADER_ELECT=true`), and a flag
given on the command line wins over its variable.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from opstack import __version__

ENV_PREFIX = "OPSTACK_"


def _env(name: str, default: str) -> str:
    return os.environ.get(ENV_PREFIX + name.upper().replace("-", "_"), default)


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name, "true" if default else "false").strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise SystemExit(f"{ENV_PREFIX}{name.upper().replace('-', '_')}={value!r}: use true or false")
    return value in ("true", "1", "yes")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m opstack",
        description="opstack-operator: runs OptimismNetwork, OpNode, OpBatcher, OpProposer and OpChallenger "
        "reconcilers against the cluster of the current kubeconfig, or in-cluster.",
    )
    p.add_argument("--version", action="version", version=f"opstack-operator {__version__}")
    p.add_argument(
        "--kubeconfig",
        default=os.environ.get("KUBECONFIG"),
        help="Path to a kubeconfig; in-cluster configuration when unset and running in a Pod.",
    )
    p.add_argument(
        "--metrics-bind-address",
        default=_env("metrics-bind-address", ":8080"),
        help='Address the /metrics endpoint binds to ("0" disables it). Default :8080.',
    )
    p.add_argument(
        "--health-probe-bind-address",
        default=_env("health-probe-bind-address", ":8081"),
        help='Address of the /healthz and /readyz endpoints ("0" disables them). Default :8081.',
    )
    p.add_argument(
        "--leader-elect",
        action=argparse.BooleanOptionalAction,
        default=_env_bool("leader-elect", False),
        help="Elect a leader through a coordination.k8s.io Lease, so that only one replica reconciles.",
    )
    p.add_argument(
        "--leader-election-id",
        default=_env("leader-election-id", "opstack-operator.optimism.io"),
        help="Name of the Lease used for leader election.",
    )
    p.add_argument(
        "--leader-election-namespace",
        default=_env("leader-election-namespace", os.environ.get("POD_NAMESPACE", "")) or None,
        help="Namespace of the Lease; in a cluster the Pod's own (POD_NAMESPACE or the service account's).",
    )
    p.add_argument(
        "--namespace",
        dest="namespaces",
        action="append",
        default=None,
        help="Watch only this namespace (repeatable, or comma-separated). Default: all namespaces.",
    )
    p.add_argument(
        "--max-concurrent-reconciles",
        type=int,
        default=int(_env("max-concurrent-reconciles", "8")),
        help="Workers per controller. Default 8 (see bench/README.md).",
    )
    p.add_argument(
        "--graceful-shutdown-timeout",
        type=float,
        default=float(_env("graceful-shutdown-timeout", "30")),
        help="Seconds in-flight reconciles get to finish on SIGTERM. Default 30.",
    )
    p.add_argument(
        "--log-level",
        default=_env("log-level", "info"),
        choices=["debug", "info", "warning", "error"],
        help="Log level. Default info.",
    )
    p.add_argument(
        "--log-format",
        default=_env("log-format", "auto"),
        choices=["auto", "json", "console"],
        help="json in a cluster, readable console in a terminal (auto picks by where it runs).",
    )
    args = p.parse_args(argv)
    if args.namespaces is None and (env := _env("namespace", "")):
        args.namespaces = [env]
    if args.namespaces:
        args.namespaces = sorted({n.strip() for v in args.namespaces for n in v.split(",") if n.strip()})
    if args.max_concurrent_reconciles < 1:
        p.error("--max-concurrent-reconciles must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    # Imports after argument parsing, so that --help and --version answer without loading web3 & co.
    from opstack.controllers import setup_all
    from opstack.runtime import Client, Manager
    from opstack.runtime.logging import configure_logging

    configure_logging(args.log_level, args.log_format)
    client = Client.from_kubeconfig(args.kubeconfig) if args.kubeconfig else Client.auto()
    mgr = Manager(
        client,
        namespaces=args.namespaces,
        leader_election=args.leader_elect,
        leader_election_id=args.leader_election_id,
        leader_election_namespace=args.leader_election_namespace,
        metrics_bind_address=args.metrics_bind_address,
        health_probe_bind_address=args.health_probe_bind_address,
        graceful_shutdown_timeout=args.graceful_shutdown_timeout,
    )
    setup_all(mgr, max_concurrent_reconciles=args.max_concurrent_reconciles)
    return mgr.run()


if __name__ == "__main__":
    sys.exit(main())
