"""The children of OpBatcher, OpProposer and OpChallenger: their workloads and Services.

Invariants:
- Workload, Service and NetworkPolicy are named like the owner. Names of the operator's kinds must therefore
  be unique within a namespace across kinds (an OpNode and an OpChallenger both make a StatefulSet); the
  controller checks `meta.controlled_by` before applying and reports a conflict instead of taking over.
- Batcher and proposer are Deployments with exactly one replica and the Recreate strategy: never two pods
  signing with one key, not even during a rollout.
- The challenger is a StatefulSet of one pod with a data volume (spec.storage), retained on deletion.
- Pod templates carry the config hash (meta.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from opstack.api.v1alpha1 import OpBatcherSpec, OpChallengerSpec, OpProposerSpec, SigningComponentSpec
from opstack.components import batcher, challenger, proposer
from opstack.components.common import VOL_DATA, ContainerParts, NetworkFacts
from opstack.components.versions import Component, default_image

from .meta import Owner, object_meta, selector_labels, stamp_config_hash, standard_labels
from .opnode import network_policy
from .pod import container, merge_volumes, pod_spec, tmp_volume

TERMINATION_GRACE_SECONDS: Final = 60

APP_BATCHER: Final = "op-batcher"
APP_PROPOSER: Final = "op-proposer"
APP_CHALLENGER: Final = "op-challenger"


def workload_name(name: str, role: str) -> str:
    """The name of a signer's workload, Service and NetworkPolicy: the owner's name (`role` is one of
    batcher/proposer/challenger; kept in the signature so a naming change stays in one place)."""
    del role
    return name


def _template(
    app: str,
    owner: Owner,
    role: str,
    network: NetworkFacts,
    spec: SigningComponentSpec,
    parts: ContainerParts,
    referenced: Mapping[str, str] | None,
) -> dict[str, Any]:
    c = container(
        parts,
        pull_policy=spec.image_pull_policy,
        resources=spec.resources if spec.resources is not None else network.resources,
        security=network.security,
    )
    template: dict[str, Any] = {
        "metadata": {"labels": standard_labels(app, owner, role, network.name)},
        "spec": pod_spec(
            [c],
            merge_volumes([parts.volumes, [tmp_volume()]]),
            security=network.security,
            termination_grace_seconds=TERMINATION_GRACE_SECONDS,
        ),
    }
    stamp_config_hash(template, referenced)
    return template


def _deployment(
    app: str, owner: Owner, role: str, network: NetworkFacts, template: dict[str, Any]
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_meta(
            workload_name(owner.name, role), owner, standard_labels(app, owner, role, network.name)
        ),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector_labels(app, owner)},
            "template": template,
        },
    }


def _image(spec: SigningComponentSpec, component: Component) -> str:
    return spec.image or default_image(component)


def batcher_deployment(
    owner: Owner,
    spec: OpBatcherSpec,
    network: NetworkFacts,
    inputs: batcher.BatcherInputs,
    referenced: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The op-batcher Deployment (1 replica, Recreate)."""
    parts = batcher.batcher_container(spec, network, inputs, _image(spec, "op-batcher"))
    template = _template(APP_BATCHER, owner, "batcher", network, spec, parts, referenced)
    return _deployment(APP_BATCHER, owner, "batcher", network, template)


def proposer_deployment(
    owner: Owner,
    spec: OpProposerSpec,
    network: NetworkFacts,
    inputs: proposer.ProposerInputs,
    referenced: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The op-proposer Deployment (1 replica, Recreate)."""
    parts = proposer.proposer_container(spec, network, inputs, _image(spec, "op-proposer"))
    template = _template(APP_PROPOSER, owner, "proposer", network, spec, parts, referenced)
    return _deployment(APP_PROPOSER, owner, "proposer", network, template)


def challenger_statefulset(
    owner: Owner,
    spec: OpChallengerSpec,
    network: NetworkFacts,
    inputs: challenger.ChallengerInputs,
    referenced: Mapping[str, str] | None = None,
    *,
    claim_storage: str | None = None,
) -> dict[str, Any]:
    """The op-challenger StatefulSet (1 pod, data volume from spec.storage). For an existing StatefulSet
    pass its current claim size as `claim_storage` (volumeClaimTemplates are immutable)."""
    parts = challenger.challenger_container(spec, network, inputs, _image(spec, "op-challenger"))
    template = _template(APP_CHALLENGER, owner, "challenger", network, spec, parts, referenced)
    claim_spec: dict[str, Any] = {
        "accessModes": [spec.storage.access_mode],
        "resources": {"requests": {"storage": claim_storage or spec.storage.size}},
    }
    if spec.storage.storage_class is not None:
        claim_spec["storageClassName"] = spec.storage.storage_class
    claim_spec["volumeMode"] = "Filesystem"
    name = workload_name(owner.name, "challenger")
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": object_meta(
            name, owner, standard_labels(APP_CHALLENGER, owner, "challenger", network.name)
        ),
        "spec": {
            "replicas": 1,
            "serviceName": name,
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": selector_labels(APP_CHALLENGER, owner)},
            "updateStrategy": {"type": "RollingUpdate"},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": template,
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": VOL_DATA, "labels": selector_labels(APP_CHALLENGER, owner)},
                    "spec": claim_spec,
                }
            ],
        },
    }


def _service_ports(rpc_port: int | None, metrics_port: int | None) -> list[dict[str, Any]]:
    ports = []
    if rpc_port is not None:
        ports.append({"name": "rpc", "port": rpc_port, "protocol": "TCP", "targetPort": "rpc"})
    if metrics_port is not None:
        ports.append({"name": "metrics", "port": metrics_port, "protocol": "TCP", "targetPort": "metrics"})
    return ports


def _metrics_port(spec: SigningComponentSpec, network: NetworkFacts) -> int | None:
    on = network.metrics_enabled if spec.metrics.enabled is None else spec.metrics.enabled
    return spec.metrics.port if on else None


def signer_service(
    owner: Owner, role: str, spec: SigningComponentSpec, network: NetworkFacts
) -> dict[str, Any]:
    """The ClusterIP Service of a signer's RPC (batcher, proposer) and metrics. The challenger's (metrics
    only) is headless: it also governs its StatefulSet."""
    app = {"batcher": APP_BATCHER, "proposer": APP_PROPOSER, "challenger": APP_CHALLENGER}[role]
    rpc = getattr(spec, "rpc", None)
    ports = _service_ports(rpc.port if rpc is not None else None, _metrics_port(spec, network))
    svc: dict[str, Any] = {"type": "ClusterIP"}
    if role == "challenger":
        svc["clusterIP"] = "None"
    svc["selector"] = selector_labels(app, owner)
    svc["ports"] = ports
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(
            workload_name(owner.name, role), owner, standard_labels(app, owner, role, network.name)
        ),
        "spec": svc,
    }


def signer_network_policy(
    owner: Owner,
    role: str,
    spec: SigningComponentSpec,
    network: NetworkFacts,
    allow_namespaces: Sequence[str] = (),
) -> dict[str, Any]:
    """Ingress to a signer's RPC and metrics from this namespace and `allow_namespaces` only; nothing is
    open to the world (a signer needs no inbound traffic)."""
    svc = signer_service(owner, role, spec, network)
    app = svc["metadata"]["labels"]["app.kubernetes.io/name"]
    policy = network_policy(
        owner,
        selector_labels(app, owner),
        svc["metadata"]["labels"],
        open_ports=(),
        internal_ports=svc["spec"]["ports"],
        allow_namespaces=allow_namespaces,
    )
    policy["metadata"]["name"] = workload_name(owner.name, role)
    return policy


__all__ = [
    "TERMINATION_GRACE_SECONDS",
    "batcher_deployment",
    "challenger_statefulset",
    "proposer_deployment",
    "signer_network_policy",
    "signer_service",
    "workload_name",
]
