"""The OpNode benchmark's workload: the OptimismNetwork, the OpNodes, and their children as opstack's builders
render them (the same calls, in the same order, as `opstack.controllers.opnode`).

Used by the driver (`bench/bench_opnode.py`), which pre-renders every OpNode's children for the
controller-runtime peer and the floor, and by the kopf peer, which renders in process like opstack does.

The network is a registry chain (op-sepolia: the binaries bring their own rollup config, so no ConfigMaps are
mounted) with `discoveryMethod: manual`: the network controller checks L1 (an anvil with chain id 11155111)
and that each address has code (the driver puts code there with `anvil_setCode`). No RPC is in the OpNode
loop: an OpNode's node RPC is read only once its pods are ready, and this control plane runs no pods.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from opstack.api.v1alpha1 import OpNodeSpec, OptimismNetworkSpec, OptimismNetworkStatus
from opstack.chain.wellknown import well_known
from opstack.components import keys
from opstack.components.common import NetworkFacts, SecretRef, resolve_network
from opstack.components.opnode import JWT_SECRET_KEY, OpNodeInputs, node_secrets
from opstack.resources.config import generated_secret, secret_value
from opstack.resources.meta import ANNOTATION_CONFIG_HASH, Owner
from opstack.resources.opnode import APP, opnode_headless_service, opnode_service, opnode_statefulset

GROUP_VERSION = "optimism.optimism.io/v1alpha1"
NETWORK_NAME = "bench-net"
L1_CHAIN_ID = 11155111
STAMP = "bench.opstack.io/stamp"  # the driver's write time (unix seconds), logged at reconcile start
OWNER_UID = "OWNER-UID"  # placeholder for the OpNode's uid in pre-rendered children

# Manual contract addresses; the driver deploys a byte of code at each.
CONTRACTS = {
    "systemConfigAddr": "0x034edD2A225f7f429A63E0f1D2084B9E0A93b538",
    "optimismPortalAddr": "0x16Fc5058F25648194471939df75CF27A2fdC48BC",
    "l1CrossDomainMessengerAddr": "0x58Cc85b8D04EA49cC6DBd3CbFFd00B4B8D6cb3ef",
    "l1StandardBridgeAddr": "0xFBb0621E0B23b5478B630BD55a5f21f67730B0F1",
    "disputeGameFactoryAddr": "0x05F9613aDB30026FFd634f38e5C4dFd30a197Fa1",
}

# The field the change phase sets on every OpNode (it lands in the op-node container of the pod template).
CHANGE_PATH = ("resources", "opNode", "requests", "cpu")
CPU_BEFORE, CPU_AFTER = "100m", "150m"


def network_manifest(namespace: str, l1_url: str) -> dict[str, Any]:
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "OptimismNetwork",
        "metadata": {"name": NETWORK_NAME, "namespace": namespace},
        "spec": {
            "networkName": "op-sepolia",
            "chainID": 11155420,
            "l1ChainID": L1_CHAIN_ID,
            "l1RpcUrl": l1_url,
            "l1RpcTimeout": "5s",
            "contractAddresses": {"discoveryMethod": "manual", "cacheTimeout": "24h", **CONTRACTS},
        },
    }


def opnode_manifest(namespace: str, name: str, stamp: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if stamp is not None:
        meta["annotations"] = {STAMP: f"{stamp:.6f}"}
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "OpNode",
        "metadata": meta,
        "spec": {
            "optimismNetworkRef": {"name": NETWORK_NAME},
            "nodeType": "replica",
            "opGeth": {"storage": {"size": "10Gi"}},
            "resources": {"opNode": {"requests": {"cpu": CPU_BEFORE}}},
        },
    }


def change_patch(stamp: float) -> dict[str, Any]:
    """The merge patch of the change phase (the stamp rides along, for the latency log)."""
    return {
        "metadata": {"annotations": {STAMP: f"{stamp:.6f}"}},
        "spec": {"resources": {"opNode": {"requests": {"cpu": CPU_AFTER}}}},
    }


def changed(sts: Mapping[str, Any]) -> bool:
    """Whether a StatefulSet carries the change phase's template."""
    for c in sts.get("spec", {}).get("template", {}).get("spec", {}).get("containers", ()):
        if c.get("name") == "op-node":
            return bool(((c.get("resources") or {}).get("requests") or {}).get("cpu") == CPU_AFTER)
    return False


def network_facts(network: Mapping[str, Any]) -> NetworkFacts:
    """What the OpNode controller derives from the network (`OpNodeReconciler._network`)."""
    spec = OptimismNetworkSpec.model_validate(network.get("spec") or {})
    status = OptimismNetworkStatus.model_validate(network.get("status") or {})
    chain = well_known(spec.network_name, spec.chain_id) if spec.network_name else None
    return resolve_network(
        str(network["metadata"]["name"]),
        spec,
        status,
        public_sequencer_url=chain.sequencer_rpc if chain is not None else None,
    )


def value_digest(kind: str, name: str, key: str, value: bytes) -> str:
    # = opstack.controllers.opnode.value_digest (not imported: the peers must not load the controller)
    return hashlib.sha256(f"{kind}/{name}/{key}\0".encode() + value).hexdigest()


def render(
    node: Mapping[str, Any],
    facts: NetworkFacts,
    existing_secret: Callable[[str], Mapping[str, Any] | None],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(Secrets to create, objects to apply in order) for one OpNode, as the OpNode controller renders them.

    `existing_secret(name)` returns the Secret already there (its value is kept and digested into the
    template's config hash) or None (a fresh key is generated and the Secret is to be created)."""
    owner = Owner.of(node)
    spec = OpNodeSpec.model_validate(node.get("spec") or {})
    secrets = node_secrets(owner.name, spec)
    to_create: list[dict[str, Any]] = []
    referenced: dict[str, str] = {}
    wanted: list[tuple[SecretRef, Callable[[], str], str]] = [
        (secrets.jwt, keys.generate_jwt_secret, "engine-jwt")
    ]
    if secrets.p2p is not None:
        wanted.append((secrets.p2p, keys.generate_p2p_key, "p2p-key"))
    for ref, generate, component in wanted:
        secret = existing_secret(ref.name)
        if secret is None:
            secret = generated_secret(
                owner, ref.name, {ref.key: generate()}, app=APP, component=component, network=facts.name
            )
            to_create.append(secret)
        value = secret_value(secret, ref.key)
        assert value is not None, f"Secret {ref.name} has no key {ref.key}"
        referenced[f"Secret/{ref.name}/{ref.key}"] = value_digest("Secret", ref.name, ref.key, value)
    sequencer_http = facts.public_sequencer_url if spec.node_type == "replica" else None
    if spec.op_geth.rollup.sequencer_http is not None:
        sequencer_http = None
    inputs = OpNodeInputs(secrets=secrets, sequencer_http=sequencer_http)
    apply = [
        opnode_service(owner, spec, facts),
        opnode_headless_service(owner, spec, facts),
        opnode_statefulset(owner, spec, facts, inputs, referenced),
    ]
    return to_create, apply


def _subset(desired: Any, actual: Any) -> bool:
    if isinstance(desired, Mapping):
        return isinstance(actual, Mapping) and all(
            k in actual and _subset(v, actual[k]) for k, v in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(actual, list)
            and len(desired) == len(actual)
            and all(_subset(d, a) for d, a in zip(desired, actual, strict=True))
        )
    return bool(desired == actual)


def _template_hash(obj: Mapping[str, Any]) -> Any:
    template = (obj.get("spec") or {}).get("template") or {}
    return ((template.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_CONFIG_HASH)


def up_to_date(desired: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """= opstack.controllers.opnode.child_up_to_date (copied: the peers must not load the controller)."""
    if desired.get("kind") == "StatefulSet":
        if _template_hash(desired) != _template_hash(current):
            return False
        spec = {k: v for k, v in desired["spec"].items() if k not in ("template", "volumeClaimTemplates")}
        rest = {k: v for k, v in desired.items() if k != "spec"}
        return _subset(rest, current) and _subset(spec, current.get("spec") or {})
    return _subset(desired, current)


def render_key(node: Mapping[str, Any]) -> str:
    """Which pre-rendered variant an OpNode's spec selects: the value of the changed field (the Go peer
    reads the same path)."""
    value: Any = node.get("spec") or {}
    for part in CHANGE_PATH:
        value = (value or {}).get(part)
    return str(value)


def ready_condition(sts: Mapping[str, Any] | None, generation: int) -> dict[str, Any]:
    """Ready from the StatefulSet: the benchmark's definition for the peers (the same in the Go peer).
    opstack's own controller writes its richer status; the driver waits for observedGeneration only."""
    cond: dict[str, Any] = {"type": "Ready", "observedGeneration": generation}
    if sts is None:
        return cond | {
            "status": "False",
            "reason": "NotCreated",
            "message": "the StatefulSet is not created yet",
        }
    want = int((sts.get("spec") or {}).get("replicas", 1))
    status = sts.get("status") or {}
    ready = int(status.get("readyReplicas") or 0)
    if ready >= want and status.get("observedGeneration") == (sts.get("metadata") or {}).get("generation"):
        cond |= {"status": "True", "reason": "AllReplicasReady"}
    else:
        cond |= {"status": "False", "reason": "PodsNotReady"}
    return cond | {"message": f"{ready}/{want} pods ready"}


__all__ = [
    "CHANGE_PATH",
    "JWT_SECRET_KEY",
    "NETWORK_NAME",
    "OWNER_UID",
    "STAMP",
    "change_patch",
    "changed",
    "network_facts",
    "network_manifest",
    "opnode_manifest",
    "ready_condition",
    "render",
    "render_key",
    "up_to_date",
]
