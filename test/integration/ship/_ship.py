"""Helpers of the ship tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from opstack.testing.envtest import ControlPlane

ROOT = Path(__file__).resolve().parents[3]
OPERATOR_NAMESPACE = "opstack-system"
SERVICE_ACCOUNT = "opstack-controller-manager"


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll until `predicate()` is truthy; return its value. AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # not there yet
            last = exc
        time.sleep(every)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what}" + (f" ({last})" if last else "")
    )


def kubectl(plane: ControlPlane, *args: str, input: str | None = None) -> str:
    """The real kubectl as admin; a failure shows kubectl's own message."""
    done = plane.kubectl(*args, check=False, input=input)
    assert done.returncode == 0, f"kubectl {' '.join(args)} failed:\n{done.stderr}{done.stdout}"
    return done.stdout


def objects(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def dumps(objs: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(o) for o in objs)
