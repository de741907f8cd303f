"""Server-side apply of owned children, skipped when the cached child already holds what would be applied.

Every controller applies its children this way, so that a reconcile which finds everything in its
desired state makes no write call (server-side apply of an identical object is a no-op for the API
server, but it is still a request).

Invariants:
- A child is "up to date" when every field the controller sets has the same value on the live object
  (the API server may add defaulted fields; it never adds list items). A workload's pod template is
  judged by its configuration hash instead, because the server defaults dozens of template fields and
  the hash covers the whole template the controller rendered. Volume claim templates are immutable and
  are not compared.
- A child controlled by another owner is never applied over: `NameConflict` says who holds the name.
- A child the API server refuses (422) is the user's input showing through (a spec the CRD admits can
  render something Kubernetes refuses, e.g. a volume size of "-1"): `ChildRejected` carries the server's
  message, bounded, for a condition; it is not an error to retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from opstack.resources.meta import ANNOTATION_CONFIG_HASH, Owner, controlled_by
from opstack.runtime import errors

log = structlog.get_logger("opstack.controllers.apply")


class NameConflict(Exception):
    """The child's name is taken by an object this owner does not control."""

    reason = "NameConflict"

    def __init__(self, kind: str, namespace: str, name: str, owner_kind: str) -> None:
        super().__init__(
            f"{kind} {namespace}/{name} exists and is not controlled by this {owner_kind}; "
            "delete or rename it"
        )


class ChildRejected(Exception):
    """The API server refused a child rendered from the owner's spec (422)."""

    reason = "ChildRejected"
    MAX_DETAIL = 1024  # a condition message stays readable (and far below the CRD's 32768)

    def __init__(self, kind: str, name: str, detail: str) -> None:
        super().__init__(
            f"the API server refused the {kind} {name} made from this spec: {detail[: self.MAX_DETAIL]}; "
            "correct the spec field it comes from"
        )


def is_subset(desired: Any, live: Any) -> bool:
    """Every field of `desired` is in `live` with the same value; lists match element by element and in
    length (the API server adds defaulted fields to objects, never list items)."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return False
        return all(k in live and is_subset(v, live[k]) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        return all(is_subset(d, v) for d, v in zip(desired, live, strict=True))
    return bool(desired == live)


def template_hash(obj: Mapping[str, Any]) -> str | None:
    template = (obj.get("spec") or {}).get("template") or {}
    return ((template.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_CONFIG_HASH)


def up_to_date(desired: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """Whether applying `desired` over `live` would change nothing the controller owns."""
    spec = desired.get("spec")
    if isinstance(spec, Mapping) and "template" in spec:
        if template_hash(desired) != template_hash(live):
            return False
        rest_spec = {k: v for k, v in spec.items() if k not in ("template", "volumeClaimTemplates")}
        rest = {k: v for k, v in desired.items() if k != "spec"}
        return is_subset(rest, live) and is_subset(rest_spec, live.get("spec") or {})
    return is_subset(desired, live)


class ChildApplier:
    """Applies children with one field manager, only when the live child differs."""

    def __init__(self, client: Any, field_manager: str) -> None:
        self.client = client
        self.field_manager = field_manager

    def apply(
        self, owner: Owner, desired: dict[str, Any], live: Mapping[str, Any] | None
    ) -> Mapping[str, Any]:
        """Returns the child as the API server has it; raises NameConflict for a child of someone else and
        ChildRejected when the API server refuses the child."""
        meta = desired["metadata"]
        if live is not None:
            if not controlled_by(live, owner):
                raise NameConflict(desired["kind"], meta["namespace"], meta["name"], owner.kind)
            if up_to_date(desired, live):
                return live
        try:
            applied: Mapping[str, Any] = self.client.apply(
                desired, field_manager=self.field_manager, force=True
            )
        except errors.Invalid as exc:
            raise ChildRejected(desired["kind"], meta["name"], exc.message) from None
        log.info(
            "applied",
            kind=desired["kind"],
            namespace=meta["namespace"],
            name=meta["name"],
            owner=owner.name,
            created=live is None,
            config_hash=template_hash(desired),
        )
        return applied
