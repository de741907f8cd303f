"""The API server SIGKILLed during the convergence of many OpNodes, and watches expiring under a 2 s etcd
compaction during a burst of changes: the operator (a real `python -m opstack` process) converges every
object, creates no child twice, never exits, and its /readyz recovers.

Both run on one control plane of this module: etcd compacts every 2 s and the API server has no watch
cache (so an old resourceVersion really is gone), and the Service range is a /16 (every OpNode has a
ClusterIP Service; the session plane's /24 holds 254).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from _reliability import (
    EVIDENCE,
    OPNODE,
    SCALE,
    STS,
    OperatorProcess,
    audit_sentinel,
    convergence,
    create_all,
    devnet_network,
    grant_operator,
    kubeconfig_via,
    opnode,
    report,
    scan_logs,
    successful_creates,
    wait_for,
    writes_by,
)

from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.testing.crds import install_crds
from opstack.testing.envtest import ControlPlane
from opstack.testing.faultproxy import FaultProxy

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def plane() -> Iterator[ControlPlane]:
    p = ControlPlane(
        controller_manager=False,
        scheduler=False,
        kwok=False,
        apiserver_args=[
            "--etcd-compaction-interval=2s",
            "--watch-cache=false",
            "--service-cluster-ip-range=10.0.0.0/16",
        ],
    )
    p.start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def client(plane: ControlPlane) -> Iterator[Client]:
    install_crds(str(plane.kubeconfig), [ROOT / "config" / "crd" / "bases"])
    c = Client.from_kubeconfig(str(plane.kubeconfig))
    yield c
    c.close()


def fresh_namespace(client: Client, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def test_apiserver_sigkill_during_convergence(plane: ControlPlane, client: Client, tmp_path: Path) -> None:
    ns = fresh_namespace(client, "kill")
    user = f"opstack-reliability-kill-{uuid.uuid4().hex[:5]}"
    op = OperatorProcess(grant_operator(plane, client, user), [ns], tmp_path, user=user)
    try:
        wait_for(op.ready, 60, "the operator's /readyz")
        devnet_network(client, ns)
        names = [f"node-{i:03d}" for i in range(SCALE.opnodes)]
        started = time.monotonic()
        create_all(client, [opnode(n, ns) for n in names])

        # Mid-convergence: a quarter of them done.
        wait_for(
            lambda: convergence(client, ns, names).converged >= len(names) // 4,
            SCALE.converge_timeout,
            "a quarter",
        )
        before_kill = convergence(client, ns, names).converged
        readiness: list[tuple[float, bool]] = []
        watching = threading.Event()

        def probe() -> None:
            while not watching.is_set():
                readiness.append((time.monotonic(), op.ready()))
                time.sleep(0.2)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        killed = time.monotonic()
        plane.kill_apiserver()
        outage_until = killed + 3.0  # the API server stays down this long (the fault, not a wait)
        while time.monotonic() < outage_until:
            assert op.alive(), f"the manager exited while the API server was down:\n{op.tail()}"
            time.sleep(0.1)
        plane.start_apiserver()
        restarted = time.monotonic()

        def done() -> bool:
            assert op.alive(), f"the manager exited:\n{op.tail()}"
            return convergence(client, ns, names).done

        wait_for(done, SCALE.converge_timeout, f"{len(names)} OpNodes to converge", every=1.0)
        converge_s = time.monotonic() - started
        wait_for(op.ready, 60, "/readyz to recover")
        watching.set()
        prober.join(5)
        not_ready = [t for t, ok in readiness if not ok]
        ready_again = next((t for t, ok in readiness if ok and t > restarted), time.monotonic())

        final = convergence(client, ns, names)
        assert final.duplicates == [] and final.missing_children == []
        audit_sentinel(plane, client, ns)
        creates = successful_creates(plane, user, ns)
        twice = {k: n for k, n in creates.items() if n > 1}
        assert twice == {}, f"children created more than once: {twice}"
        # (every Secret exists, by `convergence`; a create in flight at the SIGKILL may miss the audit log)
        secrets = [k for k in creates if k.startswith("secrets/")]
        writes = writes_by(plane, user, namespace=ns)
        assert op.alive()
        # A restarted API server answers 403 until its RBAC authorizer has synced (after /readyz is ok):
        # expected, retried with backoff, and counted.
        scan = scan_logs(op, allow=("Forbidden",))
        assert scan.escaped == [], scan.escaped
        forbidden = sum(1 for line in op.lines() if "403 Forbidden" in str(line.get("event", "")))
        report(
            "apiserver SIGKILL",
            opnodes=len(names),
            converged_before_kill=before_kill,
            outage_s=restarted - killed,
            converge_s=converge_s,
            after_restart_s=time.monotonic() - restarted,
            readyz_503_samples=len(not_ready),
            readyz_back_after_restart_s=max(0.0, ready_again - restarted),
            writes=len(writes),
            secret_creates_audited=len(secrets),
            writes_per_opnode=len(writes) / len(names),
            reconcile_errors=scan.reconcile_errors,
            forbidden_after_restart=forbidden,
            restarts=0,
        )
        kinds = Counter(
            f"{w['verb']} {(w.get('objectRef') or {}).get('resource')}"
            f"{'/' + w['objectRef']['subresource'] if (w.get('objectRef') or {}).get('subresource') else ''}"
            f" {(w.get('responseStatus') or {}).get('code')}"
            for w in writes
        )
        print("writes by verb, resource, answer: " + ", ".join(f"{k}={n}" for k, n in sorted(kinds.items())))
        EVIDENCE.snapshot(client, ns)
    finally:
        assert op.stop() == 0, f"the manager did not exit cleanly:\n{op.tail()}"


def compacted_past(client: Client, namespace: str, rv: str) -> bool:
    try:
        with client.watch(OPNODE, namespace, resource_version=rv, timeout_seconds=1) as watch:
            for _ in watch:
                pass
    except errors.Gone:
        return True
    return False


def test_watch_expiry_during_a_burst(plane: ControlPlane, client: Client, tmp_path: Path) -> None:
    ns = fresh_namespace(client, "expiry")
    user = f"opstack-reliability-expiry-{uuid.uuid4().hex[:5]}"
    kubeconfig = grant_operator(plane, client, user)
    base = max(10, SCALE.burst // 5)
    names = [f"node-{i:03d}" for i in range(base)]
    with FaultProxy(plane.server, seed=11) as proxy:
        op = OperatorProcess(kubeconfig_via(kubeconfig, proxy.url), [ns], tmp_path, user=user)
        try:
            wait_for(op.ready, 60, "the operator's /readyz")
            devnet_network(client, ns)
            create_all(client, [opnode(n, ns) for n in names])
            wait_for(lambda: convergence(client, ns, names).done, SCALE.converge_timeout, "the first OpNodes")
            last_seen = client.list(OPNODE, ns)["metadata"]["resourceVersion"]

            proxy.pause()  # the operator hears nothing from here on
            burst_started = time.monotonic()
            new = [f"late-{i:03d}" for i in range(SCALE.burst // 5)]
            deleted = names[: base // 5]
            kept = names[base // 5 :]
            create_all(client, [opnode(n, ns) for n in new])
            changes = 0
            for round_ in range(1, 4):  # each kept node changes three times; the last value must win
                for n in kept:
                    client.patch(OPNODE, n, {"spec": {"opNode": {"verifierL1Confs": round_}}}, ns)
                    changes += 1
            gone = [client.get(OPNODE, n, ns)["metadata"]["uid"] for n in deleted]
            for n in deleted:
                client.delete(OPNODE, n, ns)
            changes += len(new) + len(deleted)
            wait_for(lambda: compacted_past(client, ns, last_seen), 60, "etcd to compact past the operator")
            proxy.reset_all()
            proxy.resume()
            resumed = time.monotonic()

            survivors = kept + new
            wait_for(
                lambda: convergence(client, ns, survivors, gone).done,
                SCALE.converge_timeout,
                "convergence after expiry",
                explain=lambda: (convergence(client, ns, survivors, gone), op.tail(5)),
            )
            converge_s = time.monotonic() - resumed
            for n in kept:
                args = client.get(STS, n, ns)["spec"]["template"]["spec"]["containers"]
                op_node = next(c for c in args if c["name"] == "op-node")
                assert "--verifier.l1-confs=3" in op_node["args"], f"{n} missed the last change"
            expired = sum(1 for line in op.lines() if "watch expired" in str(line.get("event")))
            assert expired >= 1, "the fault was not inflicted: no watch expired"
            assert op.alive()
            scan = scan_logs(op)
            assert scan.escaped == [], scan.escaped
            report(
                "watch expiry",
                changes=changes,
                burst_s=resumed - burst_started,
                watches_expired=expired,
                converge_after_resume_s=converge_s,
                writes=len(writes_by(plane, user, namespace=ns)),
                reconcile_errors=scan.reconcile_errors,
                restarts=0,
            )
            EVIDENCE.snapshot(client, ns)
        finally:
            proxy.resume()
            assert op.stop() == 0, f"the manager did not exit cleanly:\n{op.tail()}"
