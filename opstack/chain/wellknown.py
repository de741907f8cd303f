"""Well-known networks: the operator's built-in table, by name, alias or chain id.

Unlike the registry (which a user may override with newer data), this table is fixed for a release of
the operator: it is the registry snapshot shipped in the package, plus short names people use.

Invariants:
- Pure and immutable; every entry carries the op-node `--network` / op-geth `--op-network` names and the
  public sequencer URL where the registry gives them.
- A name resolves to at most one network; aliases never shadow a registry name.
"""

from __future__ import annotations

from opstack.chain.registry import LEGACY_NETWORK_ALIASES, ChainInfo, embedded_registry

# Short names -> registry names (in addition to op-node's legacy `mainnet`/`sepolia`).
ALIASES: dict[str, str] = {
    **LEGACY_NETWORK_ALIASES,
    "optimism": "op-mainnet",
    "optimism-mainnet": "op-mainnet",
    "optimism-sepolia": "op-sepolia",
    "base": "base-mainnet",
    "unichain": "unichain-mainnet",
    "mode": "mode-mainnet",
    "zora": "zora-mainnet",
}


def networks() -> dict[str, ChainInfo]:
    """Every well-known network by its registry name."""
    return dict(embedded_registry().chains)


def well_known(name: str | None = None, chain_id: int | None = None) -> ChainInfo | None:
    """The network called `name` (registry name, `--network` name or alias), else the one with
    `chain_id`; with both given they must agree."""
    table = embedded_registry()
    chain: ChainInfo | None = None
    if name:
        key = name.strip().lower()
        chain = table.by_name(key) or (table.chains.get(ALIASES[key]) if key in ALIASES else None)
        if chain is None and key.isdigit():
            chain = table.by_chain_id(int(key))
    elif chain_id is not None:
        chain = table.by_chain_id(chain_id)
    if chain is not None and name and chain_id is not None and chain.chain_id != chain_id:
        return None
    return chain
