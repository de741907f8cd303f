"""RBAC rules of the OpNode controller (issue 7); the controller module imports this one."""

from __future__ import annotations

from opstack.controllers.rbac import ALL, EVENTS, READ, Rule, declare, own_kind

RULES = declare(
    "opnode",
    *own_kind("opnodes"),
    # The network it belongs to (and its rollup config / genesis ConfigMaps).
    Rule.of("optimism.optimism.io", "optimismnetworks", READ),
    Rule.of("", "configmaps", READ),
    # The workload and its services.
    Rule.of("apps", "statefulsets", ALL),
    Rule.of("", "services", ALL),
    # Generated JWT and P2P keys are owned Secrets; referenced ones are read and watched.
    Rule.of("", "secrets", ALL),
    # Status from the pods; volume expansion patches the claims of the StatefulSet.
    Rule.of("", "pods", READ),
    Rule.of("", "persistentvolumeclaims", (*READ, "update", "patch")),
    *EVENTS,
)
