"""Build `opstack/chain/data/superchain-registry.json` from the shared facts (`opstack.json`).

The facts were read from `ethereum-optimism/superchain-registry` at one commit (recorded in the output);
this script only reshapes them. Run: `python hack/chain/build_registry_snapshot.py [facts.json]`.

Address rule: the chain's toml `[addresses]` at the snapshot commit; where the toml has no entry, the
registry's generated `addresses.json` at the same commit (stable addresses first, then the upgrade-
dependent ones as of that commit). Dispute-game implementations, MIPS and PreimageOracle are left out:
they change with every protocol upgrade and are read on-chain.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FACTS = Path("/work/shared/facts/opstack.json")
OUT = ROOT / "opstack" / "chain" / "data" / "superchain-registry.json"
COMMIT = "6621a0f13ce523fe1bb8deea739fe37abe20f90d"
DATE = "2025-06-25"
KEEP = {
    "SystemConfigProxy",
    "OptimismPortalProxy",
    "L1CrossDomainMessengerProxy",
    "L1StandardBridgeProxy",
    "L1ERC721BridgeProxy",
    "OptimismMintableERC20FactoryProxy",
    "DisputeGameFactoryProxy",
    "L2OutputOracleProxy",
    "AnchorStateRegistryProxy",
    "AddressManager",
    "ProxyAdmin",
    "SuperchainConfig",
    "DelayedWETHProxy",
}


def _value(chain: dict[str, Any], prefix: str) -> Any:
    return next(v for k, v in chain.items() if k.startswith(prefix))


def build(facts: dict[str, Any]) -> dict[str, Any]:
    superchains = {
        name: {
            "l1ChainId": s["l1_chain_id"],
            "superchainConfig": s["superchain_config_addr"],
            "protocolVersions": s["protocol_versions_addr"],
            "hardforks": s["hardforks"],
            "source": s["source"],
        }
        for name, s in facts["superchains"].items()
    }
    chains = {}
    for key, c in facts["chains"].items():
        registry_file = c["registry_file"]
        if not registry_file.startswith(f"ethereum-optimism/superchain-registry@{COMMIT}:"):
            raise SystemExit(f"{key}: read from {registry_file}, not from commit {COMMIT}")
        superchain = registry_file.rsplit("/", 2)[-2]
        addresses = {k: v for k, v in c["chain_toml_addresses_2025-06-25"].items() if k in KEEP}
        fill = dict(_value(c, "stable_addresses"))
        for name, by_date in c["upgrade_dependent_addresses"].items():
            fill.setdefault(name, by_date.get(f"{DATE} (addresses.json)"))
        json_view = {
            k: v.get("addresses.json")
            for k, v in c["toml_vs_addresses_json_discrepancies_2025-06-25"].items()
        }
        for name, value in fill.items():
            if name in KEEP and name not in addresses and value is not None and json_view.get(name, value):
                addresses[name] = value
        chains[key] = {
            "name": c["name"],
            "chainId": c["chain_id"],
            "l1ChainId": c["l1_chain_id"],
            "superchain": superchain,
            "opNodeNetwork": c["op_node_network_name"],
            "opGethNetwork": c["op_geth_op_network_name"],
            "publicRpc": c["public_rpc"],
            "sequencerRpc": _value(c, "sequencer_rpc"),
            "explorer": c["explorer"],
            "blockTime": c["block_time_s"],
            "seqWindowSize": c["seq_window_size"],
            "maxSequencerDrift": c["max_sequencer_drift"],
            "batchInbox": c["batch_inbox_addr"],
            "dataAvailabilityType": c["data_availability_type"],
            "superchainLevel": c["superchain_level"],
            "governedByOptimism": c["governed_by_optimism"],
            "addresses": dict(sorted(addresses.items())),
            "roles": c["roles_toml_2025-06-25"],
            "genesis": c["genesis"],
            "hardforks": c["hardforks"],
            "registryFile": registry_file,
            "note": c.get("note_removed_from_registry"),
        }
    return {
        "source": {
            "repository": "ethereum-optimism/superchain-registry",
            "commit": COMMIT,
            "date": DATE,
            "files": [
                "superchain/configs/{mainnet,sepolia}/*.toml",
                "superchain/configs/*/superchain.toml",
                "superchain/extra/addresses/addresses.json",
            ],
            "builtBy": "hack/chain/build_registry_snapshot.py from the project's shared facts (opstack.json)",
            "addressRule": (
                "chain toml [addresses] at the commit; gaps filled from addresses.json at the same commit; "
                "dispute game implementations, MIPS and PreimageOracle omitted (they change with upgrades)"
            ),
        },
        "superchains": superchains,
        "chains": chains,
    }


def main() -> None:
    facts = json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else FACTS).read_text())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(build(facts), indent=2) + "\n")
    print(OUT)


if __name__ == "__main__":
    main()
