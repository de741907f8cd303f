"""The children of an OpNode: StatefulSet (op-geth + op-node in one pod), Services, PDB, NetworkPolicy.

Invariants:
- Names: StatefulSet and ClusterIP Service `<name>`, headless Service `<name>-headless`, P2P Services
  `<name>-p2p-<ordinal>` (one per pod, selecting it by pod name, so each pod keeps its identity).
- The engine API port is in no Service and no NetworkPolicy rule: it listens on the pod's loopback only.
- The volumeClaimTemplate comes from spec.opGeth.storage; claims are retained when the OpNode is deleted or
  scaled down (chain data is expensive to rebuild).
- The pod template carries the config hash (see meta.py); the StatefulSet rolls when it changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from opstack.api.v1alpha1 import OpNodeSpec, ResourceRequirements
from opstack.components import opgeth, opnode
from opstack.components.common import VOL_DATA, NetworkFacts
from opstack.components.keys import p2p_multiaddr
from opstack.components.opnode import OpNodeInputs
from opstack.components.versions import node_images

from .meta import (
    LABEL_POD_NAME,
    Owner,
    object_meta,
    selector_labels,
    stamp_config_hash,
    standard_labels,
)
from .pod import container, merge_volumes, pod_spec, tmp_volume

APP: Final = "op-node"
# op-geth flushes its in-memory state on SIGTERM; with large caches that takes minutes.
TERMINATION_GRACE_SECONDS: Final = 300


def statefulset_name(name: str) -> str:
    return name


def service_name(name: str) -> str:
    return name


def headless_service_name(name: str) -> str:
    return f"{name}-headless"


def p2p_service_name(name: str, ordinal: int) -> str:
    return f"{name}-p2p-{ordinal}"


def pod_host(name: str, namespace: str, ordinal: int = 0) -> str:
    """Stable DNS name of one pod of OpNode `name` (through the headless Service)."""
    return f"{name}-{ordinal}.{headless_service_name(name)}.{namespace}.svc"


def static_peer(name: str, namespace: str, spec: OpNodeSpec, peer_id: str, ordinal: int = 0) -> str:
    """The --p2p.static multiaddr of pod `ordinal` of OpNode `name` (e.g. a replica's sequencer)."""
    return p2p_multiaddr(pod_host(name, namespace, ordinal), spec.op_node.p2p.listen_port, peer_id)


def _labels(owner: Owner, spec: OpNodeSpec, network: NetworkFacts) -> dict[str, str]:
    return standard_labels(APP, owner, spec.node_type, network.name)


def _resources(spec: OpNodeSpec, network: NetworkFacts, which: str) -> ResourceRequirements | None:
    own = getattr(spec.resources, which) if spec.resources is not None else None
    return own if own is not None else network.resources


def opnode_pod_template(
    owner: Owner,
    spec: OpNodeSpec,
    network: NetworkFacts,
    inputs: OpNodeInputs,
    referenced: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The pod template of an OpNode's StatefulSet, config hash included."""
    node_image, geth_image = node_images(spec.images.op_node, spec.images.op_geth)
    geth_inputs = opgeth.GethInputs(jwt_secret=inputs.secrets.jwt, sequencer_http=inputs.sequencer_http)
    geth = opgeth.op_geth_container(spec, network, geth_inputs, geth_image)
    node = opnode.op_node_container(spec, network, inputs, node_image)
    init = opgeth.geth_init_container(spec, network, geth_image)
    security = network.security
    pull = spec.images.pull_policy
    geth_res = _resources(spec, network, "op_geth")
    containers = [
        container(geth, pull_policy=pull, resources=geth_res, security=security),
        container(node, pull_policy=pull, resources=_resources(spec, network, "op_node"), security=security),
    ]
    inits = [container(init, pull_policy=pull, resources=geth_res, security=security)] if init else []
    volumes = merge_volumes(
        [geth.volumes, node.volumes, init.volumes if init else [], [tmp_volume()]],
    )
    template: dict[str, Any] = {
        "metadata": {"labels": _labels(owner, spec, network)},
        "spec": pod_spec(
            containers,
            volumes,
            security=security,
            termination_grace_seconds=TERMINATION_GRACE_SECONDS,
            init_containers=inits,
        ),
    }
    stamp_config_hash(template, referenced)
    return template


def opnode_statefulset(
    owner: Owner,
    spec: OpNodeSpec,
    network: NetworkFacts,
    inputs: OpNodeInputs,
    referenced: Mapping[str, str] | None = None,
    *,
    claim_storage: str | None = None,
) -> dict[str, Any]:
    """The StatefulSet of an OpNode. `referenced` maps "Kind/name" of every ConfigMap/Secret the pod reads
    to its resourceVersion (or a digest), so a change there rolls the pods. volumeClaimTemplates are
    immutable: for an existing StatefulSet pass its current claim size as `claim_storage` (and grow the
    PVCs themselves when spec.opGeth.storage.size grows)."""
    labels = _labels(owner, spec, network)
    storage = spec.op_geth.storage
    claim_spec: dict[str, Any] = {
        "accessModes": [storage.access_mode],
        "resources": {"requests": {"storage": claim_storage or storage.size}},
    }
    if storage.storage_class is not None:
        claim_spec["storageClassName"] = storage.storage_class
    claim_spec["volumeMode"] = "Filesystem"
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": object_meta(statefulset_name(owner.name), owner, labels),
        "spec": {
            "replicas": spec.replicas,
            "serviceName": headless_service_name(owner.name),
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": selector_labels(APP, owner)},
            "updateStrategy": {"type": "RollingUpdate"},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": opnode_pod_template(owner, spec, network, inputs, referenced),
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": VOL_DATA, "labels": selector_labels(APP, owner)},
                    "spec": claim_spec,
                }
            ],
        },
    }


def _port(name: str, port: int, protocol: str = "TCP", target: str | None = None) -> dict[str, Any]:
    return {"name": name, "port": port, "protocol": protocol, "targetPort": target or name}


def _service_ports(spec: OpNodeSpec, network: NetworkFacts) -> list[dict[str, Any]]:
    g, n = spec.op_geth, spec.op_node
    ports = []
    if g.networking.http.enabled:
        ports.append(_port(opgeth.PORT_HTTP, g.networking.http.port))
    if g.networking.ws.enabled:
        ports.append(_port(opgeth.PORT_WS, g.networking.ws.port))
    ports.append(_port(opnode.PORT_RPC, n.rpc.port))
    if network.metrics_enabled if g.metrics.enabled is None else g.metrics.enabled:
        ports.append(_port(opgeth.PORT_METRICS, g.metrics.port))
    if network.metrics_enabled if n.metrics.enabled is None else n.metrics.enabled:
        ports.append(_port(opnode.PORT_METRICS, n.metrics.port))
    return ports


def _p2p_ports(spec: OpNodeSpec) -> list[dict[str, Any]]:
    ports = []
    if spec.op_node.p2p.enabled:
        p = spec.op_node.p2p.listen_port
        ports.append(_port(opnode.PORT_P2P, p))
        ports.append(_port(opnode.PORT_P2P_UDP, p, "UDP"))
    gp = spec.op_geth.networking.p2p.port
    ports.append(_port(opgeth.PORT_P2P, gp))
    ports.append(_port(opgeth.PORT_P2P_UDP, gp, "UDP"))
    return ports


def opnode_service(owner: Owner, spec: OpNodeSpec, network: NetworkFacts) -> dict[str, Any]:
    """The Service in front of RPC, WebSocket, op-node RPC and metrics (type from spec.service.type)."""
    svc: dict[str, Any] = {"type": spec.service.type}
    svc["selector"] = selector_labels(APP, owner)
    svc["ports"] = _service_ports(spec, network)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(
            service_name(owner.name), owner, _labels(owner, spec, network), spec.service.annotations
        ),
        "spec": svc,
    }


def opnode_headless_service(owner: Owner, spec: OpNodeSpec, network: NetworkFacts) -> dict[str, Any]:
    """The StatefulSet's governing Service: stable pod DNS names (also for static P2P peers), published
    before the pods are ready so peers can find a syncing node."""
    ports = _service_ports(spec, network) + _p2p_ports(spec)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(headless_service_name(owner.name), owner, _labels(owner, spec, network)),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": selector_labels(APP, owner),
            "ports": ports,
        },
    }


def opnode_p2p_services(owner: Owner, spec: OpNodeSpec, network: NetworkFacts) -> list[dict[str, Any]]:
    """One NodePort/LoadBalancer Service per pod exposing op-node's and op-geth's P2P ports (TCP and UDP);
    empty unless spec.service.p2p.enabled."""
    p2p = spec.service.p2p
    if not p2p.enabled:
        return []
    out = []
    for ordinal in range(spec.replicas):
        selector = {
            **selector_labels(APP, owner),
            LABEL_POD_NAME: f"{statefulset_name(owner.name)}-{ordinal}",
        }
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": object_meta(
                    p2p_service_name(owner.name, ordinal),
                    owner,
                    _labels(owner, spec, network),
                    p2p.annotations,
                ),
                "spec": {
                    "type": p2p.type,
                    # Keep the client's address (peer scoring and bans work on it) and skip a second hop.
                    "externalTrafficPolicy": "Local",
                    "selector": selector,
                    "ports": _p2p_ports(spec),
                },
            }
        )
    return out


def opnode_pdb(owner: Owner, spec: OpNodeSpec, network: NetworkFacts) -> dict[str, Any] | None:
    """A PodDisruptionBudget (one pod at a time) for replicated replicas; None for a single pod or a
    sequencer, where a budget could only block node drains."""
    if spec.node_type == "sequencer" or spec.replicas <= 1:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": object_meta(statefulset_name(owner.name), owner, _labels(owner, spec, network)),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(APP, owner)}},
    }


def opnode_network_policy(
    owner: Owner, spec: OpNodeSpec, network: NetworkFacts, allow_namespaces: Sequence[str] = ()
) -> dict[str, Any]:
    """Ingress policy: P2P ports from anywhere; RPC, WebSocket and metrics from this namespace and from
    `allow_namespaces` (e.g. the operator's, to read node status, and monitoring)."""
    return network_policy(
        owner,
        selector_labels(APP, owner),
        _labels(owner, spec, network),
        open_ports=_p2p_ports(spec),
        internal_ports=_service_ports(spec, network),
        allow_namespaces=allow_namespaces,
    )


def network_policy(
    owner: Owner,
    pod_labels: Mapping[str, str],
    labels: Mapping[str, str],
    *,
    open_ports: Sequence[Mapping[str, Any]],
    internal_ports: Sequence[Mapping[str, Any]],
    allow_namespaces: Sequence[str] = (),
) -> dict[str, Any]:
    """A NetworkPolicy selecting `pod_labels`: `open_ports` from anywhere, `internal_ports` from pods of
    the same namespace and of `allow_namespaces`."""
    rules: list[dict[str, Any]] = []
    if open_ports:
        rules.append({"ports": [{"protocol": p["protocol"], "port": p["port"]} for p in open_ports]})
    if internal_ports:
        peers: list[dict[str, Any]] = [{"podSelector": {}}]
        peers += [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
            for ns in sorted(set(allow_namespaces))
        ]
        rules.append(
            {"from": peers, "ports": [{"protocol": p["protocol"], "port": p["port"]} for p in internal_ports]}
        )
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": object_meta(owner.name, owner, labels),
        "spec": {
            "podSelector": {"matchLabels": dict(pod_labels)},
            "policyTypes": ["Ingress"],
            "ingress": rules,
        },
    }


__all__ = [
    "APP",
    "TERMINATION_GRACE_SECONDS",
    "headless_service_name",
    "network_policy",
    "opnode_headless_service",
    "opnode_network_policy",
    "opnode_p2p_services",
    "opnode_pdb",
    "opnode_pod_template",
    "opnode_service",
    "opnode_statefulset",
    "p2p_service_name",
    "pod_host",
    "service_name",
    "statefulset_name",
    "static_peer",
]
