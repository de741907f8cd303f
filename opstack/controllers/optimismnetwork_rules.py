"""RBAC rules of the OptimismNetwork controller (issue 6); the controller module imports this one."""

from __future__ import annotations

from opstack.controllers.rbac import APPLIED, CACHED, EVENTS, Rule, declare, own_kind

RULES = declare(
    "optimismnetwork",
    *own_kind("optimismnetworks"),
    # Its finalizer, added and removed with a metadata patch.
    Rule.of("optimism.optimism.io", "optimismnetworks", ("patch",)),
    # The finalizer keeps a network that components still reference; it lists them to name them.
    Rule.of("optimism.optimism.io", ("opnodes", "opbatchers", "opproposers", "opchallengers"), CACHED),
    # Rollup config and genesis: inline -> a ConfigMap the network owns; configMapRef -> read and watched.
    Rule.of("", "configmaps", APPLIED),
    # l1RpcUrlSecretRef / l1BeaconUrlSecretRef: read only.
    Rule.of("", "secrets", CACHED),
    *EVENTS,
)
