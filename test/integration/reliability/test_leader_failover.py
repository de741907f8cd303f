"""Leader failover between real `python -m opstack --leader-elect` processes (default terms: 15 s lease,
10 s renew deadline, 2 s retry), each its own user so that the audit log tells their writes apart:

1. SIGKILL of the leader mid-convergence: the standby takes over within lease + retry and finishes the work;
   no child is created twice.
2. SIGSTOP of the leader for longer than the lease: another takes over; when the stopped one resumes, it
   makes no write (Events and its own Lease aside) before it learns it lost the lease, and then exits.
3. SIGTERM of the leader: it releases the lease and the standby leads in under 3 s.
"""

from __future__ import annotations

import signal
import time
import uuid

import pytest
from _fixtures import OperatorFactory
from _reliability import (
    OPNODE,
    SCALE,
    OperatorProcess,
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

pytestmark = pytest.mark.integration

LEASE_S, RETRY_S = 15.0, 2.0


def leader_among(*ops: OperatorProcess) -> OperatorProcess | None:
    leaders = [op for op in ops if op.alive() and op.is_leader()]
    assert len(leaders) <= 1, f"two leaders: {[op.user for op in leaders]}"
    return leaders[0] if leaders else None


def test_leader_failover(
    control_plane: ControlPlane, admin: Client, operators: OperatorFactory, namespace: str
) -> None:
    lease = f"reliability-{uuid.uuid4().hex[:6]}"
    devnet_network(admin, namespace)
    a = operators([namespace], name="a", leader_election_id=lease)
    wait_for(a.is_leader, 60, "a to lead")
    b = operators([namespace], name="b", leader_election_id=lease)
    wait_for(b.ready, 60, "b to be ready (campaigning)")
    assert leader_among(a, b) is a

    # 1. SIGKILL mid-convergence.
    names = [f"node-{i:03d}" for i in range(SCALE.failover_opnodes)]
    started = time.monotonic()
    create_all(admin, [opnode(n, namespace) for n in names])
    wait_for(lambda: convergence(admin, namespace, names).converged >= 1, 60, "the first OpNode")
    done_at_kill = convergence(admin, namespace, names).converged
    killed = a.signal(signal.SIGKILL)
    wait_for(b.is_leader, LEASE_S + 15, "b to take over", every=0.1)
    takeover_kill = time.time() - killed
    wait_for(
        lambda: convergence(admin, namespace, names).done,
        SCALE.converge_timeout,
        "convergence after the failover",
        explain=lambda: convergence(admin, namespace, names),
    )
    converge_s = time.monotonic() - started
    audit_sentinel(control_plane, admin, namespace)
    creates_a = successful_creates(control_plane, a.user, namespace)
    creates_b = successful_creates(control_plane, b.user, namespace)
    both = set(creates_a) & set(creates_b)
    assert both == set(), f"created by both leaders: {sorted(both)[:10]}"
    assert takeover_kill <= LEASE_S + RETRY_S + 2.0  # + one request and the metrics poll

    # 2. SIGSTOP longer than the lease; changes arrive while it is stopped.
    c = operators([namespace], name="c", leader_election_id=lease)
    wait_for(c.ready, 60, "c to be ready (campaigning)")
    stopped = b.signal(signal.SIGSTOP)
    changed = names[: max(3, len(names) // 5)]
    for n in changed:
        admin.patch(OPNODE, n, {"spec": {"opNode": {"verifierL1Confs": 9}}}, namespace)
    wait_for(c.is_leader, LEASE_S + 15, "c to take over from the stopped leader", every=0.1)
    takeover_stop = time.time() - stopped
    time.sleep(max(0.0, stopped + LEASE_S + 5.0 - time.time()))  # stopped for longer than the lease
    resumed = b.signal(signal.SIGCONT)
    code = b.wait_exit(30)
    b_exit = time.time() - resumed
    wait_for(
        lambda: (
            convergence(admin, namespace, names).done
            and all(admin.get(OPNODE, n, namespace)["status"]["observedGeneration"] == 2 for n in changed)
        ),
        SCALE.converge_timeout,
        "c to reconcile the changes",
    )
    audit_sentinel(control_plane, admin, namespace)
    late = writes_by(control_plane, b.user, since=stopped)
    assert late == [], [f"{e['verb']} {e['objectRef']}" for e in late]

    # 3. SIGTERM hand-over.
    d = operators([namespace], name="d", leader_election_id=lease)
    wait_for(d.ready, 60, "d to be ready (campaigning)")
    termed = c.signal(signal.SIGTERM)
    wait_for(d.is_leader, 10, "d to take over", every=0.05)
    takeover_term = time.time() - termed
    assert c.wait_exit(30) == 0
    assert takeover_term < 3.0
    admin.patch(OPNODE, names[-1], {"spec": {"opNode": {"verifierL1Confs": 4}}}, namespace)
    wait_for(
        lambda: admin.get(OPNODE, names[-1], namespace)["status"]["observedGeneration"] == 2,
        30,
        "d to reconcile",
    )
    for op in (b, c, d):
        scan = scan_logs(op)
        assert scan.escaped == [], (op.user, scan.escaped)
    report(
        "leader failover",
        opnodes=len(names),
        converged_at_sigkill=done_at_kill,
        takeover_after_sigkill_s=takeover_kill,
        converge_s=converge_s,
        takeover_after_sigstop_s=takeover_stop,
        stopped_leader_exit_after_resume_s=b_exit,
        stopped_leader_exit_code=code,
        stopped_leader_writes_after_stop=len(late),
        takeover_after_sigterm_s=takeover_term,
        writes_a=len(writes_by(control_plane, a.user, namespace=namespace)),
        writes_b=len(writes_by(control_plane, b.user, namespace=namespace)),
        writes_c=len(writes_by(control_plane, c.user, namespace=namespace)),
    )
