"""An OP Stack L1 on anvil: the real contracts from npm, deployed and initialized with known addresses.

`deploy_op_stack(url)` deploys, from anvil's first (unlocked) account, what a chain's L1 side needs for
contract discovery to have something true to find:

- a real `ProxyAdmin` (owner: the deployer) that administers every `Proxy` below, as in a real deployment;
- `SystemConfig` (real implementation) behind its `Proxy`, set up the way OP's deploy scripts do it:
  `ProxyAdmin.upgradeAndCall(proxy, implementation, initialize(...))`, with known addresses for the portal,
  the bridges, the messenger, the ERC20 factory, the dispute game factory, the batch inbox, the batcher
  and the unsafe block signer;
- `OptimismPortal2` (real) behind its proxy, initialized with the dispute game factory, the SystemConfig
  and a SuperchainConfig stand-in; `DisputeGameFactory` (real) behind its proxy, owned by the deployer,
  with a real `FaultDisputeGame` registered for game type 0 (CANNON). The game's constructor fixes its
  anchor state registry, which is how discovery finds the registry when the portal predates the
  portal's own `anchorStateRegistry()` getter (op-contracts v4.0.0; npm 0.17.3 is older).
- Stand-ins where the SystemConfig only stores an address and nothing reads the code behind it (messenger,
  bridges, factory, anchor state registry, SuperchainConfig, the game's VM and WETH): bare `Proxy`
  instances, so that every one of them is a contract (code at the address), as discovery checks.

Nothing in SystemConfig 2.3.0-beta.2's initializer calls the contracts it is given unless a custom gas
token is set (then it reads the token's decimals/name/symbol and calls the portal), so this is the whole
dependency chain: no SuperchainConfig, L1CrossDomainMessenger or bridge initialization is needed.

`deploy_getter_stub(url, answers)` deploys a tiny hand-assembled contract that answers some getters,
reverts others with a reason, and (like any Solidity contract without a fallback) reverts with no data
for selectors it does not know: a SystemConfig of another version whose getters are partly absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract

from opstack.testing.contracts_bedrock import Artifact, artifact

GAME_TYPE_CANNON = 0
DEFAULT_RESOURCE_CONFIG = {  # Constants.DEFAULT_RESOURCE_CONFIG in contracts-bedrock
    "maxResourceLimit": 20_000_000,
    "elasticityMultiplier": 10,
    "baseFeeMaxChangeDenominator": 8,
    "minimumBaseFee": 10**9,
    "systemTxMaxGas": 1_000_000,
    "maximumBaseFee": 2**128 - 1,
}
# Well-formed but arbitrary keys' addresses (no code needed: they sign or receive, they are not called).
BATCHER = Web3.to_checksum_address("0x" + "ba" * 20)
UNSAFE_BLOCK_SIGNER = Web3.to_checksum_address("0x" + "5e" * 20)


@dataclass(frozen=True)
class OpStackL1:
    """Every address the fixture deployed or configured (checksummed)."""

    url: str
    chain_id: int
    l2_chain_id: int
    deployer: str
    proxy_admin: str
    system_config: str  # the proxy
    system_config_impl: str
    optimism_portal: str  # the proxy
    optimism_portal_impl: str
    l1_cross_domain_messenger: str
    l1_standard_bridge: str
    l1_erc721_bridge: str
    optimism_mintable_erc20_factory: str
    dispute_game_factory: str  # the proxy
    dispute_game_factory_impl: str
    fault_dispute_game: str  # implementation registered for game type 0
    anchor_state_registry: str
    superchain_config: str
    batch_inbox: str
    batcher: str
    unsafe_block_signer: str
    start_block: int
    respected_game_type: int


def _connect(url: str) -> Web3:
    return Web3(HTTPProvider(url, request_kwargs={"timeout": 30}, exception_retry_configuration=None))


class _Deployer:
    def __init__(self, url: str) -> None:
        self.web3 = _connect(url)
        self.account = self.web3.eth.accounts[0]

    def _wait(self, tx_hash: HexBytes) -> Any:
        receipt = self.web3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {tx_hash.hex()} reverted")
        return receipt

    def deploy(self, art: Artifact, *args: Any) -> str:
        factory = self.web3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        receipt = self._wait(factory.constructor(*args).transact({"from": self.account}))
        return str(receipt["contractAddress"])

    def deploy_code(self, creation_code: bytes) -> str:
        receipt = self._wait(self.web3.eth.send_transaction({"from": self.account, "data": creation_code}))
        return str(receipt["contractAddress"])

    def at(self, art: Artifact, address: str) -> Contract:
        return self.web3.eth.contract(address=Web3.to_checksum_address(address), abi=art.abi)

    def transact(self, fn: Any) -> Any:
        return self._wait(fn.transact({"from": self.account}))


def _struct(art: Artifact, function: str, argument: str, values: Mapping[str, Any]) -> tuple[Any, ...]:
    """A struct argument as a tuple in the ABI's component order (names checked against the ABI)."""
    entry = next(e for e in art.abi if e.get("type") == "function" and e["name"] == function)
    components = next(i for i in entry["inputs"] if i["name"] == argument)["components"]
    names = [c["name"] for c in components]
    if set(names) != set(values):
        raise ValueError(f"{function}({argument}): the ABI has {names}, the fixture gives {sorted(values)}")
    return tuple(values[name] for name in names)


def deploy_op_stack(url: str, l2_chain_id: int = 901) -> OpStackL1:
    d = _Deployer(url)
    proxy, proxy_admin_art = artifact("Proxy"), artifact("ProxyAdmin")
    proxy_admin = d.deploy(proxy_admin_art, d.account)
    admin = d.at(proxy_admin_art, proxy_admin)

    def new_proxy() -> str:
        return d.deploy(proxy, proxy_admin)

    system_config = new_proxy()
    portal = new_proxy()
    dispute_game_factory = new_proxy()
    messenger, standard_bridge, erc721_bridge, erc20_factory = (new_proxy() for _ in range(4))
    anchor_state_registry, superchain_config, vm, weth = (new_proxy() for _ in range(4))

    # DisputeGameFactory, owned by the deployer, with a real FaultDisputeGame for game type 0.
    dgf_art = artifact("DisputeGameFactory")
    dgf_impl = d.deploy(dgf_art)
    d.transact(
        admin.functions.upgradeAndCall(
            dispute_game_factory, dgf_impl, d.at(dgf_art, dgf_impl).encode_abi("initialize", [d.account])
        )
    )
    game = d.deploy(
        artifact("FaultDisputeGame"),
        GAME_TYPE_CANNON,
        b"\x03" + b"\x00" * 31,  # absolute prestate (a cannon prestate hash starts with its VM status byte)
        73,  # max game depth
        30,  # split depth
        10_800,  # clock extension (s)
        302_400,  # max clock duration (s)
        vm,
        weth,
        anchor_state_registry,
        l2_chain_id,
    )
    d.transact(d.at(dgf_art, dispute_game_factory).functions.setImplementation(GAME_TYPE_CANNON, game))

    # OptimismPortal2.
    portal_art = artifact("OptimismPortal2")
    portal_impl = d.deploy(portal_art, 7 * 24 * 3600, 3 * 24 * 3600 + 12 * 3600)
    portal_init = d.at(portal_art, portal_impl).encode_abi(
        "initialize", [dispute_game_factory, system_config, superchain_config, GAME_TYPE_CANNON]
    )
    d.transact(admin.functions.upgradeAndCall(portal, portal_impl, portal_init))

    # SystemConfig.
    sc_art = artifact("SystemConfig")
    sc_impl = d.deploy(sc_art)
    batch_inbox = Web3.to_checksum_address(f"0xff{l2_chain_id:038x}")
    sc_init = d.at(
        sc_art, sc_impl
    ).encode_abi(
        "initialize",
        [
            d.account,  # owner
            1368,  # basefee scalar
            810_949,  # blobbasefee scalar
            b"\x00" * 12 + bytes.fromhex(BATCHER[2:]),  # batcher hash: version 0, the batcher's address
            30_000_000,  # L2 gas limit
            UNSAFE_BLOCK_SIGNER,
            _struct(sc_art, "initialize", "_config", DEFAULT_RESOURCE_CONFIG),
            batch_inbox,
            _struct(
                sc_art,
                "initialize",
                "_addresses",
                {
                    "l1CrossDomainMessenger": messenger,
                    "l1ERC721Bridge": erc721_bridge,
                    "l1StandardBridge": standard_bridge,
                    "disputeGameFactory": dispute_game_factory,
                    "optimismPortal": portal,
                    "optimismMintableERC20Factory": erc20_factory,
                    "gasPayingToken": "0x" + "00" * 20,  # none: the chain pays gas in ether
                },
            ),
        ],
    )
    receipt = d.transact(admin.functions.upgradeAndCall(system_config, sc_impl, sc_init))

    return OpStackL1(
        url=url,
        chain_id=int(d.web3.eth.chain_id),
        l2_chain_id=l2_chain_id,
        deployer=str(d.account),
        proxy_admin=proxy_admin,
        system_config=system_config,
        system_config_impl=sc_impl,
        optimism_portal=portal,
        optimism_portal_impl=portal_impl,
        l1_cross_domain_messenger=messenger,
        l1_standard_bridge=standard_bridge,
        l1_erc721_bridge=erc721_bridge,
        optimism_mintable_erc20_factory=erc20_factory,
        dispute_game_factory=dispute_game_factory,
        dispute_game_factory_impl=dgf_impl,
        fault_dispute_game=game,
        anchor_state_registry=anchor_state_registry,
        superchain_config=superchain_config,
        batch_inbox=batch_inbox,
        batcher=BATCHER,
        unsafe_block_signer=UNSAFE_BLOCK_SIGNER,
        start_block=int(receipt["blockNumber"]),  # SystemConfig sets startBlock = block.number on init
        respected_game_type=GAME_TYPE_CANNON,
    )


# --- a contract with chosen getters, hand-assembled -------------------------------------------------------


@dataclass(frozen=True)
class Returns:
    """The getter returns these ABI-encoded values."""

    types: Sequence[str]
    values: Sequence[Any]

    def payload(self) -> bytes:
        return encode(list(self.types), list(self.values))


@dataclass(frozen=True)
class Reverts:
    """The getter reverts with `Error(reason)`, as Solidity's `require(false, reason)` does."""

    reason: str

    def payload(self) -> bytes:
        return Web3.keccak(text="Error(string)")[:4] + encode(["string"], [self.reason])


def selector(signature: str) -> bytes:
    return bytes(Web3.keccak(text=signature)[:4])


def getter_stub_code(answers: Mapping[str, Returns | Reverts]) -> bytes:
    """Creation code of a contract that dispatches on the 4-byte selector of `answers`' signatures
    (e.g. "optimismPortal()"), and reverts with empty data for any other selector."""
    dispatch_size = 6 + 11 * len(answers) + 4
    bodies: list[bytes] = []
    offsets: list[int] = []
    at = dispatch_size
    for answer in answers.values():
        payload = answer.payload()
        padded = payload + b"\x00" * (-len(payload) % 32)
        body = b"\x5b"  # JUMPDEST
        for i in range(0, len(padded), 32):
            body += b"\x7f" + padded[i : i + 32] + b"\x61" + i.to_bytes(2, "big") + b"\x52"  # MSTORE
        body += b"\x61" + len(payload).to_bytes(2, "big") + b"\x60\x00"
        body += b"\xf3" if isinstance(answer, Returns) else b"\xfd"  # RETURN / REVERT
        offsets.append(at)
        bodies.append(body)
        at += len(body)
    runtime = b"\x60\x00\x35\x60\xe0\x1c"  # PUSH1 0 CALLDATALOAD PUSH1 224 SHR: the selector
    for signature, offset in zip(answers, offsets, strict=True):
        # DUP1 PUSH4 selector EQ PUSH2 offset JUMPI
        runtime += b"\x80\x63" + selector(signature) + b"\x14\x61" + offset.to_bytes(2, "big") + b"\x57"
    runtime += b"\x60\x00\x80\xfd"  # PUSH1 0 DUP1 REVERT: unknown selector, no data
    runtime += b"".join(bodies)
    assert len(runtime) == at
    # PUSH2 len DUP1 PUSH2 13 PUSH1 0 CODECOPY PUSH1 0 RETURN
    init = b"\x61" + len(runtime).to_bytes(2, "big") + b"\x80\x61\x00\x0d\x60\x00\x39\x60\x00\xf3"
    return init + runtime


def deploy_getter_stub(url: str, answers: Mapping[str, Returns | Reverts]) -> str:
    return _Deployer(url).deploy_code(getter_stub_code(answers))
