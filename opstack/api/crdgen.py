"""From the pydantic models of `opstack.api.v1alpha1` to CustomResourceDefinitions (the controller-gen of
this project).

Pydantic's JSON schema (draft 2020-12) is not what the API server accepts: a CRD needs a *structural*
OpenAPI v3 schema. The conversion here:
- inlines every `$ref` (merging the referring field's description, default and CEL rules into the target);
- drops the `null` branch of `X | None` (absent, null and unset mean the same: the API server prunes nulls
  of non-nullable fields), so no `nullable` is ever emitted;
- keeps `anyOf` only in the one form structural schemas allow, int-or-string (`x-kubernetes-int-or-string`);
- turns `dict[str, Any]` into `x-kubernetes-preserve-unknown-fields: true`;
- removes `title`, `additionalProperties: false` and `default: null`, turns `const` into `enum`, and refuses
  any keyword it does not know, so a model change cannot slip an unsupported keyword into a CRD;
- refuses a property without a description, so `kubectl explain` always has something to say.

Pure: models in, dicts out. Writing files is `opstack.api.generate`'s job.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from opstack.api.v1alpha1 import API_VERSION, GROUP, VERSION, KindInfo

# Keywords a structural schema may carry (apiextensions.k8s.io/v1 JSONSchemaProps minus what we never use).
_ALLOWED = {
    "type",
    "format",
    "description",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "enum",
    "default",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "anyOf",
    "x-kubernetes-validations",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
}
_DROPPED = {"title", "examples", "$schema"}
INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]


class SchemaError(ValueError):
    """The models produce something a structural schema cannot express."""


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of `model`, as the API server wants it in a CRD."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    return _convert(raw, defs, model.__name__)


def _convert(node: dict[str, Any], defs: dict[str, Any], path: str) -> dict[str, Any]:
    node = dict(node)
    if "$ref" in node:
        name = node.pop("$ref").rsplit("/", 1)[-1]
        return _overlay(_convert(defs[name], defs, path), _convert(node, defs, path) if node else {})
    if "allOf" in node:
        parts = node.pop("allOf")
        if len(parts) != 1:
            raise SchemaError(f"{path}: allOf with {len(parts)} members is not structural")
        return _overlay(_convert(parts[0], defs, path), _convert(node, defs, path))
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        branches = [b for b in node.pop("anyOf") if b != {"type": "null"}]
        if len(branches) != 1:
            raise SchemaError(f"{path}: a union of {len(branches)} types is not structural ({branches})")
        return _overlay(_convert(branches[0], defs, path), _convert(node, defs, path))

    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "default" and value is None:
            continue
        if key == "const":
            out["enum"] = [value]
            continue
        if key == "additionalProperties":
            if value is False:
                continue
            if value is True or value == {}:
                out["x-kubernetes-preserve-unknown-fields"] = True
                continue
            out[key] = _convert(value, defs, f"{path}.*")
            continue
        if key == "properties":
            out[key] = {name: _convert(sub, defs, f"{path}.{name}") for name, sub in value.items()}
            continue
        if key == "items":
            out[key] = _convert(value, defs, f"{path}[]")
            continue
        if key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
            continue
        if key == "anyOf":
            if value != INT_OR_STRING:
                raise SchemaError(f"{path}: only int-or-string may use anyOf, got {value}")
            out[key] = copy.deepcopy(value)
            continue
        if key not in _ALLOWED:
            raise SchemaError(f"{path}: keyword {key!r} is not allowed in a structural schema")
        out[key] = copy.deepcopy(value)
    if "properties" in out:
        out["type"] = "object"
    return out


def _overlay(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with the referring field's own keywords on top (its description wins, CEL rules add up)."""
    out = dict(base)
    for key, value in extra.items():
        if key == "x-kubernetes-validations":
            out[key] = [*out.get(key, []), *value]
        else:
            out[key] = value
    return out


def missing_descriptions(schema: dict[str, Any], path: str = "") -> list[str]:
    """Paths of properties (and of the items of lists of objects) that lack a description."""
    missing: list[str] = []
    for name, sub in schema.get("properties", {}).items():
        where = f"{path}.{name}"
        if where == ".metadata":
            continue  # the API server refuses anything but `type: object` on metadata
        if not sub.get("description"):
            missing.append(where)
        missing += missing_descriptions(sub, where)
    if isinstance(schema.get("items"), dict):
        missing += missing_descriptions(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        missing += missing_descriptions(schema["additionalProperties"], f"{path}.*")
    return missing


def openapi_schema(info: KindInfo) -> dict[str, Any]:
    """The whole openAPIV3Schema of a kind: apiVersion, kind, metadata, spec, status."""
    spec = structural_schema(info.spec)
    status = structural_schema(info.status)
    spec["description"] = f"Desired state of the {info.kind}."
    status["description"] = f"Observed state of the {info.kind}, written by the operator."
    schema: dict[str, Any] = {
        "type": "object",
        "description": info.description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {
                "type": "string",
                "description": "Versioned schema of this representation of an object; "
                f"{API_VERSION} for this kind.",
            },
            "kind": {"type": "string", "description": f"REST resource this object represents: {info.kind}."},
            # The API server allows nothing but `type` here (metadata's schema is built in).
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }
    missing = missing_descriptions(schema)
    if missing:
        raise SchemaError(f"{info.kind}: properties without a description: {', '.join(missing)}")
    return schema


def crd(info: KindInfo) -> dict[str, Any]:
    """The CustomResourceDefinition of a kind."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": info.crd_name},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": list(info.short_names),
                "categories": list(info.categories),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": openapi_schema(info)},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [c.to_crd() for c in info.columns],
                }
            ],
        },
    }
