"""The OpChallenger controller (issue 8): op-challenger as a StatefulSet of one pod with a data volume,
playing the network's dispute games. L2 and rollup RPC come from the sequencer OpNode (spec.sequencerRef)
or from external URLs (spec.l2RpcUrl + spec.rollupRpcUrl); a custom chain's rollup config and genesis are
mounted from the network's ConfigMaps (their versions are in the config hash).

Everything the three signing components share lives in `opstack.controllers.chainops`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opstack.api.v1alpha1 import OP_CHALLENGER, OpChallengerSpec
from opstack.components.challenger import ChallengerInputs, dispute_game_factory
from opstack.controllers import opchallenger_rules  # noqa: F401  (the RBAC rules this controller needs)
from opstack.controllers.chainops import (
    STATEFULSET,
    ComponentKind,
    Endpoints,
    Inputs,
    Rendered,
    Settings,
    setup_component,
)
from opstack.resources.chainops import challenger_statefulset, signer_service
from opstack.runtime.controller import Controller


def live_claim_size(statefulset: Mapping[str, Any] | None) -> str | None:
    """The data volume size of an existing StatefulSet (volumeClaimTemplates are immutable)."""
    if statefulset is None:
        return None
    for template in (statefulset.get("spec") or {}).get("volumeClaimTemplates") or ():
        size = (((template.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
        if size:
            return str(size)
    return None


def render(spec: OpChallengerSpec, inputs: Inputs) -> Rendered:
    workload = challenger_statefulset(
        inputs.owner,
        spec,
        inputs.network,
        ChallengerInputs(l2_eth_rpc=inputs.endpoints.l2_rpc, rollup_rpc=inputs.endpoints.rollup_rpc),
        inputs.referenced,
        claim_storage=live_claim_size(inputs.live_workload),
    )
    info = {
        "l2RpcUrl": inputs.endpoints.l2_rpc,
        "rollupRpcUrl": inputs.endpoints.rollup_rpc,
        "disputeGameFactoryAddr": dispute_game_factory(spec, inputs.network),
        "traceTypes": list(spec.fault_proof.trace_types),
    }
    return Rendered(workload, signer_service(inputs.owner, "challenger", spec, inputs.network), info)


def external_endpoints(spec: OpChallengerSpec) -> Endpoints | None:
    if spec.l2_rpc_url is not None and spec.rollup_rpc_url is not None:
        return Endpoints(spec.l2_rpc_url, spec.rollup_rpc_url)
    return None


KIND = ComponentKind(
    info=OP_CHALLENGER,
    role="challenger",
    spec_model=OpChallengerSpec,
    workload=STATEFULSET,
    status_info_field="challengerInfo",
    render=render,
    external_endpoints=external_endpoints,
    mounts_network_config=True,
)


def setup(mgr: Any, settings: Settings | None = None, *, max_concurrent_reconciles: int = 2) -> Controller:
    """Wire the OpChallenger controller into `mgr`; returns the controller."""
    return setup_component(mgr, KIND, settings, max_concurrent_reconciles=max_concurrent_reconciles)
