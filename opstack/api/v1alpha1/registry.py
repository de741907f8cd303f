"""The kinds of optimism.optimism.io/v1alpha1: names, printer columns, finalizers, and top-level models.

Everything the CRD generator and the controllers need to know about a kind that is not its schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from opstack.runtime.gvk import GVK

from .common import API_VERSION, GROUP, VERSION, ApiModel, finalizer_for
from .opbatcher import OpBatcherSpec, OpBatcherStatus
from .opchallenger import OpChallengerSpec, OpChallengerStatus
from .opnode import OpNodeSpec, OpNodeStatus
from .opproposer import OpProposerSpec, OpProposerStatus
from .optimismnetwork import OptimismNetworkSpec, OptimismNetworkStatus

CATEGORY = "opstack"


@dataclass(frozen=True)
class PrinterColumn:
    """An additionalPrinterColumns entry of a CRD."""

    name: str
    type: Literal["string", "integer", "number", "boolean", "date"]
    json_path: str
    description: str
    priority: int = 0

    def to_crd(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "jsonPath": self.json_path,
            "description": self.description,
        }
        if self.priority:
            out["priority"] = self.priority
        return out


PHASE = PrinterColumn("Phase", "string", ".status.phase", "Summary of the object's state.")
READY = PrinterColumn(
    "Ready", "string", '.status.conditions[?(@.type=="Ready")].status', "Status of the Ready condition."
)
AGE = PrinterColumn("Age", "date", ".metadata.creationTimestamp", "Time since creation.")
NETWORK = PrinterColumn("Network", "string", ".spec.optimismNetworkRef.name", "The OptimismNetwork.")
SEQUENCER = PrinterColumn("Sequencer", "string", ".spec.sequencerRef.name", "The sequencer OpNode.")
SIGNER = PrinterColumn("Signer", "string", ".status.signerAddress", "Address of the signing key.", priority=1)


@dataclass(frozen=True)
class KindInfo:
    """One kind of the API."""

    kind: str
    plural: str
    short_names: tuple[str, ...]
    spec: type[ApiModel]
    status: type[ApiModel]
    description: str
    columns: tuple[PrinterColumn, ...]
    categories: tuple[str, ...] = field(default=(CATEGORY,))

    @property
    def gvk(self) -> GVK:
        return GVK(GROUP, VERSION, self.kind)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"

    @property
    def finalizer(self) -> str:
        return finalizer_for(self.kind)


OPTIMISM_NETWORK = KindInfo(
    kind="OptimismNetwork",
    plural="optimismnetworks",
    short_names=("opnet",),
    spec=OptimismNetworkSpec,
    status=OptimismNetworkStatus,
    description="OptimismNetwork describes one OP Stack chain: its L1, chain ids, contract addresses, rollup "
    "config and genesis, and the defaults its components share. Every OpNode, OpBatcher, OpProposer and "
    "OpChallenger refers to one.",
    columns=(
        PrinterColumn("Network", "string", ".spec.networkName", "Network name."),
        PrinterColumn("Chain ID", "integer", ".spec.chainID", "L2 chain id."),
        PrinterColumn("L1 Chain ID", "integer", ".spec.l1ChainID", "L1 chain id."),
        PrinterColumn(
            "Discovery",
            "string",
            ".status.networkInfo.discoveredContracts.discoveryMethod",
            "How the contracts were found.",
            priority=1,
        ),
        PHASE,
        READY,
        AGE,
    ),
)
OP_NODE = KindInfo(
    kind="OpNode",
    plural="opnodes",
    short_names=("opn",),
    spec=OpNodeSpec,
    status=OpNodeStatus,
    description="OpNode runs op-node and op-geth together (one pair per pod, engine API over localhost), "
    "as the chain's sequencer or as a replica.",
    columns=(
        PrinterColumn("Type", "string", ".spec.nodeType", "sequencer or replica."),
        NETWORK,
        PHASE,
        READY,
        PrinterColumn(
            "Unsafe L2", "integer", ".status.nodeInfo.syncStatus.unsafeL2.number", "Unsafe L2 head."
        ),
        PrinterColumn(
            "Safe L2", "integer", ".status.nodeInfo.syncStatus.safeL2.number", "Safe L2 head.", priority=1
        ),
        PrinterColumn("Peers", "integer", ".status.nodeInfo.peerCount", "Connected op-node peers."),
        AGE,
    ),
)
OP_BATCHER = KindInfo(
    kind="OpBatcher",
    plural="opbatchers",
    short_names=("opb",),
    spec=OpBatcherSpec,
    status=OpBatcherStatus,
    description="OpBatcher runs op-batcher, which posts the sequencer's L2 blocks to L1 as batches.",
    columns=(
        NETWORK,
        SEQUENCER,
        PrinterColumn("DA", "string", ".spec.dataAvailability.type", "Data availability type."),
        PHASE,
        READY,
        SIGNER,
        AGE,
    ),
)
OP_PROPOSER = KindInfo(
    kind="OpProposer",
    plural="opproposers",
    short_names=("opp",),
    spec=OpProposerSpec,
    status=OpProposerStatus,
    description="OpProposer runs op-proposer, which proposes L2 output roots to L1 (dispute games).",
    columns=(
        NETWORK,
        SEQUENCER,
        PrinterColumn("Game Type", "integer", ".spec.gameType", "Dispute game type created."),
        PHASE,
        READY,
        SIGNER,
        AGE,
    ),
)
OP_CHALLENGER = KindInfo(
    kind="OpChallenger",
    plural="opchallengers",
    short_names=("opc",),
    spec=OpChallengerSpec,
    status=OpChallengerStatus,
    description="OpChallenger runs op-challenger, which plays the chain's dispute games to defend correct "
    "output roots.",
    columns=(
        NETWORK,
        PrinterColumn("Trace Types", "string", ".spec.faultProof.traceTypes", "Trace types played."),
        PHASE,
        READY,
        SIGNER,
        AGE,
    ),
)

KINDS: tuple[KindInfo, ...] = (OPTIMISM_NETWORK, OP_NODE, OP_BATCHER, OP_PROPOSER, OP_CHALLENGER)
BY_KIND: dict[str, KindInfo] = {k.kind: k for k in KINDS}


def kind_info(kind: str) -> KindInfo:
    """The KindInfo of `kind` (e.g. "OpNode"); KeyError for a kind of another API."""
    return BY_KIND[kind]


# --- top-level objects, for code that wants a typed view of a whole object ---------------------------------


class _Object(ApiModel):
    api_version: str = Field(
        default=API_VERSION, alias="apiVersion", description="optimism.optimism.io/v1alpha1"
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="Standard object metadata.")


class OptimismNetwork(_Object):
    """A whole OptimismNetwork object."""

    kind: Literal["OptimismNetwork"] = Field(default="OptimismNetwork", description="Kind.")
    spec: OptimismNetworkSpec = Field(description="Desired state.")
    status: OptimismNetworkStatus | None = Field(default=None, description="Observed state.")


class OpNode(_Object):
    """A whole OpNode object."""

    kind: Literal["OpNode"] = Field(default="OpNode", description="Kind.")
    spec: OpNodeSpec = Field(description="Desired state.")
    status: OpNodeStatus | None = Field(default=None, description="Observed state.")


class OpBatcher(_Object):
    """A whole OpBatcher object."""

    kind: Literal["OpBatcher"] = Field(default="OpBatcher", description="Kind.")
    spec: OpBatcherSpec = Field(description="Desired state.")
    status: OpBatcherStatus | None = Field(default=None, description="Observed state.")


class OpProposer(_Object):
    """A whole OpProposer object."""

    kind: Literal["OpProposer"] = Field(default="OpProposer", description="Kind.")
    spec: OpProposerSpec = Field(description="Desired state.")
    status: OpProposerStatus | None = Field(default=None, description="Observed state.")


class OpChallenger(_Object):
    """A whole OpChallenger object."""

    kind: Literal["OpChallenger"] = Field(default="OpChallenger", description="Kind.")
    spec: OpChallengerSpec = Field(description="Desired state.")
    status: OpChallengerStatus | None = Field(default=None, description="Observed state.")


OBJECT_MODELS: dict[str, type[_Object]] = {
    "OptimismNetwork": OptimismNetwork,
    "OpNode": OpNode,
    "OpBatcher": OpBatcher,
    "OpProposer": OpProposer,
    "OpChallenger": OpChallenger,
}


def parse_object(obj: dict[str, Any]) -> ApiModel:
    """Validate a whole object of this API (e.g. a sample) with the model of its kind."""
    if obj.get("apiVersion") != API_VERSION:
        raise ValueError(f"apiVersion must be {API_VERSION}, got {obj.get('apiVersion')!r}")
    try:
        model = OBJECT_MODELS[obj.get("kind", "")]
    except KeyError:
        raise ValueError(f"unknown kind {obj.get('kind')!r} for {API_VERSION}") from None
    return model.model_validate(obj)
