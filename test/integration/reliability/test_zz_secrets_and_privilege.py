"""After the scenarios of this folder (the file name sorts it last): no key material generated or referenced
by any of them appears in a log line of any operator, an Event, a status, an annotation or a container's
args, command or env; and every request the operators made (as the audit log saw it) is granted by
config/rbac/role.yaml or the leader-election Role, with no 403. Grants the run never used are reported."""

from __future__ import annotations

import pytest
from _reliability import EVIDENCE, LEASE_NAMESPACE, USER_PREFIX, audit_entries, manager_role, report

from opstack.testing.envtest import ControlPlane

pytestmark = pytest.mark.integration

LEADER_ELECTION = {
    ("coordination.k8s.io", "leases", v)
    for v in ("get", "list", "watch", "create", "update", "patch", "delete")
} | {("", "events", v) for v in ("create", "patch")}


def granted() -> set[tuple[str, str, str]]:
    out = set()
    for rule in manager_role()["rules"]:
        for g in rule["apiGroups"]:
            for r in rule["resources"]:
                for v in rule["verbs"]:
                    out.add((g, r, v))
    return out


def test_no_key_material_anywhere() -> None:
    if not EVIDENCE.keys:
        pytest.skip("no scenario ran before this one in this session")
    keys = {k for k in EVIDENCE.keys if k != "0" * 64}
    leaks: list[str] = []
    lines = 0
    for path in EVIDENCE.logs:
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            lines += 1
            low = line.lower()
            leaks += [f"{path.name}:{n}" for k in keys if k in low]
    for where, text in EVIDENCE.texts:
        low = text.lower()
        leaks += [where for k in keys if k in low]
    assert leaks == [], f"key material found in: {leaks[:10]}"
    report(
        "secrets",
        keys=len(keys),
        log_files=len(EVIDENCE.logs),
        log_lines=lines,
        objects_scanned=len(EVIDENCE.texts),
    )


def test_operators_used_only_what_the_role_grants(control_plane: ControlPlane) -> None:
    users = {u for u in EVIDENCE.users if u.startswith(USER_PREFIX)}
    if not users:
        pytest.skip("no operator ran on the session's control plane in this session")
    allowed = granted()
    used: set[tuple[str, str, str]] = set()
    outside: list[str] = []
    forbidden: list[str] = []
    requests = 0
    for e in audit_entries(control_plane, users):
        ref = e.get("objectRef")
        if not ref:  # discovery and other non-resource URLs (granted to every authenticated user)
            continue
        requests += 1
        resource = ref.get("resource", "") + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        key = (ref.get("apiGroup", ""), resource, e["verb"])
        if (e.get("responseStatus") or {}).get("code") == 403:
            forbidden.append(f"{e['user']['username']} {key} {ref.get('namespace')}")
        if ref.get("namespace") == LEASE_NAMESPACE and key in LEADER_ELECTION:
            continue
        used.add(key)
        if key not in allowed:
            outside.append(str(key))
    assert forbidden == [], f"403s: {sorted(set(forbidden))[:10]}"
    assert outside == [], f"requests outside the role: {sorted(set(outside))}"
    unused = sorted(allowed - used)
    report(
        "least privilege",
        operator_users=len(users),
        requests=requests,
        used=len(used),
        granted=len(allowed),
        unused=len(unused),
    )
    print(
        "granted but not used in this run:\n  " + "\n  ".join(f"{g or 'core'} {r} {v}" for g, r, v in unused)
    )
