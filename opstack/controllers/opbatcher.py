"""The OpBatcher controller (issue 8): op-batcher as a Deployment of one replica with the Recreate strategy
(two batchers with one key fight over nonces), reading the sequencer OpNode's op-geth and op-node.

Everything the three signing components share (signer, balance, dependencies, apply, status) lives in
`opstack.controllers.chainops`; this module says only what is the batcher's own.
"""

from __future__ import annotations

from typing import Any

from opstack.api.v1alpha1 import OP_BATCHER, OpBatcherSpec
from opstack.components.batcher import BatcherInputs
from opstack.controllers import opbatcher_rules  # noqa: F401  (the RBAC rules this controller needs)
from opstack.controllers.chainops import (
    DEPLOYMENT,
    ComponentKind,
    Inputs,
    Rendered,
    Settings,
    discovered,
    setup_component,
)
from opstack.resources.chainops import batcher_deployment, signer_service
from opstack.runtime.controller import Controller


def render(spec: OpBatcherSpec, inputs: Inputs) -> Rendered:
    workload = batcher_deployment(
        inputs.owner,
        spec,
        inputs.network,
        BatcherInputs(l2_eth_rpc=inputs.endpoints.l2_rpc, rollup_rpc=inputs.endpoints.rollup_rpc),
        inputs.referenced,
    )
    contracts = discovered(inputs)
    info = {
        "l2RpcUrl": inputs.endpoints.l2_rpc,
        "rollupRpcUrl": inputs.endpoints.rollup_rpc,
        "batchInboxAddr": contracts.batch_inbox_addr if contracts is not None else None,
        "dataAvailability": spec.data_availability.type,
    }
    return Rendered(workload, signer_service(inputs.owner, "batcher", spec, inputs.network), info)


KIND = ComponentKind(
    info=OP_BATCHER,
    role="batcher",
    spec_model=OpBatcherSpec,
    workload=DEPLOYMENT,
    status_info_field="batcherInfo",
    render=render,
)


def setup(mgr: Any, settings: Settings | None = None, *, max_concurrent_reconciles: int = 2) -> Controller:
    """Wire the OpBatcher controller into `mgr`; returns the controller."""
    return setup_component(mgr, KIND, settings, max_concurrent_reconciles=max_concurrent_reconciles)
