"""The OP Stack L1 contracts as published on npm: `@eth-optimism/contracts-bedrock`, pinned.

The package ships Foundry's compiled artifacts (`forge-artifacts/<Source>.sol/<Contract>.json`, each with
`abi`, `bytecode.object`, `deployedBytecode.object`) next to the Solidity sources (`src/`). It is installed
once into the cache folder beside anvil (14.6 MB download, 126 MB unpacked, 683 files).

Version 0.17.3 is the newest on npm; its SystemConfig is semver 2.3.0-beta.2 (the op-contracts v1.6.0
line: `disputeGameFactory()` and the custom-gas-token getters present, `l2OutputOracle()` gone), its
OptimismPortal2 3.10.x (no `anchorStateRegistry()` getter yet: that came with op-contracts v4.0.0).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from opstack.testing.anvil import npm_package

PACKAGE = "@eth-optimism/contracts-bedrock"
VERSION = "0.17.3"


def package_folder() -> Path:
    return npm_package(PACKAGE, VERSION)


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # creation code, 0x-prefixed, no unlinked libraries

    def functions(self) -> set[str]:
        return {entry["name"] for entry in self.abi if entry.get("type") == "function"}


@cache
def artifact(contract: str, source: str | None = None) -> Artifact:
    """The compiled artifact of `contract` (from `<source or contract>.sol`)."""
    path = package_folder() / "forge-artifacts" / f"{source or contract}.sol" / f"{contract}.json"
    data = json.loads(path.read_text())
    bytecode = data["bytecode"]
    if bytecode.get("linkReferences"):
        raise ValueError(f"{contract} needs linked libraries; not supported by this fixture")
    return Artifact(contract, data["abi"], bytecode["object"])
