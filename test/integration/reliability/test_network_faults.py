"""A fault proxy between the operator and the API server resets its connections at random byte offsets
(inside TLS records, hence inside JSON lines of watch streams and responses) while OpNodes are created and
changed: everything converges, nothing is created twice, the manager never exits."""

from __future__ import annotations

import time

import pytest
from _fixtures import OperatorFactory
from _reliability import (
    OPNODE,
    SCALE,
    STS,
    audit_sentinel,
    convergence,
    create_all,
    devnet_network,
    opnode,
    report,
    scan_logs,
    successful_creates,
    wait_for,
    writes_by,
)

from opstack.runtime.client import Client
from opstack.testing.envtest import ControlPlane
from opstack.testing.faultproxy import FaultProxy

pytestmark = pytest.mark.integration


def test_random_connection_resets(
    control_plane: ControlPlane, admin: Client, operators: OperatorFactory, namespace: str
) -> None:
    devnet_network(admin, namespace)
    with FaultProxy(control_plane.server, seed=7, reset_after=(2_000, 60_000)) as proxy:
        op = operators([namespace], name="resets", server=proxy.url)
        wait_for(op.ready, 90, "/readyz through the fault proxy")

        names = [f"node-{i:03d}" for i in range(SCALE.fault_opnodes)]
        started = time.monotonic()
        window_end = started + SCALE.fault_seconds
        batches = [names[i::4] for i in range(4)]
        changed = 0
        for i, batch in enumerate(batches):  # created over the first half of the window
            create_all(admin, [opnode(n, namespace) for n in batch])
            while time.monotonic() < started + (i + 1) * SCALE.fault_seconds / 8:
                assert op.alive(), op.tail()
                time.sleep(0.2)
        for n in names[::2]:  # and half of them changed once
            admin.patch(OPNODE, n, {"spec": {"opNode": {"verifierL1Confs": 7}}}, namespace)
            changed += 1
        converged_in_window = False
        while time.monotonic() < window_end:
            assert op.alive(), f"the manager exited under connection resets:\n{op.tail()}"
            converged_in_window = converged_in_window or convergence(admin, namespace, names).done
            time.sleep(1.0)
        resets = proxy.stats.resets
        connections = proxy.stats.connections
        proxy.set_faults(None)
        proxy.reset_all()
        calm = time.monotonic()
        wait_for(
            lambda: convergence(admin, namespace, names).done,
            SCALE.converge_timeout,
            "convergence after the faults",
            explain=lambda: convergence(admin, namespace, names),
        )
        after_s = time.monotonic() - calm
        for n in names[::2]:
            sts = admin.get(STS, n, namespace)
            op_node = next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "op-node")
            assert "--verifier.l1-confs=7" in op_node["args"]
        audit_sentinel(control_plane, admin, namespace)
        creates = successful_creates(control_plane, op.user, namespace)
        assert {k: v for k, v in creates.items() if v > 1} == {}
        assert op.alive()
        scan = scan_logs(op)
        assert scan.escaped == [], scan.escaped
        report(
            "connection resets",
            seconds=SCALE.fault_seconds,
            opnodes=len(names),
            changes=changed,
            connections=connections,
            resets=resets,
            converged_during_faults=converged_in_window,
            converge_after_faults_s=after_s,
            total_s=time.monotonic() - started,
            writes=len(writes_by(control_plane, op.user, namespace=namespace)),
            reconcile_errors=scan.reconcile_errors,
            restarts=0,
        )
