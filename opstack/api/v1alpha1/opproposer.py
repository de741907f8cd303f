"""OpProposer: op-proposer, which proposes L2 output roots to L1 (op-proposer v1.10.x flags)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .chainops import ComponentPhase, SigningComponentSpec, balance_threshold
from .common import (
    Address,
    ApiModel,
    Condition,
    Duration,
    EtherAmount,
    HttpUrl,
    ObjectRef,
    Port,
    RpcSpec,
    Rule,
    conditions_field,
    observed_generation_field,
    sub,
)


class ProposerRpc(RpcSpec):
    """op-proposer's JSON-RPC server (admin_startProposer/stopProposer)."""

    port: Port = Field(default=8560, description="Port of the JSON-RPC server (--rpc.port).")


class OpProposerSpec(SigningComponentSpec):
    """Desired state of an OpProposer."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        *SigningComponentSpec.cel_rules,
        Rule(
            "!(has(self.disputeGameFactoryAddr) && has(self.l2OutputOracleAddr))",
            "set at most one of spec.disputeGameFactoryAddr (fault proofs) or spec.l2OutputOracleAddr "
            "(legacy "
            "output oracle); unset, the network's discovered contracts decide",
            lambda m: not (m.dispute_game_factory_addr is not None and m.l2_output_oracle_addr is not None),
            field_path=".l2OutputOracleAddr",
        ),
    )

    sequencer_ref: ObjectRef = Field(
        description="The sequencer OpNode whose op-node (rollup RPC) provides the output roots."
    )
    proposal_interval: Duration = Field(
        default="1h",
        description="Interval between dispute games created (--proposal-interval), e.g. 1h, 3600s.",
    )
    game_type: Annotated[int, Field(ge=0, le=4294967295)] = Field(
        default=0,
        description="Dispute game type to create (--game-type): 0 cannon (permissionless), 1 permissioned "
        "cannon, "
        "2 asterisc, 3 asterisc-kona, 254 fast, 255 alphabet (test chains).",
    )
    poll_interval: Duration | None = Field(
        default=None, description="How often the rollup node is polled (--poll-interval; 12s)."
    )
    allow_non_finalized: bool = Field(
        default=False,
        description="Propose outputs of safe but not yet finalized L2 blocks (--allow-non-finalized).",
    )
    wait_node_sync: bool = Field(
        default=False, description="Wait for the rollup node to sync before proposing (--wait-node-sync)."
    )
    dispute_game_factory_addr: Address | None = Field(
        default=None,
        description="Override of the DisputeGameFactory; unset: the network's discovered address.",
    )
    l2_output_oracle_addr: Address | None = Field(
        default=None, description="L2OutputOracle for legacy chains without fault proofs (--l2oo-address)."
    )
    rpc: ProposerRpc = sub(ProposerRpc, "op-proposer's JSON-RPC server.")
    signer_balance_threshold: EtherAmount = balance_threshold("0.5eth")


class ProposerInfo(ApiModel):
    """What the proposer is wired to."""

    rollup_rpc_url: HttpUrl | None = Field(
        default=None, description="Rollup RPC in use (the sequencer's op-node)."
    )
    dispute_game_factory_addr: Address | None = Field(default=None, description="DisputeGameFactory in use.")
    l2_output_oracle_addr: Address | None = Field(
        default=None, description="L2OutputOracle in use (legacy chains)."
    )
    game_type: Annotated[int, Field(ge=0, le=4294967295)] | None = Field(
        default=None, description="Game type created."
    )


class OpProposerStatus(ApiModel):
    """Observed state of an OpProposer."""

    phase: ComponentPhase | None = Field(default=None, description="Summary of the proposer's state.")
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
    proposer_info: ProposerInfo | None = Field(default=None, description="What the proposer is wired to.")
