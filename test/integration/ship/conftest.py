"""Fixtures of the ship tests: the operator deployed with `kubectl apply -k config/default` (once per session;
its ServiceAccount and role bindings are also what the RBAC test runs the operator with) and a helm binary."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from _ship import ROOT, kubectl

from opstack.testing.envtest import ControlPlane


@pytest.fixture(scope="session")
def deployed(control_plane: ControlPlane) -> dict[str, Any]:
    """`kubectl apply -k config/default` (CRDs, RBAC, manager, metrics Service); the apply's output."""
    out = kubectl(control_plane, "apply", "-k", str(ROOT / "config" / "default"))
    return {"output": out}


@pytest.fixture(scope="session")
def helm() -> Path:
    """helm built from Go modules by hack/helm/build.sh (HELM, when set, names one to use instead)."""
    out = subprocess.run(
        ["bash", str(ROOT / "hack" / "helm" / "build.sh")], check=True, capture_output=True, text=True
    ).stdout
    return Path(out.strip().splitlines()[-1])
