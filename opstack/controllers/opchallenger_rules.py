"""RBAC rules of the OpChallenger controller (issue 8); the controller module imports this one."""

from __future__ import annotations

from opstack.controllers.rbac import APPLIED, CACHED, EVENTS, Rule, declare, own_kind

RULES = declare(
    "opchallenger",
    *own_kind("opchallengers"),
    # The network, the sequencer OpNode, and the other signers of the network (one signer address, one user).
    Rule.of(
        "optimism.optimism.io",
        ("optimismnetworks", "opnodes", "opbatchers", "opproposers", "opchallengers"),
        CACHED,
    ),
    # Rollup config and genesis of custom chains are mounted from the network's ConfigMaps.
    Rule.of("", "configmaps", CACHED),
    # The workload (a StatefulSet with a data volume) and its metrics service.
    Rule.of("apps", "statefulsets", APPLIED),
    Rule.of("", "services", APPLIED),
    Rule.of("", "secrets", CACHED),
    Rule.of("", "pods", CACHED),
    *EVENTS,
)
