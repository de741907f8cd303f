"""RBAC rules declared next to the controllers that need them (the counterpart of Kubebuilder's
`// +kubebuilder:rbac` markers).

A controller module declares what it needs with `declare("opnode", Rule(...), ...)` (or decorates its
reconciler class with `@requires(...)`); `python -m opstack.api.generate` imports every module of
`opstack.controllers`, merges all declarations and writes `config/rbac/role.yaml`. Nothing else grants the
manager anything, so a permission missing here is a 403 at run time, and a permission here that nothing uses
is a finding of the least-privilege audit.

Pure: declarations are data; no I/O, no runtime imports.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete")
ALL = READ + WRITE
EVENT_VERBS = ("create", "patch")
# Reads served by the informer cache: a list, then a watch; no GET reaches the API server.
CACHED = ("list", "watch")
# Children kept by server-side apply: an apply is a PATCH, and one that creates the object is also
# authorized as `create`; `delete` for children no longer wanted. Never `update`: nothing PUTs them.
APPLIED = (*CACHED, "create", "patch", "delete")

_VERB_ORDER = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


@dataclass(frozen=True)
class Rule:
    """One policy rule: verbs on resources of API groups ("" is the core group)."""

    groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    resource_names: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        group: str,
        resources: str | Iterable[str],
        verbs: Iterable[str],
        resource_names: Iterable[str] = (),
    ) -> Rule:
        res = (resources,) if isinstance(resources, str) else tuple(resources)
        return cls((group,), res, tuple(verbs), tuple(resource_names))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"apiGroups": list(self.groups), "resources": list(self.resources)}
        if self.resource_names:
            out["resourceNames"] = list(self.resource_names)
        out["verbs"] = list(self.verbs)
        return out


_DECLARED: dict[str, tuple[Rule, ...]] = {}


def declare(controller: str, *rules: Rule) -> tuple[Rule, ...]:
    """Record the rules `controller` needs; declaring the same controller again adds to its rules."""
    _DECLARED[controller] = _DECLARED.get(controller, ()) + tuple(rules)
    return rules


T = TypeVar("T")


def requires(*rules: Rule) -> Callable[[T], T]:
    """Class decorator: `@requires(Rule.of("apps", "statefulsets", ALL))` on a reconciler."""

    def mark(cls: T) -> T:
        declare(getattr(cls, "__name__", str(cls)), *rules)
        return cls

    return mark


def declared() -> dict[str, tuple[Rule, ...]]:
    """Every declaration made so far, by controller."""
    return dict(_DECLARED)


def load_declarations(package: str = "opstack.controllers") -> dict[str, tuple[Rule, ...]]:
    """Import every module of `package` (so that their declarations run) and return all declarations."""
    pkg = importlib.import_module(package)
    for mod in pkgutil.iter_modules(pkg.__path__, prefix=f"{package}."):
        importlib.import_module(mod.name)
    return declared()


def merge(rules: Iterable[Rule]) -> list[Rule]:
    """Merge rules like controller-gen: one rule per (group, verbs) listing all resources with exactly those
    verbs, in a stable order, so that the generated role reads well and diffs cleanly."""
    verbs_of: dict[tuple[str, str, tuple[str, ...]], set[str]] = {}
    for rule in rules:
        for group in rule.groups:
            for resource in rule.resources:
                key = (group, resource, tuple(sorted(rule.resource_names)))
                verbs_of.setdefault(key, set()).update(rule.verbs)
    grouped: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for (group, resource, names), verbs in verbs_of.items():
        ordered = tuple(sorted(verbs, key=lambda v: (_VERB_ORDER.index(v) if v in _VERB_ORDER else 99, v)))
        grouped.setdefault((group, ordered, names), []).append(resource)
    return [
        Rule((group,), tuple(sorted(resources)), verbs, names)
        for (group, verbs, names), resources in sorted(
            grouped.items(), key=lambda kv: (kv[0][0], sorted(kv[1]))
        )
    ]


# What the manager itself needs in its own namespace, whatever controllers run: the leader-election Lease
# (coordination.k8s.io/v1) and Events about it.
LEADER_ELECTION_RULES = (
    # get/update the Lease, create it once; list+watch while waiting for it (the elector never deletes it).
    Rule.of("coordination.k8s.io", "leases", ("get", "list", "watch", "create", "update")),
    Rule.of("", "events", EVENT_VERBS),
)


def own_kind(plural: str) -> tuple[Rule, ...]:
    """What every controller needs on the kind it reconciles: read it from the cache, write its status
    subresource (a PUT with resourceVersion), and set blockOwnerDeletion on children (the finalizers
    subresource, which OwnerReferencesPermissionEnforcement checks). A controller that keeps a finalizer adds
    `patch` on its kind itself. The least-privilege test (test/integration/ship/test_rbac.py) checks these
    against the API server's audit log."""
    return (
        Rule.of("optimism.optimism.io", plural, CACHED),
        Rule.of("optimism.optimism.io", f"{plural}/status", ("update",)),
        Rule.of("optimism.optimism.io", f"{plural}/finalizers", ("update",)),
    )


# The Event recorder writes core/v1 Events (create; patch when it aggregates a repeat).
EVENTS = (Rule.of("", "events", EVENT_VERBS),)
