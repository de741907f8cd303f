"""OpBatcher: op-batcher, which posts L2 batches to L1 (op-batcher v1.14.x flags).

One replica with the Recreate strategy: two batchers with one key fight over nonces.
"""

from __future__ import annotations

from typing import Annotated, Literal

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
    conditions_field,
    observed_generation_field,
    sub,
)


class Batching(ApiModel):
    """How L2 blocks are packed into channels and frames; unset fields keep op-batcher's defaults."""

    max_channel_duration: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Maximum channel duration in L1 blocks (not a time); 0 disables "
        "(--max-channel-duration; 0).",
    )
    sub_safety_margin: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="L1 blocks of margin before the sequencing window closes (--sub-safety-margin; 10).",
    )
    poll_interval: Duration | None = Field(
        default=None, description="How often the sequencer is polled for new blocks (--poll-interval; 6s)."
    )
    max_pending_tx: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Maximum pending L1 transactions, 0 unlimited (--max-pending-tx; 1)."
    )
    max_l1_tx_size_bytes: Annotated[int, Field(ge=1000)] | None = Field(
        default=None,
        description="Maximum size of a calldata batch transaction (--max-l1-tx-size-bytes; 120000).",
    )
    target_num_frames: Annotated[int, Field(ge=1, le=64)] | None = Field(
        default=None, description="Frames (blobs, with blobs DA) per transaction (--target-num-frames; 1)."
    )
    approx_compr_ratio: Annotated[float, Field(ge=0.01, le=1)] | None = Field(
        default=None,
        description="Expected compression ratio for the ratio compressor (--approx-compr-ratio; 0.6).",
    )
    compressor: Literal["ratio", "shadow", "none"] | None = Field(
        default=None, description="Channel compressor (--compressor; shadow)."
    )
    compression_algo: Literal["zlib", "brotli", "brotli-9", "brotli-10", "brotli-11"] | None = Field(
        default=None, description="Compression algorithm (--compression-algo; zlib)."
    )
    batch_type: Literal[0, 1] | None = Field(
        default=None, description="0 singular batches, 1 span batches (--batch-type; 0)."
    )
    max_blocks_per_span_batch: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Maximum L2 blocks per span batch, 0 unlimited (--max-blocks-per-span-batch).",
    )
    check_recent_txs_depth: Annotated[int, Field(ge=0, le=128)] | None = Field(
        default=None,
        description="L1 blocks searched at startup for already-posted batches (--check-recent-txs-depth; 0).",
    )
    wait_node_sync: bool | None = Field(
        default=None, description="Wait for the sequencer to sync before batching (--wait-node-sync; false)."
    )
    stopped: bool | None = Field(
        default=None,
        description="Start with batch submission stopped; start it with admin_startBatcher (--stopped).",
    )


class DataAvailability(ApiModel):
    """Where batch data goes on L1."""

    type: Literal["calldata", "blobs", "auto"] = Field(
        default="calldata",
        description="calldata, blobs (EIP-4844; needs an L1 with blobs and op-nodes with a beacon endpoint) "
        "or "
        "auto (cheapest of the two) (--data-availability-type).",
    )


class Throttling(ApiModel):
    """Throttling of the sequencer's block building when the batcher's backlog grows."""

    enabled: bool = Field(default=True, description="Throttle at all; false sets --throttle-threshold=0.")
    threshold: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Pending bytes above which throttling starts (--throttle-threshold; 1000000).",
    )
    tx_size: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Max transaction size while throttling (--throttle-tx-size; 5000)."
    )
    block_size: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Max block size while throttling (--throttle-block-size; 21000)."
    )
    always_block_size: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Block size limit applied always (--throttle-always-block-size; 130000)."
    )
    additional_endpoints: list[HttpUrl] | None = Field(
        default=None, description="Other block builders to throttle too (--additional-throttling-endpoints)."
    )


class BatcherRpc(RpcSpec):
    """op-batcher's JSON-RPC server (admin_startBatcher/stopBatcher, txmgr_* fee settings)."""

    port: Port = Field(default=8548, description="Port of the JSON-RPC server (--rpc.port).")


class OpBatcherSpec(SigningComponentSpec):
    """Desired state of an OpBatcher."""

    sequencer_ref: ObjectRef = Field(
        description="The sequencer OpNode whose op-geth (L2 RPC) and op-node (rollup RPC) the batcher reads."
    )
    batching: Batching = sub(Batching, "Channel and frame settings.")
    data_availability: DataAvailability = sub(DataAvailability, "Data availability settings.")
    throttling: Throttling = sub(Throttling, "Sequencer throttling settings.")
    rpc: BatcherRpc = sub(BatcherRpc, "op-batcher's JSON-RPC server.")
    signer_balance_threshold: EtherAmount = balance_threshold("1eth")


class BatcherInfo(ApiModel):
    """What the batcher is wired to."""

    l2_rpc_url: HttpUrl | None = Field(
        default=None, description="L2 execution RPC in use (the sequencer's op-geth)."
    )
    rollup_rpc_url: HttpUrl | None = Field(
        default=None, description="Rollup RPC in use (the sequencer's op-node)."
    )
    batch_inbox_addr: Address | None = Field(default=None, description="Batch inbox the batcher posts to.")
    data_availability: Literal["calldata", "blobs", "auto"] | None = Field(
        default=None, description="Data availability type in use."
    )


class OpBatcherStatus(ApiModel):
    """Observed state of an OpBatcher."""

    phase: ComponentPhase | None = Field(default=None, description="Summary of the batcher's state.")
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
    batcher_info: BatcherInfo | None = Field(default=None, description="What the batcher is wired to.")
