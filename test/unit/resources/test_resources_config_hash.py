"""The pod template's config hash moves with every flag-bearing field and referenced object, and only then."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from opstack.api.v1alpha1 import OpBatcherSpec, OpNodeSpec
from opstack.components.batcher import BatcherInputs
from opstack.components.common import NetworkFacts
from opstack.components.opnode import OpNodeInputs, node_secrets
from opstack.resources.chainops import batcher_deployment
from opstack.resources.meta import ANNOTATION_CONFIG_HASH, config_hash
from opstack.resources.opnode import opnode_statefulset
from opstack.testing.component_scenarios import devnet_network, owner_of, sample

SEQ = sample("opnode_devnet_sequencer")
OWNER = owner_of(SEQ)
REFS = {"Secret/devnet-sequencer-jwt": "10", "ConfigMap/devnet-rollup": "20"}


def node_hash(
    change: Callable[[dict[str, Any]], None] | None = None,
    network: NetworkFacts | None = None,
    refs: dict[str, str] | None = None,
) -> str:
    obj = copy.deepcopy(SEQ["spec"])
    if change:
        change(obj)
    spec = OpNodeSpec.model_validate(obj)
    sts = opnode_statefulset(
        OWNER,
        spec,
        network or devnet_network(),
        OpNodeInputs(secrets=node_secrets(OWNER.name, spec)),
        REFS if refs is None else refs,
    )
    annotations = sts["spec"]["template"]["metadata"]["annotations"]
    assert annotations[ANNOTATION_CONFIG_HASH] == config_hash(
        sts["spec"]["template"], REFS if refs is None else refs
    )
    return str(annotations[ANNOTATION_CONFIG_HASH])


BASE = node_hash()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        node = obj
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("opNode.p2p.peersHi", 99),
        ("opNode.rpc.port", 9999),
        ("opNode.sequencer.maxSafeLag", 10),
        ("opGeth.networking.http.apis", ["eth"]),
        ("opGeth.cache", 2048),
        ("images.opNode", "example.com/op-node:v1.13.4"),
        ("resources.opGeth", {"requests": {"cpu": "1"}}),
        ("extraArgs", {"opNode": ["--l1.cache-size=1000"]}),
    ],
)
def test_flag_bearing_changes_move_the_hash(path: str, value: Any) -> None:
    assert node_hash(_set(path, value)) != BASE


def test_network_changes_move_the_hash() -> None:
    assert node_hash(network=devnet_network(l1RpcUrl="http://other-l1:8545")) != BASE
    assert node_hash(network=devnet_network(sharedConfig={"logging": {"level": "warn"}})) != BASE


def test_referenced_object_versions_move_the_hash() -> None:
    assert node_hash(refs={**REFS, "Secret/devnet-sequencer-jwt": "11"}) != BASE
    assert node_hash(refs={**REFS, "Secret/devnet-sequencer-key": "1"}) != BASE


@pytest.mark.parametrize(
    ("path", "value"),
    [("replicas", 0), ("opGeth.storage.size", "40Gi"), ("service.annotations", {"a": "b"})],
)
def test_changes_that_do_not_shape_the_pod_keep_the_hash(path: str, value: Any) -> None:
    assert node_hash(_set(path, value)) == BASE


def test_hash_is_stable_across_renders_and_reference_order() -> None:
    assert node_hash() == BASE
    assert node_hash(refs=dict(reversed(list(REFS.items())))) == BASE


def test_batcher_hash_follows_the_sequencer_urls() -> None:
    owner = owner_of(sample("opbatcher_devnet"))
    spec = OpBatcherSpec.model_validate(sample("opbatcher_devnet")["spec"])

    def h(port: int) -> str:
        inputs = BatcherInputs(
            f"http://devnet-sequencer.chain.svc:{port}", "http://devnet-sequencer.chain.svc:9545"
        )
        dep = batcher_deployment(owner, spec, devnet_network(), inputs)
        return str(dep["spec"]["template"]["metadata"]["annotations"][ANNOTATION_CONFIG_HASH])

    assert h(8545) == h(8545) != h(18545)
