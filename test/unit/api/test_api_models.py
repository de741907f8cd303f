"""The pydantic models of optimism.optimism.io/v1alpha1: samples, round trips, and the rules they share
with the CRDs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from opstack.api.v1alpha1 import (
    KINDS,
    OBJECT_MODELS,
    ApiModel,
    OpNodeSpec,
    OptimismNetworkSpec,
    Rule,
    SecretKeyRef,
    finalizer_for,
    parse_object,
)
from opstack.testing.samples import INVALID, invalid_index, load, valid_samples


def assert_subset(sample: Any, dumped: Any, path: str = "") -> None:
    """Everything the sample says is in the dump (a typo in a sample, which the models would ignore and the
    API server would prune, fails here)."""
    if isinstance(sample, dict):
        assert isinstance(dumped, dict), f"{path}: expected an object"
        for key, value in sample.items():
            assert key in dumped, f"{path}.{key}: not a field of the model (typo?)"
            assert_subset(value, dumped[key], f"{path}.{key}")
    elif isinstance(sample, list):
        assert isinstance(dumped, list) and len(sample) == len(dumped), f"{path}: list differs"
        for i, (a, b) in enumerate(zip(sample, dumped, strict=True)):
            assert_subset(a, b, f"{path}[{i}]")
    else:
        assert sample == dumped, f"{path}: {sample!r} became {dumped!r}"


@pytest.mark.parametrize("path", valid_samples(), ids=lambda p: p.stem)
def test_valid_sample_parses_and_keeps_every_field(path: Any) -> None:
    obj = load(path)
    model = parse_object(obj)
    dumped = model.to_dict()
    assert dumped["kind"] == obj["kind"]
    assert_subset(obj["spec"], dumped["spec"], "spec")


@pytest.mark.parametrize("path", valid_samples(), ids=lambda p: p.stem)
def test_round_trip_is_stable(path: Any) -> None:
    model = parse_object(load(path))
    once = model.to_dict()
    twice = parse_object(once).to_dict()
    assert once == twice
    # snake_case attributes work too (populate_by_name) and give the same wire form
    spec: ApiModel = model.spec  # type: ignore[attr-defined]
    assert type(spec).model_validate(dict(spec)).to_dict() == once["spec"]


def test_every_kind_has_a_sample() -> None:
    kinds = {load(p)["kind"] for p in valid_samples()}
    assert kinds == set(OBJECT_MODELS)


def _rule_messages() -> set[str]:
    messages: set[str] = set()
    seen: set[type] = set()

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for rule in getattr(model, "cel_rules", ()):
            messages.add(rule.message)
        for field in model.model_fields.values():
            for arg in _types_in(field.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    visit(arg)

    for info in KINDS:
        visit(info.spec)
    return messages


def _types_in(annotation: Any) -> list[Any]:
    out = [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        out += _types_in(arg)
    return out


CASES = [e for e in invalid_index() if not e.get("serverOnly")]


@pytest.mark.parametrize("entry", CASES, ids=lambda e: e["file"])
def test_invalid_sample_is_refused_by_the_models(entry: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        parse_object(load(INVALID / entry["file"]))
    # Where the rule is one of ours (not a type/pattern/enum check), the model says what the server says.
    if any(entry["message"] in m for m in _rule_messages()):
        assert entry["message"] in str(info.value)


def test_invalid_index_covers_every_file_and_every_kind() -> None:
    listed = {e["file"] for e in invalid_index()}
    on_disk = {p.name for p in INVALID.glob("*.yaml")} - {"index.yaml"}
    assert listed == on_disk
    assert {load(INVALID / f)["kind"] for f in listed} == set(OBJECT_MODELS)
    for entry in invalid_index():
        assert entry["field"].startswith("spec"), entry
        assert entry["message"], entry


def test_defaults_follow_the_binaries() -> None:
    spec = OpNodeSpec.model_validate({"optimismNetworkRef": {"name": "n"}, "nodeType": "replica"})
    assert spec.op_node.rpc.port == 9545
    assert spec.op_node.p2p.listen_port == 9222
    assert spec.op_geth.networking.http.port == 8545
    assert spec.op_geth.networking.ws.port == 8546
    assert spec.op_geth.networking.authrpc.port == 8551
    assert spec.op_geth.networking.p2p.port == 30303
    assert spec.op_node.p2p.discovery.enabled is None  # the operator decides by node type
    net = OptimismNetworkSpec.model_validate({"chainID": 10, "l1ChainID": 1, "l1RpcUrl": "https://l1"})
    assert net.contract_addresses.discovery_method == "auto"
    assert net.shared_config.security.run_as_non_root is True
    assert net.shared_config.security.seccomp_profile.type == "RuntimeDefault"


def test_wire_names_are_camel_case_with_kubernetes_acronyms() -> None:
    spec = OpNodeSpec.model_validate({"optimismNetworkRef": {"name": "n"}, "nodeType": "replica"}).to_dict()
    assert "p2p" in spec["opNode"] and "safeDB" in spec["opNode"]
    net = OptimismNetworkSpec.model_validate(
        {"chainID": 10, "l1ChainID": 1, "l1RpcUrl": "https://l1"}
    ).to_dict()
    assert {"chainID", "l1ChainID", "l1RpcUrl"} <= set(net)


def test_unset_optional_fields_are_left_out() -> None:
    spec = OpNodeSpec.model_validate({"optimismNetworkRef": {"name": "n"}, "nodeType": "replica"}).to_dict()
    assert "sequencerRef" not in spec and "resources" not in spec
    assert "privateKey" not in spec["opNode"]["p2p"]


def test_secret_key_ref_needs_exactly_one_source() -> None:
    assert SecretKeyRef.model_validate({"generate": True}).generate is True
    assert SecretKeyRef.model_validate({"secretRef": {"name": "s", "key": "k"}}).secret_ref is not None
    for bad in ({}, {"generate": False}, {"generate": True, "secretRef": {"name": "s", "key": "k"}}):
        with pytest.raises(ValidationError, match="set exactly one of secretRef"):
            SecretKeyRef.model_validate(bad)


def test_quantities_keep_their_json_type() -> None:
    spec = OpNodeSpec.model_validate(
        {
            "optimismNetworkRef": {"name": "n"},
            "nodeType": "replica",
            "resources": {"opGeth": {"requests": {"cpu": 2, "memory": "8Gi"}}},
        }
    ).to_dict()
    assert spec["resources"]["opGeth"]["requests"] == {"cpu": 2, "memory": "8Gi"}
    with pytest.raises(ValidationError, match="not a Kubernetes quantity"):
        OpNodeSpec.model_validate(
            {
                "optimismNetworkRef": {"name": "n"},
                "nodeType": "replica",
                "resources": {"opGeth": {"requests": {"memory": "8 GB"}}},
            }
        )


def test_every_rule_has_cel_and_a_message_naming_what_to_do() -> None:
    rules: list[Rule] = []
    for cls in _all_models():
        rules += list(getattr(cls, "cel_rules", ()))
    assert len(rules) >= 15
    for rule in rules:
        assert rule.cel and rule.message
        assert any(w in rule.message for w in ("set", "remove", "use", "must", "needs", "go together"))


def _all_models() -> list[type[ApiModel]]:
    out: list[type[ApiModel]] = []

    def walk(cls: type[ApiModel]) -> None:
        out.append(cls)
        for sub in cls.__subclasses__():
            walk(sub)

    walk(ApiModel)
    return out


def test_registry() -> None:
    assert [k.kind for k in KINDS] == ["OptimismNetwork", "OpNode", "OpBatcher", "OpProposer", "OpChallenger"]
    short = [s for k in KINDS for s in k.short_names]
    assert len(short) == len(set(short)) and "opn" in short and "opnet" in short
    for k in KINDS:
        assert k.gvk.api_version == "optimism.optimism.io/v1alpha1"
        assert k.plural == k.kind.lower() + "s"
        assert k.categories == ("opstack",)
        assert k.finalizer == f"{k.kind.lower()}.optimism.io/finalizer" == finalizer_for(k.kind)
        assert any(c.name == "Ready" for c in k.columns) and k.columns[-1].name == "Age"


def test_parse_object_refuses_other_apis() -> None:
    with pytest.raises(ValueError, match="apiVersion"):
        parse_object({"apiVersion": "v1", "kind": "ConfigMap"})
    with pytest.raises(ValueError, match="unknown kind"):
        parse_object({"apiVersion": "optimism.optimism.io/v1alpha1", "kind": "OpGeth"})
