"""Least privilege, read from both sides: what the generated roles grant and what an operator used.

Two suites judge the role this way (the ship test, with the operator's real ServiceAccount; the reliability
suite, after its scenarios and the full devnet), so the reading of grants and of the audit log lives here.

Invariants:
- A grant is an (apiGroup, resource[/subresource], verb) triple; rules with resourceNames are refused
  (nothing here could tell whether a request matched one).
- A server-side apply that created its object (a `patch` answered 201) counts as a `create` too: the API
  server authorises it as one, though the audit entry names only the request's verb.
- `RARELY_USED` names, with the code path that needs it, every grant a run may legitimately not exercise;
  each suite picks the ones its run cannot reach, and anything else unused fails it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

Grant = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)

ROLE_FILES = ("role.yaml", "leader_election_role.yaml")
CR_KINDS = ("optimismnetworks", "opnodes", "opbatchers", "opproposers", "opchallengers")

RARELY_USED: dict[Grant, str] = {
    ("", "configmaps", "create"): "OptimismNetwork with an inline rollupConfig/l2Genesis: its ConfigMap",
    ("", "configmaps", "patch"): "the same ConfigMap, applied again when the inline document changes",
    ("", "configmaps", "delete"): "the same ConfigMap, deleted when the network switches to a configMapRef",
    ("", "secrets", "get"): "OpNode: creating a generated Secret the cache has not seen yet (AlreadyExists)",
    ("", "events", "patch"): "the Event recorder aggregating a repeated Event (count, lastTimestamp)",
    ("", "services", "delete"): "OpNode: P2P Services of pods removed by a scale-down",
    ("policy", "poddisruptionbudgets", "delete"): "OpNode scaled to one pod: its PDB goes",
    ("apps", "deployments", "delete"): "OpBatcher/OpProposer, a duplicate signer: its Deployment goes",
    ("apps", "statefulsets", "delete"): "OpChallenger, a duplicate signer: its StatefulSet goes",
    **{
        ("optimism.optimism.io", f"{kind}/finalizers", "update"): (
            "blockOwnerDeletion on children, checked by the OwnerReferencesPermissionEnforcement admission "
            "plugin (on in some distributions, not in a default kube-apiserver; never a request of its own)"
        )
        for kind in CR_KINDS
    },
}
# What no run can show in an audit log: an authorisation check that is not a request, or a race.
NEVER_SEEN_IN_AUDIT: frozenset[Grant] = frozenset(
    {("", "secrets", "get")} | {g for g in RARELY_USED if g[1].endswith("/finalizers")}
)


def rules_of(doc: Mapping[str, Any]) -> set[Grant]:
    out: set[Grant] = set()
    for rule in doc.get("rules") or ():
        if rule.get("resourceNames"):
            raise ValueError(f"a rule with resourceNames cannot be judged from the audit log: {rule}")
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    out.add((group, resource, verb))
    return out


def granted(rbac_dir: Path, files: Iterable[str] = ROLE_FILES) -> set[Grant]:
    """Every grant of the generated roles in `rbac_dir` (config/rbac)."""
    out: set[Grant] = set()
    for name in files:
        for doc in yaml.safe_load_all((rbac_dir / name).read_text()):
            if doc and doc.get("kind") in ("Role", "ClusterRole"):
                out |= rules_of(doc)
    return out


def grant_of(entry: Mapping[str, Any]) -> Grant | None:
    """The grant an audit entry needed; None for non-resource URLs (discovery: no RBAC rule involved)."""
    ref = entry.get("objectRef") or {}
    if not ref.get("resource"):
        return None
    resource = ref["resource"] + (f"/{ref['subresource']}" if ref.get("subresource") else "")
    return (ref.get("apiGroup", ""), resource, str(entry["verb"]))


def used(entries: Iterable[Mapping[str, Any]]) -> Counter[Grant]:
    """How often each grant was needed by the audit entries (an apply that created counts as create too)."""
    out: Counter[Grant] = Counter()
    for e in entries:
        key = grant_of(e)
        if key is None:
            continue
        out[key] += 1
        if key[2] == "patch" and (e.get("responseStatus") or {}).get("code") == 201:
            out[(key[0], key[1], "create")] += 1
    return out


def forbidden(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """The requests answered 403, readable."""
    return [
        f"{(e.get('user') or {}).get('username')} {e.get('verb')} {grant_of(e)} "
        f"{(e.get('objectRef') or {}).get('namespace')}: {(e.get('responseStatus') or {}).get('message')}"
        for e in entries
        if (e.get("responseStatus") or {}).get("code") == 403
    ]


def describe(grants: Iterable[Grant]) -> str:
    return ", ".join(f"{v} {g or 'core'}/{r}" for g, r, v in sorted(grants)) or "none"


__all__ = [
    "NEVER_SEEN_IN_AUDIT",
    "RARELY_USED",
    "ROLE_FILES",
    "Grant",
    "describe",
    "forbidden",
    "grant_of",
    "granted",
    "rules_of",
    "used",
]
