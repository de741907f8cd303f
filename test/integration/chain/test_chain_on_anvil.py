"""The chain package against anvil with the real OP Stack L1 contracts deployed (no control plane)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from opstack.chain.contracts import ContractAddresses
from opstack.chain.discovery import (
    ContractNotFound,
    DiscoveryRequest,
    Method,
    ProblemKind,
    discover,
)
from opstack.chain.l1 import (
    BadResponse,
    EndpointTimeout,
    EndpointUnreachable,
    L1Client,
    WrongChain,
    check_beacon,
    check_l1,
)
from opstack.runtime.metrics import REGISTRY
from opstack.testing.anvil import Anvil
from opstack.testing.envtest import free_port
from opstack.testing.l1 import OpStackL1, Returns, Reverts, deploy_getter_stub

FACTS = Path("/work/shared/facts/opstack.json")


def expected_addresses(dep: OpStackL1) -> ContractAddresses:
    return ContractAddresses(
        system_config=dep.system_config,
        optimism_portal=dep.optimism_portal,
        l1_cross_domain_messenger=dep.l1_cross_domain_messenger,
        l1_standard_bridge=dep.l1_standard_bridge,
        l1_erc721_bridge=dep.l1_erc721_bridge,
        optimism_mintable_erc20_factory=dep.optimism_mintable_erc20_factory,
        dispute_game_factory=dep.dispute_game_factory,
        anchor_state_registry=dep.anchor_state_registry,
        batch_inbox=dep.batch_inbox,
        unsafe_block_signer=dep.unsafe_block_signer,
    )


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- L1 endpoint checks ----------------------------------------------------------------------------------


def test_check_l1_reports_chain_head_and_latency(l1_node: Anvil) -> None:
    l1_node.rpc("evm_mine")
    status = check_l1(L1Client(l1_node.url), l1_node.chain_id)
    head = l1_node.rpc("eth_getBlockByNumber", ["latest", False])
    assert status.chain_id == l1_node.chain_id
    assert status.head_number >= 1 and status.head_number <= int(head["number"], 16)
    assert status.head_timestamp <= int(head["timestamp"], 16)
    assert 0 < status.latency_seconds < 5


def test_wrong_chain_id_is_a_typed_error_with_both_numbers(l1_node: Anvil) -> None:
    before = metric("opstack_l1_rpc_errors_total", method="eth_chainId", kind="wrong_chain")
    with pytest.raises(WrongChain) as info:
        check_l1(L1Client(l1_node.url), 11155111)
    assert (info.value.expected, info.value.actual) == (11155111, l1_node.chain_id)
    assert "11155111" in str(info.value) and str(l1_node.chain_id) in str(info.value)
    assert info.value.reason == "L1WrongChain"
    assert metric("opstack_l1_rpc_errors_total", method="eth_chainId", kind="wrong_chain") == before + 1


def test_unreachable_rpc_is_a_typed_error_without_the_url_path(l1_node: Anvil) -> None:
    port = free_port()  # nothing listens there
    before = metric("opstack_l1_rpc_errors_total", method="eth_chainId", kind="unreachable")
    with pytest.raises(EndpointUnreachable) as info:
        check_l1(L1Client(f"http://127.0.0.1:{port}/v3/SECRETKEY", timeout=5), l1_node.chain_id)
    assert info.value.reason == "L1Unreachable"
    assert f"127.0.0.1:{port}" in str(info.value) and "SECRETKEY" not in str(info.value)
    assert metric("opstack_l1_rpc_errors_total", method="eth_chainId", kind="unreachable") == before + 1


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def test_timeout_is_a_typed_error_within_the_timeout(silent_server: int) -> None:
    start = time.monotonic()
    with pytest.raises(EndpointTimeout) as info:
        L1Client(f"http://127.0.0.1:{silent_server}", timeout=0.5).chain_id()
    elapsed = time.monotonic() - start
    assert info.value.reason == "L1Timeout"
    assert 0.4 < elapsed < 3, elapsed  # one attempt, no retries


# --- discovery -------------------------------------------------------------------------------------------


def test_system_config_discovery_returns_exactly_the_initialized_addresses(
    l1_node: Anvil, op_stack_l1: OpStackL1
) -> None:
    calls_before = metric("opstack_l1_rpc_requests_total", method="eth_call")
    request = DiscoveryRequest(
        method=Method.SYSTEM_CONFIG,
        l1_chain_id=l1_node.chain_id,
        addresses=ContractAddresses(system_config=op_stack_l1.system_config),
    )
    result = discover(request, L1Client(l1_node.url))
    assert result.method is Method.SYSTEM_CONFIG
    assert result.addresses == expected_addresses(op_stack_l1)
    assert result.ok, result.problems
    assert result.start_block == op_stack_l1.start_block
    assert result.batcher == op_stack_l1.batcher
    assert result.system_config_version == "2.3.0-beta.2"
    assert result.gas_paying_token is None
    assert result.anchor_state_registry_route == "DisputeGameFactory.gameImpls(0).anchorStateRegistry()"
    # Getters absent in this version by design are notes, not problems.
    assert any("l2OutputOracle()" in note for note in result.notes)
    assert metric("opstack_l1_rpc_requests_total", method="eth_call") > calls_before


def test_auto_picks_system_config_and_records_it(l1_node: Anvil, op_stack_l1: OpStackL1) -> None:
    request = DiscoveryRequest(
        method=Method.AUTO,
        l2_chain_id=op_stack_l1.l2_chain_id,
        addresses=ContractAddresses(system_config=op_stack_l1.system_config),
    )
    result = discover(request, L1Client(l1_node.url))
    assert (result.requested_method, result.method) == (Method.AUTO, Method.SYSTEM_CONFIG)
    assert "SystemConfig address is given" in result.why
    assert result.addresses == expected_addresses(op_stack_l1)


def test_system_config_address_without_code_is_contract_not_found(l1_node: Anvil) -> None:
    eoa = Web3.to_checksum_address("0x" + "77" * 20)
    request = DiscoveryRequest(method=Method.SYSTEM_CONFIG, addresses=ContractAddresses(system_config=eoa))
    with pytest.raises(ContractNotFound) as info:
        discover(request, L1Client(l1_node.url))
    assert info.value.reason == "ContractNotFound"
    assert eoa in str(info.value) and "systemConfigAddr" in str(info.value)


def test_manual_reports_each_address_without_code(l1_node: Anvil, op_stack_l1: OpStackL1) -> None:
    nowhere = Web3.to_checksum_address("0x" + "66" * 20)
    given = ContractAddresses(
        system_config=op_stack_l1.system_config,
        optimism_portal=op_stack_l1.optimism_portal,
        dispute_game_factory=nowhere,
        batch_inbox=op_stack_l1.batch_inbox,  # not a contract by design: not checked
    )
    result = discover(DiscoveryRequest(method=Method.MANUAL, addresses=given), L1Client(l1_node.url))
    assert result.addresses == given
    assert [(p.subject, p.kind) for p in result.problems] == [("disputeGameFactoryAddr", ProblemKind.NO_CODE)]
    assert result.problems[0].reason == "ContractCodeMissing"
    assert nowhere in result.problems[0].message

    good = discover(
        DiscoveryRequest(method=Method.MANUAL, addresses=expected_addresses(op_stack_l1)),
        L1Client(l1_node.url),
    )
    assert good.ok


def test_getters_that_revert_or_are_absent_are_reported_not_fatal(
    l1_node: Anvil, op_stack_l1: OpStackL1
) -> None:
    # A SystemConfig of another shape: some getters answer, batchInbox() reverts with a reason, the rest
    # (disputeGameFactory(), startBlock(), ...) do not exist.
    answers: dict[str, Returns | Reverts] = {
        "optimismPortal()": Returns(["address"], [op_stack_l1.optimism_portal]),
        "l1CrossDomainMessenger()": Returns(["address"], [op_stack_l1.l1_cross_domain_messenger]),
        "l1StandardBridge()": Returns(["address"], [op_stack_l1.l1_standard_bridge]),
        "batchInbox()": Reverts("SystemConfig: batch inbox retired"),
    }
    stub = deploy_getter_stub(l1_node.url, answers)
    request = DiscoveryRequest(method=Method.SYSTEM_CONFIG, addresses=ContractAddresses(system_config=stub))
    result = discover(request, L1Client(l1_node.url))

    assert result.addresses.optimism_portal == op_stack_l1.optimism_portal
    assert result.addresses.l1_cross_domain_messenger == op_stack_l1.l1_cross_domain_messenger
    assert result.addresses.l1_standard_bridge == op_stack_l1.l1_standard_bridge
    assert result.addresses.batch_inbox is None
    problems = {p.subject: p for p in result.problems}
    reverted = problems["SystemConfig.batchInbox()"]
    assert reverted.kind is ProblemKind.REVERTED and reverted.reason == "ContractGetterReverted"
    assert "SystemConfig: batch inbox retired" in reverted.message
    absent = problems["SystemConfig.disputeGameFactory()"]
    assert absent.kind is ProblemKind.ABSENT and absent.reason == "ContractGetterAbsent"
    assert "SystemConfig.startBlock()" in problems
    assert "SystemConfig.optimismPortal()" not in problems
    # The portal is real: the anchor state registry is still found, through the portal's own factory.
    assert result.addresses.anchor_state_registry == op_stack_l1.anchor_state_registry


# --- registry networks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [Method.WELL_KNOWN, Method.SUPERCHAIN_REGISTRY])
def test_op_sepolia_by_name_gives_the_facts_addresses(method: Method) -> None:
    if not FACTS.exists():
        pytest.skip("the shared facts are not on this machine")
    chain = json.loads(FACTS.read_text())["chains"]["op-sepolia"]
    stable = next(v for k, v in chain.items() if k.startswith("stable_addresses"))
    result = discover(DiscoveryRequest(method=method, network="op-sepolia", l1_chain_id=11155111))
    assert result.method is method
    got = result.addresses
    assert got.system_config == stable["SystemConfigProxy"]
    assert got.optimism_portal == stable["OptimismPortalProxy"]
    assert got.l1_cross_domain_messenger == stable["L1CrossDomainMessengerProxy"]
    assert got.l1_standard_bridge == stable["L1StandardBridgeProxy"]
    assert got.l1_erc721_bridge == stable["L1ERC721BridgeProxy"]
    assert got.optimism_mintable_erc20_factory == stable["OptimismMintableERC20FactoryProxy"]
    assert got.dispute_game_factory == stable["DisputeGameFactoryProxy"]
    assert got.address_manager == stable["AddressManager"]
    assert got.proxy_admin == stable["ProxyAdmin"]
    assert got.batch_inbox == Web3.to_checksum_address(chain["batch_inbox_addr"])
    assert result.network is not None
    assert result.network.op_node_network == chain["op_node_network_name"]
    assert result.network.sequencer_rpc == "https://sepolia-sequencer.optimism.io"


# --- beacon ----------------------------------------------------------------------------------------------
# No beacon node runs in the test environment (anvil has no consensus layer); a small HTTP server answers
# the three standard beacon API paths with the shapes the beacon-API spec gives.


class _Beacon(BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, Any]] = {}

    def do_GET(self) -> None:
        status, body = self.answers.get(self.path, (404, {"code": 404, "message": "not found"}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def beacon() -> Iterator[tuple[str, dict[str, tuple[int, Any]]]]:
    answers: dict[str, tuple[int, Any]] = {
        "/eth/v1/node/version": (200, {"data": {"version": "Lighthouse/v7.0.1-e42406d/x86_64-linux"}}),
        "/eth/v1/beacon/genesis": (
            200,
            {"data": {"genesis_time": "1655733600", "genesis_validators_root": "0x" + "d8" * 32}},
        ),
        "/eth/v1/config/deposit_contract": (
            200,
            {"data": {"chain_id": "11155111", "address": "0x7f02C3E3c98b133055B8B348B2Ac625669Ed295D"}},
        ),
    }
    handler = type("Handler", (_Beacon,), {"answers": answers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answers
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_beacon_check(beacon: tuple[str, dict[str, tuple[int, Any]]]) -> None:
    url, answers = beacon
    status = check_beacon(url, expected_chain_id=11155111, timeout=5)
    assert status.version.startswith("Lighthouse/")
    assert status.genesis_time == 1655733600
    assert status.deposit_chain_id == 11155111

    with pytest.raises(WrongChain) as wrong:
        check_beacon(url, expected_chain_id=1, timeout=5)
    assert wrong.value.reason == "BeaconWrongChain" and (wrong.value.expected, wrong.value.actual) == (
        1,
        11155111,
    )

    answers["/eth/v1/beacon/genesis"] = (503, {"code": 503, "message": "syncing"})
    with pytest.raises(BadResponse) as bad:
        check_beacon(url, timeout=5)
    assert bad.value.reason == "BeaconBadResponse" and "HTTP 503" in str(bad.value)

    answers["/eth/v1/beacon/genesis"] = (200, {"data": {"no_genesis_time": 1}})
    with pytest.raises(BadResponse, match="genesis_time"):
        check_beacon(url, timeout=5)


def test_beacon_unreachable_and_timeout(silent_server: int) -> None:
    with pytest.raises(EndpointUnreachable) as info:
        check_beacon(f"http://127.0.0.1:{free_port()}", timeout=2)
    assert info.value.reason == "BeaconUnreachable"
    with pytest.raises(EndpointTimeout) as slow:
        check_beacon(f"http://127.0.0.1:{silent_server}", timeout=0.5)
    assert slow.value.reason == "BeaconTimeout"
