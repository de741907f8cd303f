"""The L1 contract addresses of an OP Stack chain, as plain data.

Invariants:
- Addresses are EIP-55 checksummed strings or None (unknown); `ContractAddresses` is immutable.
- Field names are the API's (`opstack.api.v1alpha1.L1Addresses`) without the `Addr` suffix, and the
  mapping to the API's camelCase keys and to the superchain registry's names lives here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from web3 import Web3

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")

# field -> key in the API's L1Addresses (camelCase, `Addr` suffix) for the fields the API has.
API_KEYS: dict[str, str] = {
    "system_config": "systemConfigAddr",
    "optimism_portal": "optimismPortalAddr",
    "l1_cross_domain_messenger": "l1CrossDomainMessengerAddr",
    "l1_standard_bridge": "l1StandardBridgeAddr",
    "l1_erc721_bridge": "l1ERC721BridgeAddr",
    "optimism_mintable_erc20_factory": "optimismMintableERC20FactoryAddr",
    "dispute_game_factory": "disputeGameFactoryAddr",
    "l2_output_oracle": "l2OutputOracleAddr",
    "anchor_state_registry": "anchorStateRegistryAddr",
    "batch_inbox": "batchInboxAddr",
}

# field -> name in the superchain registry (`superchain/configs/*/<chain>.toml` [addresses], addresses.json).
REGISTRY_NAMES: dict[str, str] = {
    "system_config": "SystemConfigProxy",
    "optimism_portal": "OptimismPortalProxy",
    "l1_cross_domain_messenger": "L1CrossDomainMessengerProxy",
    "l1_standard_bridge": "L1StandardBridgeProxy",
    "l1_erc721_bridge": "L1ERC721BridgeProxy",
    "optimism_mintable_erc20_factory": "OptimismMintableERC20FactoryProxy",
    "dispute_game_factory": "DisputeGameFactoryProxy",
    "l2_output_oracle": "L2OutputOracleProxy",
    "anchor_state_registry": "AnchorStateRegistryProxy",
    "address_manager": "AddressManager",
    "proxy_admin": "ProxyAdmin",
    "superchain_config": "SuperchainConfig",
    "delayed_weth": "DelayedWETHProxy",
}

# Addresses that are not contracts (nothing is deployed there): never checked for code.
NOT_CONTRACTS = frozenset({"batch_inbox", "unsafe_block_signer"})


def checksum(value: str, what: str) -> str:
    """An EIP-55 address, or ValueError naming `what` and the expected form."""
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ValueError(f"{what}: {value!r} is not an address (0x followed by 40 hex digits)")
    return str(Web3.to_checksum_address(value))


@dataclass(frozen=True)
class ContractAddresses:
    system_config: str | None = None
    optimism_portal: str | None = None
    l1_cross_domain_messenger: str | None = None
    l1_standard_bridge: str | None = None
    l1_erc721_bridge: str | None = None
    optimism_mintable_erc20_factory: str | None = None
    dispute_game_factory: str | None = None
    l2_output_oracle: str | None = None
    anchor_state_registry: str | None = None
    batch_inbox: str | None = None
    unsafe_block_signer: str | None = None
    address_manager: str | None = None
    proxy_admin: str | None = None
    superchain_config: str | None = None
    protocol_versions: str | None = None
    delayed_weth: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                object.__setattr__(self, f.name, checksum(value, f.name))

    def items(self) -> Iterator[tuple[str, str]]:
        """(field, address) for every known address, in field order."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                yield f.name, value

    def as_dict(self) -> dict[str, str]:
        return dict(self.items())

    def merged(self, other: ContractAddresses) -> ContractAddresses:
        """These addresses, with the gaps filled from `other`."""
        return replace(other, **self.as_dict())

    @classmethod
    def from_api(cls, spec: Mapping[str, Any]) -> ContractAddresses:
        """From the API's camelCase keys (`systemConfigAddr`, ...); other keys are ignored."""
        return cls(**{f: spec[k] for f, k in API_KEYS.items() if spec.get(k)})

    def to_api(self) -> dict[str, str]:
        """The API's camelCase keys for the fields the API has."""
        return {API_KEYS[f]: v for f, v in self.items() if f in API_KEYS}

    @classmethod
    def from_registry(cls, names: Mapping[str, Any], where: str) -> ContractAddresses:
        """From registry names (`SystemConfigProxy`, ...); unknown names are ignored, nulls are unknown."""
        values: dict[str, str] = {}
        for f, name in REGISTRY_NAMES.items():
            value = names.get(name)
            if value is not None:
                values[f] = checksum(value, f"{where}.{name}")
        return cls(**values)
