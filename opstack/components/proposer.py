"""op-proposer (v1.10.x): proposes L2 output roots to L1, through dispute games or the legacy L2OutputOracle.

Invariants:
- Exactly one of --game-factory-address (with --proposal-interval and --game-type) or --l2oo-address:
  the spec's override first, else what the network discovered; neither is a clear error.
- The signing key is an env var from a secretKeyRef (see signer.py); never an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from opstack.api.v1alpha1 import OpProposerSpec

from .common import (
    Args,
    ComponentConfigError,
    ContainerParts,
    NetworkFacts,
)
from .signer import signing_service_container
from .versions import flag_set

CONTAINER: Final = "op-proposer"
ENV_PREFIX: Final = "OP_PROPOSER"
PORT_RPC: Final = "rpc"
PORT_METRICS: Final = "metrics"

# Game types whose proposals need a supervisor instead of a rollup node (facts §1.4).
SUPER_GAME_TYPES: Final = frozenset({4, 5, 7})


@dataclass(frozen=True)
class ProposerInputs:
    """The sequencer's op-node RPC (--rollup-rpc)."""

    rollup_rpc: str


@dataclass(frozen=True)
class ProposalTarget:
    """Where the proposer proposes: a DisputeGameFactory or an L2OutputOracle."""

    dispute_game_factory: str | None
    l2_output_oracle: str | None


def proposal_target(spec: OpProposerSpec, network: NetworkFacts) -> ProposalTarget:
    """The spec's override, else the network's discovered DisputeGameFactory, else its L2OutputOracle."""
    if spec.dispute_game_factory_addr is not None:
        return ProposalTarget(spec.dispute_game_factory_addr, None)
    if spec.l2_output_oracle_addr is not None:
        return ProposalTarget(None, spec.l2_output_oracle_addr)
    if network.dispute_game_factory is not None:
        return ProposalTarget(network.dispute_game_factory, None)
    if network.l2_output_oracle is not None:
        return ProposalTarget(None, network.l2_output_oracle)
    raise ComponentConfigError(
        f"no DisputeGameFactory or L2OutputOracle is known for OptimismNetwork {network.name}: wait for its "
        "contract discovery, or set spec.disputeGameFactoryAddr (or spec.l2OutputOracleAddr)"
    )


def proposer_container(
    spec: OpProposerSpec, network: NetworkFacts, inputs: ProposerInputs, image: str
) -> ContainerParts:
    if spec.game_type in SUPER_GAME_TYPES:
        raise ComponentConfigError(
            f"spec.gameType {spec.game_type} needs a supervisor RPC (--supervisor-rpcs), which the operator "
            "does not run; choose game type 0, 1, 2, 3 or 254/255"
        )
    a = Args(flag_set("op-proposer", image))
    a.source("--l1-eth-rpc", f"{ENV_PREFIX}_L1_ETH_RPC", network.l1_rpc, "spec.l1RpcUrl (OptimismNetwork)")
    a.set("--rollup-rpc", inputs.rollup_rpc, "spec.sequencerRef")
    target = proposal_target(spec, network)
    if target.dispute_game_factory is not None:
        a.set("--game-factory-address", target.dispute_game_factory, "spec.disputeGameFactoryAddr")
        a.set("--proposal-interval", spec.proposal_interval, "spec.proposalInterval")
        a.set("--game-type", spec.game_type, "spec.gameType")
    else:
        a.set("--l2oo-address", target.l2_output_oracle, "spec.l2OutputOracleAddr")
    a.opt("--poll-interval", spec.poll_interval, "spec.pollInterval")
    a.set("--allow-non-finalized", spec.allow_non_finalized, "spec.allowNonFinalized")
    a.set("--wait-node-sync", spec.wait_node_sync, "spec.waitNodeSync")

    return signing_service_container(
        a,
        spec,
        network,
        name=CONTAINER,
        image=image,
        env_prefix=ENV_PREFIX,
        rpc_port=spec.rpc.port,
        rpc_admin=spec.rpc.enable_admin,
        port_rpc=PORT_RPC,
        port_metrics=PORT_METRICS,
    )


__all__ = ["CONTAINER", "ProposalTarget", "ProposerInputs", "proposal_target", "proposer_container"]
