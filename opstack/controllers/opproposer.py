"""The OpProposer controller (issue 8): op-proposer as a Deployment of one replica with the Recreate
strategy, proposing to the network's DisputeGameFactory (or the spec's override, or a legacy
L2OutputOracle), reading the sequencer OpNode's op-node.

Everything the three signing components share lives in `opstack.controllers.chainops`.
"""

from __future__ import annotations

from typing import Any

from opstack.api.v1alpha1 import OP_PROPOSER, OpProposerSpec
from opstack.components.proposer import ProposerInputs, proposal_target
from opstack.controllers import opproposer_rules  # noqa: F401  (the RBAC rules this controller needs)
from opstack.controllers.chainops import (
    DEPLOYMENT,
    ComponentKind,
    Inputs,
    Rendered,
    Settings,
    setup_component,
)
from opstack.resources.chainops import proposer_deployment, signer_service
from opstack.runtime.controller import Controller


def render(spec: OpProposerSpec, inputs: Inputs) -> Rendered:
    workload = proposer_deployment(
        inputs.owner,
        spec,
        inputs.network,
        ProposerInputs(rollup_rpc=inputs.endpoints.rollup_rpc),
        inputs.referenced,
    )
    target = proposal_target(spec, inputs.network)
    info = {
        "rollupRpcUrl": inputs.endpoints.rollup_rpc,
        "disputeGameFactoryAddr": target.dispute_game_factory,
        "l2OutputOracleAddr": target.l2_output_oracle,
        "gameType": spec.game_type if target.dispute_game_factory is not None else None,
    }
    return Rendered(workload, signer_service(inputs.owner, "proposer", spec, inputs.network), info)


KIND = ComponentKind(
    info=OP_PROPOSER,
    role="proposer",
    spec_model=OpProposerSpec,
    workload=DEPLOYMENT,
    status_info_field="proposerInfo",
    render=render,
)


def setup(mgr: Any, settings: Settings | None = None, *, max_concurrent_reconciles: int = 2) -> Controller:
    """Wire the OpProposer controller into `mgr`; returns the controller."""
    return setup_component(mgr, KIND, settings, max_concurrent_reconciles=max_concurrent_reconciles)
