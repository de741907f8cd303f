"""op-batcher (v1.14.x): posts the sequencer's L2 blocks to L1 as batches.

Invariants:
- L2 and rollup RPC come from the sequencer OpNode's Service (resolved by the caller), L1 from the network.
- The signing key is an env var from a secretKeyRef (see signer.py); never an argument.
- Run as exactly one replica with the Recreate strategy (resources/): two batchers with one key fight over
  nonces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from opstack.api.v1alpha1 import OpBatcherSpec

from .common import (
    Args,
    ContainerParts,
    NetworkFacts,
)
from .signer import signing_service_container
from .versions import flag_set

CONTAINER: Final = "op-batcher"
ENV_PREFIX: Final = "OP_BATCHER"
PORT_RPC: Final = "rpc"
PORT_METRICS: Final = "metrics"


@dataclass(frozen=True)
class BatcherInputs:
    """The sequencer's endpoints: its op-geth (--l2-eth-rpc) and op-node (--rollup-rpc)."""

    l2_eth_rpc: str
    rollup_rpc: str


def batcher_container(
    spec: OpBatcherSpec, network: NetworkFacts, inputs: BatcherInputs, image: str
) -> ContainerParts:
    a = Args(flag_set("op-batcher", image))
    a.source("--l1-eth-rpc", f"{ENV_PREFIX}_L1_ETH_RPC", network.l1_rpc, "spec.l1RpcUrl (OptimismNetwork)")
    a.set("--l2-eth-rpc", inputs.l2_eth_rpc, "spec.sequencerRef")
    a.set("--rollup-rpc", inputs.rollup_rpc, "spec.sequencerRef")

    b = spec.batching
    f = "spec.batching."
    a.opt("--max-channel-duration", b.max_channel_duration, f + "maxChannelDuration")
    a.opt("--sub-safety-margin", b.sub_safety_margin, f + "subSafetyMargin")
    a.opt("--poll-interval", b.poll_interval, f + "pollInterval")
    a.opt("--max-pending-tx", b.max_pending_tx, f + "maxPendingTx")
    a.opt("--max-l1-tx-size-bytes", b.max_l1_tx_size_bytes, f + "maxL1TxSizeBytes")
    a.opt("--target-num-frames", b.target_num_frames, f + "targetNumFrames")
    a.opt("--approx-compr-ratio", b.approx_compr_ratio, f + "approxComprRatio")
    a.opt("--compressor", b.compressor, f + "compressor")
    a.opt("--compression-algo", b.compression_algo, f + "compressionAlgo")
    a.opt("--batch-type", b.batch_type, f + "batchType")
    a.opt("--max-blocks-per-span-batch", b.max_blocks_per_span_batch, f + "maxBlocksPerSpanBatch")
    a.opt("--check-recent-txs-depth", b.check_recent_txs_depth, f + "checkRecentTxsDepth")
    a.opt("--wait-node-sync", b.wait_node_sync, f + "waitNodeSync")
    a.opt("--stopped", b.stopped, f + "stopped")
    a.set("--data-availability-type", spec.data_availability.type, "spec.dataAvailability.type")

    t = spec.throttling
    f = "spec.throttling."
    if not t.enabled:
        a.set("--throttle-threshold", 0, f + "enabled")
    else:
        a.opt("--throttle-threshold", t.threshold, f + "threshold")
        a.opt("--throttle-tx-size", t.tx_size, f + "txSize")
        a.opt("--throttle-block-size", t.block_size, f + "blockSize")
        a.opt("--throttle-always-block-size", t.always_block_size, f + "alwaysBlockSize")
        a.csv("--additional-throttling-endpoints", t.additional_endpoints, f + "additionalEndpoints")

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


__all__ = ["CONTAINER", "BatcherInputs", "batcher_container"]
