"""RBAC declared next to the controllers, merged into the manager's ClusterRole."""

from __future__ import annotations

from typing import Any

import yaml

from opstack.api import generate
from opstack.controllers import rbac


def role() -> dict[str, Any]:
    text = generate.render()[generate.RBAC_DIR / "role.yaml"]
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def allowed(group: str, resource: str) -> set[str]:
    verbs: set[str] = set()
    for rule in role()["rules"]:
        if group in rule["apiGroups"] and resource in rule["resources"]:
            verbs |= set(rule["verbs"])
    return verbs


def test_each_controller_declares_its_rules() -> None:
    declared = rbac.load_declarations()
    assert {"optimismnetwork", "opnode", "opbatcher", "opproposer", "opchallenger"} <= set(declared)


def test_manager_role_is_the_union_of_the_declarations() -> None:
    assert role()["metadata"]["name"] == "opstack-manager-role"
    for kind in ("optimismnetworks", "opnodes", "opbatchers", "opproposers", "opchallengers"):
        # Cached reads only; the network alone patches itself (its finalizer). Least privilege is checked
        # against the API server's audit log in test/integration/ship/test_rbac.py.
        own = {"list", "watch", "patch"} if kind == "optimismnetworks" else {"list", "watch"}
        assert allowed("optimism.optimism.io", kind) == own
        assert allowed("optimism.optimism.io", f"{kind}/status") == {"update"}
        assert allowed("optimism.optimism.io", f"{kind}/finalizers") == {"update"}
    assert allowed("apps", "statefulsets") == set(rbac.APPLIED)
    assert allowed("apps", "deployments") == set(rbac.APPLIED)
    assert allowed("", "persistentvolumeclaims") == set()
    # Generated JWT and P2P keys are created once and never rewritten; referenced ones are read.
    assert allowed("", "secrets") == {"get", "list", "watch", "create"}
    assert allowed("", "events") == {"create", "patch"}
    assert allowed("", "nodes") == set()
    assert "deletecollection" not in {v for r in role()["rules"] for v in r["verbs"]}


def test_merge_groups_resources_with_equal_verbs() -> None:
    merged = rbac.merge(
        [
            rbac.Rule.of("apps", "statefulsets", ("get",)),
            rbac.Rule.of("apps", "statefulsets", ("list", "get")),
            rbac.Rule.of("apps", "deployments", ("get", "list")),
            rbac.Rule.of("", "pods", ("watch",)),
        ]
    )
    assert [r.to_dict() for r in merged] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["watch"]},
        {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": ["get", "list"]},
    ]


def test_requires_decorator_declares_for_the_class() -> None:
    @rbac.requires(rbac.Rule.of("batch", "jobs", rbac.READ))
    class FakeReconciler:
        pass

    assert rbac.declared()["FakeReconciler"] == (rbac.Rule.of("batch", "jobs", rbac.READ),)


def test_leader_election_and_bindings() -> None:
    files = generate.render()
    le = yaml.safe_load(files[generate.RBAC_DIR / "leader_election_role.yaml"])
    assert le["kind"] == "Role" and le["metadata"]["namespace"] == "opstack-system"
    assert any("leases" in r["resources"] and "coordination.k8s.io" in r["apiGroups"] for r in le["rules"])
    binding = yaml.safe_load(files[generate.RBAC_DIR / "role_binding.yaml"])
    assert binding["roleRef"]["name"] == "opstack-manager-role"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "opstack-controller-manager", "namespace": "opstack-system"}
    ]
    kust = yaml.safe_load(files[generate.RBAC_DIR / "kustomization.yaml"])
    for name in kust["resources"]:
        assert generate.RBAC_DIR / name in files
    editor = yaml.safe_load(files[generate.RBAC_DIR / "opnode_editor_role.yaml"])
    assert editor["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    viewer = yaml.safe_load(files[generate.RBAC_DIR / "opnode_viewer_role.yaml"])
    assert set(viewer["rules"][0]["verbs"]) == {"get", "list", "watch"}
