"""The REST client against the real API server: verbs, selectors, subresources, dry run,
discovery of CRDs installed later, and every typed error from a real answer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from _data_path_helpers import CM, configmap, wait_for
from kubernetes import config as kube_config
from kubernetes.client import Configuration

from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.runtime.metrics import REGISTRY

pytestmark = pytest.mark.integration

CRD_GVK = GVK("apiextensions.k8s.io", "v1", "CustomResourceDefinition")


@pytest.fixture(scope="module")
def client(kubeconfig: str) -> Client:
    return Client.from_kubeconfig(kubeconfig)


def test_crud_patch_apply_delete(client: Client, namespace: str) -> None:
    created = client.create(configmap("one", namespace, "a", app="x"))
    assert created["metadata"]["uid"] and created["data"] == {"payload": "a"}
    assert client.get(CM, "one", namespace)["metadata"]["uid"] == created["metadata"]["uid"]

    created["data"]["payload"] = "b"
    updated = client.update(created)
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])

    merged = client.patch(CM, "one", {"data": {"extra": "1"}}, namespace)
    assert merged["data"] == {"payload": "b", "extra": "1"}
    jsonp = client.patch(CM, "one", [{"op": "remove", "path": "/data/extra"}], namespace, patch_type="json")
    assert jsonp["data"] == {"payload": "b"}
    strategic = client.patch(
        CM, "one", {"metadata": {"labels": {"b": "2"}}}, namespace, patch_type="strategic"
    )
    assert strategic["metadata"]["labels"] == {"app": "x", "b": "2"}

    applied = client.apply(configmap("one", namespace, "c"), field_manager="opstack-test")
    assert applied["data"]["payload"] == "c"
    managers = {m["manager"] for m in applied["metadata"]["managedFields"]}
    assert "opstack-test" in managers

    # A different manager taking a field without force is a conflict; with force it wins.
    with pytest.raises(errors.Conflict):
        client.apply(configmap("one", namespace, "d"), field_manager="other", force=False)
    assert client.apply(configmap("one", namespace, "d"), field_manager="other")["data"]["payload"] == "d"

    dry = client.create(configmap("ghost", namespace), dry_run=True)
    assert dry["metadata"]["name"] == "ghost"
    with pytest.raises(errors.NotFound):
        client.get(CM, "ghost", namespace)

    with pytest.raises(errors.Conflict):  # a precondition on the wrong uid
        client.delete(CM, "one", namespace, preconditions={"uid": str(uuid.uuid4())})
    # Foreground: the object stays, marked for deletion, until the garbage collector has removed
    # its dependents (none) and its foregroundDeletion finalizer.
    last = client.delete(CM, "one", namespace, propagation_policy="Foreground")
    assert last is not None and last["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in last["metadata"]["finalizers"]

    def gone() -> bool:
        try:
            client.get(CM, "one", namespace)
        except errors.NotFound:
            return True
        return False

    wait_for(gone, 30, "the garbage collector to finish the foreground deletion")
    client.create(configmap("two", namespace))
    assert client.delete(CM, "two", namespace) is None  # a plain delete answers with a Status
    with pytest.raises(errors.NotFound):
        client.get(CM, "two", namespace)


def test_list_with_label_and_field_selectors(client: Client, namespace: str) -> None:
    for i in range(6):
        client.create(configmap(f"sel-{i}", namespace, tier="db" if i % 2 else "web"))
    page = client.list(CM, namespace, label_selector="tier=db")
    assert page["kind"] == "ConfigMapList"
    assert sorted(o["metadata"]["name"] for o in page["items"]) == ["sel-1", "sel-3", "sel-5"]
    assert all(o["kind"] == "ConfigMap" and o["apiVersion"] == "v1" for o in page["items"])
    one = client.list(CM, namespace, field_selector="metadata.name=sel-2")["items"]
    assert [o["metadata"]["name"] for o in one] == ["sel-2"]
    everywhere, _ = client.list_all(
        CM, None, label_selector="tier=web", field_selector=f"metadata.namespace={namespace}"
    )
    assert len(everywhere) == 3


def test_crd_installed_after_client_start_is_found_by_kind(client: Client, namespace: str) -> None:
    suffix = uuid.uuid4().hex[:6]
    group, kind, plural = f"dp{suffix}.opstack.io", f"Widget{suffix}".capitalize(), f"widgets{suffix}"
    gvk = GVK(group, "v1", kind)
    with pytest.raises(errors.NoKindMatch):
        client.resource_for(gvk)
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": kind, "singular": plural[:-1], "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer", "minimum": 1}},
                                },
                                "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                            },
                        }
                    },
                }
            ],
        },
    }
    client.create(crd)
    try:

        def served() -> bool:
            try:
                client.resource_for(gvk)
                return True
            except errors.NoKindMatch:
                return False

        wait_for(served, 30, "the CRD's kind to be discovered")
        info = client.resource_for(gvk)
        assert info.plural == plural and info.namespaced and "status" in info.subresources

        def create() -> dict[str, Any] | None:
            try:
                return client.create(
                    {
                        "apiVersion": gvk.api_version,
                        "kind": kind,
                        "metadata": {"name": "w", "namespace": namespace},
                        "spec": {"size": 2},
                    }
                )
            except errors.NotFound:  # discovery can run ahead of the CRD's REST handler
                return None

        wait_for(lambda: create() is not None, 30, "the custom resource to be creatable")
        obj = client.get(gvk, "w", namespace)
        obj["status"] = {"phase": "Ready"}
        obj["spec"]["size"] = 5  # ignored by the status subresource
        after = client.update_status(obj)
        assert after["status"] == {"phase": "Ready"} and after["spec"]["size"] == 2
        patched = client.patch(gvk, "w", {"status": {"phase": "Done"}}, namespace, subresource="status")
        assert patched["status"]["phase"] == "Done"
        with pytest.raises(errors.Invalid) as info_invalid:
            client.patch(gvk, "w", {"spec": {"size": 0}}, namespace)
        assert any(c.get("field") == "spec.size" for c in info_invalid.value.causes)
    finally:
        client.delete(CRD_GVK, f"{plural}.{group}")


def test_typed_errors_from_real_answers(client: Client, namespace: str, control_plane: Any) -> None:
    # 404
    with pytest.raises(errors.NotFound) as nf:
        client.get(CM, "missing", namespace)
    assert nf.value.status == 404 and "missing" in nf.value.message
    # 409 AlreadyExists
    first = client.create(configmap("dup", namespace))
    with pytest.raises(errors.AlreadyExists):
        client.create(configmap("dup", namespace))
    # 409 Conflict: an update carrying a stale resourceVersion
    client.patch(CM, "dup", {"data": {"payload": "newer"}}, namespace)
    first["data"]["payload"] = "stale"
    with pytest.raises(errors.Conflict) as conflict:
        client.update(first)
    assert conflict.value.status == 409 and not isinstance(conflict.value, errors.AlreadyExists)
    # 422 with field causes
    with pytest.raises(errors.Invalid) as invalid:
        client.create(configmap("Not_A_Valid_Name", namespace))
    assert invalid.value.status == 422
    assert [c["field"] for c in invalid.value.causes] == ["metadata.name"]
    assert invalid.value.causes[0]["reason"] == "FieldValueInvalid"
    # 403: an authenticated user without RBAC
    nobody = Client.from_kubeconfig(str(control_plane.add_user(f"nobody-{uuid.uuid4().hex[:6]}")))
    with pytest.raises(errors.Forbidden) as forbidden:
        nobody.list(CM, namespace)
    assert forbidden.value.status == 403 and "forbidden" in forbidden.value.message
    # 401: a token the API server does not know
    cfg = Configuration()
    kube_config.load_kube_config(config_file=str(control_plane.kubeconfig), client_configuration=cfg)
    cfg.cert_file = cfg.key_file = None
    cfg.api_key = {"BearerToken": "Bearer not-a-real-token"}
    with pytest.raises(errors.Unauthorized):
        Client(cfg).list(CM, namespace)
    # 400: a malformed selector
    with pytest.raises(errors.BadRequest):
        client.list(CM, namespace, label_selector="a in (")
    # the request counter saw every one of those codes
    for code in ("404", "409", "422", "403", "401", "400", "201", "200"):
        samples = [
            s
            for m in REGISTRY.collect()
            if m.name == "rest_client_requests"
            for s in m.samples
            if s.name == "rest_client_requests_total" and s.labels["code"] == code
        ]
        assert samples and samples[0].value >= 1, code


def test_namespaced_kind_needs_a_namespace(client: Client) -> None:
    with pytest.raises(ValueError, match="namespace"):
        client.get(CM, "x")
    with pytest.raises(ValueError, match="namespace"):
        client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})


def test_apply_of_text_outside_the_basic_multilingual_plane(client: Client, namespace: str) -> None:
    """The API server reads an apply body as YAML, which refuses JSON's surrogate pairs: characters outside
    the BMP (a user's emoji, found by the bad-input test in an OpNode's corsDomains) must still apply."""
    text = (
        '\U0009562c\u00fb4\U000f4d7a$ \U0001f600 \\ud83d \\\U0001f600 \u00e9\u4e2d\ud7a3 \x7f\x85\u2028 "q"\n'
    )
    obj = configmap("astral", namespace, text)
    obj["metadata"]["annotations"] = {"note": text}
    applied = client.apply(obj, field_manager="opstack-test")
    assert applied["data"]["payload"] == text and applied["metadata"]["annotations"]["note"] == text
    assert client.get(CM, "astral", namespace)["data"]["payload"] == text
    # Unchanged, the same body is a no-op for the API server (its decoding is stable).
    again = client.apply(obj, field_manager="opstack-test")
    assert again["metadata"]["resourceVersion"] == applied["metadata"]["resourceVersion"]
