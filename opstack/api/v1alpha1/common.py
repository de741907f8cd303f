"""Types shared by the five kinds of optimism.optimism.io/v1alpha1.

Rules every model of this package keeps (the CRD generator and the tests rely on them):
- Python attributes are snake_case; the wire names are camelCase aliases (`populate_by_name`, so both work
  in Python). `to_dict()` gives the wire form without unset optional fields: exactly what the API server
  stores once it has applied the schema's defaults.
- Every field has a description (it becomes the `kubernetes explain` text).
- An optional field without a default is `X | None = None`; the generator drops the null branch, since the
  API server prunes nulls of non-nullable fields: "absent", "null" and `None` all mean "not set".
- A nested object that has defaults inside is created by default (`default_factory`) and carries its
  complete default object as the schema default, so that pydantic and the API server agree.
- Cross-field rules are `Rule`s in a model's `cel_rules`: CEL for the API server (`x-kubernetes-validations`)
  and a Python check with the same message, so that the controllers and the server agree. Transition rules
  (`oldSelf`: immutable fields, volumes that cannot shrink) and list uniqueness exist only on the server.
- No I/O and no runtime imports here: this package is pure data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

GROUP = "optimism.optimism.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# --- patterns --------------------------------------------------------------------------------------------

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"
# Go's time.ParseDuration without the sign and the non-ASCII micro sign: "12s", "1h30m", "500ms", "0".
DURATION_PATTERN = r"^(0|([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+)$"
# k8s.io/apimachinery resource.Quantity, as in the Kubernetes OpenAPI.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
URL_PATTERN = r"^(https?|wss?)://[^\s]+$"
HTTP_URL_PATTERN = r"^https?://[^\s]+$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
CONFIG_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"
ENV_NAME_PATTERN = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
# An amount of ether: "1eth", "0.5eth", "20gwei", "1000000wei".
ETHER_AMOUNT_PATTERN = r"^[0-9]+(\.[0-9]+)?(wei|gwei|eth)$"

Address = Annotated[str, StringConstraints(pattern=ADDRESS_PATTERN, max_length=42)]
Hash = Annotated[str, StringConstraints(pattern=HASH_PATTERN, max_length=66)]
Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN, max_length=32)]
Url = Annotated[str, StringConstraints(pattern=URL_PATTERN, max_length=2048)]
HttpUrl = Annotated[str, StringConstraints(pattern=HTTP_URL_PATTERN, max_length=2048)]
ObjectName = Annotated[str, StringConstraints(pattern=DNS_SUBDOMAIN_PATTERN, min_length=1, max_length=253)]
NamespaceName = Annotated[str, StringConstraints(pattern=DNS_LABEL_PATTERN, min_length=1, max_length=63)]
ConfigKey = Annotated[str, StringConstraints(pattern=CONFIG_KEY_PATTERN, min_length=1, max_length=253)]
EtherAmount = Annotated[str, StringConstraints(pattern=ETHER_AMOUNT_PATTERN, max_length=64)]
StorageQuantity = Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN, max_length=64)]
Port = Annotated[int, Field(ge=1, le=65535)]
ImageRef = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^[^\s]+$")]
ExtraArg = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


def _check_quantity(value: int | str) -> int | str:
    import re

    if isinstance(value, bool):
        raise ValueError("a quantity is a number or a string such as 500m, 2Gi or 100")
    if isinstance(value, str) and not re.fullmatch(QUANTITY_PATTERN, value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (for example 500m, 2Gi, 100)")
    return value


# resource.Quantity as Kubernetes publishes it: an int-or-string with the quantity pattern.
Quantity = Annotated[
    int | str,
    AfterValidator(_check_quantity),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": True,
        }
    ),
]

LogLevel = Literal["trace", "debug", "info", "warn", "error", "crit"]
LogFormat = Literal["text", "terminal", "logfmt", "logfmtms", "json", "jsonms", "json-pretty"]
PullPolicy = Literal["Always", "IfNotPresent", "Never"]
ConditionStatus = Literal["True", "False", "Unknown"]

# Condition types every kind uses; `Ready` is the summary (kubectl wait --for=condition=Ready).
CONDITION_READY = "Ready"
CONDITION_NETWORK_READY = "NetworkReady"
CONDITION_WORKLOAD_READY = "WorkloadReady"


def finalizer_for(kind: str) -> str:
    """The finalizer a controller puts on its objects: `<kind lowercase>.optimism.io/finalizer`."""
    return f"{kind.lower()}.optimism.io/finalizer"


# --- CEL ---------------------------------------------------------------------------------------------------


def cel(
    rule: str,
    message: str,
    *,
    field_path: str | None = None,
    reason: str | None = None,
    optional_old_self: bool = False,
) -> dict[str, Any]:
    """One `x-kubernetes-validations` entry. `field_path` (relative, e.g. `.opNode.p2p`) makes the API
    server report the error at that field instead of the object holding the rule."""
    out: dict[str, Any] = {"rule": rule, "message": message}
    if field_path is not None:
        out["fieldPath"] = field_path
    if reason is not None:
        out["reason"] = reason
    if optional_old_self:
        out["optionalOldSelf"] = True
    return out


def validations(*rules: dict[str, Any]) -> dict[str, Any]:
    """`json_schema_extra` for a model or field carrying CEL rules."""
    return {"x-kubernetes-validations": list(rules)}


def immutable(field: str, fix: str) -> dict[str, Any]:
    return cel("self == oldSelf", f"{field} is immutable; {fix}", reason="FieldValueForbidden")


def no_shrink(field: str) -> dict[str, Any]:
    return cel(
        "!quantity(self).isLessThan(quantity(oldSelf))",
        f"{field} cannot shrink (volumes can only be expanded); set it to a size at least as large as before",
        reason="FieldValueForbidden",
    )


def to_camel(name: str) -> str:
    """snake_case -> camelCase, leaving digits alone (pydantic's to_camel turns p2p into p2P)."""
    first, *rest = name.split("_")
    return first + "".join(p[:1].upper() + p[1:] for p in rest)


# --- base model --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A cross-field rule of a model: CEL for the API server, and the same judgement in Python.

    `check` receives the validated model and returns True when the object is acceptable; None means the rule
    is judged by the API server only."""

    cel: str
    message: str
    check: Callable[[Any], bool] | None = None
    field_path: str | None = None
    reason: str | None = None

    def to_schema(self) -> dict[str, Any]:
        return cel(self.cel, self.message, field_path=self.field_path, reason=self.reason)


def _add_rules(schema: dict[str, Any], cls: type[Any]) -> None:
    rules: tuple[Rule, ...] = getattr(cls, "cel_rules", ())
    if rules:
        schema.setdefault("x-kubernetes-validations", []).extend(r.to_schema() for r in rules)


class ApiModel(BaseModel):
    """Base of every API type: camelCase on the wire, unknown fields ignored (the API server prunes them)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", json_schema_extra=_add_rules
    )

    cel_rules: ClassVar[tuple[Rule, ...]] = ()

    @model_validator(mode="after")
    def _check_rules(self) -> Self:
        for rule in type(self).cel_rules:
            if rule.check is not None and not rule.check(self):
                raise ValueError(rule.message)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The wire form: camelCase, unset optional fields left out, defaults filled in."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def sub(model: type[ApiModel], description: str) -> Any:
    """A nested object created by default, by pydantic and by the API server alike.

    The schema default is the model's complete default object, not `{}`: the API server checks a default
    against the CEL rules as written (without filling in the defaults nested inside it), so `{}` would fail
    every rule that reads a defaulted field."""
    return Field(
        default_factory=model, description=description, json_schema_extra={"default": model().to_dict()}
    )


# --- references ------------------------------------------------------------------------------------------


class SecretKeySelector(ApiModel):
    """A key of a Secret in the namespace of the referring object."""

    name: ObjectName = Field(description="Name of the Secret.")
    key: ConfigKey = Field(description="Key inside the Secret's data.")


class ConfigMapKeySelector(ApiModel):
    """A key of a ConfigMap in the namespace of the referring object."""

    name: ObjectName = Field(description="Name of the ConfigMap.")
    key: ConfigKey = Field(description="Key inside the ConfigMap's data.")


class ObjectRef(ApiModel):
    """A reference to another object of this API by name."""

    name: ObjectName = Field(description="Name of the referenced object.")
    namespace: NamespaceName | None = Field(
        default=None,
        description="Namespace of the referenced object; defaults to the namespace of this object.",
    )


class SecretKeyRef(ApiModel):
    """Key material that is either read from an existing Secret or generated (and owned) by the operator."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "has(self.secretRef) != (has(self.generate) && self.generate)",
            "set exactly one of secretRef (use an existing Secret) or generate: true "
            "(the operator creates and owns the Secret)",
            lambda m: (m.secret_ref is not None) != bool(m.generate),
        ),
    )

    secret_ref: SecretKeySelector | None = Field(
        default=None, description="An existing Secret key holding the key material (hex, optional 0x prefix)."
    )
    generate: bool | None = Field(
        default=None,
        description="Generate the key material into a Secret owned by this object (deleted with it). "
        "Mutually exclusive with secretRef.",
    )


# --- workloads ---------------------------------------------------------------------------------------------


class ResourceRequirements(ApiModel):
    """Compute resources of a container, as in core/v1 ResourceRequirements."""

    limits: dict[str, Quantity] | None = Field(
        default=None, description="Maximum amount of compute resources allowed (e.g. cpu: 2, memory: 8Gi)."
    )
    requests: dict[str, Quantity] | None = Field(
        default=None,
        description="Minimum amount of compute resources required (e.g. cpu: 500m, memory: 4Gi).",
    )


class EnvVarSource(ApiModel):
    """Where an environment variable's value comes from."""

    secret_key_ref: SecretKeySelector | None = Field(default=None, description="A key of a Secret.")
    config_map_key_ref: ConfigMapKeySelector | None = Field(default=None, description="A key of a ConfigMap.")
    field_ref: FieldRef | None = Field(default=None, description="A field of the Pod (e.g. metadata.name).")


class FieldRef(ApiModel):
    """A field of the Pod, as in core/v1 ObjectFieldSelector."""

    field_path: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="Path of the field, e.g. metadata.name, status.podIP."
    )


class EnvVar(ApiModel):
    """An extra environment variable for a container (escape hatch)."""

    cel_rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "!(has(self.value) && has(self.valueFrom))",
            "set either value or valueFrom, not both",
            lambda m: not (m.value is not None and m.value_from is not None),
        ),
    )

    name: Annotated[str, StringConstraints(pattern=ENV_NAME_PATTERN, min_length=1, max_length=256)] = Field(
        description="Name of the variable."
    )
    value: Annotated[str, StringConstraints(max_length=32768)] | None = Field(
        default=None, description="Literal value. Never put key material here; use valueFrom.secretKeyRef."
    )
    value_from: EnvVarSource | None = Field(
        default=None, description="Take the value from a Secret, ConfigMap or field."
    )


EnvVarSource.model_rebuild()


class StorageSpec(ApiModel):
    """A persistent volume claimed for the component's data."""

    size: StorageQuantity = Field(
        default="100Gi",
        description="Requested size of the volume, a Kubernetes quantity (e.g. 500Gi, 2Ti). "
        "It can grow (if the storage class allows expansion) but never shrink.",
        json_schema_extra=validations(no_shrink("size")),
    )
    storage_class: ObjectName | None = Field(
        default=None, description="StorageClass of the claim; the cluster's default class when unset."
    )
    access_mode: Literal["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany"] = Field(
        default="ReadWriteOnce", description="Access mode of the claim."
    )


class MetricsSpec(ApiModel):
    """Prometheus metrics of a component."""

    enabled: bool | None = Field(
        default=None,
        description="Serve Prometheus metrics (--metrics.enabled). Unset: inherit the network's "
        "sharedConfig.metrics.enabled.",
    )
    port: Port = Field(default=7300, description="Port of the metrics listener (--metrics.port).")


class RpcSpec(ApiModel):
    """The component's own JSON-RPC server."""

    port: Port = Field(default=8545, description="Port of the JSON-RPC server (--rpc.port).")
    enable_admin: bool = Field(
        default=False,
        description="Serve the admin_* methods (start/stop and fee settings) (--rpc.enable-admin).",
    )


class Condition(ApiModel):
    """A condition in the shape of metav1.Condition."""

    type: Annotated[
        str,
        StringConstraints(
            max_length=316,
            pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
            r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
        ),
    ] = Field(description="Type of condition in CamelCase, e.g. Ready.")
    status: ConditionStatus = Field(description="Status of the condition: True, False or Unknown.")
    observed_generation: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="The .metadata.generation the condition was set from."
    )
    last_transition_time: str = Field(
        description="Last time the condition changed status (RFC 3339).",
        json_schema_extra={"format": "date-time"},
    )
    reason: Annotated[
        str,
        StringConstraints(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"),
    ] = Field(description="Machine-readable reason for the last transition, in CamelCase.")
    message: Annotated[str, StringConstraints(max_length=32768)] = Field(
        description="Human-readable details about the last transition."
    )


def conditions_field() -> Any:
    return Field(
        default=None,
        description="Observations of the object's state; `Ready` summarises them "
        "(kubectl wait --for=condition=Ready).",
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
            "maxItems": 32,
        },
    )


def observed_generation_field() -> Any:
    return Field(default=None, ge=0, description="The .metadata.generation that the status describes.")


__all__ = [
    "ADDRESS_PATTERN",
    "API_VERSION",
    "DURATION_PATTERN",
    "GROUP",
    "QUANTITY_PATTERN",
    "VERSION",
    "Address",
    "ApiModel",
    "Condition",
    "ConfigMapKeySelector",
    "Duration",
    "EnvVar",
    "EnvVarSource",
    "FieldRef",
    "MetricsSpec",
    "ObjectRef",
    "Quantity",
    "ResourceRequirements",
    "RpcSpec",
    "Rule",
    "SecretKeyRef",
    "SecretKeySelector",
    "StorageSpec",
    "cel",
    "finalizer_for",
    "validations",
]
