"""Contract discovery: which L1 contracts belong to a chain, found by one of five methods.

- `system-config`: read the addresses from the SystemConfig contract on L1 (`eth_call` of its getters),
  and the anchor state registry through the portal;
- `superchain-registry`: the registry data (the packaged snapshot, or a user's newer copy on top);
- `well-known`: the operator's fixed table of registry networks, by name, alias or chain id;
- `manual`: the addresses given, each checked to be a contract (code at the address) on L1;
- `auto`: system-config when a SystemConfig address is given, else the registry when it knows the
  network, else well-known; the result records which method ran and why.

Invariants:
- Addresses given in the request always win; discovery fills the gaps (the API: "how to find the
  addresses not given here").
- A getter that is absent, reverts or answers garbage is a `Problem` in the result, never an exception;
  exceptions are for what makes discovery impossible: missing input (`DiscoveryInputMissing`), an unknown
  network (`NetworkNotFound`), a network on another L1 (`NetworkMismatch`), invalid registry data
  (`RegistryInvalid`), no contract at the SystemConfig address (`ContractNotFound`), and an L1 endpoint
  failure (`opstack.chain.l1.EndpointError`). Each has a stable `reason` for a condition.
- `choose_method` is pure; only `system-config` and `manual` talk to L1, and only through `L1Client`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from web3 import Web3

from opstack.chain.contracts import API_KEYS, NOT_CONTRACTS, ContractAddresses
from opstack.chain.l1 import L1Client
from opstack.chain.registry import ChainInfo, Registry, RegistryFormatError, load_registry
from opstack.chain.wellknown import networks, well_known

# `Constants.ETHER` in contracts-bedrock: the gas-paying "token" of a chain that pays gas in ether.
ETHER_TOKEN = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
ZERO_ADDRESS = "0x" + "00" * 20


class Method(enum.StrEnum):
    AUTO = "auto"
    SYSTEM_CONFIG = "system-config"
    SUPERCHAIN_REGISTRY = "superchain-registry"
    WELL_KNOWN = "well-known"
    MANUAL = "manual"


# --- errors that make discovery impossible ---------------------------------------------------------------


class DiscoveryError(Exception):
    reason: ClassVar[str] = "DiscoveryFailed"


class DiscoveryInputMissing(DiscoveryError):
    reason = "DiscoveryInputMissing"


class NetworkNotFound(DiscoveryError):
    reason = "NetworkNotFound"


class NetworkMismatch(DiscoveryError):
    reason = "NetworkMismatch"


class RegistryInvalid(DiscoveryError):
    reason = "RegistryInvalid"


class ContractNotFound(DiscoveryError):
    reason = "ContractNotFound"

    def __init__(self, what: str, address: str) -> None:
        self.what = what
        self.address = address
        super().__init__(
            f"{what} {address} has no code on L1: it is not a contract on this chain; check the address "
            f"and that the L1 endpoint serves the chain the contracts were deployed on"
        )


# --- results ---------------------------------------------------------------------------------------------


class ProblemKind(enum.StrEnum):
    ABSENT = "absent"  # reverted without data: the function does not exist in this contract version
    REVERTED = "reverted"  # reverted with a reason
    BAD_OUTPUT = "bad-output"  # answered, but not what the getter's type promises
    NO_CODE = "no-code"  # an address that should be a contract has no code
    MISMATCH = "mismatch"  # a value that contradicts the request (e.g. the L2 chain id)


_PROBLEM_REASONS = {
    ProblemKind.ABSENT: "ContractGetterAbsent",
    ProblemKind.REVERTED: "ContractGetterReverted",
    ProblemKind.BAD_OUTPUT: "ContractGetterBadOutput",
    ProblemKind.NO_CODE: "ContractCodeMissing",
    ProblemKind.MISMATCH: "ContractValueMismatch",
}


@dataclass(frozen=True)
class Problem:
    subject: str  # "SystemConfig.disputeGameFactory()", or an API field like "optimismPortalAddr"
    kind: ProblemKind
    message: str

    @property
    def reason(self) -> str:
        return _PROBLEM_REASONS[self.kind]


@dataclass(frozen=True)
class DiscoveryResult:
    method: Method  # the method that ran (auto resolved)
    requested_method: Method
    addresses: ContractAddresses
    source: str  # where the addresses came from: a contract, a registry commit, the table, the spec
    discovered_at: datetime
    why: str = ""  # for auto: why this method was chosen
    network: ChainInfo | None = None  # the registry / well-known entry used, if any
    start_block: int | None = None
    system_config_version: str | None = None
    batcher: str | None = None  # from SystemConfig.batcherHash() (version 0)
    gas_paying_token: str | None = None  # custom gas token, None for ether
    l2_chain_id: int | None = None  # SystemConfig.l2ChainId() where the version has it
    anchor_state_registry_route: str | None = None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # informational: optional getters absent in this version, overrides, ...

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_api_status(self) -> dict[str, Any]:
        """The API's `DiscoveredContracts` shape (camelCase keys, RFC 3339 time, seconds precision)."""
        status: dict[str, Any] = {
            **self.addresses.to_api(),
            "discoveryMethod": self.method.value,
            "source": self.source[:1024],
            "discoveredAt": self.discovered_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if self.addresses.unsafe_block_signer:
            status["unsafeBlockSigner"] = self.addresses.unsafe_block_signer
        return status


@dataclass(frozen=True)
class DiscoveryRequest:
    method: Method | str = Method.AUTO
    l1_chain_id: int | None = None
    l2_chain_id: int | None = None
    network: str | None = None  # a registry / well-known name
    addresses: ContractAddresses = field(default_factory=ContractAddresses)  # given by the user
    registry_override: str | Mapping[str, Any] | None = None  # the user's registry data (ConfigMap)


# --- choosing --------------------------------------------------------------------------------------------


def _registry(request: DiscoveryRequest) -> Registry:
    try:
        return load_registry(request.registry_override)
    except RegistryFormatError as exc:
        raise RegistryInvalid(str(exc)) from None


def choose_method(request: DiscoveryRequest) -> tuple[Method, str]:
    """The method to run and why. For `auto`: system-config when a SystemConfig address is given, else
    the registry when it knows the network, else the well-known table."""
    try:
        method = Method(request.method)
    except ValueError:
        choices = ", ".join(m.value for m in Method)
        raise DiscoveryInputMissing(
            f"discoveryMethod {request.method!r} is unknown; use one of {choices}"
        ) from None
    if method is not Method.AUTO:
        return method, f"{method.value} was requested"
    if request.addresses.system_config:
        return Method.SYSTEM_CONFIG, "auto: a SystemConfig address is given"
    if request.network or request.l2_chain_id is not None:
        what = _describe(request)
        if _registry(request).find(request.network, request.l2_chain_id) is not None:
            return Method.SUPERCHAIN_REGISTRY, f"auto: the superchain registry knows {what}"
        if well_known(request.network, request.l2_chain_id) is not None:
            return Method.WELL_KNOWN, f"auto: {what} is a well-known network"
    raise NetworkNotFound(
        f"auto discovery has nothing to go on for {_describe(request)}: give systemConfigAddr, or a network "
        f"known to the superchain registry ({', '.join(sorted(_registry(request).chains))}), or choose "
        f"discoveryMethod manual with the addresses"
    )


def _describe(request: DiscoveryRequest) -> str:
    parts = []
    if request.network:
        parts.append(f"network {request.network!r}")
    if request.l2_chain_id is not None:
        parts.append(f"chain id {request.l2_chain_id}")
    return " / ".join(parts) or "this network (no name, no chain id)"


# --- running ---------------------------------------------------------------------------------------------


def discover(
    request: DiscoveryRequest,
    l1: L1Client | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DiscoveryResult:
    """Run the request's method (`l1` is needed for system-config and manual)."""
    method, why = choose_method(request)
    requested = Method(request.method)
    if method is Method.SYSTEM_CONFIG:
        return _from_system_config(request, requested, why, _need_l1(l1, method), now)
    if method is Method.MANUAL:
        return _manual(request, requested, why, _need_l1(l1, method), now)
    if method is Method.SUPERCHAIN_REGISTRY:
        registry = _registry(request)
        chain = registry.find(request.network, request.l2_chain_id)
        source = f"superchain registry {registry.source}" + (
            " (user-supplied data over the operator's snapshot)" if registry.overridden else ""
        )
        return _from_table(request, requested, method, why, chain, sorted(registry.chains), source, now)
    chain = well_known(request.network, request.l2_chain_id)
    source = "well-known networks table (superchain registry snapshot shipped with the operator)"
    return _from_table(request, requested, method, why, chain, sorted(_well_known_names()), source, now)


def _well_known_names() -> list[str]:
    return list(networks())


def _need_l1(l1: L1Client | None, method: Method) -> L1Client:
    if l1 is None:
        raise DiscoveryInputMissing(f"discoveryMethod {method.value} reads L1: give an L1 RPC endpoint")
    return l1


def _from_table(
    request: DiscoveryRequest,
    requested: Method,
    method: Method,
    why: str,
    chain: ChainInfo | None,
    known: list[str],
    source: str,
    now: Callable[[], datetime],
) -> DiscoveryResult:
    if chain is None:
        raise NetworkNotFound(
            f"{method.value} has no entry for {_describe(request)}; known networks: {', '.join(known)}. "
            f"Correct the network name or chain id, or use discoveryMethod system-config or manual"
        )
    if request.l1_chain_id is not None and chain.l1_chain_id != request.l1_chain_id:
        raise NetworkMismatch(
            f"{chain.key} settles on L1 chain {chain.l1_chain_id}, but the network's L1 chain id is "
            f"{request.l1_chain_id}; correct l1ChainID or the network"
        )
    if request.l2_chain_id is not None and chain.chain_id != request.l2_chain_id:
        raise NetworkMismatch(
            f"{chain.key} has chain id {chain.chain_id}, but the network's chain id is "
            f"{request.l2_chain_id}; correct the chain id or the network"
        )
    notes = _override_notes(request.addresses, chain.addresses, f"{method.value} ({chain.key})")
    return DiscoveryResult(
        method=method,
        requested_method=requested,
        addresses=request.addresses.merged(chain.addresses),
        source=source,
        discovered_at=now(),
        why=why,
        network=chain,
        notes=notes,
    )


def _override_notes(given: ContractAddresses, found: ContractAddresses, where: str) -> tuple[str, ...]:
    found_map = found.as_dict()
    return tuple(
        f"{API_KEYS.get(name, name)} {value} is given and used; {where} says {found_map[name]}"
        for name, value in given.items()
        if name in found_map and found_map[name] != value
    )


def _manual(
    request: DiscoveryRequest, requested: Method, why: str, l1: L1Client, now: Callable[[], datetime]
) -> DiscoveryResult:
    given = request.addresses
    if not given.as_dict():
        raise DiscoveryInputMissing(
            "discoveryMethod manual needs the contract addresses; give them, or choose another method"
        )
    problems = [
        Problem(
            API_KEYS.get(name, name),
            ProblemKind.NO_CODE,
            f"{API_KEYS.get(name, name)} {address} has no code on L1: not a contract on this chain; "
            f"correct the address",
        )
        for name, address in given.items()
        if name not in NOT_CONTRACTS and l1.code_size(address) == 0
    ]
    return DiscoveryResult(
        method=Method.MANUAL,
        requested_method=requested,
        addresses=given,
        source="the addresses given in the spec",
        discovered_at=now(),
        why=why,
        problems=tuple(problems),
    )


# --- SystemConfig ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Getter:
    signature: str  # "optimismPortal()"
    types: tuple[str, ...]  # ABI output types
    target: str | None = None  # the ContractAddresses field it fills
    expected: bool = True  # False: absent in some contract versions by design (a note, not a problem)


SYSTEM_CONFIG_GETTERS: tuple[Getter, ...] = (
    Getter("optimismPortal()", ("address",), "optimism_portal"),
    Getter("l1CrossDomainMessenger()", ("address",), "l1_cross_domain_messenger"),
    Getter("l1StandardBridge()", ("address",), "l1_standard_bridge"),
    Getter("l1ERC721Bridge()", ("address",), "l1_erc721_bridge"),
    Getter("optimismMintableERC20Factory()", ("address",), "optimism_mintable_erc20_factory"),
    Getter("disputeGameFactory()", ("address",), "dispute_game_factory"),  # op-contracts v1.4.0+
    Getter("batchInbox()", ("address",), "batch_inbox"),
    Getter("startBlock()", ("uint256",)),
    Getter("unsafeBlockSigner()", ("address",), "unsafe_block_signer"),
    Getter("batcherHash()", ("bytes32",)),
    Getter("version()", ("string",)),
    Getter("l2OutputOracle()", ("address",), "l2_output_oracle", expected=False),  # v1.3.0 only
    Getter("gasPayingToken()", ("address", "uint8"), expected=False),  # v1.5.0 .. v1.8.0
    Getter("l2ChainId()", ("uint256",), expected=False),  # v4.0.0+
    Getter("superchainConfig()", ("address",), "superchain_config", expected=False),  # v4.0.0+
)


@dataclass(frozen=True)
class Reading:
    value: tuple[Any, ...] | None
    problem: Problem | None


def read_getter(l1: L1Client, contract: str, name: str, getter: Getter, args: bytes = b"") -> Reading:
    """One getter of `contract` (called `name` in messages; `args` ABI-encoded): its decoded value, or
    the problem."""
    subject = f"{name}.{getter.signature}"
    outcome = l1.call(contract, bytes(Web3.keccak(text=getter.signature)[:4]) + args)
    if outcome.reverted:
        if outcome.revert_reason is None:
            return Reading(
                None,
                Problem(
                    subject,
                    ProblemKind.ABSENT,
                    f"{subject} reverted without data: absent in this contract version (or reverted "
                    f"without a reason)",
                ),
            )
        return Reading(
            None, Problem(subject, ProblemKind.REVERTED, f"{subject} reverted: {outcome.revert_reason}")
        )
    if not outcome.data:
        return Reading(
            None, Problem(subject, ProblemKind.BAD_OUTPUT, f"{subject} returned no data (no code there?)")
        )
    try:
        return Reading(tuple(decode(list(getter.types), outcome.data)), None)
    except (DecodingError, ValueError) as exc:
        return Reading(
            None,
            Problem(
                subject,
                ProblemKind.BAD_OUTPUT,
                f"{subject} returned {len(outcome.data)} bytes that are not ({', '.join(getter.types)}): "
                f"{exc}",
            ),
        )


def _address_value(value: Any) -> str | None:
    address = str(Web3.to_checksum_address(value))
    return None if address == ZERO_ADDRESS else address


def _from_system_config(
    request: DiscoveryRequest, requested: Method, why: str, l1: L1Client, now: Callable[[], datetime]
) -> DiscoveryResult:
    system_config = request.addresses.system_config
    if system_config is None:
        raise DiscoveryInputMissing(
            "discoveryMethod system-config needs systemConfigAddr (the SystemConfig proxy on L1); set it or "
            "choose superchain-registry/well-known for a registry network"
        )
    if l1.code_size(system_config) == 0:
        raise ContractNotFound("systemConfigAddr", system_config)

    found: dict[str, str] = {"system_config": system_config}
    values: dict[str, tuple[Any, ...]] = {}
    problems: list[Problem] = []
    notes: list[str] = []
    for getter in SYSTEM_CONFIG_GETTERS:
        reading = read_getter(l1, system_config, "SystemConfig", getter)
        if reading.problem is not None:
            if getter.expected:
                problems.append(reading.problem)
            else:
                notes.append(reading.problem.message)
            continue
        assert reading.value is not None
        values[getter.signature] = reading.value
        if getter.target is not None:
            address = _address_value(reading.value[0])
            if address is not None:
                found[getter.target] = address

    # A legacy chain (op-contracts v1.3.0) has an L2OutputOracle instead of a DisputeGameFactory.
    if "l2OutputOracle()" in values:
        problems = [p for p in problems if p.subject != "SystemConfig.disputeGameFactory()"]

    batcher = None
    if "batcherHash()" in values:
        batcher_hash: bytes = values["batcherHash()"][0]
        if batcher_hash[0] == 0 and any(batcher_hash[12:]):  # version 0: the batcher's address, left-padded
            batcher = str(Web3.to_checksum_address(batcher_hash[12:]))
    gas_paying_token = None
    if "gasPayingToken()" in values:
        token = _address_value(values["gasPayingToken()"][0])
        gas_paying_token = None if token in (None, ETHER_TOKEN) else token
    l2_chain_id = int(values["l2ChainId()"][0]) if "l2ChainId()" in values else None
    if l2_chain_id is not None and request.l2_chain_id is not None and l2_chain_id != request.l2_chain_id:
        problems.append(
            Problem(
                "SystemConfig.l2ChainId()",
                ProblemKind.MISMATCH,
                f"SystemConfig {system_config} belongs to L2 chain {l2_chain_id}, but the network's chain "
                f"id is {request.l2_chain_id}; correct systemConfigAddr or the chain id",
            )
        )

    route = None
    portal = found.get("optimism_portal")
    if portal is not None:
        asr, route, asr_notes = _anchor_state_registry(l1, portal, found.get("dispute_game_factory"))
        notes.extend(asr_notes)
        if asr is not None:
            found["anchor_state_registry"] = asr

    discovered = ContractAddresses(**found)
    notes.extend(_override_notes(request.addresses, discovered, f"SystemConfig {system_config}"))
    version = str(values["version()"][0]) if "version()" in values else None
    return DiscoveryResult(
        method=Method.SYSTEM_CONFIG,
        requested_method=requested,
        addresses=request.addresses.merged(discovered),
        source=f"SystemConfig {system_config} on L1" + (f" (version {version})" if version else ""),
        discovered_at=now(),
        why=why,
        start_block=int(values["startBlock()"][0]) if "startBlock()" in values else None,
        system_config_version=version,
        batcher=batcher,
        gas_paying_token=gas_paying_token,
        l2_chain_id=l2_chain_id,
        anchor_state_registry_route=route,
        problems=tuple(problems),
        notes=tuple(notes),
    )


def _anchor_state_registry(
    l1: L1Client, portal: str, dispute_game_factory: str | None
) -> tuple[str | None, str | None, list[str]]:
    """(address, route, notes). OptimismPortal2.anchorStateRegistry() exists from op-contracts v4.0.0;
    before that, the registry is fixed in the respected game type's implementation."""
    notes: list[str] = []
    reading = read_getter(l1, portal, "OptimismPortal", Getter("anchorStateRegistry()", ("address",)))
    if reading.value is not None and (address := _address_value(reading.value[0])):
        return address, "OptimismPortal.anchorStateRegistry()", notes
    if reading.problem is not None:
        notes.append(reading.problem.message)
    game_type = read_getter(l1, portal, "OptimismPortal", Getter("respectedGameType()", ("uint32",)))
    if game_type.value is None:
        notes.append("no anchor state registry: the portal has no respected game type (a legacy portal)")
        return None, None, notes
    if dispute_game_factory is None:
        factory = read_getter(l1, portal, "OptimismPortal", Getter("disputeGameFactory()", ("address",)))
        dispute_game_factory = _address_value(factory.value[0]) if factory.value else None
    if dispute_game_factory is None:
        notes.append("no anchor state registry: no dispute game factory")
        return None, None, notes
    gt = int(game_type.value[0])
    impl = read_getter(
        l1,
        dispute_game_factory,
        "DisputeGameFactory",
        Getter("gameImpls(uint32)", ("address",)),
        encode(["uint32"], [gt]),
    )
    game = _address_value(impl.value[0]) if impl.value is not None else None
    if game is None:
        notes.append(f"no anchor state registry: no game implementation for the respected game type {gt}")
        return None, None, notes
    asr = read_getter(l1, game, "FaultDisputeGame", Getter("anchorStateRegistry()", ("address",)))
    if asr.value is not None and (address := _address_value(asr.value[0])):
        route = f"DisputeGameFactory.gameImpls({gt}).anchorStateRegistry()"
        return address, route, notes
    if asr.problem is not None:
        notes.append(asr.problem.message)
    return None, None, notes
