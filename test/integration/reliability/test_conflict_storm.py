"""A conflict storm: several writers update labels and annotations (and one the spec) of the same OpNodes
with optimistic concurrency while the operator writes their status: no writer's last update is lost, the
operator converges, and once the storm is over it goes quiet (no error loop)."""

from __future__ import annotations

import random
import threading
import time

import pytest
from _fixtures import OperatorFactory
from _reliability import (
    OPNODE,
    SCALE,
    convergence,
    create_all,
    devnet_network,
    opnode,
    report,
    scan_logs,
    wait_for,
    writes_by,
)

from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.testing.envtest import ControlPlane

pytestmark = pytest.mark.integration


def test_conflict_storm(
    control_plane: ControlPlane, admin: Client, operators: OperatorFactory, namespace: str, kubeconfig: str
) -> None:
    devnet_network(admin, namespace)
    names = [f"node-{i:02d}" for i in range(SCALE.storm_opnodes)]
    op = operators([namespace], name="storm")
    wait_for(op.ready, 60, "/readyz")
    create_all(admin, [opnode(n, namespace) for n in names])
    wait_for(lambda: convergence(admin, namespace, names).done, SCALE.converge_timeout, "initial convergence")

    stop = threading.Event()
    last: dict[tuple[int, str], int] = {}  # (writer, node) -> last value that writer got accepted
    conflicts = [0] * SCALE.storm_writers
    accepted = [0] * SCALE.storm_writers
    failures: list[BaseException] = []

    def writer(w: int) -> None:
        client = Client.from_kubeconfig(kubeconfig)
        rng = random.Random(w)
        counter = 0
        try:
            while not stop.is_set():
                name = rng.choice(names)
                counter += 1
                while True:  # read-modify-write with the resourceVersion, retried on conflict
                    obj = client.get(OPNODE, name, namespace)
                    meta = obj["metadata"]
                    meta.setdefault("labels", {})[f"writer-{w}"] = str(counter)
                    meta.setdefault("annotations", {})[f"storm.example.com/writer-{w}"] = f"v{counter}"
                    if w == 0:  # one writer also changes the spec, so that status keeps changing
                        obj["spec"].setdefault("opNode", {})["verifierL1Confs"] = counter % 50
                    try:
                        client.update(obj)
                        break
                    except errors.Conflict:
                        conflicts[w] += 1
                last[(w, name)] = counter
                accepted[w] += 1
        except BaseException as exc:
            failures.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(SCALE.storm_writers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    while time.monotonic() < started + SCALE.storm_seconds:
        assert op.alive(), op.tail()
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(30)
    assert failures == [], failures
    ended = time.monotonic()
    wait_for(
        lambda: convergence(admin, namespace, names).done,
        SCALE.converge_timeout,
        "convergence after the storm",
        explain=lambda: convergence(admin, namespace, names),
    )
    converge_s = time.monotonic() - ended

    # No lost update: each writer's last accepted label and annotation are there.
    objs = {o["metadata"]["name"]: o for o in admin.list_all(OPNODE, namespace)[0]}
    lost = [
        (w, n, v)
        for (w, n), v in last.items()
        if objs[n]["metadata"]["labels"].get(f"writer-{w}") != str(v)
        or objs[n]["metadata"]["annotations"].get(f"storm.example.com/writer-{w}") != f"v{v}"
    ]
    assert lost == [], f"updates lost: {lost[:10]}"

    # No error loop: with nothing changing, the operator's reconciles and errors stop growing.
    def totals() -> tuple[float, float]:
        return op.metric("controller_runtime_reconcile_total", controller="opnode"), op.metric(
            "controller_runtime_reconcile_errors_total", controller="opnode"
        )

    wait_for(lambda: op.metric("workqueue_depth", name="opnode") == 0, 30, "the opnode queue to drain")
    quiet_from = totals()
    time.sleep(5.0)  # the observation window of the "no error loop" check
    quiet_to = totals()
    assert quiet_to[1] == quiet_from[1], f"errors kept coming after the storm: {quiet_from} -> {quiet_to}"
    # Periodic node-RPC reads requeue each OpNode now and then; a hot loop would be far above this.
    assert quiet_to[0] - quiet_from[0] <= 2 * len(names), (
        f"reconciles kept coming: {quiet_from} -> {quiet_to}"
    )
    scan = scan_logs(op)
    assert scan.escaped == [], scan.escaped
    status_writes = [
        e for e in writes_by(control_plane, op.user, namespace=namespace) if e["objectRef"].get("subresource")
    ]
    report(
        "conflict storm",
        opnodes=len(names),
        writers=SCALE.storm_writers,
        seconds=SCALE.storm_seconds,
        writer_updates=sum(accepted),
        writer_conflicts=sum(conflicts),
        operator_status_writes=len(status_writes),
        operator_conflicts=sum(
            1 for e in status_writes if (e.get("responseStatus") or {}).get("code") == 409
        ),
        operator_reconcile_errors=scan.reconcile_errors,
        converge_after_storm_s=converge_s,
        reconciles_in_quiet_5s=quiet_to[0] - quiet_from[0],
        restarts=0,
    )
