"""RBAC rules of the OpProposer controller (issue 8); the controller module imports this one."""

from __future__ import annotations

from opstack.controllers.rbac import ALL, EVENTS, READ, Rule, declare, own_kind

RULES = declare(
    "opproposer",
    *own_kind("opproposers"),
    # The network, the sequencer OpNode, and the other signers of the network (one signer address, one user).
    Rule.of(
        "optimism.optimism.io",
        ("optimismnetworks", "opnodes", "opbatchers", "opproposers", "opchallengers"),
        READ,
    ),
    Rule.of("", "configmaps", READ),
    # The workload (one replica, Recreate) and its RPC/metrics service.
    Rule.of("apps", "deployments", ALL),
    Rule.of("", "services", ALL),
    # The key Secret is read (format check, address derivation) and watched; never written.
    Rule.of("", "secrets", READ),
    Rule.of("", "pods", READ),
    *EVENTS,
)
