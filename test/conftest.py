"""Session fixtures: one real control plane per test session, a fresh namespace per test, anvil.

`USE_EXISTING_CLUSTER=true` points the integration suite at the current kubeconfig instead of
starting a local control plane (as controller-runtime's envtest does).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opstack.testing.anvil import Anvil
from opstack.testing.envtest import ControlPlane, leftover_processes

USE_EXISTING_CLUSTER = os.environ.get("USE_EXISTING_CLUSTER", "").lower() == "true"


class ExistingCluster:
    """The subset of ControlPlane that makes sense against a cluster we did not start."""

    def __init__(self) -> None:
        self.kubeconfig = Path(os.environ.get("KUBECONFIG", Path.home() / ".kube" / "config"))

    def __getattr__(self, name: str) -> Any:
        pytest.skip(f"ControlPlane.{name} is not available with USE_EXISTING_CLUSTER=true")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Anything under test/integration needs the control plane: mark it, so `-m "not integration"` works.
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)
            if not USE_EXISTING_CLUSTER:
                item.add_marker(pytest.mark.skip(reason="e2e tests run with USE_EXISTING_CLUSTER=true"))


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane | ExistingCluster]:
    if USE_EXISTING_CLUSTER:
        yield ExistingCluster()
        return
    plane = ControlPlane().start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def kubeconfig(control_plane: ControlPlane) -> str:
    return str(control_plane.kubeconfig)


@pytest.fixture
def namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted (without waiting) afterwards."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = f"{base}-{uuid.uuid4().hex[:6]}"
    _kubectl_or_api(control_plane, "create", name)
    yield name
    _kubectl_or_api(control_plane, "delete", name)


def _kubectl_or_api(plane: ControlPlane | ExistingCluster, verb: str, name: str) -> None:
    if isinstance(plane, ControlPlane):
        if verb == "create":
            plane.request(
                "POST",
                "/api/v1/namespaces",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            )
        else:
            plane.request("DELETE", f"/api/v1/namespaces/{name}")
        return
    import subprocess

    args = ["kubectl", "--kubeconfig", str(plane.kubeconfig), verb, "namespace", name]
    subprocess.run([*args, "--wait=false"] if verb == "delete" else args, check=True, capture_output=True)


@pytest.fixture(scope="session")
def anvil() -> Iterator[Callable[..., Anvil]]:
    """A factory: `anvil(chain_id=900)` starts an anvil that is stopped at the end of the session."""
    started: list[Anvil] = []

    def start(**kwargs: Any) -> Anvil:
        node = Anvil(**kwargs).start()
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Session fixtures are torn down before this hook: anything still running leaked.
    if USE_EXISTING_CLUSTER:
        return
    mine = leftover_processes(parent=os.getpid())
    if mine:
        print("\nprocesses left behind by the test session:\n  " + "\n  ".join(mine))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
