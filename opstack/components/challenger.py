"""op-challenger (v1.5.x): plays dispute games. Runs as the root command (no subcommand) with a data volume.

Invariants:
- L1 and the beacon from the network (the beacon is required); L2 and rollup RPC from the sequencerRef
  OpNode's Service or the spec's external URLs (resolved by the caller).
- Registry chains use --network; custom chains mount the network's rollup config and L2 genesis and pass
  them with the generic VM flags (--rollup-config, --l2-genesis), which apply to every trace type.
- The signing key is an env var from a secretKeyRef (see signer.py); never an argument.
- No RPC server: the probe is the metrics listener when metrics are on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from opstack.api.v1alpha1 import OpChallengerSpec, VmSpec

from .common import (
    DATA_MOUNT,
    GENESIS_FILE,
    GENESIS_MOUNT,
    ROLLUP_FILE,
    ROLLUP_MOUNT,
    TMP_MOUNT,
    VOL_DATA,
    VOL_GENESIS,
    VOL_ROLLUP,
    VOL_TMP,
    Args,
    ComponentConfigError,
    ContainerParts,
    NetworkFacts,
    config_map_volume,
    container_port,
    extra_env,
    http_probe,
    metrics_enabled,
    mount,
    op_service_common,
)
from .signer import add_signer, add_txmgr
from .versions import flag_set

CONTAINER: Final = "op-challenger"
ENV_PREFIX: Final = "OP_CHALLENGER"
PORT_METRICS: Final = "metrics"
DATADIR: Final = f"{DATA_MOUNT}/challenger"

SUPER_TRACE_TYPES: Final = frozenset({"super-cannon", "super-permissioned", "super-asterisc-kona"})


@dataclass(frozen=True)
class ChallengerInputs:
    """L2 execution RPC (with the debug API) and rollup RPC the challenger reads."""

    l2_eth_rpc: str
    rollup_rpc: str


def dispute_game_factory(spec: OpChallengerSpec, network: NetworkFacts) -> str | None:
    return spec.dispute_game.factory_addr or network.dispute_game_factory


def _vm(
    a: Args, vm: VmSpec | None, name: str, field: str, *, own_bin: bool = True, freqs: bool = True
) -> None:
    if vm is None:
        return
    a.opt(f"--{name}-prestate", vm.prestate, field + ".prestate")
    a.opt(f"--{name}-prestates-url", vm.prestates_url, field + ".prestatesUrl")
    if own_bin:
        a.opt(f"--{name}-bin", vm.bin, field + ".bin")
    a.opt(f"--{name}-server", vm.server, field + ".server")
    if freqs:
        a.opt(f"--{name}-snapshot-freq", vm.snapshot_freq, field + ".snapshotFreq")
        a.opt(f"--{name}-info-freq", vm.info_freq, field + ".infoFreq")
    elif vm.snapshot_freq is not None or vm.info_freq is not None:
        raise ComponentConfigError(
            f"{field}.snapshotFreq/infoFreq are not separate settings in op-challenger v1.5 (asterisc-kona "
            "shares asterisc's); set spec.faultProof.asterisc.snapshotFreq/infoFreq instead"
        )


def challenger_container(
    spec: OpChallengerSpec, network: NetworkFacts, inputs: ChallengerInputs, image: str
) -> ContainerParts:
    fp = spec.fault_proof
    supers = sorted(SUPER_TRACE_TYPES.intersection(fp.trace_types))
    if supers:
        raise ComponentConfigError(
            f"spec.faultProof.traceTypes {', '.join(supers)} need a supervisor RPC, which the operator does "
            "not run; remove them"
        )
    if network.l1_beacon is None:
        raise ComponentConfigError(
            f"op-challenger needs an L1 beacon endpoint: set spec.l1BeaconUrl (or l1BeaconUrlSecretRef) on "
            f"OptimismNetwork {network.name}"
        )
    a = Args(flag_set("op-challenger", image))
    a.source("--l1-eth-rpc", f"{ENV_PREFIX}_L1_ETH_RPC", network.l1_rpc, "spec.l1RpcUrl (OptimismNetwork)")
    a.source(
        "--l1-beacon", f"{ENV_PREFIX}_L1_BEACON", network.l1_beacon, "spec.l1BeaconUrl (OptimismNetwork)"
    )
    a.set("--l2-eth-rpc", inputs.l2_eth_rpc, "spec.sequencerRef / spec.l2RpcUrl")
    a.set("--rollup-rpc", inputs.rollup_rpc, "spec.sequencerRef / spec.rollupRpcUrl")
    a.set("--datadir", DATADIR, "spec.storage")

    volumes: list[dict[str, object]] = []
    mounts = [mount(VOL_DATA, DATA_MOUNT), mount(VOL_TMP, TMP_MOUNT)]
    factory = dispute_game_factory(spec, network)
    if network.registry_network is not None:
        a.set("--network", network.registry_network, "spec.networkName (OptimismNetwork)")
    else:
        if factory is None:
            raise ComponentConfigError(
                f"no DisputeGameFactory is known for OptimismNetwork {network.name}: wait for its contract "
                "discovery or set spec.disputeGame.factoryAddr"
            )
        if network.rollup_config is None or network.genesis is None:
            raise ComponentConfigError(
                f"OptimismNetwork {network.name} is a custom chain: it needs spec.rollupConfig and "
                "spec.l2Genesis for the challenger's fault-proof program"
            )
        a.set("--rollup-config", f"{ROLLUP_MOUNT}/{ROLLUP_FILE}", "spec.rollupConfig (OptimismNetwork)")
        a.set("--l2-genesis", f"{GENESIS_MOUNT}/{GENESIS_FILE}", "spec.l2Genesis (OptimismNetwork)")
        volumes.append(config_map_volume(VOL_ROLLUP, network.rollup_config, ROLLUP_FILE))
        volumes.append(config_map_volume(VOL_GENESIS, network.genesis, GENESIS_FILE))
        mounts.append(mount(VOL_ROLLUP, ROLLUP_MOUNT, read_only=True))
        mounts.append(mount(VOL_GENESIS, GENESIS_MOUNT, read_only=True))
    a.opt("--game-factory-address", factory, "spec.disputeGame.factoryAddr")
    a.csv("--trace-type", fp.trace_types, "spec.faultProof.traceTypes")
    a.opt("--prestates-url", fp.prestates_url, "spec.faultProof.prestatesUrl")
    _vm(a, fp.cannon, "cannon", "spec.faultProof.cannon")
    _vm(a, fp.asterisc, "asterisc", "spec.faultProof.asterisc")
    kona = fp.asterisc_kona
    if kona is not None and kona.bin is not None:
        # asterisc-kona runs the asterisc binary (--asterisc-bin) with kona-host as its server.
        if fp.asterisc is not None and fp.asterisc.bin not in (None, kona.bin):
            raise ComponentConfigError(
                "spec.faultProof.asteriscKona.bin and spec.faultProof.asterisc.bin differ, but op-challenger "
                "v1.5 runs one asterisc binary (--asterisc-bin) for both; set them equal or unset one"
            )
        if fp.asterisc is None or fp.asterisc.bin is None:
            a.set("--asterisc-bin", kona.bin, "spec.faultProof.asteriscKona.bin")
    _vm(a, kona, "asterisc-kona", "spec.faultProof.asteriscKona", own_bin=False, freqs=False)

    g = spec.dispute_game
    a.csv("--game-allowlist", g.allowlist, "spec.disputeGame.allowlist")
    a.opt("--game-window", g.game_window, "spec.disputeGame.gameWindow")
    a.opt("--max-concurrency", g.max_concurrency, "spec.disputeGame.maxConcurrency")
    a.opt("--max-pending-tx", g.max_pending_tx, "spec.disputeGame.maxPendingTx")
    a.opt("--http-poll-interval", g.http_poll_interval, "spec.disputeGame.httpPollInterval")
    a.opt(
        "--selective-claim-resolution",
        g.selective_claim_resolution,
        "spec.disputeGame.selectiveClaimResolution",
    )
    a.csv(
        "--additional-bond-claimants", g.additional_bond_claimants, "spec.disputeGame.additionalBondClaimants"
    )

    metrics_on = metrics_enabled(spec.metrics.enabled, network)
    op_service_common(a, network.logging, metrics_on, spec.metrics.port)
    add_txmgr(a, spec.l1_transaction)
    signer = add_signer(a, ENV_PREFIX, spec)

    ports = [container_port(PORT_METRICS, spec.metrics.port)] if metrics_on else []
    probe = http_probe("/", PORT_METRICS) if metrics_on else None
    live = http_probe("/", PORT_METRICS, period=30, failures=6, initial=10) if metrics_on else None
    return ContainerParts(
        name=CONTAINER,
        image=image,
        command=["op-challenger"],
        args=a.args + list(spec.extra_args or ()),
        env=a.env + extra_env(spec.extra_env),
        ports=ports,
        volume_mounts=[*mounts, *signer.volume_mounts],
        volumes=volumes + signer.volumes,
        readiness_probe=probe,
        liveness_probe=live,
        checked_flags=a.checked,
    )


__all__ = ["CONTAINER", "ChallengerInputs", "challenger_container", "dispute_game_factory"]
