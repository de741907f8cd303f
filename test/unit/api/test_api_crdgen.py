"""The generated CRDs: structural, described, validated by kubernetes-validate, and committed as generated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest
import yaml

from opstack.api import crdgen, generate
from opstack.api.v1alpha1 import KINDS, KindInfo
from opstack.testing.samples import ROOT

K8S_VERSION = (
    "1.33"  # the newest schema set kubernetes-validate ships that covers apiextensions/v1 and rbac/v1
)

# Keywords a structural schema must not contain (or only in the int-or-string form, for anyOf).
FORBIDDEN = {"$ref", "$defs", "allOf", "oneOf", "not", "nullable", "title", "additionalItems", "uniqueItems"}


def walk(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from walk(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}.*")


def schema_of(info: KindInfo) -> dict[str, Any]:
    doc = crdgen.crd(info)
    schema: dict[str, Any] = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


@pytest.mark.parametrize("info", KINDS, ids=lambda k: k.kind)
def test_schema_is_structural(info: KindInfo) -> None:
    for path, node in walk(schema_of(info)):
        assert not FORBIDDEN & set(node), f"{info.kind}{path}: {FORBIDDEN & set(node)}"
        if "anyOf" in node:
            assert node["anyOf"] == crdgen.INT_OR_STRING and node.get("x-kubernetes-int-or-string"), path
        else:
            assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), (
                f"{info.kind}{path}: no type"
            )
        if node.get("type") == "object" and "properties" in node:
            assert "additionalProperties" not in node, path
        for key in node:
            assert key in crdgen._ALLOWED, f"{info.kind}{path}: {key}"


@pytest.mark.parametrize("info", KINDS, ids=lambda k: k.kind)
def test_every_property_has_a_description(info: KindInfo) -> None:
    schema = schema_of(info)
    assert crdgen.missing_descriptions(schema) == []
    assert schema["properties"]["metadata"] == {"type": "object"}  # the API server allows nothing more
    count = sum(1 for _ in walk(schema))
    assert count > 60


@pytest.mark.parametrize("info", KINDS, ids=lambda k: k.kind)
def test_crd_shape(info: KindInfo) -> None:
    doc = crdgen.crd(info)
    spec = doc["spec"]
    assert doc["metadata"]["name"] == f"{info.plural}.optimism.optimism.io"
    assert spec["group"] == "optimism.optimism.io" and spec["scope"] == "Namespaced"
    assert spec["names"]["categories"] == ["opstack"]
    assert spec["names"]["shortNames"] == list(info.short_names)
    (version,) = spec["versions"]
    assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}
    columns = {c["name"]: c for c in version["additionalPrinterColumns"]}
    assert {"Phase", "Ready", "Age"} <= set(columns)
    assert columns["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    conditions = status["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map" and conditions["x-kubernetes-list-map-keys"] == [
        "type"
    ]
    assert set(conditions["items"]["required"]) == {
        "type",
        "status",
        "lastTransitionTime",
        "reason",
        "message",
    }


@pytest.mark.parametrize("info", KINDS, ids=lambda k: k.kind)
def test_crd_validates_against_the_kubernetes_openapi(info: KindInfo) -> None:
    kubernetes_validate.validate(crdgen.crd(info), K8S_VERSION, strict=True)


def test_rbac_and_kustomizations_validate_against_the_kubernetes_openapi() -> None:
    for text in generate.render().values():
        for doc in yaml.safe_load_all(text):
            if doc and doc.get("kind") != "Kustomization":
                kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_defaults_and_cel_rules_are_where_they_belong() -> None:
    net = schema_of(KINDS[0])["properties"]["spec"]
    assert net["properties"]["contractAddresses"]["default"] == {
        "discoveryMethod": "auto",
        "cacheTimeout": "24h",
    }
    assert net["properties"]["rollupConfig"]["x-kubernetes-validations"][0]["rule"].startswith(
        "[has(self.inline)"
    )
    node = schema_of(KINDS[1])["properties"]["spec"]
    node_type = node["properties"]["nodeType"]
    assert node_type["enum"] == ["sequencer", "replica"]
    assert {"rule": "self == oldSelf"}.items() <= node_type["x-kubernetes-validations"][0].items()
    size = node["properties"]["opGeth"]["properties"]["storage"]["properties"]["size"]
    assert "quantity(self)" in size["x-kubernetes-validations"][0]["rule"]
    assert size["pattern"].startswith("^(\\+|-)?")
    addr = net["properties"]["contractAddresses"]["properties"]["systemConfigAddr"]
    assert addr["pattern"] == "^0x[0-9a-fA-F]{40}$"
    limits = node["properties"]["resources"]["properties"]["opGeth"]["properties"]["limits"]
    assert limits["additionalProperties"]["x-kubernetes-int-or-string"] is True
    # nested defaults are complete objects (CEL rules judge a default as written, without nested defaults)
    op_node_default = node["properties"]["opNode"]["default"]
    assert op_node_default["p2p"]["listenPort"] == 9222 and op_node_default["rpc"]["port"] == 9545


def test_generator_refuses_what_is_not_structural() -> None:
    from pydantic import BaseModel, Field

    class Union(BaseModel):
        x: int | list[int] = Field(1, description="x")

    with pytest.raises(crdgen.SchemaError, match="not structural"):
        crdgen.structural_schema(Union)


def test_committed_manifests_are_up_to_date() -> None:
    """The drift check CI runs (`python -m opstack.api.generate --check`)."""
    diffs = generate.drift(ROOT, generate.render())
    assert diffs == [], "run `make manifests`:\n" + "".join(diffs)[:4000]


def test_generated_files_say_so() -> None:
    for path in generate.render():
        text = (ROOT / path).read_text()
        assert text.startswith("# Code generated by") and "DO NOT EDIT" in text.split("---")[0]


def test_drift_is_detected(tmp_path: Any) -> None:
    files = generate.render()
    generate.write(tmp_path, files)
    assert generate.drift(tmp_path, files) == []
    target = tmp_path / generate.crd_file(KINDS[1])
    target.write_text(target.read_text().replace("sequencer or replica", "edited by hand"))
    (tmp_path / "config/crd/bases/optimism.optimism.io_oldkinds.yaml").write_text(generate.HEADER)
    diffs = generate.drift(tmp_path, files)
    assert any("edited by hand" in d for d in diffs)
    assert any("stale generated file" in d for d in diffs)
    assert generate.main(["--root", str(tmp_path), "--check"]) == 1
    assert generate.main(["--root", str(tmp_path)]) == 0
    assert generate.main(["--root", str(tmp_path), "--check"]) == 0
