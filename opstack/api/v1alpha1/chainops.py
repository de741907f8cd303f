"""Types shared by the components that sign L1 transactions: OpBatcher, OpProposer, OpChallenger.

The key never appears in the spec or status: only a Secret reference (or a remote signer), and in status the
address derived from it.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints

from .common import (
    Address,
    ApiModel,
    Duration,
    EnvVar,
    EtherAmount,
    ExtraArg,
    HttpUrl,
    ImageRef,
    ObjectName,
    ObjectRef,
    PullPolicy,
    ResourceRequirements,
    Rule,
    SecretKeySelector,
    sub,
)

CONDITION_SEQUENCER_READY = "SequencerReady"
CONDITION_SIGNER_READY = "SignerReady"
CONDITION_SIGNER_FUNDED = "SignerFunded"

ComponentPhase = Literal["Pending", "Running", "Degraded", "Error"]


class PrivateKeyRef(ApiModel):
    """The L1 transaction signing key, read from a Secret (hex, optional 0x prefix)."""

    secret_ref: SecretKeySelector = Field(
        description="Secret key holding the private key. It reaches the container only as an environment "
        "variable from this Secret; the operator never logs it."
    )


class SignerTls(ApiModel):
    """TLS to the remote signer."""

    enabled: bool = Field(default=True, description="Use TLS (--signer.tls.enabled).")
    secret_name: ObjectName | None = Field(
        default=None,
        description="A kubernetes.io/tls Secret with ca.crt, tls.crt and tls.key for mutual TLS.",
    )


class RemoteSigner(ApiModel):
    """A remote signer (e.g. a KMS proxy) that signs on the component's behalf."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "!self.tls.enabled || has(self.tls.secretName)",
            "spec.remoteSigner.tls.enabled needs spec.remoteSigner.tls.secretName (a kubernetes.io/tls "
            "Secret with ca.crt, tls.crt and tls.key); set it, or set spec.remoteSigner.tls.enabled to false",
            # Judged by the API server only: the renderer refuses the same object with the same message
            # (components/signer.py), for objects that predate the rule.
            None,
            field_path=".tls.secretName",
        ),
    )

    endpoint: HttpUrl = Field(description="Signer endpoint (--signer.endpoint).")
    address: Address = Field(description="Address the signer signs for (--signer.address).")
    headers: (
        list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]+=.*$", max_length=4096)]] | None
    ) = Field(default=None, description="HTTP headers sent to the signer, as Name=value (--signer.header).")
    tls: SignerTls = sub(SignerTls, "TLS to the signer.")


class TxManager(ApiModel):
    """L1 transaction manager settings (op-service txmgr); unset fields keep the binary's defaults."""

    num_confirmations: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None,
        description="Confirmations to wait for (--num-confirmations; 10 for batcher/proposer, 3 challenger).",
    )
    safe_abort_nonce_too_low_count: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None,
        description="Nonce-too-low errors before aborting a send (--safe-abort-nonce-too-low-count; 3).",
    )
    fee_limit_multiplier: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None, description="Max fee bump multiple over the suggested fee (--fee-limit-multiplier; 5)."
    )
    fee_limit_threshold_gwei: Annotated[float, Field(ge=0)] | None = Field(
        default=None,
        description="Fee (gwei) below which the fee limit does not apply (--txmgr.fee-limit-threshold; 100).",
    )
    min_tip_cap_gwei: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="Minimum priority fee in gwei (--txmgr.min-tip-cap; 1)."
    )
    max_tip_cap_gwei: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="Maximum priority fee in gwei (--txmgr.max-tip-cap)."
    )
    min_base_fee_gwei: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="Minimum base fee in gwei (--txmgr.min-basefee; 1)."
    )
    max_base_fee_gwei: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="Maximum base fee in gwei (--txmgr.max-basefee)."
    )
    resubmission_timeout: Duration | None = Field(
        default=None,
        description="Wait before bumping fees of an unconfirmed tx (--resubmission-timeout; 48s, challenger "
        "24s).",
    )
    network_timeout: Duration | None = Field(
        default=None, description="Timeout of each L1 RPC call (--network-timeout; 10s)."
    )
    send_timeout: Duration | None = Field(
        default=None,
        description="Give up sending a tx after this long, 0 never (--txmgr.send-timeout; 0, challenger 2m).",
    )
    not_in_mempool_timeout: Duration | None = Field(
        default=None,
        description="Give up a tx never seen in the mempool (--txmgr.not-in-mempool-timeout; 2m, challenger "
        "1m).",
    )
    receipt_query_interval: Duration | None = Field(
        default=None, description="Poll interval for receipts (--txmgr.receipt-query-interval; 12s)."
    )


class ComponentMetrics(ApiModel):
    """Prometheus metrics of the component."""

    enabled: bool | None = Field(
        default=None, description="Serve metrics; unset: inherit the network's setting."
    )
    port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=7300, description="Metrics port (--metrics.port)."
    )


SIGNER_RULE = Rule(
    "has(self.privateKey) != has(self.remoteSigner)",
    "set exactly one of spec.privateKey (a Secret holding the signing key) or spec.remoteSigner "
    "(endpoint and address of a remote signer)",
    lambda m: (m.private_key is not None) != (m.remote_signer is not None),
    field_path=".privateKey",
)


class SigningComponentSpec(ApiModel):
    """Fields every L1-signing component has (the specs of OpBatcher, OpProposer and OpChallenger)."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (SIGNER_RULE,)

    optimism_network_ref: ObjectRef = Field(description="The OptimismNetwork this component serves.")
    private_key: PrivateKeyRef | None = Field(
        default=None, description="Secret with the L1 signing key. Exactly one of privateKey or remoteSigner."
    )
    remote_signer: RemoteSigner | None = Field(
        default=None, description="Remote signer instead of a key. Exactly one of privateKey or remoteSigner."
    )
    l1_transaction: TxManager = sub(TxManager, "L1 transaction manager settings.")
    metrics: ComponentMetrics = sub(ComponentMetrics, "Prometheus metrics.")
    image: ImageRef | None = Field(
        default=None, description="Container image; unset: the operator's pinned version."
    )
    image_pull_policy: PullPolicy = Field(default="IfNotPresent", description="Image pull policy.")
    resources: ResourceRequirements | None = Field(
        default=None, description="Compute resources; unset: the network's sharedConfig.resources."
    )
    extra_args: list[ExtraArg] | None = Field(
        default=None,
        description="Extra command-line arguments (escape hatch; the operator does not check them).",
    )
    extra_env: list[EnvVar] | None = Field(
        default=None, description="Extra environment variables (escape hatch)."
    )


def balance_threshold(default: str) -> Any:
    """The signer balance warning threshold, with a default suited to the component."""
    return Field(
        default=default,
        description="Warn (condition SignerFunded=False, an Event and a metric) when the signer's L1 balance "
        "falls below this amount, e.g. 1eth, 500000gwei.",
    )


__all__ = [
    "SIGNER_RULE",
    "ComponentMetrics",
    "EtherAmount",
    "PrivateKeyRef",
    "RemoteSigner",
    "SignerTls",
    "SigningComponentSpec",
    "TxManager",
    "balance_threshold",
]
