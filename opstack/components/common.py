"""What every component module shares: resolved inputs, the container description they return, and the
argument builder that checks each flag against the version's flag set.

Invariants:
- Pure: functions of their arguments; no I/O, no clock, no randomness.
- Key material never passes through here. A secret is named (`SecretRef`: Secret name + key) and reaches a
  container only as a file mounted from the Secret or as an env var with `valueFrom.secretKeyRef`; it is
  never a command-line argument.
- Every flag that reaches `args` went through `Args`, which refuses flags the pinned version lacks
  (`UnsupportedSettingError` naming the spec field). The escape hatch `extraArgs` is appended unchecked.
- Output is deterministic: the same inputs give equal lists in the same order (server-side apply of an
  unchanged object is then a no-op, and the config hash is stable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from opstack.api.v1alpha1 import (
    WELL_KNOWN_NETWORKS,
    EnvVar,
    LoggingSpec,
    OptimismNetworkSpec,
    OptimismNetworkStatus,
    ResourceRequirements,
    SecuritySpec,
)

from .versions import FlagSet

# --- well-known paths and volume names inside the pods ------------------------------------------------------

VOL_DATA: Final = "data"
VOL_TMP: Final = "tmp"
VOL_JWT: Final = "engine-jwt"
VOL_P2P_KEY: Final = "p2p-key"
VOL_ROLLUP: Final = "rollup-config"
VOL_GENESIS: Final = "genesis"
VOL_SIGNER_TLS: Final = "signer-tls"

DATA_MOUNT: Final = "/data"
TMP_MOUNT: Final = "/tmp"
JWT_MOUNT: Final = "/secrets/engine-jwt"
JWT_FILE: Final = "jwt.hex"
P2P_KEY_MOUNT: Final = "/secrets/p2p"
P2P_KEY_FILE: Final = "p2p.key"
ROLLUP_MOUNT: Final = "/config/rollup"
ROLLUP_FILE: Final = "rollup.json"
GENESIS_MOUNT: Final = "/config/genesis"
GENESIS_FILE: Final = "genesis.json"
SIGNER_TLS_MOUNT: Final = "/secrets/signer-tls"

# Keys the OptimismNetwork controller uses in the ConfigMaps it publishes (status.networkInfo.*ConfigMap).
PUBLISHED_ROLLUP_KEY: Final = "rollup.json"
PUBLISHED_GENESIS_KEY: Final = "genesis.json"

# Secret files: owner read, group read (the pod's fsGroup owns them), nobody else.
SECRET_FILE_MODE: Final = 0o440


class ComponentConfigError(ValueError):
    """The spec (or the network) asks for something that cannot be rendered; the message names the field and
    the fix. Controllers surface it as a condition."""


class NetworkNotReadyError(ComponentConfigError):
    """The network has not published what the component needs yet (e.g. the rollup config ConfigMap);
    the controller should wait, not fail."""


@dataclass(frozen=True)
class SecretRef:
    """A key of a Secret in the component's namespace (never its value)."""

    name: str
    key: str


@dataclass(frozen=True)
class ConfigMapRef:
    """A key of a ConfigMap in the component's namespace."""

    name: str
    key: str


# A value given literally, or read from a Secret key (e.g. an L1 URL that carries an API key).
ValueSource = str | SecretRef


@dataclass(frozen=True)
class NetworkFacts:
    """What the components need of their OptimismNetwork, resolved by `resolve_network`."""

    name: str
    chain_id: int
    l1_chain_id: int
    l1_rpc: ValueSource
    l1_beacon: ValueSource | None
    registry_network: str | None
    rollup_config: ConfigMapRef | None
    genesis: ConfigMapRef | None
    public_sequencer_url: str | None
    l1_rpc_kind: str = "standard"
    l1_rpc_rate_limit: int = 0
    dispute_game_factory: str | None = None
    l2_output_oracle: str | None = None
    logging: LoggingSpec = field(default_factory=LoggingSpec)
    metrics_enabled: bool = True
    resources: ResourceRequirements | None = None
    security: SecuritySpec = field(default_factory=SecuritySpec)

    @property
    def is_registry(self) -> bool:
        return self.registry_network is not None


def resolve_network(
    name: str,
    spec: OptimismNetworkSpec,
    status: OptimismNetworkStatus | None = None,
    *,
    public_sequencer_url: str | None = None,
) -> NetworkFacts:
    """Network facts from an OptimismNetwork's spec and status.

    A registry chain (networkName one of WELL_KNOWN_NETWORKS, with no explicit rollup config) runs the
    binaries' built-in configuration (--network / --op-network); any other chain mounts the rollup config
    and genesis, from the spec's ConfigMap references or the ConfigMaps the network controller published.
    `public_sequencer_url` is the registry's sequencer_rpc of the chain (the caller looks it up)."""
    explicit_rollup = spec.rollup_config is not None and not spec.rollup_config.auto_discover
    info = status.network_info if status is not None else None
    # The network controller resolves a registry chain also by chain id or alias; its verdict wins.
    registry = (info.op_node_network if info is not None else None) or (
        spec.network_name if spec.network_name in WELL_KNOWN_NETWORKS and not explicit_rollup else None
    )
    rollup: ConfigMapRef | None = None
    genesis: ConfigMapRef | None = None
    if registry is None:
        rollup = _config_ref(
            spec.rollup_config.config_map_ref if spec.rollup_config else None,
            info.rollup_config_map if info else None,
            PUBLISHED_ROLLUP_KEY,
            f"OptimismNetwork {name} has not published its rollup config "
            "(status.networkInfo.rollupConfigMap)",
        )
        genesis = _config_ref(
            spec.l2_genesis.config_map_ref if spec.l2_genesis else None,
            info.genesis_config_map if info else None,
            PUBLISHED_GENESIS_KEY,
            f"OptimismNetwork {name} has not published its L2 genesis (status.networkInfo.genesisConfigMap)",
        )
    discovered = info.discovered_contracts if info else None
    addrs = spec.contract_addresses
    l1_rpc: ValueSource
    if spec.l1_rpc_url is not None:
        l1_rpc = spec.l1_rpc_url
    elif spec.l1_rpc_url_secret_ref is not None:
        l1_rpc = SecretRef(spec.l1_rpc_url_secret_ref.name, spec.l1_rpc_url_secret_ref.key)
    else:  # pragma: no cover - the model refuses it
        raise ComponentConfigError("set spec.l1RpcUrl or spec.l1RpcUrlSecretRef of the OptimismNetwork")
    beacon: ValueSource | None = spec.l1_beacon_url
    if beacon is None and spec.l1_beacon_url_secret_ref is not None:
        beacon = SecretRef(spec.l1_beacon_url_secret_ref.name, spec.l1_beacon_url_secret_ref.key)
    shared = spec.shared_config
    return NetworkFacts(
        name=name,
        chain_id=spec.chain_id,
        l1_chain_id=spec.l1_chain_id,
        l1_rpc=l1_rpc,
        l1_beacon=beacon,
        registry_network=registry,
        rollup_config=rollup,
        genesis=genesis,
        public_sequencer_url=public_sequencer_url,
        l1_rpc_kind=spec.l1_rpc_kind,
        l1_rpc_rate_limit=spec.l1_rpc_rate_limit,
        dispute_game_factory=addrs.dispute_game_factory_addr
        or (discovered.dispute_game_factory_addr if discovered else None),
        l2_output_oracle=addrs.l2_output_oracle_addr
        or (discovered.l2_output_oracle_addr if discovered else None),
        logging=shared.logging,
        metrics_enabled=shared.metrics.enabled,
        resources=shared.resources,
        security=shared.security,
    )


def _config_ref(ref: Any, published: str | None, key: str, missing: str) -> ConfigMapRef:
    if ref is not None:
        return ConfigMapRef(ref.name, ref.key)
    if published:
        return ConfigMapRef(published, key)
    raise NetworkNotReadyError(missing)


# --- what a component module returns -----------------------------------------------------------------------


@dataclass
class ContainerParts:
    """One container as a component sees it: command line, env, ports, probes, mounts, and the pod volumes
    those mounts need. `resources/` turns it into a core/v1 Container."""

    name: str
    image: str
    command: list[str]
    args: list[str]
    env: list[dict[str, Any]] = field(default_factory=list)
    ports: list[dict[str, Any]] = field(default_factory=list)
    volume_mounts: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    readiness_probe: dict[str, Any] | None = None
    liveness_probe: dict[str, Any] | None = None
    startup_probe: dict[str, Any] | None = None
    # Flag names that were checked against the version (the tests read these).
    checked_flags: list[str] = field(default_factory=list)


def flag_names(args: Iterable[str]) -> list[str]:
    """The flag names (`--name`) in an argument list, in order."""
    return [a.split("=", 1)[0] for a in args if a.startswith("--")]


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


class Args:
    """Collects `--flag=value` arguments and env vars for one binary, checking each flag against its
    version's flag set."""

    def __init__(self, flags: FlagSet) -> None:
        self.flags = flags
        self.args: list[str] = []
        self.env: list[dict[str, Any]] = []
        self.checked: list[str] = []

    def _req(self, flag: str, field: str) -> str:
        name = self.flags.require(flag, field)
        self.checked.append(name)
        return name

    def switch(self, flag: str, field: str) -> None:
        """A bare boolean flag (`--http`)."""
        self.args.append(self._req(flag, field))

    def set(self, flag: str, value: object, field: str) -> None:
        self.args.append(f"{self._req(flag, field)}={_fmt(value)}")

    def opt(self, flag: str, value: object | None, field: str) -> None:
        """`--flag=value` when the value is set (None keeps the binary's default)."""
        if value is not None:
            self.set(flag, value, field)

    def csv(self, flag: str, values: Sequence[object] | None, field: str) -> None:
        if values:
            self.set(flag, ",".join(_fmt(v) for v in values), field)

    def repeat(self, flag: str, values: Sequence[object] | None, field: str) -> None:
        for v in values or ():
            self.set(flag, v, field)

    def source(self, flag: str, env_name: str, value: ValueSource, field: str) -> None:
        """A literal value as `--flag=value`; a Secret-held value as env `env_name` from a secretKeyRef."""
        if isinstance(value, SecretRef):
            self._req(flag, field)
            self.secret_env(env_name, value, field)
        else:
            self.set(flag, value, field)

    def secret_env(self, env_name: str, ref: SecretRef, field: str) -> None:
        if env_name not in self.flags.env:
            raise ComponentConfigError(
                f"{field}: {self.flags.component} {self.flags.version} has no environment variable {env_name}"
            )
        self.env.append({"name": env_name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}})


# --- shared pieces ------------------------------------------------------------------------------------------


def op_service_common(a: Args, logging: LoggingSpec, metrics_enabled: bool, metrics_port: int) -> None:
    """Log and metrics flags every op-service binary (op-node, batcher, proposer, challenger) takes."""
    a.set("--log.level", logging.level, "spec.sharedConfig.logging.level (OptimismNetwork)")
    a.set("--log.format", logging.format, "spec.sharedConfig.logging.format (OptimismNetwork)")
    a.set("--log.color", logging.color, "spec.sharedConfig.logging.color (OptimismNetwork)")
    if metrics_enabled:
        a.set("--metrics.enabled", True, "spec.metrics.enabled")
        a.set("--metrics.addr", "0.0.0.0", "spec.metrics.enabled")
        a.set("--metrics.port", metrics_port, "spec.metrics.port")


def extra_env(items: Sequence[EnvVar] | None) -> list[dict[str, Any]]:
    """The spec's extra environment (escape hatch) as core/v1 EnvVar dicts."""
    return [e.to_dict() for e in items or ()]


def env_names(env: Iterable[Mapping[str, Any]]) -> list[str]:
    return [e["name"] for e in env]


def container_port(name: str, port: int, protocol: str = "TCP") -> dict[str, Any]:
    return {"name": name, "containerPort": port, "protocol": protocol}


def http_probe(
    path: str, port: int | str, *, period: int = 10, timeout: int = 5, failures: int = 3, initial: int = 0
) -> dict[str, Any]:
    probe: dict[str, Any] = {"httpGet": {"path": path, "port": port, "scheme": "HTTP"}}
    if initial:
        probe["initialDelaySeconds"] = initial
    probe.update(
        {
            "periodSeconds": period,
            "timeoutSeconds": timeout,
            "successThreshold": 1,
            "failureThreshold": failures,
        }
    )
    return probe


def tcp_probe(port: int | str, *, period: int = 10, timeout: int = 5, failures: int = 3) -> dict[str, Any]:
    return {
        "tcpSocket": {"port": port},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "successThreshold": 1,
        "failureThreshold": failures,
    }


def secret_volume(name: str, secret: str, items: Sequence[tuple[str, str]] | None = None) -> dict[str, Any]:
    src: dict[str, Any] = {"secretName": secret}
    if items:
        src["items"] = [{"key": k, "path": p} for k, p in items]
    src["defaultMode"] = SECRET_FILE_MODE
    return {"name": name, "secret": src}


def config_map_volume(name: str, ref: ConfigMapRef, path: str) -> dict[str, Any]:
    return {"name": name, "configMap": {"name": ref.name, "items": [{"key": ref.key, "path": path}]}}


def mount(name: str, path: str, *, read_only: bool = False) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, "mountPath": path}
    if read_only:
        m["readOnly"] = True
    return m


def metrics_enabled(own: bool | None, network: NetworkFacts) -> bool:
    """A component's metrics switch: its own when set, else the network's default."""
    return network.metrics_enabled if own is None else own


__all__ = [
    "Args",
    "ComponentConfigError",
    "ConfigMapRef",
    "ContainerParts",
    "NetworkFacts",
    "NetworkNotReadyError",
    "SecretRef",
    "ValueSource",
    "flag_names",
    "resolve_network",
]
