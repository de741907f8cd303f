"""Superchain registry data: the snapshot shipped with the package, optionally overridden by the user.

The snapshot (`data/superchain-registry.json`) is built by `hack/chain/build_registry_snapshot.py` from
the registry at one commit, recorded in its `source`. A user keeps a newer copy in a ConfigMap (same
JSON shape; see `parse_registry`); the controller reads it and passes it to `load_registry(override=...)`.

Invariants:
- Pure: no I/O except reading the packaged snapshot once (cached); lookups never touch the network.
- An override is validated as a whole before use; an invalid one is refused with a `RegistryFormatError`
  naming the JSON path and the fix, never half-applied. Its chains replace the snapshot's chains of the
  same name; its `source` replaces the snapshot's source (a user-kept copy states its own commit).
- Lookups by name accept the op-node `--network` name (`op-sepolia`) and its legacy aliases (`sepolia`,
  `mainnet`); by chain id they return the one chain with that id (override first).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from opstack.chain.contracts import ContractAddresses, checksum

SNAPSHOT_RESOURCE = "superchain-registry.json"

# op-node/chaincfg/chains.go: legacy names that op-node still accepts for --network.
LEGACY_NETWORK_ALIASES = {"mainnet": "op-mainnet", "sepolia": "op-sepolia"}


class RegistryFormatError(ValueError):
    """User-supplied registry data that cannot be used; the message names the JSON path and the fix."""


@dataclass(frozen=True)
class RegistrySource:
    repository: str
    commit: str
    date: str

    def __str__(self) -> str:
        return f"{self.repository}@{self.commit} ({self.date})"


@dataclass(frozen=True)
class Superchain:
    name: str
    l1_chain_id: int
    superchain_config: str | None
    protocol_versions: str | None
    hardforks: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ChainInfo:
    """One chain of the registry."""

    key: str  # the registry's `<chain>-<superchain>` name, e.g. "op-sepolia"
    name: str  # human name, e.g. "OP Sepolia Testnet"
    chain_id: int
    l1_chain_id: int
    superchain: str
    addresses: ContractAddresses
    op_node_network: str | None = None  # value for op-node --network
    op_geth_network: str | None = None  # value for op-geth --op-network
    public_rpc: str | None = None
    sequencer_rpc: str | None = None  # op-geth --rollup.sequencerhttp
    explorer: str | None = None
    block_time: int | None = None
    hardforks: Mapping[str, int] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)
    genesis: Mapping[str, Any] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Registry:
    source: RegistrySource
    superchains: Mapping[str, Superchain]
    chains: Mapping[str, ChainInfo]
    overridden: bool = False

    def by_name(self, name: str) -> ChainInfo | None:
        key = LEGACY_NETWORK_ALIASES.get(name.strip().lower(), name.strip().lower())
        if key in self.chains:
            return self.chains[key]
        for chain in self.chains.values():
            if key in (chain.op_node_network, chain.op_geth_network):
                return chain
        return None

    def by_chain_id(self, chain_id: int) -> ChainInfo | None:
        return next((c for c in self.chains.values() if c.chain_id == chain_id), None)

    def find(self, name: str | None = None, chain_id: int | None = None) -> ChainInfo | None:
        """By name when given, else by chain id; with both, they must agree (else None)."""
        chain = self.by_name(name) if name else self.by_chain_id(chain_id) if chain_id is not None else None
        if chain is not None and name and chain_id is not None and chain.chain_id != chain_id:
            return None
        return chain


# --- parsing ---------------------------------------------------------------------------------------------


def _get(obj: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in obj:
        raise RegistryFormatError(
            f"{where}.{key} is missing; add it (see the snapshot shipped with the operator)"
        )
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise RegistryFormatError(f"{where}.{key} must be a {name}, not {type(value).__name__}")
    return value


def _opt(obj: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
    return _get(obj, key, where, kind) if obj.get(key) is not None else None


def _address(value: Any, where: str) -> str | None:
    if value is None:
        return None
    try:
        return checksum(value, where)
    except ValueError as exc:
        raise RegistryFormatError(str(exc)) from None


def _superchain(name: str, raw: Any, where: str) -> Superchain:
    if not isinstance(raw, Mapping):
        raise RegistryFormatError(f"{where} must be an object")
    return Superchain(
        name=name,
        l1_chain_id=_get(raw, "l1ChainId", where, int),
        superchain_config=_address(raw.get("superchainConfig"), f"{where}.superchainConfig"),
        protocol_versions=_address(raw.get("protocolVersions"), f"{where}.protocolVersions"),
        hardforks=dict(_opt(raw, "hardforks", where, dict) or {}),
    )


def _chain(key: str, raw: Any, superchains: Mapping[str, Superchain], where: str) -> ChainInfo:
    if not isinstance(raw, Mapping):
        raise RegistryFormatError(f"{where} must be an object")
    superchain_name = _get(raw, "superchain", where, str)
    superchain = superchains.get(superchain_name)
    if superchain is None:
        raise RegistryFormatError(
            f"{where}.superchain is {superchain_name!r}, which is not in superchains "
            f"({', '.join(sorted(superchains)) or 'none'}); add it there or correct the name"
        )
    l1_chain_id = _get(raw, "l1ChainId", where, int)
    if l1_chain_id != superchain.l1_chain_id:
        raise RegistryFormatError(
            f"{where}.l1ChainId is {l1_chain_id} but superchain {superchain_name!r} is on L1 chain "
            f"{superchain.l1_chain_id}; correct one of them"
        )
    try:
        addresses = ContractAddresses.from_registry(
            _opt(raw, "addresses", where, dict) or {}, f"{where}.addresses"
        )
    except ValueError as exc:
        raise RegistryFormatError(str(exc)) from None
    extra = {
        "batch_inbox": _address(raw.get("batchInbox"), f"{where}.batchInbox"),
        "unsafe_block_signer": _address(
            (raw.get("roles") or {}).get("UnsafeBlockSigner"), f"{where}.roles.UnsafeBlockSigner"
        ),
        "superchain_config": addresses.superchain_config or superchain.superchain_config,
        "protocol_versions": superchain.protocol_versions,
    }
    addresses = ContractAddresses(**{**addresses.as_dict(), **{k: v for k, v in extra.items() if v}})
    return ChainInfo(
        key=key,
        name=_opt(raw, "name", where, str) or key,
        chain_id=_get(raw, "chainId", where, int),
        l1_chain_id=l1_chain_id,
        superchain=superchain_name,
        addresses=addresses,
        op_node_network=_opt(raw, "opNodeNetwork", where, str),
        op_geth_network=_opt(raw, "opGethNetwork", where, str),
        public_rpc=_opt(raw, "publicRpc", where, str),
        sequencer_rpc=_opt(raw, "sequencerRpc", where, str),
        explorer=_opt(raw, "explorer", where, str),
        block_time=_opt(raw, "blockTime", where, int),
        hardforks={**superchain.hardforks, **(_opt(raw, "hardforks", where, dict) or {})},
        roles=dict(_opt(raw, "roles", where, dict) or {}),
        genesis=dict(_opt(raw, "genesis", where, dict) or {}),
        note=_opt(raw, "note", where, str),
    )


def parse_registry(data: Any, base: Registry | None = None, where: str = "registry") -> Registry:
    """Registry data in the snapshot's JSON shape (a str is parsed as JSON), on top of `base`:

        {"source": {"repository": ..., "commit": ..., "date": ...},
         "superchains": {"sepolia": {"l1ChainId": 11155111, "superchainConfig": "0x..", ...}},
         "chains": {"op-sepolia": {"chainId": 11155420, "l1ChainId": 11155111, "superchain": "sepolia",
                                   "addresses": {"SystemConfigProxy": "0x..", ...}, ...}}}

    With a base, `superchains` and `source` may be omitted (the base's are kept)."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise RegistryFormatError(f"{where} is not valid JSON ({exc}); fix the document") from None
    if not isinstance(data, Mapping):
        raise RegistryFormatError(
            f"{where} must be a JSON object with 'chains' (and 'superchains', 'source')"
        )
    superchains = dict(base.superchains) if base else {}
    for name, raw in (_opt(data, "superchains", where, dict) or {}).items():
        superchains[name] = _superchain(name, raw, f"{where}.superchains.{name}")
    if not superchains:
        raise RegistryFormatError(f"{where}.superchains is missing; add the superchains the chains belong to")
    chains = dict(base.chains) if base else {}
    for key, raw in _get(data, "chains", where, dict).items():
        chains[key.lower()] = _chain(key.lower(), raw, superchains, f"{where}.chains.{key}")
    raw_source = _opt(data, "source", where, dict)
    if raw_source is not None:
        source = RegistrySource(
            repository=str(raw_source.get("repository", "user-supplied")),
            commit=str(raw_source.get("commit", "unknown")),
            date=str(raw_source.get("date", "unknown")),
        )
    elif base is not None:
        source = RegistrySource("user-supplied", "unknown", "unknown")
    else:
        raise RegistryFormatError(f"{where}.source is missing; state the registry commit and date")
    return Registry(source, superchains, chains, overridden=base is not None)


@cache
def embedded_registry() -> Registry:
    """The snapshot shipped with the package."""
    text = resources.files("opstack.chain").joinpath("data", SNAPSHOT_RESOURCE).read_text()
    return parse_registry(text, where="embedded snapshot")


def load_registry(override: str | Mapping[str, Any] | None = None) -> Registry:
    """The embedded snapshot, or the snapshot with `override` (a user's newer registry data) on top."""
    base = embedded_registry()
    if override is None:
        return base
    return parse_registry(override, base=base, where="registry override")
