"""What the L1-signing components (op-batcher, op-proposer, op-challenger) share: the signer and the
transaction manager flags.

Invariants:
- A private key reaches the container ONLY as `<PREFIX>_PRIVATE_KEY` from a secretKeyRef; `--private-key`
  never appears in the arguments. The flag is still checked against the version (its env var belongs to it).
- A remote signer is `--signer.endpoint` + `--signer.address` (+ headers), with mutual TLS material mounted
  from a kubernetes.io/tls Secret; TLS on without such a Secret is refused (the binary would look for
  tls/ca.crt relative to its working directory and fail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from opstack.api.v1alpha1 import SigningComponentSpec, TxManager

from .common import (
    SIGNER_TLS_MOUNT,
    TMP_MOUNT,
    VOL_SIGNER_TLS,
    VOL_TMP,
    Args,
    ComponentConfigError,
    ContainerParts,
    NetworkFacts,
    SecretRef,
    container_port,
    extra_env,
    http_probe,
    metrics_enabled,
    mount,
    op_service_common,
    secret_volume,
)


@dataclass
class SignerParts:
    volumes: list[dict[str, Any]] = field(default_factory=list)
    volume_mounts: list[dict[str, Any]] = field(default_factory=list)


TLS_FILES: Final = (("ca.crt", "ca.crt"), ("tls.crt", "tls.crt"), ("tls.key", "tls.key"))


def signer_key_ref(spec: SigningComponentSpec) -> SecretRef | None:
    """The Secret key holding the signing key, or None with a remote signer."""
    if spec.private_key is None:
        return None
    ref = spec.private_key.secret_ref
    return SecretRef(ref.name, ref.key)


def add_signer(a: Args, env_prefix: str, spec: SigningComponentSpec) -> SignerParts:
    """Signer flags/env of a signing component."""
    parts = SignerParts()
    key = signer_key_ref(spec)
    if key is not None:
        a.flags.require("--private-key", "spec.privateKey")
        a.secret_env(f"{env_prefix}_PRIVATE_KEY", key, "spec.privateKey")
        return parts
    rs = spec.remote_signer
    if rs is None:
        raise ComponentConfigError(
            "set exactly one of spec.privateKey (a Secret holding the signing key) or spec.remoteSigner"
        )
    a.set("--signer.endpoint", rs.endpoint, "spec.remoteSigner.endpoint")
    a.set("--signer.address", rs.address, "spec.remoteSigner.address")
    a.repeat("--signer.header", rs.headers, "spec.remoteSigner.headers")
    if not rs.tls.enabled:
        a.set("--signer.tls.enabled", False, "spec.remoteSigner.tls.enabled")
        return parts
    if rs.tls.secret_name is None:
        raise ComponentConfigError(
            "spec.remoteSigner.tls.enabled needs spec.remoteSigner.tls.secretName (a kubernetes.io/tls "
            "Secret with ca.crt, tls.crt and tls.key); set it, or set spec.remoteSigner.tls.enabled to false"
        )
    a.set("--signer.tls.enabled", True, "spec.remoteSigner.tls.enabled")
    a.set("--signer.tls.ca", f"{SIGNER_TLS_MOUNT}/ca.crt", "spec.remoteSigner.tls.secretName")
    a.set("--signer.tls.cert", f"{SIGNER_TLS_MOUNT}/tls.crt", "spec.remoteSigner.tls.secretName")
    a.set("--signer.tls.key", f"{SIGNER_TLS_MOUNT}/tls.key", "spec.remoteSigner.tls.secretName")
    parts.volumes.append(secret_volume(VOL_SIGNER_TLS, rs.tls.secret_name, TLS_FILES))
    parts.volume_mounts.append(mount(VOL_SIGNER_TLS, SIGNER_TLS_MOUNT, read_only=True))
    return parts


def add_txmgr(a: Args, tx: TxManager) -> None:
    """The L1 transaction manager settings the spec sets (unset ones keep the binary's defaults)."""
    f = "spec.l1Transaction."
    a.opt("--num-confirmations", tx.num_confirmations, f + "numConfirmations")
    a.opt(
        "--safe-abort-nonce-too-low-count", tx.safe_abort_nonce_too_low_count, f + "safeAbortNonceTooLowCount"
    )
    a.opt("--fee-limit-multiplier", tx.fee_limit_multiplier, f + "feeLimitMultiplier")
    a.opt("--txmgr.fee-limit-threshold", tx.fee_limit_threshold_gwei, f + "feeLimitThresholdGwei")
    a.opt("--txmgr.min-tip-cap", tx.min_tip_cap_gwei, f + "minTipCapGwei")
    a.opt("--txmgr.max-tip-cap", tx.max_tip_cap_gwei, f + "maxTipCapGwei")
    a.opt("--txmgr.min-basefee", tx.min_base_fee_gwei, f + "minBaseFeeGwei")
    a.opt("--txmgr.max-basefee", tx.max_base_fee_gwei, f + "maxBaseFeeGwei")
    a.opt("--resubmission-timeout", tx.resubmission_timeout, f + "resubmissionTimeout")
    a.opt("--network-timeout", tx.network_timeout, f + "networkTimeout")
    a.opt("--txmgr.send-timeout", tx.send_timeout, f + "sendTimeout")
    a.opt("--txmgr.not-in-mempool-timeout", tx.not_in_mempool_timeout, f + "notInMempoolTimeout")
    a.opt("--txmgr.receipt-query-interval", tx.receipt_query_interval, f + "receiptQueryInterval")


def signing_service_container(
    a: Args,
    spec: SigningComponentSpec,
    network: NetworkFacts,
    *,
    name: str,
    image: str,
    env_prefix: str,
    rpc_port: int,
    rpc_admin: bool | None,
    port_rpc: str,
    port_metrics: str,
) -> ContainerParts:
    """What op-batcher and op-proposer share after their own flags: the op-service RPC server, logging and
    metrics, the L1 tx manager, the signer, ports and /healthz probes (served by op-service's RPC server)."""
    a.set("--rpc.addr", "0.0.0.0", "spec.rpc")
    a.set("--rpc.port", rpc_port, "spec.rpc.port")
    a.set("--rpc.enable-admin", rpc_admin, "spec.rpc.enableAdmin")
    metrics_on = metrics_enabled(spec.metrics.enabled, network)
    op_service_common(a, network.logging, metrics_on, spec.metrics.port)
    add_txmgr(a, spec.l1_transaction)
    signer = add_signer(a, env_prefix, spec)
    ports = [container_port(port_rpc, rpc_port)]
    if metrics_on:
        ports.append(container_port(port_metrics, spec.metrics.port))
    return ContainerParts(
        name=name,
        image=image,
        command=[name],
        args=a.args + list(spec.extra_args or ()),
        env=a.env + extra_env(spec.extra_env),
        ports=ports,
        volume_mounts=[mount(VOL_TMP, TMP_MOUNT), *signer.volume_mounts],
        volumes=signer.volumes,
        readiness_probe=http_probe("/healthz", port_rpc),
        liveness_probe=http_probe("/healthz", port_rpc, period=30, failures=6, initial=10),
        checked_flags=a.checked,
    )


__all__ = ["SignerParts", "add_signer", "add_txmgr", "signer_key_ref", "signing_service_container"]
