"""Identity of a Kubernetes kind: group, version and kind.

Every part of the runtime names kinds the same way, as a `GVK`, so that the client, the cache and
the controllers agree on keys without parsing strings in hot paths.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class GVK(NamedTuple):
    group: str
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @classmethod
    def of(cls, api_version: str, kind: str) -> GVK:
        group, _, version = api_version.rpartition("/")
        return cls(group, version, kind)

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> GVK:
        return cls.of(obj["apiVersion"], obj["kind"])

    def __str__(self) -> str:
        return f"{self.kind}.{self.version}.{self.group}" if self.group else f"{self.kind}.{self.version}"


# Kinds the runtime itself uses.
NAMESPACE = GVK("", "v1", "Namespace")
EVENT = GVK("", "v1", "Event")
LEASE = GVK("coordination.k8s.io", "v1", "Lease")
