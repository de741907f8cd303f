"""Cache indexes shared by the controllers, defined once so that every controller asks the same question.

- `spec.optimismNetworkRef` on OpNode, OpBatcher, OpProposer and OpChallenger: the network a component
  belongs to, as `"<namespace>/<name>"` (the reference's namespace defaults to the component's own).
  The network controller lists a network's components with it (its finalizer); component controllers map a
  changed network to exactly its components with it.

Invariants:
- Index functions are pure and total: a malformed object indexes to no value, never raises.
- `register_network_ref_index` is idempotent per cache (several controllers may call it at set-up).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from opstack.api.v1alpha1 import OP_BATCHER, OP_CHALLENGER, OP_NODE, OP_PROPOSER
from opstack.runtime.gvk import GVK

NETWORK_REF_INDEX = "spec.optimismNetworkRef"

# The kinds whose objects refer to an OptimismNetwork through spec.optimismNetworkRef.
COMPONENT_KINDS: tuple[GVK, ...] = (OP_NODE.gvk, OP_BATCHER.gvk, OP_PROPOSER.gvk, OP_CHALLENGER.gvk)


def network_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def network_ref(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(namespace, name) of the OptimismNetwork a component refers to, or None."""
    spec = obj.get("spec")
    ref = spec.get("optimismNetworkRef") if isinstance(spec, Mapping) else None
    if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str) or not ref["name"]:
        return None
    meta = obj.get("metadata")
    own_namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
    namespace = ref.get("namespace") or own_namespace or ""
    return str(namespace), str(ref["name"])


def index_network_ref(obj: Mapping[str, Any]) -> list[str]:
    ref = network_ref(obj)
    return [network_key(*ref)] if ref is not None else []


class _IndexingCache(Protocol):
    def informer_for(self, gvk: GVK) -> Any: ...


def register_network_ref_index(cache: _IndexingCache, kinds: Iterable[GVK] = COMPONENT_KINDS) -> None:
    """Add the `spec.optimismNetworkRef` index to the informers of `kinds` (once per cache)."""
    for gvk in kinds:
        informer = cache.informer_for(gvk)
        if NETWORK_REF_INDEX in informer.indexer.index_names():
            continue
        with contextlib.suppress(ValueError):  # registered concurrently by another controller's set-up
            informer.add_indexer(NETWORK_REF_INDEX, index_network_ref)
