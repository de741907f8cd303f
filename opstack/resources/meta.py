"""Metadata every child object carries: names, standard labels, the owner reference, the config hash.

Invariants:
- Pure and deterministic: equal inputs give equal dicts with the same key order, so a server-side apply of
  an unchanged object is a no-op.
- Selector labels (`app.kubernetes.io/name` + `instance`) never change for an owner: selectors of
  StatefulSets and Deployments are immutable.
- Every child has exactly one controller owner reference (controller=true, blockOwnerDeletion=true), so
  garbage collection removes it with its owner.
- The config hash covers the whole pod template (minus the hash itself) plus the versions of the
  ConfigMaps/Secrets the pod reads, which the caller passes in; nothing else (replica counts, storage
  size) moves it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_INSTANCE: Final = "app.kubernetes.io/instance"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_PART_OF: Final = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
LABEL_POD_NAME: Final = "statefulset.kubernetes.io/pod-name"

MANAGED_BY: Final = "opstack-operator"
# Selects what the operator made (every object and pod template it renders carries the label).
MANAGED_SELECTOR: Final = f"{LABEL_MANAGED_BY}={MANAGED_BY}"
ANNOTATION_CONFIG_HASH: Final = "optimism.optimism.io/config-hash"

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Owner:
    """The parent object of the children a builder makes."""

    api_version: str
    kind: str
    name: str
    namespace: str
    uid: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> Owner:
        meta = obj["metadata"]
        return cls(
            obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace", ""), meta.get("uid", "")
        )

    def reference(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def controlled_by(obj: Mapping[str, Any], owner: Owner) -> bool:
    """Whether an existing object's controller owner reference is `owner` (by uid): apply over it only
    then; an object controlled by someone else is a name conflict to report, not to take over."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return bool(ref.get("uid") == owner.uid)
    return False


def label_value(value: str) -> str:
    """`value` as a valid label value: at most 63 characters, alphanumeric at both ends. A value that had to
    be shortened gets a short hash suffix so distinct inputs stay distinct."""
    if len(value) <= 63 and _LABEL_VALUE.match(value):
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    head = re.sub(r"[^-A-Za-z0-9_.]", "-", value)[:54].strip("-_.")
    return f"{head}-{digest}" if head else digest


def selector_labels(app: str, owner: Owner) -> dict[str, str]:
    return {LABEL_NAME: app, LABEL_INSTANCE: label_value(owner.name)}


def standard_labels(app: str, owner: Owner, component: str, network: str) -> dict[str, str]:
    return {
        **selector_labels(app, owner),
        LABEL_COMPONENT: component,
        LABEL_PART_OF: label_value(network),
        LABEL_MANAGED_BY: MANAGED_BY,
    }


def object_meta(
    name: str, owner: Owner, labels: Mapping[str, str], annotations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": owner.namespace, "labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    meta["ownerReferences"] = [owner.reference()]
    return meta


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def config_hash(pod_template: Mapping[str, Any], referenced: Mapping[str, str] | None = None) -> str:
    """sha256 (hex) of the canonical JSON of a pod template (its own hash annotation left out) and of the
    versions (resourceVersion, or a digest) of referenced objects, e.g. {"Secret/node-jwt": "4711"}."""
    # Copies of the two levels that change, not of the whole template: this runs at every reconcile.
    template = dict(pod_template)
    if "metadata" in template:
        metadata = dict(template["metadata"] or {})
        annotations = {
            k: v for k, v in (metadata.get("annotations") or {}).items() if k != ANNOTATION_CONFIG_HASH
        }
        # A template hashed before stamping and the stamped one read back must hash alike.
        if annotations:
            metadata["annotations"] = annotations
        else:
            metadata.pop("annotations", None)
        template["metadata"] = metadata
    payload = {"template": template, "referenced": dict(sorted((referenced or {}).items()))}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def stamp_config_hash(pod_template: dict[str, Any], referenced: Mapping[str, str] | None = None) -> str:
    """Put the config hash on the pod template's annotations; returns it."""
    digest = config_hash(pod_template, referenced)
    pod_template.setdefault("metadata", {}).setdefault("annotations", {})[ANNOTATION_CONFIG_HASH] = digest
    return digest


__all__ = [
    "ANNOTATION_CONFIG_HASH",
    "LABEL_COMPONENT",
    "LABEL_INSTANCE",
    "LABEL_MANAGED_BY",
    "LABEL_NAME",
    "LABEL_PART_OF",
    "MANAGED_BY",
    "MANAGED_SELECTOR",
    "Owner",
    "canonical_json",
    "config_hash",
    "controlled_by",
    "label_value",
    "object_meta",
    "selector_labels",
    "stamp_config_hash",
    "standard_labels",
]
