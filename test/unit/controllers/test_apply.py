"""The shared child applier: what counts as "already in the desired state", and the zero-write rule."""

from __future__ import annotations

from typing import Any

import pytest

from opstack.controllers.apply import ChildApplier, NameConflict, is_subset, up_to_date
from opstack.resources.meta import ANNOTATION_CONFIG_HASH, Owner


def test_subset_tolerates_server_defaults_but_not_changes() -> None:
    desired = {"spec": {"ports": [{"name": "rpc", "port": 1}], "type": "ClusterIP"}}
    live = {
        "spec": {"ports": [{"name": "rpc", "port": 1, "nodePort": 0}], "type": "ClusterIP", "clusterIP": "x"}
    }
    assert is_subset(desired, live)
    assert not is_subset({"spec": {"ports": [{"name": "rpc", "port": 2}]}}, live)
    assert not is_subset({"spec": {"ports": []}}, live), "a removed list item is a change"
    assert not is_subset({"metadata": {"labels": {"a": "b"}}}, {"metadata": {}})


def sts(hash_: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "n", "labels": {"a": "b"}},
        "spec": {
            "replicas": replicas,
            "template": {"metadata": {"annotations": {ANNOTATION_CONFIG_HASH: hash_}}, "spec": {"x": 1}},
            "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "1Gi"}}}}],
        },
    }


def test_statefulset_is_judged_by_its_config_hash_and_outer_fields() -> None:
    live = sts("h1")
    live["spec"]["template"]["spec"] = {"x": 1, "defaulted": True, "dnsPolicy": "ClusterFirst"}
    live["spec"]["volumeClaimTemplates"][0]["status"] = {"phase": "Pending"}
    assert up_to_date(sts("h1"), live)
    assert not up_to_date(sts("h2"), live)
    assert not up_to_date(sts("h1", replicas=2), live)


def test_is_subset_allows_server_defaults_but_not_changes() -> None:
    desired = {
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "args": ["--a=1"]}]}}}
    }
    live = {
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 10,
            "template": {
                "spec": {"containers": [{"name": "c", "args": ["--a=1"], "imagePullPolicy": "Always"}]}
            },
        }
    }
    assert is_subset(desired, live)
    changed = {
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "args": ["--a=2"]}]}}}
    }
    assert not is_subset(changed, live)
    extra_arg = {"spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["--a=1", "--b"]}]}}}}
    assert not is_subset(extra_arg, live)
    assert not is_subset({"x": {"y": 1}}, {"x": 1})


class RecordingClient:
    def __init__(self) -> None:
        self.applied: list[dict[str, Any]] = []

    def apply(self, obj: dict[str, Any], *, field_manager: str, force: bool) -> dict[str, Any]:
        assert field_manager == "fm" and force
        self.applied.append(obj)
        return obj


OWNER = Owner("optimism.optimism.io/v1alpha1", "OpNode", "n", "ns", "uid-1")


def _service(port: int, owner_uid: str = "uid-1") -> dict[str, Any]:
    ref = {
        "apiVersion": OWNER.api_version,
        "kind": "OpNode",
        "name": "n",
        "uid": owner_uid,
        "controller": True,
    }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "n", "namespace": "ns", "ownerReferences": [ref]},
        "spec": {"ports": [{"name": "rpc", "port": port}]},
    }


def test_applier_writes_only_what_differs_and_refuses_foreign_children() -> None:
    client = RecordingClient()
    applier = ChildApplier(client, "fm")
    live = _service(1)
    live["spec"]["clusterIP"] = "10.0.0.9"  # a server default
    assert applier.apply(OWNER, _service(1), live) is live
    assert client.applied == []
    applier.apply(OWNER, _service(2), live)
    assert [o["spec"]["ports"][0]["port"] for o in client.applied] == [2]
    applier.apply(OWNER, _service(1), None)
    assert len(client.applied) == 2
    with pytest.raises(NameConflict, match="not controlled by this OpNode"):
        applier.apply(OWNER, _service(1), _service(1, owner_uid="someone-else"))
