"""The version matrix: default images of every component, which op-node goes with which op-geth, and the
flag names each pinned version accepts.

Invariants:
- This module is the ONE place that names component versions; builders ask it for images and flag sets.
- Pure: the flag table is package data (`data/flags.json`) read once at import via importlib.resources.
- `FlagSet.require` is how a component refuses a setting its version does not know: the error names the
  spec field and the fix, never a value.

Sources (facts/opstack.md §4): the docs' create-l2-rollup compose pins op-node v1.13.5, op-geth v1.101511.1,
op-batcher v1.14.0, op-proposer v1.10.0, op-challenger v1.5.1 ("op-node/v1.13.5 ... corresponds to op-geth
v1.101511.1"); the op-geth series per op-node release comes from the monorepo go.mod pins.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal

Component = Literal["op-node", "op-geth", "op-batcher", "op-proposer", "op-challenger"]
COMPONENTS: Final[tuple[Component, ...]] = (
    "op-node",
    "op-geth",
    "op-batcher",
    "op-proposer",
    "op-challenger",
)

IMAGE_REPOSITORY: Final = "us-docker.pkg.dev/oplabs-tools-artifacts/images"

# The pinned, mutually compatible set (docs create-l2-rollup-example/docker-compose.yml).
DEFAULT_VERSIONS: Final[MappingProxyType[Component, str]] = MappingProxyType(
    {
        "op-node": "v1.13.5",
        "op-geth": "v1.101511.1",
        "op-batcher": "v1.14.0",
        "op-proposer": "v1.10.0",
        "op-challenger": "v1.5.1",
    }
)

# op-node release -> the op-geth release to run with it (when the user pins only op-node).
# v1.13.5: docs ("corresponds to op-geth v1.101511.1"); v1.13.4: ethpandaops/optimism-package registry.star;
# v1.13.3: go.mod pin v1.101511.0-rc.1; v1.13.2: Upgrade 15 notice (op-geth v1.101503.4).
OP_GETH_FOR_OP_NODE: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "v1.13.2": "v1.101503.4",
        "v1.13.3": "v1.101511.0",
        "v1.13.4": "v1.101511.1",
        "v1.13.5": "v1.101511.1",
    }
)

# op-node release range -> op-geth series (geth major.minor in the op-geth version), from the go.mod pins:
# op-node <=v1.13.2 <-> v1.1015 03.x; v1.13.3-v1.13.5 <-> v1.1015 11.x; v1.13.6+/v1.14 <-> v1.1016xx.
_SERIES: Final[tuple[tuple[tuple[int, int, int], tuple[int, int, int], str], ...]] = (
    ((1, 13, 0), (1, 13, 2), "101503"),
    ((1, 13, 3), (1, 13, 5), "101511"),
    ((1, 13, 6), (1, 14, 99), "1016"),
)

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")


def image_for(component: Component, version: str | None = None) -> str:
    """The official image of `component` at `version` (default: the pinned one)."""
    return f"{IMAGE_REPOSITORY}/{component}:{version or DEFAULT_VERSIONS[component]}"


def default_image(component: Component) -> str:
    return image_for(component)


def image_tag(image: str) -> str | None:
    """The tag of an image reference (None for a digest-only or untagged reference)."""
    ref = image.split("@", 1)[0]
    _name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return None
    return tag


def _semver(tag: str | None) -> tuple[int, int, int] | None:
    if tag is None:
        return None
    m = _SEMVER.match(tag)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def op_geth_image_for(op_node_image: str | None) -> str:
    """The op-geth image to run beside `op_node_image` when the user did not choose one."""
    if op_node_image is None:
        return default_image("op-geth")
    tag = image_tag(op_node_image)
    paired = OP_GETH_FOR_OP_NODE.get(tag or "")
    return image_for("op-geth", paired) if paired else default_image("op-geth")


def node_images(op_node_image: str | None, op_geth_image: str | None) -> tuple[str, str]:
    """(op-node image, op-geth image) for an OpNode: the user's choices, else the matrix."""
    node = op_node_image or default_image("op-node")
    geth = op_geth_image or op_geth_image_for(op_node_image)
    return node, geth


def check_pair(op_node_image: str, op_geth_image: str) -> str | None:
    """A message when the two images are known not to belong together, else None (unknown tags pass)."""
    node_v = _semver(image_tag(op_node_image))
    geth_tag = image_tag(op_geth_image)
    geth_v = _semver(geth_tag)
    if node_v is None or geth_v is None:
        return None
    for lo, hi, series in _SERIES:
        if lo <= node_v <= hi:
            if not str(geth_v[1]).startswith(series):
                return (
                    f"op-node {image_tag(op_node_image)} runs with op-geth v1.{series}xx, not {geth_tag}; "
                    "set spec.images.opGeth to a matching release or leave it unset to get the paired one"
                )
            return None
    return None


# --- flag sets ------------------------------------------------------------------------------------------


class UnsupportedSettingError(ValueError):
    """A spec field asks for a flag the component's version does not accept."""


@dataclass(frozen=True)
class FlagSet:
    """The flags (and env vars) one version of one binary accepts."""

    component: Component
    version: str
    source: str
    flags: frozenset[str]
    env: frozenset[str]
    subcommands: MappingProxyType[str, frozenset[str]]

    def has(self, flag: str) -> bool:
        return flag in self.flags

    def require(self, flag: str, field: str) -> str:
        """`flag` if this version accepts it, else an error naming the spec field that asked for it."""
        if flag not in self.flags:
            raise UnsupportedSettingError(
                f"{field} needs {flag}, which {self.component} {self.version} does not accept; "
                f"remove {field} or run a release that has the flag"
            )
        return flag


def _load() -> dict[Component, dict[str, FlagSet]]:
    text = resources.files("opstack.components").joinpath("data/flags.json").read_text(encoding="utf-8")
    raw: dict[str, Any] = json.loads(text)
    out: dict[Component, dict[str, FlagSet]] = {}
    for comp in COMPONENTS:
        versions: dict[str, FlagSet] = {}
        for version, entry in raw["components"][comp].items():
            flags = entry["flags"]
            names = set(flags)
            for meta in flags.values():
                names.update(meta.get("aliases", ()))
            subs = {name: frozenset(sub["flags"]) for name, sub in entry.get("subcommands", {}).items()}
            versions[version] = FlagSet(
                component=comp,
                version=version,
                source=entry["source"],
                flags=frozenset(names),
                env=frozenset(e for meta in flags.values() for e in meta.get("env", ())),
                subcommands=MappingProxyType(subs),
            )
        out[comp] = versions
    return out


_FLAG_SETS: Final = _load()


def flag_set(component: Component, image: str | None = None) -> FlagSet:
    """The flag set of the version `image` runs; the pinned version's when the tag is unknown or absent."""
    versions = _FLAG_SETS[component]
    tag = image_tag(image) if image else None
    if tag is not None and tag in versions:
        return versions[tag]
    return versions[DEFAULT_VERSIONS[component]]


def known_versions(component: Component) -> tuple[str, ...]:
    return tuple(_FLAG_SETS[component])


__all__ = [
    "COMPONENTS",
    "DEFAULT_VERSIONS",
    "IMAGE_REPOSITORY",
    "OP_GETH_FOR_OP_NODE",
    "Component",
    "FlagSet",
    "UnsupportedSettingError",
    "check_pair",
    "default_image",
    "flag_set",
    "image_for",
    "image_tag",
    "known_versions",
    "node_images",
    "op_geth_image_for",
]
