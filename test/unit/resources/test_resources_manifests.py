"""Every builder's output validates against the Kubernetes schema (strict) and has the shape the
controllers rely on: labels, owner references, one-signer workloads, services and volumes."""

from __future__ import annotations

import base64
from typing import Any

import kubernetes_validate
import pytest

from opstack.api.v1alpha1 import OpChallengerSpec, OpNodeSpec
from opstack.components.common import VOL_DATA
from opstack.resources import meta
from opstack.resources.config import config_map, generated_secret, secret_value
from opstack.testing.component_scenarios import Scenario, devnet_network, owner_of, sample, scenarios

K8S_VERSION = kubernetes_validate.latest_version()
SCENARIOS = scenarios()


def by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def test_schema_version_is_recent() -> None:
    assert tuple(int(x) for x in K8S_VERSION.split(".")[:2]) >= (1, 34)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_every_object_validates_strictly(scenario: Scenario) -> None:
    for obj in scenario.render():
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_generated_secret_and_config_map_validate() -> None:
    owner = owner_of(sample("opnode_devnet_sequencer"))
    secret = generated_secret(
        owner, "n-jwt", {"jwt.hex": "0x" + "ab" * 32}, app="op-node", component="sequencer", network="devnet"
    )
    cm = config_map(
        owner, "n-rollup", {"rollup.json": "{}"}, app="op-node", component="sequencer", network="devnet"
    )
    for obj in (secret, cm):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    assert "stringData" not in secret
    assert base64.b64decode(secret["data"]["jwt.hex"]).decode() == "0x" + "ab" * 32
    assert secret_value(secret, "jwt.hex") == ("0x" + "ab" * 32).encode()
    assert secret_value(secret, "missing") is None


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_labels_and_controller_owner_reference(scenario: Scenario) -> None:
    for obj in scenario.render():
        md = obj["metadata"]
        labels = md["labels"]
        for key in (meta.LABEL_NAME, meta.LABEL_INSTANCE, meta.LABEL_COMPONENT, meta.LABEL_PART_OF):
            assert labels[key], key
        assert labels[meta.LABEL_MANAGED_BY] == "opstack-operator"
        assert labels[meta.LABEL_INSTANCE] == scenario.owner.name
        assert md["namespace"] == scenario.owner.namespace
        (ref,) = md["ownerReferences"]
        assert ref["controller"] is True and ref["blockOwnerDeletion"] is True
        assert ref["uid"] == scenario.owner.uid and ref["kind"] == scenario.owner.kind
        assert meta.controlled_by(obj, scenario.owner)
        if obj["kind"] in ("StatefulSet", "Deployment"):
            selector = obj["spec"]["selector"]["matchLabels"]
            assert selector.items() <= obj["spec"]["template"]["metadata"]["labels"].items()
            assert set(selector) == {meta.LABEL_NAME, meta.LABEL_INSTANCE}


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.id.startswith(("batcher", "proposer"))], ids=lambda s: s.id
)
def test_signers_run_exactly_one_pod_with_recreate(scenario: Scenario) -> None:
    (dep,) = by_kind(scenario.render(), "Deployment")
    assert dep["spec"]["replicas"] == 1
    assert dep["spec"]["strategy"] == {"type": "Recreate"}


def test_opnode_statefulset_shape() -> None:
    (scenario,) = [s for s in SCENARIOS if s.id == "opnode-replica-custom"]
    objs = scenario.render()
    (sts,) = by_kind(objs, "StatefulSet")
    spec = sts["spec"]
    assert spec["replicas"] == 2 and spec["serviceName"] == "devnet-replica-headless"
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == VOL_DATA
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    pod = spec["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["op-geth", "op-node"]
    assert [c["name"] for c in pod["initContainers"]] == ["geth-init"]
    assert pod["terminationGracePeriodSeconds"] >= 120
    assert pod["enableServiceLinks"] is False and pod["automountServiceAccountToken"] is False
    # The JWT is one Secret mounted read-only by both containers.
    for c in pod["containers"]:
        assert {"name": "engine-jwt", "mountPath": "/secrets/engine-jwt", "readOnly": True} in c[
            "volumeMounts"
        ]
    (pdb,) = by_kind(objs, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1


def test_opnode_services() -> None:
    (scenario,) = [s for s in SCENARIOS if s.id == "opnode-replica-registry"]
    objs = scenario.render()
    services = {s["metadata"]["name"]: s for s in by_kind(objs, "Service")}
    main = services["op-sepolia-replica"]["spec"]
    assert main["type"] == "ClusterIP"
    assert {p["name"]: p["port"] for p in main["ports"]} == {
        "geth-http": 8545,
        "geth-ws": 8546,
        "node-rpc": 9545,
        "geth-metrics": 6060,
        "node-metrics": 7300,
    }
    assert all(p["port"] != 8551 for s in services.values() for p in s["spec"]["ports"])
    headless = services["op-sepolia-replica-headless"]["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    p2p = services["op-sepolia-replica-p2p-0"]["spec"]
    assert p2p["type"] == "NodePort"
    assert p2p["selector"][meta.LABEL_POD_NAME] == "op-sepolia-replica-0"
    assert {(p["port"], p["protocol"]) for p in p2p["ports"]} == {
        (9222, "TCP"),
        (9222, "UDP"),
        (30303, "TCP"),
        (30303, "UDP"),
    }
    (policy,) = by_kind(objs, "NetworkPolicy")
    ports = [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]]
    assert 8551 not in ports and 9222 in ports and 8545 in ports
    internal = [r for r in policy["spec"]["ingress"] if "from" in r]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "opstack-system"}}} in (
        internal[0]["from"]
    )


def test_sequencer_gets_no_pdb_and_no_p2p_service_by_default() -> None:
    (scenario,) = [s for s in SCENARIOS if s.id == "opnode-sequencer-custom"]
    objs = scenario.render()
    assert not by_kind(objs, "PodDisruptionBudget")
    assert [s["metadata"]["name"] for s in by_kind(objs, "Service")] == [
        "devnet-sequencer",
        "devnet-sequencer-headless",
    ]


def test_challenger_statefulset_has_its_data_volume() -> None:
    (scenario,) = [s for s in SCENARIOS if s.id == "challenger-custom"]
    (sts,) = by_kind(scenario.render(), "StatefulSet")
    assert sts["spec"]["replicas"] == 1
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    want = OpChallengerSpec.model_validate(sample("opchallenger_devnet")["spec"]).storage.size
    assert claim["spec"]["resources"]["requests"]["storage"] == want
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    assert {"name": VOL_DATA, "mountPath": "/data"} in c["volumeMounts"]


def test_rendering_is_deterministic() -> None:
    first = [s.render() for s in scenarios()]
    second = [s.render() for s in scenarios()]
    assert [meta.canonical_json(x) for x in first] == [meta.canonical_json(x) for x in second]


def test_datadir_outside_data_is_still_on_the_volume() -> None:
    (scenario,) = [s for s in SCENARIOS if s.id == "opnode-replica-custom-tuned"]
    (sts,) = by_kind(scenario.render(), "StatefulSet")
    geth = sts["spec"]["template"]["spec"]["containers"][0]
    assert {"name": VOL_DATA, "mountPath": "/chain"} in geth["volumeMounts"]


def test_existing_claim_size_is_kept_because_claim_templates_are_immutable() -> None:
    from opstack.components.opnode import OpNodeInputs, node_secrets
    from opstack.resources.opnode import opnode_statefulset

    obj = sample("opnode_devnet_replica")
    owner = owner_of(obj)
    spec = OpNodeSpec.model_validate(obj["spec"])
    inputs = OpNodeInputs(secrets=node_secrets(owner.name, spec))
    sts = opnode_statefulset(owner, spec, devnet_network(), inputs, claim_storage="10Gi")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    fresh = opnode_statefulset(owner, spec, devnet_network(), inputs)
    assert fresh["spec"]["template"] == sts["spec"]["template"]
