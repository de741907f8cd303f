"""Controllers against the real API server: convergence at 500 objects, self-healing of owned objects,
garbage collection, the generation predicate, and per-item exponential backoff. Events aggregation."""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from _control_path_helpers import (
    CM,
    EVENT,
    WIDGET,
    WidgetReconciler,
    converged,
    install_widget_crd,
    make_manager,
    running,
    wait_for,
    widget,
)

from opstack import runtime as rt
from opstack.runtime import metrics as m

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(kubeconfig: str) -> rt.Client:
    c = rt.Client.from_kubeconfig(kubeconfig)
    install_widget_crd(c)
    return c


def queue_idle(controller: rt.Controller) -> bool:
    return len(controller.queue) == 0 and not controller.queue.processing()


def test_500_widgets_converge_and_owned_objects_self_heal(
    client: rt.Client, kubeconfig: str, namespace: str
) -> None:
    mgr = make_manager(kubeconfig, namespace)
    reconciler = WidgetReconciler(mgr)
    controller = (
        rt.ControllerBuilder(mgr)
        .named(f"widget-{namespace}")
        .for_(WIDGET, predicates=[rt.GenerationChangedPredicate()])
        .owns(CM)
        .with_options(max_concurrent_reconciles=4)
        .complete(reconciler)
    )
    with running(mgr):
        n = 500
        start = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: client.create(widget(f"w{i:03d}", namespace, value=f"v{i}")), range(n)))
        created = time.monotonic() - start
        took = wait_for(lambda: converged(client, namespace, n), 180, "500 widgets to converge", every=0.5)
        print(
            f"\n500 widgets: created in {created:.1f}s, "
            f"converged {created + took:.1f}s after the first create"
        )
        wait_for(lambda: queue_idle(controller), 30, "the queue to drain")

        # Everything is in its desired state: a further reconcile of every widget writes nothing.
        writes_before = reconciler.writes
        for i in range(0, n, 50):
            controller.queue.add(rt.Request(namespace, f"w{i:03d}"))
        wait_for(lambda: queue_idle(controller), 30, "re-reconciles to finish")
        assert reconciler.writes == writes_before

        # Someone else changes an owned ConfigMap: the controller puts it back.
        client.patch(CM, "w007-cm", {"data": {"value": "tampered"}}, namespace)
        healed = wait_for(
            lambda: client.get(CM, "w007-cm", namespace)["data"] == {"value": "v7"},
            30,
            "the tampered ConfigMap to be reverted",
        )
        print(f"tampered ConfigMap reverted in {healed:.2f}s")

    total = m.REGISTRY.get_sample_value(
        "controller_runtime_reconcile_total", {"controller": f"widget-{namespace}", "result": "success"}
    )
    assert total is not None and total >= n


def test_status_only_updates_do_not_trigger_reconciles_under_the_generation_predicate(
    client: rt.Client, kubeconfig: str, namespace: str
) -> None:
    mgr = make_manager(kubeconfig, namespace)
    reconciler = WidgetReconciler(mgr)
    controller = (
        rt.ControllerBuilder(mgr)
        .named(f"widget-gen-{namespace}")
        .for_(WIDGET, predicates=[rt.GenerationChangedPredicate()])
        .owns(CM)
        .with_options(max_concurrent_reconciles=2)
        .complete(reconciler)
    )
    with running(mgr):
        for name in ("a", "barrier"):
            client.create(widget(name, namespace))
        wait_for(lambda: converged(client, namespace, 2), 30, "widgets to converge")
        wait_for(lambda: queue_idle(controller), 10, "the queue to drain")
        before = reconciler.count("a")

        # A status-only write (generation unchanged), by someone else.
        patched = client.patch(
            WIDGET, "a", {"status": {"note": "written by someone else"}}, namespace, subresource="status"
        )
        assert patched["metadata"]["generation"] == 1
        # Barrier: a spec change of another widget on the same informer. Handlers see events in order, so
        # once "barrier" is reconciled and the queue is idle, "a" would have been reconciled if its status
        # event had passed the predicate (it would have been queued before "barrier").
        client.patch(WIDGET, "barrier", {"spec": {"value": "v2"}}, namespace)
        wait_for(
            lambda: client.get(CM, "barrier-cm", namespace)["data"] == {"value": "v2"},
            30,
            "barrier reconcile",
        )
        wait_for(lambda: queue_idle(controller), 10, "the queue to drain")
        assert reconciler.count("a") == before

        # A spec change of "a" (generation 2) does trigger exactly what it should.
        client.patch(WIDGET, "a", {"spec": {"value": "v2"}}, namespace)
        wait_for(
            lambda: client.get(CM, "a-cm", namespace)["data"] == {"value": "v2"}, 30, "spec change reconcile"
        )
        assert reconciler.count("a") > before


def test_failing_object_backs_off_exponentially_while_others_proceed(
    client: rt.Client, kubeconfig: str, namespace: str
) -> None:
    mgr = make_manager(kubeconfig, namespace)
    reconciler = WidgetReconciler(mgr)
    name = f"widget-fail-{namespace}"
    controller = (
        rt.ControllerBuilder(mgr)
        .named(name)
        .for_(WIDGET, predicates=[rt.GenerationChangedPredicate()])
        .owns(CM)
        .with_options(max_concurrent_reconciles=2)
        .complete(reconciler)
    )
    with running(mgr):
        client.create(widget("bad", namespace, fail=True))
        # 5 ms doubling: attempts 1..11 span ~5 s (0.005 * (2**10 - 1)).
        wait_for(lambda: reconciler.count("bad") >= 11, 30, "11 failed attempts")
        for i in range(20):
            client.create(widget(f"good{i}", namespace))
        wait_for(lambda: converged_except(client, namespace, "bad", 20), 30, "the other widgets to converge")
        attempts = list(reconciler.calls["bad"])
        still_failing = reconciler.count("bad")

    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    # Exponential: each gap about twice the one before. Early gaps are milliseconds (scheduler noise),
    # so check from the 6th gap on (>= 160 ms), where timing is reliable on a busy machine.
    for i in range(5, min(len(gaps), 10)):
        expected = 0.005 * 2**i
        assert expected * 0.9 <= gaps[i] <= expected * 1.5 + 0.2, (i, gaps[i], expected)
        assert gaps[i] >= gaps[i - 1] * 1.6, (i, gaps)
    assert controller.queue.num_requeues(rt.Request(namespace, "bad")) >= still_failing
    errors = m.REGISTRY.get_sample_value("controller_runtime_reconcile_errors_total", {"controller": name})
    assert errors is not None and errors >= 11


def converged_except(client: rt.Client, namespace: str, bad: str, count: int) -> bool:
    widgets, _ = client.list_all(WIDGET, namespace)
    good = [w for w in widgets if w["metadata"]["name"] != bad]
    done = [
        w for w in good if (w.get("status") or {}).get("observedGeneration") == w["metadata"]["generation"]
    ]
    return len(good) == count and len(done) == count


def test_terminal_error_is_not_requeued_and_requeue_after_is(
    client: rt.Client, kubeconfig: str, namespace: str
) -> None:
    calls: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    class Outcomes:
        def reconcile(self, request: rt.Request) -> rt.Result:
            with lock:
                calls[request.name] += 1
            if request.name == "terminal":
                raise rt.TerminalError("spec.value is invalid: use a non-empty string")
            if request.name == "poll":
                return rt.Result(requeue_after=0.2)
            if request.name == "exit":
                raise SystemExit(3)  # a "panic": counted, requeued, the worker survives
            return rt.Result()

    mgr = make_manager(kubeconfig, namespace)
    name = f"outcomes-{namespace}"
    controller = rt.ControllerBuilder(mgr).named(name).for_(CM).complete(Outcomes())
    with running(mgr):
        for cm in ("terminal", "poll", "exit", "ok"):
            client.create(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": cm, "namespace": namespace}}
            )
        wait_for(lambda: calls["poll"] >= 5, 10, "requeue_after to repeat")
        wait_for(lambda: calls["exit"] >= 3, 10, "a panicking reconcile to be retried")
        wait_for(lambda: calls["ok"] >= 1 and calls["terminal"] >= 1, 10, "first reconciles")
        assert calls["terminal"] == 1
        assert controller.queue.num_requeues(rt.Request(namespace, "poll")) == 0  # forgotten each time

    def sample(metric: str, **labels: str) -> float:
        return m.REGISTRY.get_sample_value(metric, {"controller": name, **labels}) or 0.0

    assert sample("controller_runtime_terminal_reconcile_errors_total") == 1
    assert sample("controller_runtime_reconcile_panics_total") >= 3
    assert sample("controller_runtime_reconcile_total", result="requeue_after") >= 5
    assert sample("controller_runtime_reconcile_total", result="success") >= 1
    assert sample("controller_runtime_reconcile_errors_total") >= 4


def test_events_are_aggregated_into_one_with_a_count(client: rt.Client, namespace: str) -> None:
    obj = client.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "subject", "namespace": namespace}}
    )
    broadcaster = rt.EventBroadcaster(client, reporting_instance="test-instance-1")
    recorder = broadcaster.new_recorder("opstack-test-controller")
    for _ in range(5):
        recorder.event(obj, rt.WARNING, "SecretMissing", "Secret op-batcher-key not found; create it")
    recorder.event(obj, rt.NORMAL, "Synced", "all good")
    assert broadcaster.flush(10)
    broadcaster.stop()

    events = client.list(EVENT, namespace, field_selector="involvedObject.name=subject")["items"]
    by_reason = {e["reason"]: e for e in events}
    assert sorted(by_reason) == ["SecretMissing", "Synced"] and len(events) == 2
    missing = by_reason["SecretMissing"]
    assert missing["count"] == 5
    assert missing["type"] == "Warning"
    assert missing["involvedObject"]["uid"] == obj["metadata"]["uid"]
    assert missing["involvedObject"]["kind"] == "ConfigMap"
    assert missing["reportingComponent"] == "opstack-test-controller"
    assert missing["reportingInstance"] == "test-instance-1"
    assert missing["source"]["component"] == "opstack-test-controller"
    assert by_reason["Synced"]["count"] == 1
