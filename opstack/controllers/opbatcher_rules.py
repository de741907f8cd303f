"""RBAC rules of the OpBatcher controller (issue 8); the controller module imports this one."""

from __future__ import annotations

from opstack.controllers.rbac import APPLIED, CACHED, EVENTS, Rule, declare, own_kind

RULES = declare(
    "opbatcher",
    *own_kind("opbatchers"),
    # The network, the sequencer OpNode, and the other signers of the network (one signer address, one user).
    Rule.of(
        "optimism.optimism.io",
        ("optimismnetworks", "opnodes", "opbatchers", "opproposers", "opchallengers"),
        CACHED,
    ),
    Rule.of("", "configmaps", CACHED),
    # The workload (one replica, Recreate) and its RPC/metrics service.
    Rule.of("apps", "deployments", APPLIED),
    Rule.of("", "services", APPLIED),
    # The key Secret is read (format check, address derivation) and watched; never written.
    Rule.of("", "secrets", CACHED),
    Rule.of("", "pods", CACHED),
    *EVENTS,
)
