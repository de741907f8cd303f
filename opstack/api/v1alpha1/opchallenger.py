"""OpChallenger: op-challenger, which plays dispute games (op-challenger v1.5.x flags).

A StatefulSet with a data volume (--datadir); no RPC server of its own.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from .chainops import ComponentPhase, SigningComponentSpec, balance_threshold
from .common import (
    Address,
    ApiModel,
    Condition,
    Duration,
    EtherAmount,
    HttpUrl,
    ObjectRef,
    Rule,
    StorageQuantity,
    StorageSpec,
    conditions_field,
    no_shrink,
    observed_generation_field,
    sub,
    validations,
)

TraceType = Literal[
    "cannon",
    "permissioned",
    "asterisc",
    "asterisc-kona",
    "super-cannon",
    "super-permissioned",
    "super-asterisc-kona",
    "fast",
    "alphabet",
]
ContainerPath = Annotated[str, StringConstraints(pattern=r"^/[^\s]*$", max_length=1024)]

_DEFAULT_TRACE_TYPES: tuple[TraceType, ...] = ("cannon", "permissioned")
_CANNON_TYPES = ("cannon", "permissioned", "super-cannon", "super-permissioned")
_ASTERISC_TYPES = ("asterisc",)
_ASTERISC_KONA_TYPES = ("asterisc-kona", "super-asterisc-kona")


class VmSpec(ApiModel):
    """Settings of one fault-proof VM (cannon, asterisc, asterisc-kona)."""

    prestate: ContainerPath | None = Field(
        default=None, description="Path of an absolute prestate file inside the container (--<vm>-prestate)."
    )
    prestates_url: HttpUrl | None = Field(
        default=None,
        description="Base URL the prestate matching a game's on-chain hash is fetched from, as "
        "<url>/<hash>.json "
        "(--<vm>-prestates-url).",
    )
    bin: ContainerPath | None = Field(
        default=None, description="Path of the VM binary; unset: the image's default."
    )
    server: ContainerPath | None = Field(
        default=None,
        description="Path of the fault-proof program (op-program, kona-host); unset: the image's default.",
    )
    snapshot_freq: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="VM steps between snapshots (--<vm>-snapshot-freq; 1000000000)."
    )
    info_freq: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="VM steps between progress logs (--<vm>-info-freq; 10000000)."
    )


def _prestate_rule(types: tuple[str, ...], vm: str, attr: str) -> Rule:
    listed = ", ".join(f"'{t}'" for t in types)
    return Rule(
        f"!self.traceTypes.exists(t, t in [{listed}]) || has(self.prestatesUrl) || "
        f"(has(self.{vm}) && (has(self.{vm}.prestatesUrl) || has(self.{vm}.prestate)))",
        f"trace types {'/'.join(types)} need a prestate for {vm}: set spec.faultProof.prestatesUrl, "
        f"spec.faultProof.{vm}.prestatesUrl or spec.faultProof.{vm}.prestate",
        lambda m: (
            not any(t in types for t in m.trace_types)
            or m.prestates_url is not None
            or (
                getattr(m, attr) is not None
                and (getattr(m, attr).prestates_url is not None or getattr(m, attr).prestate is not None)
            )
        ),
        field_path=".traceTypes",
    )


class FaultProof(ApiModel):
    """Which games the challenger plays and the VMs it runs to play them."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        _prestate_rule(_CANNON_TYPES, "cannon", "cannon"),
        _prestate_rule(_ASTERISC_TYPES, "asterisc", "asterisc"),
        _prestate_rule(_ASTERISC_KONA_TYPES, "asteriscKona", "asterisc_kona"),
    )

    trace_types: list[TraceType] = Field(
        default_factory=lambda: list(_DEFAULT_TRACE_TYPES),
        min_length=1,
        max_length=9,
        description="Trace types (game types) to play (--trace-type).",
        json_schema_extra={"default": ["cannon", "permissioned"], "x-kubernetes-list-type": "set"},
    )
    prestates_url: HttpUrl | None = Field(
        default=None, description="Base URL of prestates for every VM (--prestates-url)."
    )
    cannon: VmSpec | None = Field(default=None, description="Cannon (MIPS) VM settings.")
    asterisc: VmSpec | None = Field(default=None, description="Asterisc (RISC-V) VM settings.")
    asterisc_kona: VmSpec | None = Field(default=None, description="Asterisc with kona settings.")


class DisputeGame(ApiModel):
    """Which games the challenger watches and how."""

    factory_addr: Address | None = Field(
        default=None,
        description="Override of the DisputeGameFactory; unset: the network's discovered address.",
    )
    allowlist: list[Address] | None = Field(
        default=None, description="Only play these game addresses (--game-allowlist); all games when unset."
    )
    game_window: Duration | None = Field(
        default=None, description="How far back games are considered (--game-window; 672h)."
    )
    max_concurrency: Annotated[int, Field(ge=1, le=1024)] | None = Field(
        default=None, description="Games processed in parallel (--max-concurrency; number of CPUs)."
    )
    max_pending_tx: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Maximum pending L1 transactions (--max-pending-tx; 10)."
    )
    http_poll_interval: Duration | None = Field(
        default=None, description="Poll interval for new L1 blocks over HTTP (--http-poll-interval; 12s)."
    )
    selective_claim_resolution: bool | None = Field(
        default=None, description="Only resolve claims for the claimants (--selective-claim-resolution)."
    )
    additional_bond_claimants: list[Address] | None = Field(
        default=None, description="Also claim bonds for these addresses (--additional-bond-claimants)."
    )


class ChallengerStorage(StorageSpec):
    """The challenger's data volume (game data, VM snapshots, prestates)."""

    size: StorageQuantity = Field(
        default="50Gi",
        description="Requested size of the volume, a Kubernetes quantity. It can grow but never shrink.",
        json_schema_extra=validations(no_shrink("size")),
    )


class OpChallengerSpec(SigningComponentSpec):
    """Desired state of an OpChallenger."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        *SigningComponentSpec.cel_rules,
        Rule(
            "has(self.sequencerRef) != has(self.l2RpcUrl)",
            "set exactly one of spec.sequencerRef (an OpNode of this cluster) or spec.l2RpcUrl (an external "
            "op-geth with the debug API)",
            lambda m: (m.sequencer_ref is not None) != (m.l2_rpc_url is not None),
            field_path=".sequencerRef",
        ),
        Rule(
            "has(self.l2RpcUrl) == has(self.rollupRpcUrl)",
            "spec.l2RpcUrl and spec.rollupRpcUrl go together: set both (external op-geth and its op-node) or "
            "neither (use spec.sequencerRef)",
            lambda m: (m.l2_rpc_url is not None) == (m.rollup_rpc_url is not None),
            field_path=".rollupRpcUrl",
        ),
    )

    sequencer_ref: ObjectRef | None = Field(
        default=None,
        description="An OpNode whose op-geth (L2 RPC, archive recommended) and op-node (rollup RPC) to use.",
    )
    l2_rpc_url: HttpUrl | None = Field(
        default=None,
        description="External L2 execution RPC with the debug API (--l2-eth-rpc), instead of sequencerRef.",
    )
    rollup_rpc_url: HttpUrl | None = Field(
        default=None, description="External rollup (op-node) RPC that goes with l2RpcUrl (--rollup-rpc)."
    )
    dispute_game: DisputeGame = sub(DisputeGame, "Dispute game settings.")
    fault_proof: FaultProof = Field(
        description="Trace types and fault-proof VMs; every trace type needs its VM's prestate source."
    )
    storage: ChallengerStorage = sub(ChallengerStorage, "Data volume (--datadir).")
    signer_balance_threshold: EtherAmount = balance_threshold("1eth")


class ChallengerInfo(ApiModel):
    """What the challenger is wired to."""

    l2_rpc_url: HttpUrl | None = Field(default=None, description="L2 execution RPC in use.")
    rollup_rpc_url: HttpUrl | None = Field(default=None, description="Rollup RPC in use.")
    dispute_game_factory_addr: Address | None = Field(default=None, description="DisputeGameFactory in use.")
    trace_types: list[TraceType] | None = Field(default=None, description="Trace types played.")


class OpChallengerStatus(ApiModel):
    """Observed state of an OpChallenger."""

    phase: ComponentPhase | None = Field(default=None, description="Summary of the challenger's state.")
    observed_generation: int | None = observed_generation_field()
    conditions: list[Condition] | None = conditions_field()
    signer_address: Address | None = Field(
        default=None, description="Address of the signing key (never the key)."
    )
    signer_balance_wei: Annotated[str, Field(pattern=r"^[0-9]+$", max_length=80)] | None = Field(
        default=None, description="L1 balance of the signer in wei, as last read."
    )
    last_balance_check: str | None = Field(
        default=None,
        description="When the balance was read (RFC 3339).",
        json_schema_extra={"format": "date-time"},
    )
    challenger_info: ChallengerInfo | None = Field(
        default=None, description="What the challenger is wired to."
    )
