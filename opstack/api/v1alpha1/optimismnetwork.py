"""OptimismNetwork: which chain, which L1, which contracts, which configuration files.

The root every component hangs from (`spec.optimismNetworkRef` of the other kinds). The controller checks L1,
discovers the contract addresses and publishes the rollup config and genesis; components inherit the shared
logging, metrics, resources and pod security defaults.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from .common import (
    Address,
    ApiModel,
    Condition,
    ConfigMapKeySelector,
    Duration,
    LogFormat,
    LogLevel,
    Port,
    ResourceRequirements,
    Rule,
    SecretKeySelector,
    Url,
    conditions_field,
    observed_generation_field,
    sub,
)

# Networks of the superchain registry that op-node (--network) and op-geth (--op-network) know by name.
WELL_KNOWN_NETWORKS = (
    "op-mainnet",
    "op-sepolia",
    "base-mainnet",
    "base-sepolia",
    "unichain-mainnet",
    "unichain-sepolia",
    "mode-mainnet",
    "zora-mainnet",
)

DiscoveryMethod = Literal["auto", "system-config", "superchain-registry", "well-known", "manual"]
L1RpcKind = Literal[
    "alchemy",
    "quicknode",
    "infura",
    "parity",
    "nethermind",
    "debug_geth",
    "erigon",
    "basic",
    "any",
    "standard",
]
NetworkPhase = Literal["Pending", "Ready", "Error", "Terminating"]

# Condition types of an OptimismNetwork.
CONDITION_CONFIGURATION_VALID = "ConfigurationValid"
CONDITION_L1_CONNECTED = "L1Connected"
CONDITION_CONTRACTS_DISCOVERED = "ContractsDiscovered"


class ConfigSource(ApiModel):
    """Where a configuration document (rollup.json, genesis.json) comes from: exactly one of inline,
    configMapRef or autoDiscover."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "[has(self.inline), has(self.configMapRef), has(self.autoDiscover) && self.autoDiscover]"
            ".filter(x, x).size() == 1",
            "set exactly one of inline (the document itself), configMapRef (a ConfigMap key holding it) "
            "or autoDiscover: true (let the operator find it for a registry network)",
            lambda m: (
                [m.inline is not None, m.config_map_ref is not None, bool(m.auto_discover)].count(True) == 1
            ),
        ),
    )

    inline: Annotated[str, StringConstraints(min_length=2, max_length=1048576)] | None = Field(
        default=None,
        description="The JSON document itself, as a string (e.g. `inline: |` followed by the JSON). Keep big "
        "genesis files in a ConfigMap instead (objects are limited to about 1.5 MiB).",
    )
    config_map_ref: ConfigMapKeySelector | None = Field(
        default=None, description="A ConfigMap key that holds the JSON document."
    )
    auto_discover: bool | None = Field(
        default=None,
        description="Let the operator provide the document: for registry networks the binaries' own "
        "--network/--op-network support is used.",
    )


class L1Addresses(ApiModel):
    """The L1 contract addresses of an OP Stack chain."""

    system_config_addr: Address | None = Field(default=None, description="SystemConfig proxy on L1.")
    optimism_portal_addr: Address | None = Field(default=None, description="OptimismPortal proxy on L1.")
    l1_cross_domain_messenger_addr: Address | None = Field(
        default=None, description="L1CrossDomainMessenger proxy."
    )
    l1_standard_bridge_addr: Address | None = Field(default=None, description="L1StandardBridge proxy.")
    l1_erc721_bridge_addr: Address | None = Field(
        default=None, alias="l1ERC721BridgeAddr", description="L1ERC721Bridge proxy."
    )
    optimism_mintable_erc20_factory_addr: Address | None = Field(
        default=None,
        alias="optimismMintableERC20FactoryAddr",
        description="OptimismMintableERC20Factory proxy.",
    )
    dispute_game_factory_addr: Address | None = Field(
        default=None, description="DisputeGameFactory proxy (fault-proof chains)."
    )
    l2_output_oracle_addr: Address | None = Field(
        default=None, description="L2OutputOracle proxy (legacy chains without fault proofs)."
    )
    anchor_state_registry_addr: Address | None = Field(default=None, description="AnchorStateRegistry proxy.")
    batch_inbox_addr: Address | None = Field(
        default=None, description="Batch inbox address the batcher posts to."
    )


class ContractAddresses(L1Addresses):
    """L1 contract addresses of the chain and how the operator discovers the ones not given."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "self.discoveryMethod != 'manual' || (has(self.systemConfigAddr) && has(self.optimismPortalAddr) "
            "&& (has(self.disputeGameFactoryAddr) || has(self.l2OutputOracleAddr)))",
            "discoveryMethod manual needs systemConfigAddr, optimismPortalAddr and one of "
            "disputeGameFactoryAddr or l2OutputOracleAddr; set them or choose another discoveryMethod "
            "(e.g. system-config)",
            lambda m: (
                m.discovery_method != "manual"
                or (
                    m.system_config_addr is not None
                    and m.optimism_portal_addr is not None
                    and (m.dispute_game_factory_addr is not None or m.l2_output_oracle_addr is not None)
                )
            ),
        ),
        Rule(
            "self.discoveryMethod != 'system-config' || has(self.systemConfigAddr)",
            "discoveryMethod system-config needs systemConfigAddr (the SystemConfig proxy on L1); set it or "
            "choose well-known/superchain-registry for a registry network",
            lambda m: m.discovery_method != "system-config" or m.system_config_addr is not None,
        ),
    )

    discovery_method: DiscoveryMethod = Field(
        default="auto",
        description="How to find the addresses not given here: system-config (read them from the "
        "SystemConfig contract on L1), superchain-registry (the registry snapshot shipped with the "
        "operator), "
        "well-known (built-in table of registry networks), manual (only the addresses given here), auto "
        "(system-config when systemConfigAddr is given, else superchain-registry, else well-known).",
    )
    cache_timeout: Duration = Field(
        default="24h", description="How long discovered addresses are trusted before they are read again."
    )
    registry_override: ConfigMapKeySelector | None = Field(
        default=None,
        description="A ConfigMap key holding newer superchain-registry data, which you keep current; used by "
        "superchain-registry and auto discovery on top of the snapshot shipped with the operator. The value "
        'is a JSON object in the shape of that snapshot: {"source": {"repository": ..., "commit": ..., '
        '"date": ...}, "superchains": {"sepolia": {"l1ChainId": 11155111, "superchainConfig": "0x..", '
        '"protocolVersions": "0x.."}}, "chains": {"op-sepolia": {"chainId": 11155420, "l1ChainId": '
        '11155111, "superchain": "sepolia", "batchInbox": "0x..", "addresses": {"SystemConfigProxy": '
        '"0x..", "OptimismPortalProxy": "0x..", ...}, "roles": {"UnsafeBlockSigner": "0x.."}}}}. '
        "source and superchains may be omitted (the snapshot's are kept); each chain given replaces the "
        "snapshot's chain of that name as a whole. A change to the ConfigMap is picked up at once.",
    )


class LoggingSpec(ApiModel):
    """Logging of every component of the network."""

    level: LogLevel = Field(default="info", description="Log level (--log.level).")
    format: LogFormat = Field(default="logfmt", description="Log format (--log.format).")
    color: bool = Field(default=False, description="Colour the log output (--log.color).")


class SharedMetricsSpec(ApiModel):
    """Default metrics settings of the network's components."""

    enabled: bool = Field(
        default=True, description="Components serve Prometheus metrics unless they say otherwise."
    )
    port: Port = Field(
        default=7300, description="Default metrics port of the op-* components (--metrics.port)."
    )


class SeccompProfile(ApiModel):
    """Seccomp profile of the pods."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "self.type != 'Localhost' || has(self.localhostProfile)",
            "type Localhost needs localhostProfile (the profile's path on the node)",
            lambda m: m.type != "Localhost" or m.localhost_profile is not None,
        ),
    )

    type: Literal["RuntimeDefault", "Localhost", "Unconfined"] = Field(
        default="RuntimeDefault",
        description="Kind of seccomp profile (the restricted Pod Security Standard needs "
        "RuntimeDefault or Localhost).",
    )
    localhost_profile: Annotated[str, StringConstraints(max_length=4096)] | None = Field(
        default=None, description="Path of the profile on the node, for type Localhost."
    )


class SecuritySpec(ApiModel):
    """Pod security defaults of the network's components (restricted Pod Security Standard by default)."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "!(self.runAsNonRoot && has(self.runAsUser) && self.runAsUser == 0)",
            "runAsUser 0 (root) contradicts runAsNonRoot: true; use a non-zero user id or set runAsNonRoot: "
            "false",
            lambda m: not (m.run_as_non_root and m.run_as_user == 0),
            field_path=".runAsUser",
        ),
    )

    run_as_non_root: bool = Field(
        default=True, description="Refuse to start containers that would run as root."
    )
    run_as_user: Annotated[int, Field(ge=0, le=2147483647)] = Field(
        default=1000, description="User id the containers run as."
    )
    run_as_group: Annotated[int, Field(ge=0, le=2147483647)] = Field(
        default=1000, description="Primary group id the containers run as."
    )
    fs_group: Annotated[int, Field(ge=0, le=2147483647)] = Field(
        default=1000, description="Group that owns mounted volumes, so the data directories are writable."
    )
    seccomp_profile: SeccompProfile = sub(SeccompProfile, "Seccomp profile of the pods.")


class SharedConfig(ApiModel):
    """Defaults that every component of the network inherits unless it overrides them."""

    logging: LoggingSpec = sub(LoggingSpec, "Logging of the components.")
    metrics: SharedMetricsSpec = sub(SharedMetricsSpec, "Metrics of the components.")
    resources: ResourceRequirements | None = Field(
        default=None, description="Default compute resources of every container that does not set its own."
    )
    security: SecuritySpec = sub(SecuritySpec, "Pod security settings of the components.")


class OptimismNetworkSpec(ApiModel):
    """Desired state of an OptimismNetwork."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "has(self.l1RpcUrl) != has(self.l1RpcUrlSecretRef)",
            "set exactly one of spec.l1RpcUrl or spec.l1RpcUrlSecretRef (a Secret key holding the URL, for "
            "provider URLs that carry an API key)",
            lambda m: (m.l1_rpc_url is not None) != (m.l1_rpc_url_secret_ref is not None),
            field_path=".l1RpcUrl",
        ),
        Rule(
            "!(has(self.l1BeaconUrl) && has(self.l1BeaconUrlSecretRef))",
            "set at most one of spec.l1BeaconUrl or spec.l1BeaconUrlSecretRef",
            lambda m: not (m.l1_beacon_url is not None and m.l1_beacon_url_secret_ref is not None),
            field_path=".l1BeaconUrl",
        ),
        Rule(
            "self.chainID != self.l1ChainID",
            "spec.chainID (the L2) must differ from spec.l1ChainID (the L1 it settles on); "
            "e.g. op-sepolia is 11155420 on L1 11155111",
            lambda m: m.chain_id != m.l1_chain_id,
            field_path=".chainID",
        ),
    )

    network_name: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    ] | (None) = Field(
        default=None,
        description="Name of the network. A superchain-registry name ("
        + ", ".join(WELL_KNOWN_NETWORKS)
        + ") "
        "lets the binaries use their built-in configuration (--network / --op-network); any other name "
        "denotes a custom chain.",
    )
    chain_id: Annotated[int, Field(ge=1)] = Field(alias="chainID", description="Chain id of the L2.")
    l1_chain_id: Annotated[int, Field(ge=1)] = Field(
        alias="l1ChainID",
        description="Chain id of the L1 (1 mainnet, 11155111 sepolia); checked against the RPC.",
    )
    l1_rpc_url: Url | None = Field(
        default=None,
        description="L1 execution JSON-RPC endpoint (http(s) or ws(s)). Use l1RpcUrlSecretRef instead when "
        "the URL carries an API key.",
    )
    l1_rpc_url_secret_ref: SecretKeySelector | None = Field(
        default=None, description="A Secret key holding the L1 RPC URL (alternative to l1RpcUrl)."
    )
    l1_beacon_url: Url | None = Field(
        default=None,
        description="L1 beacon node (consensus layer) HTTP endpoint; needed by op-node after Ecotone (blobs) "
        "and by op-challenger.",
    )
    l1_beacon_url_secret_ref: SecretKeySelector | None = Field(
        default=None, description="A Secret key holding the L1 beacon URL (alternative to l1BeaconUrl)."
    )
    l1_rpc_kind: L1RpcKind = Field(
        default="standard",
        description="Kind of L1 RPC provider, to use its efficient receipt fetching (--l1.rpckind).",
    )
    l1_rpc_rate_limit: Annotated[int, Field(ge=0)] = Field(
        default=0,
        description="Requests per second op-node may make to the L1 RPC; 0 is unlimited "
        "(--l1.rpc-rate-limit).",
    )
    l1_rpc_timeout: Duration = Field(
        default="10s",
        description="Timeout of each L1 RPC call the operator and components make (Go duration).",
    )
    rollup_config: ConfigSource | None = Field(
        default=None,
        description="The rollup configuration (rollup.json). Unset for a registry network: autoDiscover.",
    )
    l2_genesis: ConfigSource | None = Field(
        default=None,
        description="The L2 genesis (genesis.json). Unset for a registry network means autoDiscover.",
    )
    contract_addresses: ContractAddresses = sub(
        ContractAddresses, "L1 contract addresses of the chain and how to discover them."
    )
    shared_config: SharedConfig = sub(
        SharedConfig, "Logging, metrics, resources and security defaults the components inherit."
    )


class L1Info(ApiModel):
    """What the operator last saw of L1."""

    chain_id: int | None = Field(
        default=None, alias="chainID", description="Chain id reported by the L1 RPC."
    )
    head_block: int | None = Field(default=None, ge=0, description="Latest L1 block number.")
    head_time: str | None = Field(
        default=None,
        description="Timestamp of the latest L1 block (RFC 3339).",
        json_schema_extra={"format": "date-time"},
    )
    latency_ms: int | None = Field(
        default=None, ge=0, description="Round-trip time of the last eth_chainId call (ms)."
    )
    beacon_reachable: bool | None = Field(default=None, description="Whether the beacon endpoint answered.")
    last_checked: str | None = Field(
        default=None,
        description="When L1 was last checked (RFC 3339).",
        json_schema_extra={"format": "date-time"},
    )


class DiscoveredContracts(L1Addresses):
    """Contract addresses in use, as discovered or given, with how and when they were found."""

    discovery_method: DiscoveryMethod | None = Field(
        default=None,
        description="The method that produced these addresses (auto resolves to the one actually used).",
    )
    unsafe_block_signer: Address | None = Field(
        default=None,
        description="Address whose signature on unsafe blocks the network's nodes accept (p2p signer).",
    )
    source: Annotated[str, StringConstraints(max_length=1024)] | None = Field(
        default=None, description="Where the addresses came from (contract, registry commit, table)."
    )
    discovered_at: str | None = Field(
        default=None,
        description="When the addresses were discovered (RFC 3339).",
        json_schema_extra={"format": "date-time"},
    )
    inputs_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")] | None = Field(
        default=None,
        description="Hash of what the discovery depended on (method, chain ids, network name, the addresses "
        "given, the registry override's content; never a URL). While it matches the spec and "
        "discoveredAt + cacheTimeout lies ahead, the addresses are reused without reading L1, also after "
        "an operator restart.",
    )


class NetworkInfo(ApiModel):
    """Facts about the chain the operator has established."""

    l1: L1Info | None = Field(default=None, description="What the operator last saw of L1.")
    discovered_contracts: DiscoveredContracts | None = Field(
        default=None, description="Contract addresses in use."
    )
    rollup_config_map: str | None = Field(
        default=None, description="Name of the ConfigMap holding rollup.json, for components that mount it."
    )
    genesis_config_map: str | None = Field(
        default=None, description="Name of the ConfigMap holding genesis.json, for components that mount it."
    )
    block_time: int | None = Field(default=None, ge=0, description="L2 block time in seconds.")
    unsafe_block_signer: Address | None = Field(default=None, description="The chain's unsafe block signer.")
    op_node_network: Annotated[str, StringConstraints(max_length=63)] | None = Field(
        default=None,
        description="For a superchain-registry chain whose rollup config is built into the binaries: the "
        "name op-node (and op-challenger) take as --network. Unset for a custom chain.",
    )
    op_geth_network: Annotated[str, StringConstraints(max_length=63)] | None = Field(
        default=None,
        description="For a superchain-registry chain whose genesis is built into the binaries: the name "
        "op-geth takes as --op-network. Unset for a custom chain.",
    )


class OptimismNetworkStatus(ApiModel):
    """Observed state of an OptimismNetwork."""

    phase: NetworkPhase | None = Field(default=None, description="Summary of the network's state.")
    observed_generation: int | None = observed_generation_field()
    conditions: list[Condition] | None = conditions_field()
    network_info: NetworkInfo | None = Field(
        default=None, description="Facts about the chain the operator established."
    )
