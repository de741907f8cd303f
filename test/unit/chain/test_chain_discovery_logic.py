"""Discovery without L1: method choice (auto ordering), table methods, input errors, and address data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from web3 import Web3

from opstack.chain.contracts import ContractAddresses
from opstack.chain.discovery import (
    DiscoveryInputMissing,
    DiscoveryRequest,
    Method,
    NetworkMismatch,
    NetworkNotFound,
    RegistryInvalid,
    choose_method,
    discover,
)
from opstack.chain.registry import embedded_registry

SOME_ADDRESS = "0x" + "ab" * 20
FIXED = datetime(2025, 6, 25, 12, 0, tzinfo=UTC)


def test_auto_prefers_system_config_when_its_address_is_given() -> None:
    request = DiscoveryRequest(network="op-sepolia", addresses=ContractAddresses(system_config=SOME_ADDRESS))
    method, why = choose_method(request)
    assert method is Method.SYSTEM_CONFIG
    assert "SystemConfig address is given" in why


def test_auto_uses_the_registry_when_it_knows_the_network() -> None:
    assert choose_method(DiscoveryRequest(network="op-sepolia"))[0] is Method.SUPERCHAIN_REGISTRY
    assert choose_method(DiscoveryRequest(l2_chain_id=8453))[0] is Method.SUPERCHAIN_REGISTRY


def test_auto_falls_back_to_well_known_for_names_only_the_table_knows() -> None:
    method, why = choose_method(DiscoveryRequest(network="unichain"))
    assert method is Method.WELL_KNOWN
    assert "well-known" in why


def test_auto_with_nothing_to_go_on_names_the_fix() -> None:
    with pytest.raises(NetworkNotFound, match="give systemConfigAddr") as info:
        choose_method(DiscoveryRequest(network="my-devnet"))
    assert info.value.reason == "NetworkNotFound"
    assert "op-sepolia" in str(info.value)  # lists what is known


def test_an_explicit_method_is_kept() -> None:
    for method in (Method.MANUAL, Method.WELL_KNOWN, Method.SUPERCHAIN_REGISTRY, Method.SYSTEM_CONFIG):
        request = DiscoveryRequest(
            method=method.value, addresses=ContractAddresses(system_config=SOME_ADDRESS)
        )
        assert choose_method(request)[0] is method


def test_unknown_method_is_refused() -> None:
    with pytest.raises(DiscoveryInputMissing, match="'magic' is unknown; use one of auto, system-config"):
        choose_method(DiscoveryRequest(method="magic"))


def test_auto_records_the_method_it_ran() -> None:
    result = discover(DiscoveryRequest(network="op-sepolia"), now=lambda: FIXED)
    assert result.requested_method is Method.AUTO
    assert result.method is Method.SUPERCHAIN_REGISTRY
    assert result.discovered_at == FIXED
    assert "6621a0f13ce523fe1bb8deea739fe37abe20f90d" in result.source


@pytest.mark.parametrize("method", [Method.WELL_KNOWN, Method.SUPERCHAIN_REGISTRY])
def test_table_methods_give_the_networks_addresses(method: Method) -> None:
    result = discover(DiscoveryRequest(method=method, network="op-sepolia", l1_chain_id=11155111))
    expected = embedded_registry().chains["op-sepolia"].addresses
    assert result.method is method
    assert result.addresses == expected
    assert result.network is not None and result.network.op_node_network == "op-sepolia"
    assert result.ok


def test_given_addresses_win_over_the_table_and_are_noted() -> None:
    request = DiscoveryRequest(
        method=Method.WELL_KNOWN,
        network="op-sepolia",
        addresses=ContractAddresses(optimism_portal=SOME_ADDRESS),
    )
    result = discover(request)
    assert result.addresses.optimism_portal == Web3.to_checksum_address(SOME_ADDRESS)
    assert result.addresses.system_config == "0x034edD2A225f7f429A63E0f1D2084B9E0A93b538"
    assert any("optimismPortalAddr" in note for note in result.notes)


def test_a_network_on_another_l1_is_a_mismatch_stating_both() -> None:
    with pytest.raises(NetworkMismatch, match=r"op-sepolia settles on L1 chain 11155111.*L1 chain id is 1;"):
        discover(DiscoveryRequest(method=Method.WELL_KNOWN, network="op-sepolia", l1_chain_id=1))


def test_a_name_and_chain_id_that_disagree_find_nothing() -> None:
    with pytest.raises(NetworkNotFound, match="no entry for network 'op-sepolia' / chain id 10"):
        discover(DiscoveryRequest(method=Method.SUPERCHAIN_REGISTRY, network="op-sepolia", l2_chain_id=10))


def test_invalid_registry_override_is_a_typed_error() -> None:
    request = DiscoveryRequest(method=Method.SUPERCHAIN_REGISTRY, network="op-sepolia", registry_override="{")
    with pytest.raises(RegistryInvalid) as info:
        discover(request)
    assert info.value.reason == "RegistryInvalid"


def test_methods_that_read_l1_need_an_endpoint_and_their_input() -> None:
    with pytest.raises(DiscoveryInputMissing, match="give an L1 RPC endpoint"):
        discover(
            DiscoveryRequest(method=Method.MANUAL, addresses=ContractAddresses(system_config=SOME_ADDRESS))
        )
    with pytest.raises(DiscoveryInputMissing, match="needs systemConfigAddr"):
        from opstack.chain.l1 import L1Client

        discover(DiscoveryRequest(method=Method.SYSTEM_CONFIG), L1Client("http://127.0.0.1:1", timeout=1))


def test_addresses_are_checksummed_and_map_to_the_api() -> None:
    addresses = ContractAddresses(system_config=SOME_ADDRESS, l1_erc721_bridge="0x" + "cd" * 20)
    assert addresses.system_config == Web3.to_checksum_address(SOME_ADDRESS)
    api = addresses.to_api()
    assert set(api) == {"systemConfigAddr", "l1ERC721BridgeAddr"}
    assert ContractAddresses.from_api(api) == addresses
    with pytest.raises(ValueError, match=r"optimism_portal: '0x12' is not an address"):
        ContractAddresses(optimism_portal="0x12")


def test_result_in_the_api_status_shape() -> None:
    result = discover(DiscoveryRequest(network="op-sepolia"), now=lambda: FIXED)
    status = result.to_api_status()
    assert status["discoveryMethod"] == "superchain-registry"
    assert status["discoveredAt"] == "2025-06-25T12:00:00Z"
    assert status["systemConfigAddr"] == "0x034edD2A225f7f429A63E0f1D2084B9E0A93b538"
    assert status["l1ERC721BridgeAddr"] == result.addresses.l1_erc721_bridge
    assert status["unsafeBlockSigner"] == "0x57CACBB0d30b01eb2462e5dC940c161aff3230D3"
