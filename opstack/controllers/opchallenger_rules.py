"""RBAC rules of the OpChallenger controller (issue 8); the controller module imports this one."""

from __future__ import annotations

from opstack.controllers.rbac import ALL, EVENTS, READ, Rule, declare, own_kind

RULES = declare(
    "opchallenger",
    *own_kind("opchallengers"),
    # The network, the sequencer OpNode, and the other signers of the network (one signer address, one user).
    Rule.of(
        "optimism.optimism.io",
        ("optimismnetworks", "opnodes", "opbatchers", "opproposers", "opchallengers"),
        READ,
    ),
    # Rollup config and genesis of custom chains are mounted from the network's ConfigMaps.
    Rule.of("", "configmaps", READ),
    # The workload (a StatefulSet with a data volume) and its metrics service.
    Rule.of("apps", "statefulsets", ALL),
    Rule.of("", "services", ALL),
    Rule.of("", "secrets", READ),
    Rule.of("", "pods", READ),
    Rule.of("", "persistentvolumeclaims", (*READ, "update", "patch")),
    *EVENTS,
)
