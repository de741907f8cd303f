"""Pod templates from component parts: containers, volumes and the restricted security context.

Invariants:
- With the network's default security settings every pod satisfies the `restricted` Pod Security Standard:
  runAsNonRoot, seccomp RuntimeDefault, every container (init too) drops ALL capabilities, no privilege
  escalation, not privileged; roots are read-only, writes go to the data volume or an emptyDir at /tmp.
- Pods carry no service-account token (the binaries never call the API server) and no service-link env vars
  (a Service named like `op-node-rpc` would otherwise inject OP_NODE_RPC_PORT=tcp://..., which op-node reads
  as its --rpc.port).
- Volumes are merged by name in first-seen order; two different definitions under one name are a bug and
  raise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from opstack.api.v1alpha1 import PullPolicy, ResourceRequirements, SecuritySpec
from opstack.components.common import VOL_TMP, ContainerParts

TMP_SIZE_LIMIT: Final = "1Gi"


def pod_security_context(security: SecuritySpec) -> dict[str, Any]:
    seccomp: dict[str, Any] = {"type": security.seccomp_profile.type}
    if security.seccomp_profile.localhost_profile is not None:
        seccomp["localhostProfile"] = security.seccomp_profile.localhost_profile
    return {
        "runAsNonRoot": security.run_as_non_root,
        "runAsUser": security.run_as_user,
        "runAsGroup": security.run_as_group,
        "fsGroup": security.fs_group,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": seccomp,
    }


def container_security_context(security: SecuritySpec) -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": security.run_as_non_root,
    }


def resources_dict(resources: ResourceRequirements | None) -> dict[str, Any] | None:
    if resources is None:
        return None
    out = resources.to_dict()
    return out or None


def container(
    parts: ContainerParts,
    *,
    pull_policy: PullPolicy,
    resources: ResourceRequirements | None,
    security: SecuritySpec,
) -> dict[str, Any]:
    """A core/v1 Container from a component's parts."""
    c: dict[str, Any] = {"name": parts.name, "image": parts.image, "imagePullPolicy": pull_policy}
    c["command"] = list(parts.command)
    if parts.args:
        c["args"] = list(parts.args)
    if parts.env:
        c["env"] = [dict(e) for e in parts.env]
    if parts.ports:
        c["ports"] = [dict(p) for p in parts.ports]
    res = resources_dict(resources)
    if res is not None:
        c["resources"] = res
    if parts.volume_mounts:
        c["volumeMounts"] = [dict(m) for m in parts.volume_mounts]
    if parts.startup_probe is not None:
        c["startupProbe"] = parts.startup_probe
    if parts.readiness_probe is not None:
        c["readinessProbe"] = parts.readiness_probe
    if parts.liveness_probe is not None:
        c["livenessProbe"] = parts.liveness_probe
    c["securityContext"] = container_security_context(security)
    c["terminationMessagePolicy"] = "FallbackToLogsOnError"
    return c


def merge_volumes(groups: Iterable[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for group in groups:
        for vol in group:
            name = vol["name"]
            if name in seen:
                if seen[name] != dict(vol):
                    raise ValueError(f"two different definitions of pod volume {name!r}")
                continue
            seen[name] = dict(vol)
    return list(seen.values())


def tmp_volume() -> dict[str, Any]:
    return {"name": VOL_TMP, "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}


def pod_spec(
    containers: Sequence[dict[str, Any]],
    volumes: Sequence[dict[str, Any]],
    *,
    security: SecuritySpec,
    termination_grace_seconds: int,
    init_containers: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(security),
        "terminationGracePeriodSeconds": termination_grace_seconds,
    }
    if init_containers:
        spec["initContainers"] = list(init_containers)
    spec["containers"] = list(containers)
    if volumes:
        spec["volumes"] = list(volumes)
    return spec


__all__ = [
    "container",
    "container_security_context",
    "merge_volumes",
    "pod_security_context",
    "pod_spec",
    "resources_dict",
    "tmp_volume",
]
