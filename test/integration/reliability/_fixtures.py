"""Fixtures of the reliability scenarios; conftest.py here and in test/reliability import them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _reliability import EVIDENCE, ROOT, OperatorProcess, grant_operator, kubeconfig_via

from opstack.runtime.client import Client
from opstack.testing.crds import install_crds
from opstack.testing.envtest import ControlPlane

OperatorFactory = Callable[..., OperatorProcess]


@pytest.fixture(scope="session")
def reliability_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reliability-logs")


@pytest.fixture(scope="session")
def admin(kubeconfig: str) -> Iterator[Client]:
    install_crds(kubeconfig, [ROOT / "config" / "crd" / "bases"])
    c = Client.from_kubeconfig(kubeconfig)
    yield c
    c.close()


def operator_factory(
    plane: ControlPlane, client: Client, log_dir: Path
) -> tuple[OperatorFactory, list[OperatorProcess]]:
    started: list[OperatorProcess] = []

    def start(
        namespaces: list[str], *, name: str = "", server: str | None = None, **kwargs: Any
    ) -> OperatorProcess:
        """An operator as a fresh user bound to the generated role; through `server` (a fault proxy)
        instead of the API server's own address when given."""
        user = f"opstack-reliability-{name or 'op'}-{uuid.uuid4().hex[:5]}"
        kubeconfig = grant_operator(plane, client, user)
        if server is not None:
            kubeconfig = kubeconfig_via(kubeconfig, server)
        op = OperatorProcess(kubeconfig, namespaces, log_dir, user=user, **kwargs)
        started.append(op)
        return op

    return start, started


@pytest.fixture
def operators(
    control_plane: ControlPlane, admin: Client, reliability_logs: Path, namespace: str
) -> Iterator[OperatorFactory]:
    """Start operators on the session's control plane; at the end, the namespace's Events, statuses, args
    and key material go into the session's evidence, and every operator is stopped."""
    start, started = operator_factory(control_plane, admin, reliability_logs)
    yield start
    try:
        EVIDENCE.snapshot(admin, namespace)
    finally:
        for op in started:
            op.stop()
