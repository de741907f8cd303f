"""Bad input from hypothesis: OpNode and OptimismNetwork specs, valid and invalid (wrong types, values out of
range, unknown enums, odd strings where URLs, names and addresses go). Each is either refused by the API
server with a message naming a field, or accepted and reconciled to a status with conditions; no exception
escapes a reconciler, and the operator keeps serving a well-formed OpNode created last.

The examples are drawn from a seed: `OPSTACK_BAD_INPUT_SEED=<n>` replays a run, otherwise a random one is
chosen; the seed is printed and named in every assertion message."""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

import pytest
from _fixtures import OperatorFactory
from _reliability import (
    NETWORK,
    OPNODE,
    SCALE,
    OperatorProcess,
    convergence,
    devnet_network,
    opnode,
    report,
    scan_logs,
    wait_for,
)
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from opstack.runtime import errors
from opstack.runtime.client import Client

pytestmark = pytest.mark.integration

SEED_ENV = "OPSTACK_BAD_INPUT_SEED"


def bad_input_seed() -> int:
    """The seed of this run: `OPSTACK_BAD_INPUT_SEED` when set, else a fresh random one."""
    value = os.environ.get(SEED_ENV, "").strip()
    return int(value) if value else random.SystemRandom().randrange(2**32)


ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.text(max_size=40),
    st.sampled_from(
        ["", "0x", "0x" + "zz" * 20, "http://", "not a url", "-1", "9" * 30, "Ünïcödé", "a" * 300]
    ),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)

OPNODE_FIELDS: dict[tuple[str, ...], st.SearchStrategy[Any]] = {
    ("nodeType",): st.one_of(st.sampled_from(["sequencer", "replica", "archive", "Sequencer"]), ODD),
    ("replicas",): st.one_of(st.integers(-3, 5), ODD),
    ("optimismNetworkRef", "name"): st.one_of(st.sampled_from(["devnet", "missing", "UPPER", ""]), ODD),
    ("sequencerRef", "name"): st.one_of(st.sampled_from(["node-0", "nope"]), ODD),
    ("opNode", "verifierL1Confs"): st.one_of(st.integers(-5, 2000), ODD),
    ("opNode", "syncMode"): st.one_of(st.sampled_from(["consensus-layer", "execution-layer", "snap"]), ODD),
    ("opNode", "p2p", "enabled"): st.one_of(st.booleans(), ODD),
    ("opNode", "p2p", "listenPort"): st.one_of(st.integers(-1, 70000), ODD),
    ("opNode", "p2p", "privateKey", "secretRef", "name"): st.one_of(st.just("absent-secret"), ODD),
    ("opNode", "sequencer", "l1Confs"): st.one_of(st.integers(-1, 2000), ODD),
    ("opGeth", "syncMode"): st.one_of(st.sampled_from(["snap", "full", "fast"]), ODD),
    ("opGeth", "cache"): st.one_of(st.integers(-1, 2_000_000), ODD),
    ("opGeth", "dataDir"): st.one_of(st.sampled_from(["/data", "relative", "/a b"]), ODD),
    ("opGeth", "storage", "size"): st.one_of(st.sampled_from(["20Gi", "lots", "-1Gi"]), ODD),
    ("opGeth", "networking", "http", "corsDomains"): st.one_of(
        st.lists(st.text(max_size=10), max_size=3), ODD
    ),
}
NETWORK_FIELDS: dict[tuple[str, ...], st.SearchStrategy[Any]] = {
    ("chainID",): st.one_of(st.integers(-1, 2**64), ODD),
    ("l1ChainID",): st.one_of(st.integers(-1, 2**64), ODD),
    ("l1RpcUrl",): st.one_of(st.sampled_from(["http://l1.example:8545", "ftp://x", "wss://a"]), ODD),
    ("l1RpcTimeout",): st.one_of(st.sampled_from(["5s", "1h", "-1s", "forever"]), ODD),
    ("networkName",): st.one_of(st.sampled_from(["devnet", "op-sepolia", "op-mainnet"]), ODD),
    ("contractAddresses", "discoveryMethod"): st.one_of(
        st.sampled_from(["system-config", "manual", "x"]), ODD
    ),
    ("contractAddresses", "systemConfigAddr"): st.one_of(st.just("0x" + "11" * 20), ODD),
    ("rollupConfig", "configMapRef", "name"): st.one_of(st.just("devnet-rollup"), ODD),
    ("sharedConfig", "logging", "level"): st.one_of(st.sampled_from(["debug", "info", "loud"]), ODD),
}


def _set(spec: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        if not isinstance(spec.get(key), dict):
            spec[key] = {}
        spec = spec[key]
    spec[path[-1]] = value


def mutated(fields: dict[tuple[str, ...], st.SearchStrategy[Any]]) -> st.SearchStrategy[list[Any]]:
    """A few (path, value) mutations of a valid spec; an empty list leaves the spec valid."""
    return st.lists(
        st.sampled_from(list(fields)).flatmap(lambda p: st.tuples(st.just(p), fields[p])), max_size=3
    )


def generated(count: int, seed_: int) -> list[tuple[str, list[Any]]]:
    """`count` examples drawn by hypothesis from `seed_`: (kind, mutations), OpNodes and OptimismNetworks
    alike; the same seed draws the same examples."""
    drawn: list[tuple[str, list[Any]]] = []

    @seed(seed_)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.one_of(
            st.tuples(st.just("OpNode"), mutated(OPNODE_FIELDS)),
            st.tuples(st.just("OptimismNetwork"), mutated(NETWORK_FIELDS)),
        )
    )
    def draw(example: tuple[str, list[Any]]) -> None:
        drawn.append(example)

    draw()
    return drawn


def _raised_at(frames: list[dict[str, Any]]) -> str:
    """The innermost frame of operator code outside the runtime (where a reconciler let it through)."""
    ours = [
        f
        for f in frames
        if "/opstack/" in str(f.get("filename")) and "/runtime/" not in str(f.get("filename"))
    ]
    f = (ours or frames or [{}])[-1]
    return f"{f.get('filename')}:{f.get('lineno')} {f.get('name')}"


def operator_lines_about(op: OperatorProcess, namespace: str, name: str, n: int = 8) -> list[str]:
    """The operator's last `n` log lines about `namespace/name` (in the reconcile's context or naming it)."""
    about = []
    for line in op.lines():
        if line.get("namespace") == namespace and name in (
            line.get("name"),
            line.get("opnode"),
            line.get("network"),
        ):
            keep = {k: v for k, v in line.items() if k not in ("reconcile_id", "logger")}
            exc = keep.get("exception")
            if isinstance(exc, str):  # a formatted traceback: its last lines say what was raised where
                keep["exception"] = exc.strip().splitlines()[-3:]
            elif isinstance(exc, list):  # structured (JSON logs): type, value and where it left our code
                keep["exception"] = [
                    {
                        "type": e.get("exc_type"),
                        "value": e.get("exc_value"),
                        "at": _raised_at(e.get("frames") or []),
                    }
                    for e in exc
                    if isinstance(e, dict)
                ]
            about.append(json.dumps(keep, default=str)[:1500])
    return about[-n:]


def test_generated_specs(admin: Client, operators: OperatorFactory, namespace: str) -> None:
    seed_ = bad_input_seed()
    print(f"\n[bad input] {SEED_ENV}={seed_}", flush=True)
    devnet_network(admin, namespace)
    op = operators([namespace], name="badinput")
    wait_for(op.ready, 60, "/readyz")
    examples = generated(SCALE.bad_specs, seed_)
    refused: list[str] = []
    unnamed: list[str] = []
    accepted: dict[str, Any] = {}
    started = time.monotonic()
    for i, (kind, mutations) in enumerate(examples):
        if kind == "OpNode":
            obj = opnode(f"gen-{i:04d}", namespace)
        else:
            obj = {
                "apiVersion": NETWORK.api_version,
                "kind": "OptimismNetwork",
                "metadata": {"name": f"gen-{i:04d}", "namespace": namespace},
                "spec": {
                    "networkName": "devnet",
                    "chainID": 901,
                    "l1ChainID": 900,
                    "l1RpcUrl": "http://l1.example:8545",
                },
            }
        for path, value in mutations:
            _set(obj["spec"], path, value)
        try:
            admin.create(obj)
            accepted[obj["metadata"]["name"]] = NETWORK if kind == "OptimismNetwork" else OPNODE
        except (errors.Invalid, errors.BadRequest) as exc:
            refused.append(exc.message)
            if "spec" not in exc.message and not exc.causes:
                unnamed.append(exc.message[:200])
    assert unnamed == [], f"{SEED_ENV}={seed_}: refusals that name no field: {unnamed[:5]}"

    def reconciled() -> list[str]:
        pending = []
        for gvk in (OPNODE, NETWORK):
            for o in admin.list_all(gvk, namespace)[0]:
                name = o["metadata"]["name"]
                if name not in accepted:
                    continue
                status = o.get("status") or {}
                if (
                    not status.get("conditions")
                    or status.get("observedGeneration") != o["metadata"]["generation"]
                ):
                    pending.append(name)
        return pending

    def unreconciled() -> str:
        """The objects still without conditions: their spec, status and what the operator said of them."""
        pending = reconciled()
        parts = [f"{SEED_ENV}={seed_}: {pending}"]
        for name in pending[:5]:
            obj = admin.get(accepted[name], name, namespace)
            parts.append(
                f"--- {obj['kind']} {name}\nspec: {json.dumps(obj.get('spec'))}\n"
                f"status: {json.dumps(obj.get('status'))}\noperator log:\n  "
                + "\n  ".join(operator_lines_about(op, namespace, name) or ["(nothing)"])
            )
        return "\n".join(parts)

    wait_for(
        lambda: not reconciled(),
        SCALE.converge_timeout,
        "every accepted object to get conditions",
        explain=unreconciled,
    )
    reconcile_s = time.monotonic() - started
    admin.create(opnode("canary", namespace))
    wait_for(lambda: convergence(admin, namespace, ["canary"]).done, 60, "the canary OpNode to converge")
    assert op.alive(), f"{SEED_ENV}={seed_}: the operator exited:\n{op.tail()}"
    scan = scan_logs(op)
    assert scan.escaped == [], f"{SEED_ENV}={seed_}: {scan.escaped}"
    assert scan.tracebacks_outside_reconcile == [], (
        f"{SEED_ENV}={seed_}: {scan.tracebacks_outside_reconcile[:5]}"
    )
    panics = op.metric("controller_runtime_reconcile_panics_total")
    assert panics == 0, f"{SEED_ENV}={seed_}: {panics} reconcile panics"
    report(
        "bad input",
        seed=seed_,
        examples=len(examples),
        refused=len(refused),
        accepted=len(accepted),
        all_conditioned_s=reconcile_s,
        reconcile_errors=scan.reconcile_errors,
        panics=panics,
        restarts=0,
    )
