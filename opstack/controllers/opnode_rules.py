"""RBAC rules of the OpNode controller (issue 7); the controller module imports this one."""

from __future__ import annotations

from opstack.controllers.rbac import ALL, EVENTS, READ, Rule, declare, own_kind

RULES = declare(
    "opnode",
    *own_kind("opnodes"),
    # The network it belongs to (and its rollup config / genesis ConfigMaps, L1 URL Secrets).
    Rule.of("optimism.optimism.io", "optimismnetworks", READ),
    Rule.of("", "configmaps", READ),
    # The workload and its services (server-side apply is a patch; stale P2P Services are deleted).
    Rule.of("apps", "statefulsets", ALL),
    Rule.of("", "services", ALL),
    # A disruption budget for replicated replicas (deleted when no longer wanted).
    Rule.of("policy", "poddisruptionbudgets", ALL),
    # Generated JWT and P2P keys are created once (never rewritten); referenced ones are read and watched.
    Rule.of("", "secrets", (*READ, "create")),
    # Status from the pods.
    Rule.of("", "pods", READ),
    *EVENTS,
)
