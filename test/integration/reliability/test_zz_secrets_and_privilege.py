"""After the scenarios of this folder (the file name sorts it last), the full sample devnet among them: no
key material generated or referenced by any of them (signer keys, JWTs, P2P keys) appears in a log line of
any operator, an Event, a status, an annotation or a container's args, command or env; every request the
operators made (as the audit log saw it) is granted by config/rbac/role.yaml or the leader-election Role,
with no 403; and, when the full devnet ran, the roles grant nothing that went unused but what no audit log
can show (`opstack.testing.rbac.NEVER_SEEN_IN_AUDIT`)."""

from __future__ import annotations

from typing import Any

import pytest
from _reliability import EVIDENCE, ROOT, USER_PREFIX, audit_entries, manager_role, report, wait_for

from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.testing import rbac
from opstack.testing.envtest import ControlPlane
from opstack.testing.samples import SAMPLES, load

pytestmark = pytest.mark.integration


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
    allowed = rbac.granted(ROOT / "config" / "rbac")
    entries = list(audit_entries(control_plane, users))
    usage = rbac.used(entries)
    forbidden = rbac.forbidden(entries)
    assert forbidden == [], f"403s: {sorted(set(forbidden))[:10]}"
    outside = sorted(set(usage) - allowed)
    assert outside == [], f"requests outside the role: {outside}"

    # Secrets: read from the cache (list, watch), created only where the operator generates a key (an OpNode's
    # JWT or P2P key, owned by it); never updated, patched or deleted: a user's Secret is only ever read.
    secret_grants = {v for g, r, v in allowed if (g, r) == ("", "secrets")}
    assert secret_grants <= {"get", "list", "watch", "create"}, secret_grants
    secret_creates = [
        (e.get("objectRef") or {}).get("name", "")
        for e in entries
        if rbac.grant_of(e) == ("", "secrets", "create")
    ]
    assert all(n.endswith(("-jwt", "-p2p")) for n in secret_creates), sorted(set(secret_creates))

    unused = sorted(allowed - set(usage))
    report(
        "least privilege",
        operator_users=len(users),
        requests=len(entries),
        used=len(set(usage) & allowed),
        granted=len(allowed),
        unused=len(unused),
        secret_creates=len(secret_creates),
    )
    print("granted but not used in this run: " + rbac.describe(unused))
    if not EVIDENCE.full_devnet_users:
        pytest.skip("test_full_devnet did not run in this session: the role's unused grants are not judged")
    # After the full devnet, only what no audit log can show may be unused (each with its reason).
    unexplained = [g for g in unused if g not in rbac.NEVER_SEEN_IN_AUDIT]
    assert unexplained == [], (
        f"the role grants what no operator used: {rbac.describe(unexplained)}; remove it from "
        "opstack/controllers/*_rules.py and run `make manifests`, or exercise it in test_full_devnet.py"
    )


def test_finalizers_grants_are_needed_for_block_owner_deletion(
    control_plane: ControlPlane, admin: Client, namespace: str
) -> None:
    """The grants no audit log shows: `<kind>/finalizers update` is checked by the
    OwnerReferencesPermissionEnforcement admission plugin (on in the test control plane, as in OpenShift)
    when a child names its owner with blockOwnerDeletion, as every child the operator applies does. The
    role without them is refused for each kind; the generated role is admitted."""
    role = manager_role()
    finalizers = {r for rule in role["rules"] for r in rule["resources"] if r.endswith("/finalizers")}
    assert finalizers == {f"{kind}/finalizers" for kind in rbac.CR_KINDS}, finalizers
    owners = []
    for kind in rbac.CR_KINDS:
        path = sorted(SAMPLES.glob(f"optimism_v1alpha1_{kind.removesuffix('s')}_devnet*.yaml"))[0]
        obj = load(path)
        obj["metadata"]["namespace"] = namespace
        owners.append(admin.create(obj))

    def user_with(rules: list[dict[str, Any]], name: str) -> Client:
        cluster_role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": rules,
        }
        admin.apply(cluster_role, field_manager="reliability", force=True)
        admin.apply(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}],
            },
            field_manager="reliability",
            force=True,
        )
        client = Client.from_kubeconfig(str(control_plane.add_user(name)))
        # RBAC is cached in the API server: wait until the binding took effect.
        wait_for(lambda: client.list(GVK("", "v1", "ConfigMap"), namespace) is not None, 30, f"{name} bound")
        return client

    without = [
        {**rule, "resources": [r for r in rule["resources"] if not r.endswith("/finalizers")]}
        for rule in role["rules"]
    ]
    without = [rule for rule in without if rule["resources"]]
    cases = {
        "without-finalizers": user_with(without, f"{USER_PREFIX}no-finalizers"),
        "generated-role": user_with(role["rules"], f"{USER_PREFIX}finalizers"),
    }
    outcome: dict[str, list[str]] = {case: [] for case in cases}
    for case, client in cases.items():
        for owner in owners:
            child = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"{case}-{owner['kind'].lower()}",
                    "namespace": namespace,
                    "ownerReferences": [
                        {
                            "apiVersion": owner["apiVersion"],
                            "kind": owner["kind"],
                            "name": owner["metadata"]["name"],
                            "uid": owner["metadata"]["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
            }
            try:
                client.apply(child, field_manager="reliability", force=True)
                outcome[case].append(f"{owner['kind']}: admitted")
            except (errors.Forbidden, errors.Invalid) as exc:
                assert "blockOwnerDeletion" in str(exc), exc
                outcome[case].append(f"{owner['kind']}: refused")
        client.close()
    report(
        "finalizers grants",
        refused_without=sum(o.endswith("refused") for o in outcome["without-finalizers"]),
        admitted_with=sum(o.endswith("admitted") for o in outcome["generated-role"]),
    )
    assert all(o.endswith("refused") for o in outcome["without-finalizers"]), outcome
    assert all(o.endswith("admitted") for o in outcome["generated-role"]), outcome
