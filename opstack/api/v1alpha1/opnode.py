"""OpNode: one op-node + op-geth pair per pod (engine API over localhost), a sequencer or a replica.

Flags and defaults follow op-node v1.13.x and op-geth v1.101511.x (../shared/facts/opstack.md). A field left
unset means "the binary's default" unless its description says the operator chooses by node type.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from .common import (
    Address,
    ApiModel,
    Condition,
    Duration,
    EnvVar,
    ExtraArg,
    Hash,
    HttpUrl,
    ImageRef,
    ObjectRef,
    Port,
    PullPolicy,
    ResourceRequirements,
    Rule,
    SecretKeyRef,
    SecretKeySelector,
    StorageSpec,
    conditions_field,
    immutable,
    observed_generation_field,
    sub,
    validations,
)

NodeType = Literal["sequencer", "replica"]
NodePhase = Literal["Pending", "Initializing", "Running", "Degraded", "Error"]

CONDITION_SECRETS_READY = "SecretsReady"
CONDITION_NODE_REACHABLE = "NodeReachable"
CONDITION_SYNCING = "Syncing"

Multiaddr = Annotated[str, StringConstraints(pattern=r"^/[^\s]+$", max_length=1024)]
Enr = Annotated[str, StringConstraints(pattern=r"^(enr:|enode://)[^\s]+$", max_length=2048)]
ApiName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=32)]
HostName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^[^\s,]+$")]


# --- op-node --------------------------------------------------------------------------------------------


class P2PDiscovery(ApiModel):
    """Peer discovery (discv5) of op-node."""

    enabled: bool | None = Field(
        default=None,
        description="Discover peers through discv5 (off: --p2p.no-discovery). Unset: on for a replica, off "
        "for a "
        "sequencer (which talks to static peers only).",
    )
    allow_on_sequencer: bool = Field(
        default=False,
        description="Allow enabled: true on a sequencer. A sequencer that advertises itself invites DoS; set "
        "this only if you mean it.",
    )
    bootnodes: list[Enr] | None = Field(
        default=None,
        description="ENRs (or enode URLs) of bootnodes (--p2p.bootnodes); the network's defaults when unset.",
    )


class PeerScoring(ApiModel):
    """Peer scoring and banning of op-node."""

    enabled: bool = Field(default=True, description="Score peers (--p2p.scoring=light) or not (none).")
    ban_peers: bool = Field(
        default=True, description="Ban peers whose score falls below the threshold (--p2p.ban.peers)."
    )


class P2PSpec(ApiModel):
    """op-node's libp2p networking (unsafe block gossip)."""

    enabled: bool = Field(default=True, description="Run the P2P stack (off: --p2p.disable).")
    listen_port: Port = Field(
        default=9222, description="TCP and UDP port of the P2P host (--p2p.listen.tcp/udp)."
    )
    advertise_ip: Annotated[str, StringConstraints(max_length=253)] | None = Field(
        default=None,
        alias="advertiseIP",
        description="IP (or host name) advertised to peers (--p2p.advertise.ip), e.g. the P2P service's "
        "address.",
    )
    discovery: P2PDiscovery = sub(P2PDiscovery, "Peer discovery settings.")
    static: list[Multiaddr] | None = Field(
        default=None, description="Multiaddrs of peers to stay connected to (--p2p.static)."
    )
    peer_scoring: PeerScoring = sub(PeerScoring, "Peer scoring and banning.")
    peers_lo: Annotated[int, Field(ge=0, le=1000)] = Field(
        default=20, description="Low water mark of connected peers (--p2p.peers.lo)."
    )
    peers_hi: Annotated[int, Field(ge=0, le=1000)] = Field(
        default=30, description="High water mark of connected peers (--p2p.peers.hi)."
    )
    private_key: SecretKeyRef | None = Field(
        default=None,
        description="The node's P2P identity key (secp256k1, 32 bytes hex). Unset: generated into a Secret "
        "owned "
        "by this OpNode, so the peer id survives restarts.",
    )


class OpNodeRpc(ApiModel):
    """op-node's JSON-RPC server (optimism_*, opp2p_*, admin_*)."""

    port: Port = Field(default=9545, description="Port of op-node's RPC (--rpc.port).")
    enable_admin: bool | None = Field(
        default=None,
        description="Serve admin_* methods (--rpc.enable-admin). Unset: on for a sequencer, off for a "
        "replica.",
    )


class SequencerSpec(ApiModel):
    """Sequencing settings, only for nodeType sequencer."""

    stopped: bool = Field(default=False, description="Start with sequencing stopped (--sequencer.stopped).")
    l1_confs: Annotated[int, Field(ge=0, le=1000)] = Field(
        default=4,
        description="L1 confirmations before an L1 block becomes an L1 origin (--sequencer.l1-confs).",
    )
    max_safe_lag: Annotated[int, Field(ge=0)] = Field(
        default=0,
        description="Pause sequencing when the unsafe head is this many blocks ahead of safe; 0 disables "
        "(--sequencer.max-safe-lag).",
    )
    recover: bool = Field(
        default=False, description="Recovery mode: build empty blocks only (--sequencer.recover)."
    )
    signing_key: SecretKeySelector | None = Field(
        default=None,
        description="Secret key holding the unsafe-block signing key (--p2p.sequencer.key); its address "
        "must be "
        "the chain's unsafe block signer.",
    )


class EngineSpec(ApiModel):
    """Engine API between op-node and op-geth."""

    jwt_secret: SecretKeyRef | None = Field(
        default=None,
        description="32-byte hex JWT secret shared by op-node and op-geth. Unset: generated into a Secret "
        "owned "
        "by this OpNode.",
    )


class OpNodeMetrics(ApiModel):
    """Prometheus metrics of op-node."""

    enabled: bool | None = Field(
        default=None, description="Serve metrics; unset: inherit the network's setting."
    )
    port: Port = Field(default=7300, description="Metrics port (--metrics.port).")


class OpNodeConfig(ApiModel):
    """Settings of the op-node (consensus) container."""

    sync_mode: Literal["consensus-layer", "execution-layer"] = Field(
        default="consensus-layer",
        description="How the node syncs (--syncmode); execution-layer lets op-geth snap-sync.",
    )
    verifier_l1_confs: Annotated[int, Field(ge=0, le=1000)] = Field(
        default=0, description="L1 confirmations before deriving from an L1 block (--verifier.l1-confs)."
    )
    safe_db: bool = Field(
        default=False,
        alias="safeDB",
        description="Keep a safe-head database (--safedb.path), needed by optimism_safeHeadAtL1Block for "
        "proposers and challengers that use this node.",
    )
    p2p: P2PSpec = sub(P2PSpec, "P2P networking.")
    rpc: OpNodeRpc = sub(OpNodeRpc, "op-node's JSON-RPC server.")
    metrics: OpNodeMetrics = sub(OpNodeMetrics, "Prometheus metrics of op-node.")
    sequencer: SequencerSpec | None = Field(
        default=None, description="Sequencing settings (nodeType sequencer only)."
    )
    engine: EngineSpec = sub(EngineSpec, "Engine API authentication.")


# --- op-geth --------------------------------------------------------------------------------------------


class GethHttp(ApiModel):
    """op-geth's HTTP JSON-RPC."""

    enabled: bool = Field(default=True, description="Serve HTTP JSON-RPC (--http).")
    port: Port = Field(default=8545, description="HTTP RPC port (--http.port).")
    apis: list[ApiName] = Field(
        default_factory=lambda: ["eth", "net", "web3"],
        description="APIs served over HTTP (--http.api).",
        json_schema_extra={"default": ["eth", "net", "web3"]},
    )
    cors_domains: list[HostName] | None = Field(
        default=None, description="Allowed CORS origins (--http.corsdomain)."
    )
    vhosts: list[HostName] = Field(
        default_factory=lambda: ["*"],
        description="Accepted Host headers (--http.vhosts); in-cluster clients use service names, hence '*'.",
        json_schema_extra={"default": ["*"]},
    )


class GethWs(ApiModel):
    """op-geth's WebSocket JSON-RPC."""

    enabled: bool = Field(default=False, description="Serve WebSocket JSON-RPC (--ws).")
    port: Port = Field(default=8546, description="WebSocket port (--ws.port).")
    apis: list[ApiName] | None = Field(default=None, description="APIs served over WebSocket (--ws.api).")
    origins: list[HostName] | None = Field(
        default=None, description="Allowed WebSocket origins (--ws.origins)."
    )


class GethAuthRpc(ApiModel):
    """op-geth's authenticated engine API, reached by op-node over localhost."""

    port: Port = Field(default=8551, description="Engine API port (--authrpc.port).")


class GethP2P(ApiModel):
    """op-geth's devp2p networking (transaction and, with snap sync, state exchange)."""

    port: Port = Field(default=30303, description="TCP and UDP port (--port, --discovery.port).")
    max_peers: Annotated[int, Field(ge=0, le=1000)] = Field(
        default=50, description="Maximum peers (--maxpeers)."
    )
    no_discovery: bool | None = Field(
        default=None,
        description="Disable peer discovery (--nodiscover). Unset: off for a sequencer, on for a replica.",
    )
    bootnodes: list[Enr] | None = Field(default=None, description="enode URLs of bootnodes (--bootnodes).")
    net_restrict: Annotated[str, StringConstraints(max_length=4096)] | None = Field(
        default=None, description="Comma-separated CIDR masks peers must match (--netrestrict)."
    )


class GethNetworking(ApiModel):
    """op-geth's listeners."""

    http: GethHttp = sub(GethHttp, "HTTP JSON-RPC.")
    ws: GethWs = sub(GethWs, "WebSocket JSON-RPC.")
    authrpc: GethAuthRpc = sub(GethAuthRpc, "Engine API.")
    p2p: GethP2P = sub(GethP2P, "devp2p networking.")


class TxPool(ApiModel):
    """op-geth's transaction pool; unset fields keep op-geth's defaults."""

    locals: list[Address] | None = Field(
        default=None, description="Accounts treated as local (--txpool.locals)."
    )
    no_locals: bool | None = Field(
        default=None, description="Disable price exemptions for locals (--txpool.nolocals)."
    )
    journal: Annotated[str, StringConstraints(max_length=1024)] | None = Field(
        default=None, description="Journal file of local transactions (--txpool.journal)."
    )
    lifetime: Duration | None = Field(
        default=None, description="Max time non-executable txs are queued (--txpool.lifetime)."
    )
    price_bump: Annotated[int, Field(ge=0, le=1000)] | None = Field(
        default=None, description="Price bump percentage to replace a tx (--txpool.pricebump)."
    )
    account_slots: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Executable slots per account (--txpool.accountslots)."
    )
    global_slots: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Executable slots in total (--txpool.globalslots)."
    )
    account_queue: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Non-executable slots per account (--txpool.accountqueue)."
    )
    global_queue: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Non-executable slots in total (--txpool.globalqueue)."
    )


class GethRollup(ApiModel):
    """OP Stack settings of op-geth."""

    disable_tx_pool_gossip: bool | None = Field(
        default=None,
        description="Do not gossip transactions (--rollup.disabletxpoolgossip). Unset: on (no gossip) for a "
        "sequencer and for replicas that forward to a sequencer.",
    )
    compute_pending_block: bool = Field(
        default=False,
        description="Compute a pending block for pending-state queries (--rollup.computependingblock).",
    )
    sequencer_http: HttpUrl | None = Field(
        default=None,
        description="Where a replica forwards eth_sendRawTransaction (--rollup.sequencerhttp). Unset: the "
        "sequencerRef OpNode's service, else the registry network's public sequencer. Replicas only.",
    )
    historical_rpc: HttpUrl | None = Field(
        default=None,
        description="RPC of a legacy (pre-Bedrock) node for historical data (--rollup.historicalrpc).",
    )
    historical_rpc_timeout: Duration | None = Field(
        default=None,
        description="Timeout of historical RPC calls (--rollup.historicalrpctimeout, default 5s).",
    )


class GethMetrics(ApiModel):
    """Prometheus metrics of op-geth."""

    enabled: bool | None = Field(
        default=None, description="Serve metrics (--metrics); unset: inherit the network's setting."
    )
    port: Port = Field(
        default=6060, description="Metrics port (--metrics.port); path /debug/metrics/prometheus."
    )


class OpGethConfig(ApiModel):
    """Settings of the op-geth (execution) container."""

    network: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)] | (
        None
    ) = Field(
        default=None,
        description="Registry network name for --op-network; unset: the OptimismNetwork's networkName when "
        "it is "
        "a registry network, else the network's genesis is used (geth init).",
    )
    data_dir: Annotated[str, StringConstraints(pattern=r"^/[^\s]*$", max_length=1024)] = Field(
        default="/data/geth",
        description="Data directory inside the container, on the persistent volume (--datadir).",
    )
    storage: StorageSpec = sub(StorageSpec, "Persistent volume of the chain data.")
    sync_mode: Literal["snap", "full"] = Field(default="full", description="How op-geth syncs (--syncmode).")
    gc_mode: Literal["full", "archive"] = Field(
        default="full", description="Garbage collection (--gcmode); archive keeps all historical state."
    )
    state_scheme: Literal["path", "hash"] | None = Field(
        default=None, description="State storage scheme (--state.scheme); unset: path for a new database."
    )
    cache: Annotated[int, Field(ge=0, le=1048576)] | None = Field(
        default=None, description="Memory for caching, in MB (--cache); op-geth's default when unset."
    )
    db_engine: Literal["pebble", "leveldb"] | None = Field(
        default=None, description="Database engine for a new database (--db.engine); pebble when unset."
    )
    networking: GethNetworking = sub(GethNetworking, "Listeners of op-geth.")
    txpool: TxPool | None = Field(default=None, description="Transaction pool settings.")
    rollup: GethRollup = sub(GethRollup, "OP Stack settings of op-geth.")
    metrics: GethMetrics = sub(GethMetrics, "Prometheus metrics of op-geth.")


# --- pod, service, escape hatches --------------------------------------------------------------------------


class OpNodeImages(ApiModel):
    """Container images; unset: the operator's pinned, mutually compatible versions."""

    op_node: ImageRef | None = Field(
        default=None, description="op-node image, e.g. us-docker.pkg.dev/.../op-node:v1.13.5."
    )
    op_geth: ImageRef | None = Field(
        default=None, description="op-geth image, e.g. us-docker.pkg.dev/.../op-geth:v1.101511.1."
    )
    pull_policy: PullPolicy = Field(
        default="IfNotPresent", description="Image pull policy of the containers."
    )


class OpNodeResources(ApiModel):
    """Compute resources per container; unset: the network's sharedConfig.resources."""

    op_node: ResourceRequirements | None = Field(
        default=None, description="Resources of the op-node container."
    )
    op_geth: ResourceRequirements | None = Field(
        default=None, description="Resources of the op-geth container."
    )


class P2PService(ApiModel):
    """A Service exposing the P2P ports (op-node TCP/UDP, op-geth TCP/UDP) outside the cluster."""

    enabled: bool = Field(default=False, description="Create the P2P service.")
    type: Literal["NodePort", "LoadBalancer"] = Field(
        default="NodePort", description="Type of the P2P service."
    )
    annotations: dict[str, str] | None = Field(default=None, description="Annotations of the P2P service.")


class ServiceSpec(ApiModel):
    """The Service in front of the node's RPC, WebSocket, op-node RPC and metrics ports."""

    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        default="ClusterIP", description="Type of the Service."
    )
    annotations: dict[str, str] | None = Field(default=None, description="Annotations of the Service.")
    p2p: P2PService = sub(P2PService, "Optional Service for the P2P ports.")


class PerContainerArgs(ApiModel):
    """Extra command-line arguments per container (escape hatch; the operator does not check them)."""

    op_node: list[ExtraArg] | None = Field(
        default=None, description="Extra op-node arguments, e.g. --l1.cache-size=1000."
    )
    op_geth: list[ExtraArg] | None = Field(
        default=None, description="Extra op-geth arguments, e.g. --txpool.maxtxgas=0."
    )


class PerContainerEnv(ApiModel):
    """Extra environment variables per container (escape hatch)."""

    op_node: list[EnvVar] | None = Field(default=None, description="Extra environment of op-node.")
    op_geth: list[EnvVar] | None = Field(default=None, description="Extra environment of op-geth.")


_PORTS = (
    "[self.opNode.rpc.port, self.opNode.p2p.listenPort, self.opNode.metrics.port, "
    "self.opGeth.networking.http.port, self.opGeth.networking.ws.port, self.opGeth.networking.authrpc.port, "
    "self.opGeth.networking.p2p.port, self.opGeth.metrics.port]"
)


def _ports(m: OpNodeSpec) -> list[int]:
    n, g = m.op_node, m.op_geth
    return [
        n.rpc.port,
        n.p2p.listen_port,
        n.metrics.port,
        g.networking.http.port,
        g.networking.ws.port,
        g.networking.authrpc.port,
        g.networking.p2p.port,
        g.metrics.port,
    ]


class OpNodeSpec(ApiModel):
    """Desired state of an OpNode."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "!(self.nodeType == 'sequencer' && has(self.opNode.p2p.discovery.enabled) "
            "&& self.opNode.p2p.discovery.enabled && !self.opNode.p2p.discovery.allowOnSequencer)",
            "a sequencer must not advertise itself through P2P discovery: set "
            "spec.opNode.p2p.discovery.enabled "
            "to false (static peers only), or set spec.opNode.p2p.discovery.allowOnSequencer: true if you "
            "mean it",
            lambda m: (
                not (
                    m.node_type == "sequencer"
                    and m.op_node.p2p.discovery.enabled
                    and not m.op_node.p2p.discovery.allow_on_sequencer
                )
            ),
            field_path=".opNode.p2p.discovery.enabled",
            reason="FieldValueForbidden",
        ),
        Rule(
            "self.nodeType == 'sequencer' || !has(self.opNode.sequencer)",
            "spec.opNode.sequencer applies to nodeType sequencer only; remove it from this replica",
            lambda m: m.node_type == "sequencer" or m.op_node.sequencer is None,
            field_path=".opNode.sequencer",
            reason="FieldValueForbidden",
        ),
        Rule(
            "self.nodeType == 'replica' || !has(self.opGeth.rollup.sequencerHttp)",
            "spec.opGeth.rollup.sequencerHttp applies to replicas only (a sequencer keeps its transactions); "
            "remove it",
            lambda m: m.node_type == "replica" or m.op_geth.rollup.sequencer_http is None,
            field_path=".opGeth.rollup.sequencerHttp",
            reason="FieldValueForbidden",
        ),
        Rule(
            "self.nodeType == 'replica' || !has(self.sequencerRef)",
            "spec.sequencerRef applies to replicas only (it names the sequencer a replica follows); "
            "remove it",
            lambda m: m.node_type == "replica" or m.sequencer_ref is None,
            field_path=".sequencerRef",
            reason="FieldValueForbidden",
        ),
        Rule(
            "!(has(self.sequencerRef) && has(self.opGeth.rollup.sequencerHttp))",
            "set either spec.sequencerRef or spec.opGeth.rollup.sequencerHttp, not both: they both say where "
            "transactions are forwarded",
            lambda m: not (m.sequencer_ref is not None and m.op_geth.rollup.sequencer_http is not None),
            field_path=".opGeth.rollup.sequencerHttp",
        ),
        Rule(
            "self.nodeType != 'sequencer' || self.replicas <= 1",
            "spec.replicas of a sequencer must be 0 or 1: two sequencers with one key would fork the chain",
            lambda m: m.node_type != "sequencer" or m.replicas <= 1,
            field_path=".replicas",
        ),
        Rule(
            _PORTS + ".all(p, " + _PORTS + ".filter(q, q == p).size() == 1)",
            "op-node and op-geth share the pod's network: spec.opNode.rpc.port, spec.opNode.p2p.listenPort, "
            "spec.opNode.metrics.port and the ports under spec.opGeth.networking and spec.opGeth.metrics "
            "must all "
            "differ",
            lambda m: len(set(_ports(m))) == len(_ports(m)),
        ),
    )

    optimism_network_ref: ObjectRef = Field(description="The OptimismNetwork this node belongs to.")
    node_type: NodeType = Field(
        description="sequencer (builds blocks; one per chain) or replica (follows the chain). Immutable.",
        json_schema_extra=validations(
            immutable(
                "nodeType", "delete and recreate the OpNode to change a replica into a sequencer or back"
            )
        ),
    )
    sequencer_ref: ObjectRef | None = Field(
        default=None,
        description="The sequencer OpNode a replica follows: transactions are forwarded to it and it is a "
        "static "
        "P2P peer. Replicas only.",
    )
    replicas: Annotated[int, Field(ge=0, le=100)] = Field(
        default=1,
        description="Number of pods (each with its own volume); a sequencer has at most 1, 0 stops the node.",
    )
    op_node: OpNodeConfig = sub(OpNodeConfig, "Settings of the op-node container.")
    op_geth: OpGethConfig = sub(OpGethConfig, "Settings of the op-geth container.")
    images: OpNodeImages = sub(OpNodeImages, "Container images.")
    resources: OpNodeResources | None = Field(default=None, description="Compute resources per container.")
    service: ServiceSpec = sub(ServiceSpec, "Services of the node.")
    extra_args: PerContainerArgs | None = Field(
        default=None, description="Extra arguments per container (escape hatch)."
    )
    extra_env: PerContainerEnv | None = Field(
        default=None, description="Extra environment per container (escape hatch)."
    )


# --- status -----------------------------------------------------------------------------------------------


class BlockRef(ApiModel):
    """A block as op-node reports it."""

    number: Annotated[int, Field(ge=0)] = Field(description="Block number.")
    hash: Hash | None = Field(default=None, description="Block hash.")
    timestamp: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Block time (Unix seconds)."
    )


class SyncStatus(ApiModel):
    """The node's view of the chain, from optimism_syncStatus."""

    current_l1: BlockRef | None = Field(default=None, description="L1 block the derivation pipeline is at.")
    head_l1: BlockRef | None = Field(default=None, description="Latest L1 block the node knows.")
    finalized_l1: BlockRef | None = Field(default=None, description="Finalized L1 block.")
    unsafe_l2: BlockRef | None = Field(
        default=None, description="Unsafe L2 head (gossiped or sequenced, not yet on L1)."
    )
    safe_l2: BlockRef | None = Field(default=None, description="Safe L2 head (derived from L1).")
    finalized_l2: BlockRef | None = Field(
        default=None, description="Finalized L2 head (derived from finalized L1)."
    )


class ChainHead(ApiModel):
    """op-geth's latest block."""

    block_number: Annotated[int, Field(ge=0)] | None = Field(default=None, description="Latest block number.")
    block_hash: Hash | None = Field(default=None, description="Latest block hash.")
    timestamp: str | None = Field(
        default=None,
        description="Time of the latest block (RFC 3339).",
        json_schema_extra={"format": "date-time"},
    )


class NodeInfo(ApiModel):
    """What the operator last read from the node's own RPC."""

    chain_head: ChainHead | None = Field(default=None, description="op-geth's latest block.")
    sync_status: SyncStatus | None = Field(default=None, description="op-node's sync status.")
    syncing: bool | None = Field(default=None, description="Whether the node is still catching up.")
    peer_count: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Connected op-node P2P peers."
    )
    engine_connected: bool | None = Field(
        default=None, description="Whether op-node reaches op-geth's engine API."
    )
    peer_id: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        default=None,
        alias="peerID",
        description="The node's libp2p peer id, derived from its P2P key (never the key).",
    )
    version: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        default=None, description="op-node version (optimism_version)."
    )
    last_updated: str | None = Field(
        default=None, description="When this was read (RFC 3339).", json_schema_extra={"format": "date-time"}
    )


class OpNodeStatus(ApiModel):
    """Observed state of an OpNode."""

    phase: NodePhase | None = Field(default=None, description="Summary of the node's state.")
    observed_generation: int | None = observed_generation_field()
    conditions: list[Condition] | None = conditions_field()
    replicas: Annotated[int, Field(ge=0)] | None = Field(default=None, description="Pods of the StatefulSet.")
    ready_replicas: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Ready pods of the StatefulSet."
    )
    node_info: NodeInfo | None = Field(default=None, description="What the node's RPC reports.")
    unsafe_block_signer: Address | None = Field(
        default=None, description="Address of the sequencer's signing key (sequencers only; never the key)."
    )
