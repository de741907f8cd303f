"""Managers as real processes (`python -m opstack_test_manager`) against the real API server:
leader election (one reconciler, takeover after SIGKILL / SIGTERM, stepping down when renewals fail),
graceful shutdown, /metrics, /healthz and /readyz."""

from __future__ import annotations

import signal
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from _control_path_helpers import LEASE, ManagerProcess, wait_for
from prometheus_client.parser import text_string_to_metric_families

from opstack import runtime as rt

pytestmark = pytest.mark.integration

# Short terms keep the suite fast; the takeover-after-release test uses the defaults (15 s / 10 s / 2 s).
LEASE_S, RENEW_S, RETRY_S = 4.0, 3.0, 1.0


@pytest.fixture
def client(kubeconfig: str) -> rt.Client:
    return rt.Client.from_kubeconfig(kubeconfig)


@pytest.fixture
def procs() -> Iterator[list[ManagerProcess]]:
    started: list[ManagerProcess] = []
    yield started
    for p in started:
        p.kill()


def start_manager(
    procs: list[ManagerProcess],
    kubeconfig: str,
    namespace: str,
    identity: str,
    *,
    lease: str = "",
    short_terms: bool = True,
    **opts: Any,
) -> ManagerProcess:
    args = ["--kubeconfig", kubeconfig, "--namespace", namespace, "--identity", identity]
    if lease:
        args += ["--lease-name", lease]
        if short_terms:
            args += ["--lease-duration", str(LEASE_S), "--renew-deadline", str(RENEW_S)]
            args += ["--retry-period", str(RETRY_S)]
    for key, value in opts.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    p = ManagerProcess(*args)
    procs.append(p)
    return p


def configmap(client: rt.Client, namespace: str, name: str) -> None:
    client.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}}
    )


def lease_spec(client: rt.Client, namespace: str, name: str) -> dict[str, Any]:
    return dict(client.get(LEASE, name, namespace)["spec"])


def micro_time(value: str) -> float:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_one_leader_reconciles_and_a_sigkilled_leader_is_replaced_within_lease_plus_retry(
    client: rt.Client, kubeconfig: str, namespace: str, procs: list[ManagerProcess]
) -> None:
    configmap(client, namespace, "work")
    lease = f"lock-{uuid.uuid4().hex[:6]}"
    a = start_manager(procs, kubeconfig, namespace, "mgr-a", lease=lease, requeue_after=0.2)
    a.wait_event("elected", 30)
    b = start_manager(procs, kubeconfig, namespace, "mgr-b", lease=lease, requeue_after=0.2)
    servers = b.wait_event("servers", 30)
    wait_for(lambda: http_get(servers["health_port"], "/readyz")[0] == 200, 30, "b to be ready (campaigning)")
    seen = len(a.events("reconcile_start"))
    a.wait_event("reconcile_start", 10, count=seen + 10)  # a keeps reconciling while b stands by
    assert b.events("reconcile_start") == [] and b.events("elected") == []
    assert lease_spec(client, namespace, lease)["holderIdentity"] == "mgr-a"
    status, body = http_get(servers["metrics_port"], "/metrics")
    assert status == 200 and f'leader_election_master_status{{name="{lease}"}} 0.0' in body

    killed_at = time.time()
    a.proc.send_signal(signal.SIGKILL)
    elected = b.wait_event("elected", LEASE_S + 10)
    takeover = elected["t"] - killed_at
    print(f"\ntakeover after SIGKILL of the leader: {takeover:.2f}s (lease {LEASE_S}s + retry {RETRY_S}s)")
    assert takeover <= LEASE_S + RETRY_S
    b.wait_event("reconcile_start", 10)
    spec = lease_spec(client, namespace, lease)
    assert spec["holderIdentity"] == "mgr-b" and spec["leaseTransitions"] == 1
    status, body = http_get(servers["metrics_port"], "/metrics")
    assert f'leader_election_master_status{{name="{lease}"}} 1.0' in body
    b.signal(signal.SIGTERM)
    assert b.wait_exit(30) == 0


def test_sigterm_releases_the_lease_and_the_standby_takes_over_in_under_3s_with_default_terms(
    client: rt.Client, kubeconfig: str, namespace: str, procs: list[ManagerProcess]
) -> None:
    configmap(client, namespace, "work")
    lease = f"lock-{uuid.uuid4().hex[:6]}"
    a = start_manager(procs, kubeconfig, namespace, "mgr-a", lease=lease, short_terms=False)
    a.wait_event("elected", 30)
    a.wait_event("reconcile_start", 10)
    b = start_manager(procs, kubeconfig, namespace, "mgr-b", lease=lease, short_terms=False)
    servers = b.wait_event("servers", 30)
    wait_for(lambda: http_get(servers["health_port"], "/readyz")[0] == 200, 30, "b to be ready (campaigning)")
    assert lease_spec(client, namespace, lease)["leaseDurationSeconds"] == 15

    stopped_at = a.signal(signal.SIGTERM)
    assert a.wait_exit(30) == 0
    elected = b.wait_event("elected", 10)
    takeover = elected["t"] - stopped_at
    print(f"\ntakeover after SIGTERM of the leader (15 s lease): {takeover:.2f}s")
    assert takeover < 3.0
    assert lease_spec(client, namespace, lease)["holderIdentity"] == "mgr-b"
    b.wait_event("reconcile_start", 10)
    b.signal(signal.SIGTERM)
    assert b.wait_exit(30) == 0


def test_leader_whose_renewals_fail_stops_before_its_lease_could_expire(
    control_plane: Any, client: rt.Client, kubeconfig: str, namespace: str, procs: list[ManagerProcess]
) -> None:
    configmap(client, namespace, "work")
    lease = f"lock-{uuid.uuid4().hex[:6]}"
    a = start_manager(procs, kubeconfig, namespace, "mgr-a", lease=lease, requeue_after=0.1)
    a.wait_event("elected", 30)
    a.wait_event("reconcile_start", 10, count=5)
    stopped_at = time.time()
    control_plane.stop_apiserver()
    try:
        code = a.wait_exit(LEASE_S + 30)
    finally:
        control_plane.start_apiserver()
    # The lease now holds the last renewal a ever managed to write: from then on, nobody else could take
    # over before renewTime + leaseDuration (candidates count from when they saw that record, even later).
    renewed = micro_time(lease_spec(client, namespace, lease)["renewTime"])
    last_reconcile = max(e["t"] for e in a.events("reconcile_start"))
    assert a.exited_at is not None
    exited_at = a.exited_at
    print(
        f"\nrenewals failing: exit {code} {exited_at - stopped_at:.2f}s after the API server was stopped; "
        f"last reconcile {last_reconcile - renewed:.2f}s and exit {exited_at - renewed:.2f}s after the last "
        f"renewal (lease {LEASE_S}s, renew deadline {RENEW_S}s)"
    )
    assert code != 0
    assert last_reconcile < renewed + LEASE_S  # stopped reconciling before anyone could take over
    assert exited_at < renewed + LEASE_S  # and exited, so nothing it runs can act after expiry


def test_sigterm_lets_in_flight_reconciles_finish_and_exits_0_within_the_grace_period(
    client: rt.Client, kubeconfig: str, namespace: str, procs: list[ManagerProcess]
) -> None:
    for name in ("slow-1", "slow-2", "slow-3"):
        configmap(client, namespace, name)
    grace = 10.0
    a = start_manager(procs, kubeconfig, namespace, "mgr-a", workers=2, reconcile_seconds=3, grace=grace)
    a.wait_event("reconcile_start", 30, count=2)
    stopped_at = a.signal(signal.SIGTERM)
    code = a.wait_exit(grace + 5)
    took = time.time() - stopped_at
    print(f"\nSIGTERM with 2 reconciles in flight: exit {code} after {took:.2f}s (grace {grace}s)")
    assert code == 0 and took < grace
    started = {e["name"] for e in a.events("reconcile_start")}
    ended = {e["name"] for e in a.events("reconcile_end")}
    assert len(started) == 2 and started == ended  # both finished; the third never started
    assert a.events("exit")[0]["code"] == 0


def test_a_second_signal_exits_1_at_once(
    client: rt.Client, kubeconfig: str, namespace: str, procs: list[ManagerProcess]
) -> None:
    configmap(client, namespace, "stuck")
    a = start_manager(procs, kubeconfig, namespace, "mgr-a", reconcile_seconds=60, grace=60)
    a.wait_event("reconcile_start", 30)
    a.signal(signal.SIGTERM)
    wait_for(
        lambda: any("signal received" in line for line in a.stderr), 10, "the first signal to be handled"
    )
    second = a.signal(signal.SIGINT)
    assert a.wait_exit(5) == 1
    assert time.time() - second < 2.0


def test_readyz_is_503_until_caches_sync_and_metrics_carry_controller_runtime_names(
    control_plane: Any, client: rt.Client, namespace: str, procs: list[ManagerProcess]
) -> None:
    user = f"reader-{uuid.uuid4().hex[:6]}"
    user_kubeconfig = str(control_plane.add_user(user))
    for name in ("m1", "m2"):
        configmap(client, namespace, name)
    # Without RBAC the manager's informer cannot list ConfigMaps, so its cache cannot sync.
    a = start_manager(procs, user_kubeconfig, namespace, "mgr-a", workers=3, requeue_after=0.2)
    ports = a.wait_event("servers", 30)
    assert http_get(ports["health_port"], "/healthz") == (200, "ok")
    status, body = http_get(ports["health_port"], "/readyz")
    assert status == 503 and "[-]cache-sync failed" in body
    status, _ = http_get(ports["health_port"], "/readyz")
    assert status == 503
    assert a.events("reconcile_start") == []

    client.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "cm-reader", "namespace": namespace},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
        }
    )
    client.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "cm-reader", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        }
    )
    ready_in = wait_for(lambda: http_get(ports["health_port"], "/readyz")[0] == 200, 60, "/readyz 200")
    print(f"\n/readyz turned 200 {ready_in:.1f}s after RBAC was granted")
    assert http_get(ports["health_port"], "/readyz?verbose")[1].startswith("[+]cache-sync ok")
    a.wait_event("reconcile_start", 10, count=4)

    status, text = http_get(ports["metrics_port"], "/metrics")
    assert status == 200
    samples: dict[str, list[dict[str, str]]] = {}
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append(dict(s.labels))
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def labelsets(name: str) -> list[set[str]]:
        assert name in samples, f"{name} not exposed"
        return [set(ls) for ls in samples[name]]

    ctl = "printer"
    totals = samples["controller_runtime_reconcile_total"]
    results = {ls["result"] for ls in totals if ls["controller"] == ctl}
    assert results == {"success", "error", "requeue", "requeue_after"}
    assert all(ls == {"controller", "result"} for ls in labelsets("controller_runtime_reconcile_total"))
    for name in (
        "controller_runtime_reconcile_errors_total",
        "controller_runtime_terminal_reconcile_errors_total",
        "controller_runtime_max_concurrent_reconciles",
        "controller_runtime_active_workers",
    ):
        assert {"controller"} in labelsets(name)
    assert {"controller", "le"} in labelsets("controller_runtime_reconcile_time_seconds_bucket")
    assert values[("controller_runtime_max_concurrent_reconciles", (("controller", ctl),))] == 3
    total = "controller_runtime_reconcile_total"
    assert values[(total, (("controller", ctl), ("result", "requeue_after")))] >= 4
    assert values[(total, (("controller", ctl), ("result", "error")))] == 0
    for name in (
        "workqueue_adds_total",
        "workqueue_retries_total",
        "workqueue_unfinished_work_seconds",
        "workqueue_longest_running_processor_seconds",
    ):
        assert {"name", "controller"} in labelsets(name)
    assert {"name", "controller", "priority"} in labelsets("workqueue_depth")
    for name in ("workqueue_queue_duration_seconds_bucket", "workqueue_work_duration_seconds_bucket"):
        assert {"name", "controller", "le"} in labelsets(name)
    assert values[("workqueue_adds_total", (("controller", ctl), ("name", ctl)))] >= 2
    assert {"code", "method", "host"} in labelsets("rest_client_requests_total")
    assert any(ls.get("code") == "403" for ls in samples["rest_client_requests_total"])
    a.signal(signal.SIGTERM)
    assert a.wait_exit(30) == 0
