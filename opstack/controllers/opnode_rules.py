"""RBAC rules of the OpNode controller (issue 7); the controller module imports this one."""

from __future__ import annotations

from opstack.controllers.rbac import APPLIED, CACHED, EVENTS, READ, Rule, declare, own_kind

RULES = declare(
    "opnode",
    *own_kind("opnodes"),
    # The network it belongs to (and its rollup config / genesis ConfigMaps, L1 URL Secrets).
    Rule.of("optimism.optimism.io", "optimismnetworks", CACHED),
    Rule.of("", "configmaps", CACHED),
    # The workload and its services (server-side apply is a patch; stale P2P Services are deleted).
    Rule.of("apps", "statefulsets", APPLIED),
    Rule.of("", "services", APPLIED),
    # A disruption budget for replicated replicas (deleted when no longer wanted).
    Rule.of("policy", "poddisruptionbudgets", APPLIED),
    # Generated JWT and P2P keys are created once (never rewritten; read back with a GET when the create
    # finds one); referenced ones are read and watched.
    Rule.of("", "secrets", (*READ, "create")),
    # Status from the pods.
    Rule.of("", "pods", CACHED),
    *EVENTS,
)
