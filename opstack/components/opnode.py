"""op-node (v1.13.x): the consensus client of an OpNode pod, sequencer or replica.

Invariants:
- op-node talks to op-geth's engine API over the pod's localhost (`--l2=http://127.0.0.1:<authrpc>`) with
  the JWT file both containers mount from one Secret.
- Key material reaches op-node only as mounted files (JWT, P2P identity) or as an env var from a
  secretKeyRef (the sequencer's unsafe-block signing key, an L1 URL held in a Secret); never as an argument.
- A sequencer runs `--sequencer.enabled`, admin RPC, and no discovery unless the spec insists; a replica
  discovers peers and keeps the sequencer as a static peer when the caller resolved its multiaddr.
- Data op-node keeps (peerstore, discovery table, safe-head DB) lives on the pod's data volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from opstack.api.v1alpha1 import OpNodeSpec

from .common import (
    DATA_MOUNT,
    JWT_FILE,
    JWT_MOUNT,
    P2P_KEY_FILE,
    P2P_KEY_MOUNT,
    ROLLUP_FILE,
    ROLLUP_MOUNT,
    TMP_MOUNT,
    VOL_DATA,
    VOL_JWT,
    VOL_P2P_KEY,
    VOL_ROLLUP,
    VOL_TMP,
    Args,
    ComponentConfigError,
    ContainerParts,
    NetworkFacts,
    SecretRef,
    config_map_volume,
    container_port,
    extra_env,
    http_probe,
    metrics_enabled,
    mount,
    op_service_common,
    secret_volume,
)
from .opgeth import registry_network
from .versions import flag_set

CONTAINER: Final = "op-node"

PORT_RPC: Final = "node-rpc"
PORT_P2P: Final = "node-p2p"
PORT_P2P_UDP: Final = "node-p2p-udp"
PORT_METRICS: Final = "node-metrics"

OP_NODE_STATE: Final = f"{DATA_MOUNT}/op-node"

# Names of the Secrets the operator generates for an OpNode, and their keys.
JWT_SECRET_SUFFIX: Final = "jwt"
JWT_SECRET_KEY: Final = "jwt.hex"
P2P_SECRET_SUFFIX: Final = "p2p"
P2P_SECRET_KEY: Final = "p2p.key"


@dataclass(frozen=True)
class NodeSecrets:
    """The Secrets an OpNode's pod reads: which are generated (owned) and which are the user's."""

    jwt: SecretRef
    jwt_generated: bool
    p2p: SecretRef | None
    p2p_generated: bool
    sequencer_key: SecretRef | None


def node_secrets(name: str, spec: OpNodeSpec) -> NodeSecrets:
    """Where each key of OpNode `name` lives: the user's Secret, or the generated `<name>-jwt` /
    `<name>-p2p` Secret (owned by the OpNode)."""
    jwt_spec = spec.op_node.engine.jwt_secret
    if jwt_spec is not None and jwt_spec.secret_ref is not None:
        jwt, jwt_gen = SecretRef(jwt_spec.secret_ref.name, jwt_spec.secret_ref.key), False
    else:
        jwt, jwt_gen = SecretRef(f"{name}-{JWT_SECRET_SUFFIX}", JWT_SECRET_KEY), True
    p2p: SecretRef | None = None
    p2p_gen = False
    if spec.op_node.p2p.enabled:
        key_spec = spec.op_node.p2p.private_key
        if key_spec is not None and key_spec.secret_ref is not None:
            p2p = SecretRef(key_spec.secret_ref.name, key_spec.secret_ref.key)
        else:
            p2p, p2p_gen = SecretRef(f"{name}-{P2P_SECRET_SUFFIX}", P2P_SECRET_KEY), True
    seq = spec.op_node.sequencer
    seq_key = (
        SecretRef(seq.signing_key.name, seq.signing_key.key)
        if spec.node_type == "sequencer" and seq is not None and seq.signing_key is not None
        else None
    )
    return NodeSecrets(jwt, jwt_gen, p2p, p2p_gen, seq_key)


@dataclass(frozen=True)
class NodeUrls:
    """In-cluster URLs of an OpNode's Service."""

    geth_http: str
    geth_ws: str | None
    op_node_rpc: str


def node_urls(name: str, namespace: str, spec: OpNodeSpec) -> NodeUrls:
    """URLs of OpNode `name`'s ClusterIP Service (named like the OpNode), e.g. for a batcher's
    --l2-eth-rpc / --rollup-rpc or a replica's --rollup.sequencerhttp."""
    host = f"{name}.{namespace}.svc"
    net = spec.op_geth.networking
    return NodeUrls(
        geth_http=f"http://{host}:{net.http.port}",
        geth_ws=f"ws://{host}:{net.ws.port}" if net.ws.enabled else None,
        op_node_rpc=f"http://{host}:{spec.op_node.rpc.port}",
    )


@dataclass(frozen=True)
class OpNodeInputs:
    """What op-node needs besides the spec and the network, resolved by the controller."""

    secrets: NodeSecrets
    # Multiaddrs of peers to keep (besides spec.opNode.p2p.static), e.g. the sequencer's for a replica.
    static_peers: tuple[str, ...] = field(default_factory=tuple)
    # Port to advertise when a NodePort/LoadBalancer maps the P2P port to another one.
    p2p_advertise_port: int | None = None
    # Where a replica's op-geth forwards transactions unless spec.opGeth.rollup.sequencerHttp says: the
    # sequencerRef OpNode's `node_urls(...).geth_http`, else the network's public sequencer URL.
    sequencer_http: str | None = None


def op_node_container(
    spec: OpNodeSpec, network: NetworkFacts, inputs: OpNodeInputs, image: str
) -> ContainerParts:
    """The op-node container of an OpNode pod."""
    n = spec.op_node
    sequencer = spec.node_type == "sequencer"
    a = Args(flag_set("op-node", image))
    volumes: list[dict[str, object]] = []
    mounts = [
        mount(VOL_DATA, DATA_MOUNT),
        mount(VOL_JWT, JWT_MOUNT, read_only=True),
        mount(VOL_TMP, TMP_MOUNT),
    ]

    a.source("--l1", "OP_NODE_L1_ETH_RPC", network.l1_rpc, "spec.l1RpcUrl (OptimismNetwork)")
    if network.l1_beacon is not None:
        a.source("--l1.beacon", "OP_NODE_L1_BEACON", network.l1_beacon, "spec.l1BeaconUrl (OptimismNetwork)")
    else:
        # Without a beacon op-node refuses to start once Ecotone is active; with this it starts and derives
        # calldata batches (blob batches need spec.l1BeaconUrl on the network).
        a.set("--l1.beacon.ignore", True, "spec.l1BeaconUrl (OptimismNetwork)")
    a.set("--l1.rpckind", network.l1_rpc_kind, "spec.l1RpcKind (OptimismNetwork)")
    if network.l1_rpc_rate_limit:
        a.set("--l1.rpc-rate-limit", network.l1_rpc_rate_limit, "spec.l1RpcRateLimit (OptimismNetwork)")
    a.set(
        "--l2",
        f"http://127.0.0.1:{spec.op_geth.networking.authrpc.port}",
        "spec.opGeth.networking.authrpc.port",
    )
    a.set("--l2.jwt-secret", f"{JWT_MOUNT}/{JWT_FILE}", "spec.opNode.engine.jwtSecret")

    op_network = registry_network(spec, network)
    if op_network is not None:
        a.set("--network", op_network, "spec.networkName (OptimismNetwork)")
    else:
        if network.rollup_config is None:
            raise ComponentConfigError(
                f"OptimismNetwork {network.name} is a custom chain without a rollup config; set its "
                "spec.rollupConfig"
            )
        a.set("--rollup.config", f"{ROLLUP_MOUNT}/{ROLLUP_FILE}", "spec.rollupConfig (OptimismNetwork)")
        volumes.append(config_map_volume(VOL_ROLLUP, network.rollup_config, ROLLUP_FILE))
        mounts.append(mount(VOL_ROLLUP, ROLLUP_MOUNT, read_only=True))

    a.set("--syncmode", n.sync_mode, "spec.opNode.syncMode")
    a.set("--verifier.l1-confs", n.verifier_l1_confs, "spec.opNode.verifierL1Confs")
    if n.safe_db:
        a.set("--safedb.path", f"{OP_NODE_STATE}/safedb", "spec.opNode.safeDB")

    a.set("--rpc.addr", "0.0.0.0", "spec.opNode.rpc")
    a.set("--rpc.port", n.rpc.port, "spec.opNode.rpc.port")
    admin = sequencer if n.rpc.enable_admin is None else n.rpc.enable_admin
    a.set("--rpc.enable-admin", admin, "spec.opNode.rpc.enableAdmin")

    metrics_on = metrics_enabled(n.metrics.enabled, network)
    op_service_common(a, network.logging, metrics_on, n.metrics.port)

    p2p = n.p2p
    if not p2p.enabled:
        a.switch("--p2p.disable", "spec.opNode.p2p.enabled")
    else:
        key = inputs.secrets.p2p
        if key is None:
            raise ComponentConfigError("spec.opNode.p2p is enabled but no P2P key Secret was resolved")
        a.set("--p2p.listen.ip", "0.0.0.0", "spec.opNode.p2p")
        a.set("--p2p.listen.tcp", p2p.listen_port, "spec.opNode.p2p.listenPort")
        a.set("--p2p.listen.udp", p2p.listen_port, "spec.opNode.p2p.listenPort")
        a.opt("--p2p.advertise.ip", p2p.advertise_ip, "spec.opNode.p2p.advertiseIP")
        if inputs.p2p_advertise_port is not None:
            a.set("--p2p.advertise.tcp", inputs.p2p_advertise_port, "spec.service.p2p")
            a.set("--p2p.advertise.udp", inputs.p2p_advertise_port, "spec.service.p2p")
        a.set("--p2p.priv.path", f"{P2P_KEY_MOUNT}/{P2P_KEY_FILE}", "spec.opNode.p2p.privateKey")
        volumes.append(secret_volume(VOL_P2P_KEY, key.name, [(key.key, P2P_KEY_FILE)]))
        mounts.append(mount(VOL_P2P_KEY, P2P_KEY_MOUNT, read_only=True))
        a.set("--p2p.peerstore.path", f"{OP_NODE_STATE}/peerstore", "spec.opNode.p2p")
        discovery = (not sequencer) if p2p.discovery.enabled is None else p2p.discovery.enabled
        if discovery:
            a.set("--p2p.discovery.path", f"{OP_NODE_STATE}/discovery", "spec.opNode.p2p.discovery")
            a.csv("--p2p.bootnodes", p2p.discovery.bootnodes, "spec.opNode.p2p.discovery.bootnodes")
        else:
            a.switch("--p2p.no-discovery", "spec.opNode.p2p.discovery.enabled")
        static = [*(p2p.static or ()), *(s for s in inputs.static_peers if s not in (p2p.static or ()))]
        a.csv("--p2p.static", static, "spec.opNode.p2p.static")
        a.set("--p2p.peers.lo", p2p.peers_lo, "spec.opNode.p2p.peersLo")
        a.set("--p2p.peers.hi", p2p.peers_hi, "spec.opNode.p2p.peersHi")
        a.set("--p2p.scoring", "light" if p2p.peer_scoring.enabled else "none", "spec.opNode.p2p.peerScoring")
        a.set("--p2p.ban.peers", p2p.peer_scoring.ban_peers, "spec.opNode.p2p.peerScoring.banPeers")

    if sequencer:
        seq = n.sequencer
        a.set("--sequencer.enabled", True, "spec.nodeType")
        a.set("--sequencer.stopped", seq.stopped if seq else False, "spec.opNode.sequencer.stopped")
        a.set("--sequencer.l1-confs", seq.l1_confs if seq else 4, "spec.opNode.sequencer.l1Confs")
        a.set("--sequencer.max-safe-lag", seq.max_safe_lag if seq else 0, "spec.opNode.sequencer.maxSafeLag")
        if seq is not None and seq.recover:
            a.set("--sequencer.recover", True, "spec.opNode.sequencer.recover")
        if inputs.secrets.sequencer_key is not None:
            a.flags.require("--p2p.sequencer.key", "spec.opNode.sequencer.signingKey")
            a.secret_env(
                "OP_NODE_P2P_SEQUENCER_KEY", inputs.secrets.sequencer_key, "spec.opNode.sequencer.signingKey"
            )
        elif p2p.enabled:
            raise ComponentConfigError(
                "a sequencer with P2P must sign the blocks it gossips: set spec.opNode.sequencer.signingKey "
                "to a Secret key holding the chain's unsafe block signer key"
            )

    args = a.args + list(spec.extra_args.op_node or ()) if spec.extra_args else a.args
    ports = [container_port(PORT_RPC, n.rpc.port)]
    if p2p.enabled:
        ports.append(container_port(PORT_P2P, p2p.listen_port))
        ports.append(container_port(PORT_P2P_UDP, p2p.listen_port, "UDP"))
    if metrics_on:
        ports.append(container_port(PORT_METRICS, n.metrics.port))

    env = extra_env(spec.extra_env.op_node if spec.extra_env else None)
    return ContainerParts(
        name=CONTAINER,
        image=image,
        command=["op-node"],
        args=args,
        env=a.env + env,
        ports=ports,
        volume_mounts=mounts,
        volumes=volumes,
        # GET /healthz answers once op-node's RPC server runs (op-service/rpc/handler.go).
        startup_probe=http_probe("/healthz", PORT_RPC, period=5, failures=120),
        readiness_probe=http_probe("/healthz", PORT_RPC, period=10, failures=3),
        liveness_probe=http_probe("/healthz", PORT_RPC, period=30, failures=6),
        checked_flags=a.checked,
    )


__all__ = [
    "CONTAINER",
    "NodeSecrets",
    "NodeUrls",
    "OpNodeInputs",
    "node_secrets",
    "node_urls",
    "op_node_container",
]
