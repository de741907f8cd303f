"""Install CustomResourceDefinitions into a cluster and wait until they can be used (envtest's InstallCRDs).

Invariants:
- Idempotent: CRDs are server-side applied (field manager `opstack-testing`, forced), so several test
  modules, or a rerun against an existing cluster, may install the same files; an unchanged CRD is skipped
  without a request once this process has installed it.
- `install_crds` returns only when every CRD is Established and its resources are served by discovery (a CR
  created right after Established could otherwise still get a 404 from a stale discovery cache).
- Failures name the CRD and the condition the API server reported (e.g. a schema it refused).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK

CRD_GVK = GVK("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
FIELD_MANAGER = "opstack-testing"

_installed: dict[tuple[str, str], str] = {}  # (kubeconfig, crd name) -> digest of what we applied
_lock = threading.Lock()


class CrdInstallError(RuntimeError):
    """A CRD was refused, or did not become Established in time."""


def load_crds(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """The CRD documents of `paths` (files, or folders whose *.yaml files are read in name order)."""
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    crds = []
    for f in files:
        for doc in yaml.safe_load_all(f.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                crds.append(doc)
    return crds


def install_crds(
    kubeconfig: str | Path, paths: Sequence[str | Path], *, timeout: float = 60.0
) -> list[dict[str, Any]]:
    """Apply the CRDs found in `paths` and wait until each is Established and served; returns them as the
    API server has them."""
    crds = load_crds(paths)
    if not crds:
        raise CrdInstallError(f"no CustomResourceDefinition found in {[str(p) for p in paths]}")
    client = Client.from_kubeconfig(str(kubeconfig))
    try:
        with _lock:
            for doc in crds:
                key = (str(kubeconfig), doc["metadata"]["name"])
                digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
                if _installed.get(key) == digest:
                    continue
                try:
                    client.apply(doc, field_manager=FIELD_MANAGER, force=True)
                except errors.ApiError as exc:
                    raise CrdInstallError(f"{doc['metadata']['name']} refused: {exc}") from exc
                _installed[key] = digest
        return [_wait_established(client, doc, timeout) for doc in crds]
    finally:
        client.close()


def _wait_established(client: Client, doc: dict[str, Any], timeout: float) -> dict[str, Any]:
    name = doc["metadata"]["name"]
    deadline = time.monotonic() + timeout
    delay = 0.05
    last: dict[str, Any] = {}
    while True:
        last = client.get(CRD_GVK, name)
        conditions = {c["type"]: c for c in (last.get("status") or {}).get("conditions") or []}
        if conditions.get("NamesAccepted", {}).get("status") == "False":
            raise CrdInstallError(f"{name}: names not accepted: {conditions['NamesAccepted'].get('message')}")
        if conditions.get("Established", {}).get("status") == "True" and _served(client, doc):
            return last
        if time.monotonic() > deadline:
            raise CrdInstallError(
                f"{name} not Established within {timeout}s; conditions: {list(conditions.values())}"
            )
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def _served(client: Client, doc: dict[str, Any]) -> bool:
    spec = doc["spec"]
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        gvk = GVK(spec["group"], version["name"], spec["names"]["kind"])
        try:
            client.invalidate_discovery()
            client.resource_for(gvk)
        except errors.ApiError:
            return False
    return True
