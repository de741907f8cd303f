"""op-geth (v1.101511.x): the execution client of an OpNode pod, and the `geth init` init container.

Invariants:
- The engine API listens on 127.0.0.1 only (op-node reaches it over the pod's localhost), authenticated by
  the JWT file mounted from a Secret; it is never a container port nor in a Service.
- Registry chains run `--op-network=<name>`; custom chains are initialised from the mounted genesis by an
  init container that runs `geth init` only when the datadir holds no chain yet (shell guard), so a restart
  never re-initialises (or fails on) an existing database.
- The datadir lives on the `data` volume; the root filesystem stays read-only (IPC disabled, tmp on an
  emptyDir).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from opstack.api.v1alpha1 import LogLevel, OpNodeSpec

from .common import (
    DATA_MOUNT,
    GENESIS_FILE,
    GENESIS_MOUNT,
    JWT_FILE,
    JWT_MOUNT,
    TMP_MOUNT,
    VOL_DATA,
    VOL_GENESIS,
    VOL_JWT,
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
    secret_volume,
    tcp_probe,
)
from .versions import flag_set

CONTAINER: Final = "op-geth"
INIT_CONTAINER: Final = "geth-init"

PORT_HTTP: Final = "geth-http"
PORT_WS: Final = "geth-ws"
PORT_P2P: Final = "geth-p2p"
PORT_P2P_UDP: Final = "geth-p2p-udp"
PORT_METRICS: Final = "geth-metrics"

# geth --verbosity: 0 silent .. 5 detail.
_VERBOSITY: Final[dict[LogLevel, int]] = {"crit": 0, "error": 1, "warn": 2, "info": 3, "debug": 4, "trace": 5}
# geth --log.format knows json|logfmt|terminal; op-service names map onto those.
_LOG_FORMAT: Final[dict[str, str]] = {
    "text": "terminal",
    "terminal": "terminal",
    "logfmt": "logfmt",
    "logfmtms": "logfmt",
    "json": "json",
    "jsonms": "json",
    "json-pretty": "json",
}

# Runs `geth init "$@"` unless the datadir already holds a chain. Values come from the environment and
# arguments, never spliced into the script, so no spec value is ever parsed by the shell.
INIT_SCRIPT: Final = (
    'set -eu\nif [ -d "$GETH_DATADIR/geth/chaindata" ]; then\n'
    '  echo "datadir $GETH_DATADIR already initialised; skipping geth init"\n  exit 0\nfi\n'
    'exec geth init "$@"\n'
)


@dataclass(frozen=True)
class GethInputs:
    """What the op-geth container needs besides the spec: the JWT Secret and where replicas forward
    transactions (already resolved by the caller: spec, sequencerRef service, or the registry's URL)."""

    jwt_secret: SecretRef
    sequencer_http: str | None = None


def datadir_mounts(data_dir: str) -> list[dict[str, object]]:
    """The data volume at /data, and also at the datadir itself when the user put it elsewhere."""
    mounts = [mount(VOL_DATA, DATA_MOUNT)]
    if not (data_dir == DATA_MOUNT or data_dir.startswith(DATA_MOUNT + "/")):
        mounts.append(mount(VOL_DATA, data_dir))
    return mounts


def _state_scheme(spec: OpNodeSpec) -> str | None:
    g = spec.op_geth
    if g.gc_mode == "archive":
        if g.state_scheme == "path":
            raise ComponentConfigError(
                "spec.opGeth.gcMode archive needs the hash state scheme; set spec.opGeth.stateScheme to hash "
                "(or leave it unset) or use gcMode full"
            )
        return "hash"
    return g.state_scheme


def registry_network(spec: OpNodeSpec, network: NetworkFacts) -> str | None:
    """The --op-network name, or None for a custom chain."""
    return spec.op_geth.network or network.registry_network


def op_geth_container(
    spec: OpNodeSpec, network: NetworkFacts, inputs: GethInputs, image: str
) -> ContainerParts:
    """The op-geth container of an OpNode pod."""
    g = spec.op_geth
    net = g.networking
    sequencer = spec.node_type == "sequencer"
    a = Args(flag_set("op-geth", image))

    a.set("--datadir", g.data_dir, "spec.opGeth.dataDir")
    a.switch("--ipcdisable", "(hardening: no IPC socket on the data volume)")
    op_network = registry_network(spec, network)
    if op_network is not None:
        a.set("--op-network", op_network, "spec.opGeth.network")
    a.set("--syncmode", g.sync_mode, "spec.opGeth.syncMode")
    a.set("--gcmode", g.gc_mode, "spec.opGeth.gcMode")
    a.opt("--state.scheme", _state_scheme(spec), "spec.opGeth.stateScheme")
    a.opt("--cache", g.cache, "spec.opGeth.cache")
    a.opt("--db.engine", g.db_engine, "spec.opGeth.dbEngine")

    if net.http.enabled:
        a.switch("--http", "spec.opGeth.networking.http.enabled")
        a.set("--http.addr", "0.0.0.0", "spec.opGeth.networking.http.enabled")
        a.set("--http.port", net.http.port, "spec.opGeth.networking.http.port")
        a.csv("--http.api", net.http.apis, "spec.opGeth.networking.http.apis")
        a.csv("--http.vhosts", net.http.vhosts, "spec.opGeth.networking.http.vhosts")
        a.csv("--http.corsdomain", net.http.cors_domains, "spec.opGeth.networking.http.corsDomains")
    if net.ws.enabled:
        a.switch("--ws", "spec.opGeth.networking.ws.enabled")
        a.set("--ws.addr", "0.0.0.0", "spec.opGeth.networking.ws.enabled")
        a.set("--ws.port", net.ws.port, "spec.opGeth.networking.ws.port")
        a.csv("--ws.api", net.ws.apis, "spec.opGeth.networking.ws.apis")
        a.csv("--ws.origins", net.ws.origins, "spec.opGeth.networking.ws.origins")

    a.set("--authrpc.addr", "127.0.0.1", "(engine API stays inside the pod)")
    a.set("--authrpc.port", net.authrpc.port, "spec.opGeth.networking.authrpc.port")
    a.set("--authrpc.vhosts", "localhost", "(engine API stays inside the pod)")
    a.set("--authrpc.jwtsecret", f"{JWT_MOUNT}/{JWT_FILE}", "spec.opNode.engine.jwtSecret")

    p2p = net.p2p
    a.set("--port", p2p.port, "spec.opGeth.networking.p2p.port")
    a.set("--discovery.port", p2p.port, "spec.opGeth.networking.p2p.port")
    a.set("--maxpeers", p2p.max_peers, "spec.opGeth.networking.p2p.maxPeers")
    no_discovery = sequencer if p2p.no_discovery is None else p2p.no_discovery
    if no_discovery:
        a.switch("--nodiscover", "spec.opGeth.networking.p2p.noDiscovery")
    a.csv("--bootnodes", p2p.bootnodes, "spec.opGeth.networking.p2p.bootnodes")
    a.opt("--netrestrict", p2p.net_restrict, "spec.opGeth.networking.p2p.netRestrict")

    rollup = g.rollup
    forward_to = None if sequencer else (rollup.sequencer_http or inputs.sequencer_http)
    gossip_off = (
        (sequencer or forward_to is not None)
        if rollup.disable_tx_pool_gossip is None
        else (rollup.disable_tx_pool_gossip)
    )
    a.set("--rollup.disabletxpoolgossip", gossip_off, "spec.opGeth.rollup.disableTxPoolGossip")
    a.opt("--rollup.sequencerhttp", forward_to, "spec.opGeth.rollup.sequencerHttp")
    if rollup.compute_pending_block:
        a.switch("--rollup.computependingblock", "spec.opGeth.rollup.computePendingBlock")
    a.opt("--rollup.historicalrpc", rollup.historical_rpc, "spec.opGeth.rollup.historicalRpc")
    a.opt(
        "--rollup.historicalrpctimeout",
        rollup.historical_rpc_timeout,
        "spec.opGeth.rollup.historicalRpcTimeout",
    )

    if g.txpool is not None:
        t = g.txpool
        a.csv("--txpool.locals", t.locals, "spec.opGeth.txpool.locals")
        if t.no_locals is not None:
            a.set("--txpool.nolocals", t.no_locals, "spec.opGeth.txpool.noLocals")
        a.opt("--txpool.journal", t.journal, "spec.opGeth.txpool.journal")
        a.opt("--txpool.lifetime", t.lifetime, "spec.opGeth.txpool.lifetime")
        a.opt("--txpool.pricebump", t.price_bump, "spec.opGeth.txpool.priceBump")
        a.opt("--txpool.accountslots", t.account_slots, "spec.opGeth.txpool.accountSlots")
        a.opt("--txpool.globalslots", t.global_slots, "spec.opGeth.txpool.globalSlots")
        a.opt("--txpool.accountqueue", t.account_queue, "spec.opGeth.txpool.accountQueue")
        a.opt("--txpool.globalqueue", t.global_queue, "spec.opGeth.txpool.globalQueue")

    metrics_on = metrics_enabled(g.metrics.enabled, network)
    if metrics_on:
        a.switch("--metrics", "spec.opGeth.metrics.enabled")
        a.set("--metrics.addr", "0.0.0.0", "spec.opGeth.metrics.enabled")
        a.set("--metrics.port", g.metrics.port, "spec.opGeth.metrics.port")

    a.set(
        "--verbosity", _VERBOSITY[network.logging.level], "spec.sharedConfig.logging.level (OptimismNetwork)"
    )
    a.set(
        "--log.format",
        _LOG_FORMAT[network.logging.format],
        "spec.sharedConfig.logging.format (OptimismNetwork)",
    )

    args = a.args + list(spec.extra_args.op_geth or ()) if spec.extra_args else a.args

    ports = []
    if net.http.enabled:
        ports.append(container_port(PORT_HTTP, net.http.port))
    if net.ws.enabled:
        ports.append(container_port(PORT_WS, net.ws.port))
    ports.append(container_port(PORT_P2P, p2p.port))
    ports.append(container_port(PORT_P2P_UDP, p2p.port, "UDP"))
    if metrics_on:
        ports.append(container_port(PORT_METRICS, g.metrics.port))

    # geth answers an empty GET on its HTTP RPC with 200 once the RPC server is up (rpc/http.go), and the
    # vhost check lets IP hosts through: a probe that means "serving RPC". Without HTTP, the P2P listener.
    if net.http.enabled:
        startup = http_probe("/", PORT_HTTP, period=10, failures=360)
        ready = http_probe("/", PORT_HTTP, period=10, failures=3)
        live = tcp_probe(PORT_HTTP, period=30, failures=10)
    else:
        startup = tcp_probe(PORT_P2P, period=10, failures=360)
        ready = tcp_probe(PORT_P2P)
        live = tcp_probe(PORT_P2P, period=30, failures=10)

    env = extra_env(spec.extra_env.op_geth if spec.extra_env else None)
    return ContainerParts(
        name=CONTAINER,
        image=image,
        command=["geth"],
        args=args,
        env=a.env + env,
        ports=ports,
        volume_mounts=[
            *datadir_mounts(g.data_dir),
            mount(VOL_JWT, JWT_MOUNT, read_only=True),
            mount(VOL_TMP, TMP_MOUNT),
        ],
        volumes=[secret_volume(VOL_JWT, inputs.jwt_secret.name, [(inputs.jwt_secret.key, JWT_FILE)])],
        readiness_probe=ready,
        liveness_probe=live,
        startup_probe=startup,
        checked_flags=a.checked,
    )


def geth_init_container(spec: OpNodeSpec, network: NetworkFacts, image: str) -> ContainerParts | None:
    """The `geth init` init container for a custom chain; None for a registry chain (--op-network)."""
    if registry_network(spec, network) is not None:
        return None
    if network.genesis is None:
        raise ComponentConfigError(
            f"OptimismNetwork {network.name} is a custom chain without an L2 genesis; set its spec.l2Genesis"
        )
    fs = flag_set("op-geth", image)
    allowed = fs.subcommands["init"]
    args: list[str] = []
    checked: list[str] = []

    def add(flag: str, value: str) -> None:
        if flag not in allowed:  # pragma: no cover - the data file lists them
            raise ComponentConfigError(f"geth init of {fs.version} does not accept {flag}")
        checked.append(flag)
        args.append(f"{flag}={value}")

    add("--datadir", spec.op_geth.data_dir)
    scheme = _state_scheme(spec)
    if scheme is not None:
        add("--state.scheme", scheme)
    if spec.op_geth.db_engine is not None:
        add("--db.engine", spec.op_geth.db_engine)
    args.append(f"{GENESIS_MOUNT}/{GENESIS_FILE}")
    return ContainerParts(
        name=INIT_CONTAINER,
        image=image,
        command=["sh", "-c", INIT_SCRIPT, INIT_CONTAINER],
        args=args,
        env=[{"name": "GETH_DATADIR", "value": spec.op_geth.data_dir}],
        volume_mounts=[
            *datadir_mounts(spec.op_geth.data_dir),
            mount(VOL_GENESIS, GENESIS_MOUNT, read_only=True),
            mount(VOL_TMP, TMP_MOUNT),
        ],
        volumes=[config_map_volume(VOL_GENESIS, network.genesis, GENESIS_FILE)],
        checked_flags=checked,
    )


__all__ = [
    "CONTAINER",
    "INIT_CONTAINER",
    "GethInputs",
    "geth_init_container",
    "op_geth_container",
    "registry_network",
]
