"""Reading the local control plane's audit log: what the API server saw each client do.

The log is JSON lines written by a running kube-apiserver (`ControlPlane.audit_log`), so the last line may
be half written while it is read, and a SIGKILLed server leaves a cut line behind: such lines are skipped.
Only `ResponseComplete` entries count (one per finished request).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


def entries(audit_log: Path, users: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
    """Finished requests, optionally only those of `users`."""
    wanted = set(users) if users is not None else None
    with open(audit_log, encoding="utf-8", errors="replace") as log:
        for raw in log:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue  # a line still being written, or cut by a killed API server
            if entry.get("stage") != "ResponseComplete":
                continue
            if wanted is None or (entry.get("user") or {}).get("username") in wanted:
                yield entry


def writes(
    audit_log: Path,
    *,
    namespace: str | None = None,
    resources: Iterable[str] | None = None,
    name: str | None = None,
    users: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Write requests (create/update/patch/delete), narrowed by namespace, resources, object name, users."""
    wanted = set(resources) if resources is not None else None
    out = []
    for entry in entries(audit_log, users):
        ref = entry.get("objectRef") or {}
        if (
            entry.get("verb") in WRITE_VERBS
            and (namespace is None or ref.get("namespace") == namespace)
            and (wanted is None or ref.get("resource") in wanted)
            and (name is None or ref.get("name") == name)
        ):
            out.append(entry)
    return out


def sentinel(audit_log: Path, client: Any, namespace: str, timeout: float = 15.0) -> None:
    """Writes a ConfigMap and waits until the log has it: every earlier request is then in the log too."""
    from opstack.testing.envtest import wait_until

    name = f"sentinel-{uuid.uuid4().hex[:8]}"
    client.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}}
    )
    wait_until(
        lambda: name in audit_log.read_text(errors="replace"), timeout, "the sentinel in the audit log"
    )
