"""Owner references and kube-controller-manager's garbage collector: deleting a parent custom resource
removes the ConfigMap our controller created for it.

Slow by nature (40-55 s on the session control plane): the garbage collector, not our code, decides when;
for a custom-resource owner it depends on its discovery resync (30 s) and its retry backoff for owners it
first saw as "virtual" nodes. Kept in a module of its own so that its wait is easy to spot and to deselect.
"""

from __future__ import annotations

import pytest
from _control_path_helpers import (
    CM,
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

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(kubeconfig: str) -> rt.Client:
    c = rt.Client.from_kubeconfig(kubeconfig)
    install_widget_crd(c)
    return c


def test_deleting_the_parent_garbage_collects_the_child(
    client: rt.Client, kubeconfig: str, namespace: str
) -> None:
    mgr = make_manager(kubeconfig, namespace)
    rt.ControllerBuilder(mgr).named(f"widget-gc-{namespace}").for_(WIDGET).owns(CM).complete(
        WidgetReconciler(mgr)
    )
    with running(mgr):
        client.create(widget("parent", namespace))
        wait_for(lambda: converged(client, namespace, 1), 30, "the widget to converge")
        client.delete(WIDGET, "parent", namespace)

        def child_gone() -> bool:
            try:
                client.get(CM, "parent-cm", namespace)
                return False
            except rt.NotFound:
                return True

        gc = wait_for(child_gone, 90, "the owned ConfigMap to be garbage-collected")
        print(f"\ngarbage collection of the child took {gc:.1f}s")
