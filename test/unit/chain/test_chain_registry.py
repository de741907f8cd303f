"""The registry snapshot, the user override, and the well-known table: lookups and validation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from opstack.chain.contracts import ContractAddresses
from opstack.chain.registry import RegistryFormatError, embedded_registry, load_registry, parse_registry
from opstack.chain.wellknown import networks, well_known

FACTS = Path("/work/shared/facts/opstack.json")
SNAPSHOT = Path(__file__).resolve().parents[3] / "opstack" / "chain" / "data" / "superchain-registry.json"


def facts() -> dict[str, Any]:
    if not FACTS.exists():
        pytest.skip("the shared facts are not on this machine")
    data: dict[str, Any] = json.loads(FACTS.read_text())
    return data


def stable(chain: dict[str, Any]) -> dict[str, str]:
    return next(v for k, v in chain.items() if k.startswith("stable_addresses"))


def test_snapshot_records_its_source_commit_and_date() -> None:
    source = embedded_registry().source
    assert source.repository == "ethereum-optimism/superchain-registry"
    assert source.commit == "6621a0f13ce523fe1bb8deea739fe37abe20f90d"
    assert source.date == "2025-06-25"
    assert str(source).startswith("ethereum-optimism/superchain-registry@6621a0f")


def test_snapshot_holds_every_chain_of_the_facts_with_its_stable_addresses() -> None:
    data = facts()
    registry = embedded_registry()
    assert set(registry.chains) == set(data["chains"])
    for key, chain in data["chains"].items():
        info = registry.chains[key]
        assert info.chain_id == chain["chain_id"]
        assert info.l1_chain_id == chain["l1_chain_id"]
        expected = ContractAddresses.from_registry(stable(chain), key)
        for name, address in expected.items():
            assert getattr(info.addresses, name) == address, (key, name)
        assert (
            info.addresses.batch_inbox == ContractAddresses(batch_inbox=chain["batch_inbox_addr"]).batch_inbox
        )


def test_snapshot_is_what_the_build_script_makes_of_the_facts() -> None:
    import importlib.util

    script = Path(__file__).resolve().parents[3] / "hack" / "chain" / "build_registry_snapshot.py"
    spec = importlib.util.spec_from_file_location("build_registry_snapshot", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build(facts()) == json.loads(SNAPSHOT.read_text())


@pytest.mark.parametrize(
    ("name", "chain_id", "system_config"),
    [
        ("op-sepolia", 11155420, "0x034edD2A225f7f429A63E0f1D2084B9E0A93b538"),
        ("op-mainnet", 10, "0x229047fed2591dbec1eF1118d64F7aF3dB9EB290"),
        ("base-mainnet", 8453, "0x73a79Fab69143498Ed3712e519A88a918e1f4072"),
        ("unichain-mainnet", 130, "0xc407398d063f942feBbcC6F80a156b47F3f1BDA6"),
    ],
)
def test_lookup_by_name_and_by_chain_id_agree(name: str, chain_id: int, system_config: str) -> None:
    registry = embedded_registry()
    by_name, by_id = registry.by_name(name), registry.by_chain_id(chain_id)
    assert by_name is not None and by_name is by_id
    assert by_name.addresses.system_config == system_config
    assert registry.find(name, chain_id) is by_name
    assert registry.find(name, chain_id + 1) is None  # name and id disagree


def test_op_sepolia_addresses_match_the_facts() -> None:
    chain = facts()["chains"]["op-sepolia"]
    info = embedded_registry().by_name("op-sepolia")
    assert info is not None
    assert info.addresses.optimism_portal == stable(chain)["OptimismPortalProxy"]
    assert info.addresses.dispute_game_factory == stable(chain)["DisputeGameFactoryProxy"]
    assert (
        info.addresses.anchor_state_registry
        == chain["upgrade_dependent_addresses"]["AnchorStateRegistryProxy"]["2025-06-25 (addresses.json)"]
    )
    assert info.addresses.unsafe_block_signer == chain["roles_toml_2025-06-25"]["UnsafeBlockSigner"]
    assert info.addresses.superchain_config == facts()["superchains"]["sepolia"]["superchain_config_addr"]


def test_legacy_network_names_resolve_as_op_node_does() -> None:
    registry = embedded_registry()
    assert registry.by_name("sepolia") is registry.by_name("op-sepolia")
    assert registry.by_name("mainnet") is registry.by_name("op-mainnet")
    assert registry.by_name("no-such-chain") is None


def test_well_known_by_name_alias_and_chain_id() -> None:
    data = facts()
    assert set(networks()) == set(data["chains"])
    unichain = well_known("unichain")
    assert unichain is not None and unichain.chain_id == 130
    base = well_known("base")
    assert base is not None and base.key == "base-mainnet"
    assert well_known(chain_id=84532) is well_known("base-sepolia")
    assert well_known("11155420") is well_known("op-sepolia")
    assert well_known("op-sepolia", chain_id=10) is None
    assert well_known("nope") is None


def test_well_known_carries_network_flags_and_sequencer_urls() -> None:
    for key, chain in facts()["chains"].items():
        info = well_known(key)
        assert info is not None
        assert info.op_node_network == chain["op_node_network_name"]
        assert info.op_geth_network == chain["op_geth_op_network_name"]
        assert info.sequencer_rpc == next(v for k, v in chain.items() if k.startswith("sequencer_rpc"))
        assert info.block_time == chain["block_time_s"]
    op_sepolia = well_known("op-sepolia")
    assert op_sepolia is not None and op_sepolia.sequencer_rpc == "https://sepolia-sequencer.optimism.io"


def _raw_snapshot() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SNAPSHOT.read_text())
    return data


def test_override_replaces_a_chain_and_keeps_the_others() -> None:
    raw = _raw_snapshot()
    mine = copy.deepcopy(raw["chains"]["op-sepolia"])
    mine["addresses"]["AnchorStateRegistryProxy"] = "0xa1Cec548926eb5d69aa3B7B57d371EdBdD03e64b"  # 2025-08-20
    override = {
        "source": {
            "repository": "ethereum-optimism/superchain-registry",
            "commit": "7857e9f",
            "date": "2025-08-20",
        },
        "chains": {"op-sepolia": mine},
    }
    registry = load_registry(json.dumps(override))
    assert registry.overridden
    assert registry.source.commit == "7857e9f"
    info = registry.by_name("op-sepolia")
    assert info is not None
    assert info.addresses.anchor_state_registry == "0xa1Cec548926eb5d69aa3B7B57d371EdBdD03e64b"
    assert registry.by_name("op-mainnet") is embedded_registry().by_name("op-mainnet")
    assert embedded_registry().by_name("op-sepolia") != info  # the embedded snapshot is untouched


def test_override_may_add_a_chain() -> None:
    new_chain = {
        "name": "My Devnet",
        "chainId": 4242,
        "l1ChainId": 11155111,
        "superchain": "sepolia",
        "addresses": {"SystemConfigProxy": "0x" + "12" * 20},
    }
    registry = load_registry({"chains": {"my-devnet": new_chain}})
    info = registry.by_chain_id(4242)
    assert info is not None and info.key == "my-devnet"
    assert info.addresses.system_config == "0x" + "12" * 20
    assert registry.source.repository == "user-supplied"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "must be a JSON object"),
        (
            {"chains": {"x": {"chainId": 1, "l1ChainId": 1}}},
            "registry override.chains.x.superchain is missing",
        ),
        (
            {"chains": {"x": {"chainId": 1, "l1ChainId": 1, "superchain": "holesky"}}},
            "superchain is 'holesky', which is not in superchains",
        ),
        (
            {"chains": {"x": {"chainId": 1, "l1ChainId": 5, "superchain": "sepolia"}}},
            "l1ChainId is 5 but superchain 'sepolia' is on L1 chain 11155111",
        ),
        (
            {"chains": {"x": {"chainId": "1", "l1ChainId": 11155111, "superchain": "sepolia"}}},
            "chains.x.chainId must be a int, not str",
        ),
        (
            {
                "chains": {
                    "x": {
                        "chainId": 1,
                        "l1ChainId": 11155111,
                        "superchain": "sepolia",
                        "addresses": {"SystemConfigProxy": "0x1234"},
                    }
                }
            },
            "chains.x.addresses.SystemConfigProxy: '0x1234' is not an address",
        ),
    ],
)
def test_invalid_override_is_refused_with_the_path(override: Any, message: str) -> None:
    with pytest.raises(RegistryFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_registry(override)


def test_snapshot_without_source_is_refused() -> None:
    raw = _raw_snapshot()
    del raw["source"]
    with pytest.raises(RegistryFormatError, match="source is missing"):
        parse_registry(raw)
