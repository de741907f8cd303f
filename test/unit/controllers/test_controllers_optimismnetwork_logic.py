"""The OptimismNetwork reconciler's pure logic, with fakes for the cache, the client, Events, L1 and the
clocks.

(The real thing, against the API server and anvil: test/integration/controllers/test_optimismnetwork.py.)
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest

from opstack.api.v1alpha1 import OptimismNetworkSpec
from opstack.chain.l1 import L1Client
from opstack.controllers.durations import format_duration, parse_duration
from opstack.controllers.indexes import NETWORK_REF_INDEX, index_network_ref, network_ref
from opstack.controllers.optimismnetwork import (
    FINALIZER,
    NETWORK,
    OptimismNetworkReconciler,
    Settings,
    builtin_network,
    discovery_inputs_hash,
    discovery_request,
    inputs_hash_of,
    owned_config_map_name,
    read_genesis,
    read_rollup_config,
    references,
)
from opstack.runtime import errors
from opstack.runtime.frozen import freeze
from opstack.runtime.gvk import GVK
from opstack.runtime.reconcile import Request

CM = GVK("", "v1", "ConfigMap")
SECRET = GVK("", "v1", "Secret")
SEPOLIA = {"networkName": "op-sepolia", "chainID": 11155420, "l1ChainID": 11155111}


def override_text(system_config: str) -> str:
    """Registry override data: the snapshot's op-sepolia entry with another SystemConfigProxy."""
    snapshot = json.loads(
        resources.files("opstack.chain").joinpath("data", "superchain-registry.json").read_text()
    )
    chain = copy.deepcopy(snapshot["chains"]["op-sepolia"])
    chain["addresses"]["SystemConfigProxy"] = system_config
    return json.dumps({"source": {"commit": "abc123", "date": "2030-01-01"}, "chains": {"op-sepolia": chain}})


# --- pure helpers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("10s", 10.0), ("1h30m", 5400.0), ("500ms", 0.5), ("24h", 86400.0), ("1.5m", 90.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "h", "1x", "10s5", "-1s"])
def test_parse_duration_refuses_what_go_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (86400, 90, 0.5, 3600 + 1)] == ["24h", "1m30s", "500ms", "1h1s"]


def test_network_ref_index_defaults_to_the_components_namespace() -> None:
    node: dict[str, Any] = {
        "metadata": {"name": "n", "namespace": "a"},
        "spec": {"optimismNetworkRef": {"name": "net"}},
    }
    assert index_network_ref(node) == ["a/net"]
    node["spec"]["optimismNetworkRef"]["namespace"] = "b"
    assert index_network_ref(node) == ["b/net"] and network_ref(node) == ("b", "net")
    assert index_network_ref({"metadata": {"name": "x"}, "spec": {}}) == []
    assert index_network_ref({"spec": {"optimismNetworkRef": "nonsense"}}) == []
    assert NETWORK_REF_INDEX == "spec.optimismNetworkRef"


def test_references_lists_config_maps_and_secrets() -> None:
    obj: dict[str, Any] = {
        "metadata": {"name": "n", "namespace": "ns"},
        "spec": {
            "rollupConfig": {"configMapRef": {"name": "r", "key": "k"}},
            "l2Genesis": {"inline": "{}"},
            "l1RpcUrlSecretRef": {"name": "s", "key": "url"},
            "l1BeaconUrlSecretRef": {"name": "s", "key": "beacon"},
        },
    }
    assert references(obj) == (["ns/r"], ["ns/s"])
    obj["spec"]["contractAddresses"] = {"registryOverride": {"name": "registry", "key": "registry.json"}}
    assert references(obj) == (["ns/r", "ns/registry"], ["ns/s"])


def test_builtin_network_needs_a_registry_network_on_its_l1() -> None:
    chain = builtin_network(OptimismNetworkSpec.model_validate({**SEPOLIA, "l1RpcUrl": "http://x"}))
    assert chain is not None and chain.op_node_network == "op-sepolia"
    by_id = builtin_network(
        OptimismNetworkSpec.model_validate({**SEPOLIA, "networkName": None, "l1RpcUrl": "http://x"})
    )
    assert by_id is not None and by_id.key == "op-sepolia"
    assert (
        builtin_network(
            OptimismNetworkSpec.model_validate({**SEPOLIA, "l1ChainID": 1, "l1RpcUrl": "http://x"})
        )
        is None
    )
    custom = {"networkName": "devnet", "chainID": 11155420, "l1ChainID": 11155111, "l1RpcUrl": "http://x"}
    assert (
        builtin_network(OptimismNetworkSpec.model_validate(custom)) is None
    )  # a custom name never matches by id


def test_discovery_hash_changes_with_the_inputs_only() -> None:
    base = {**SEPOLIA, "l1RpcUrl": "http://a", "contractAddresses": {"discoveryMethod": "well-known"}}
    h = discovery_inputs_hash(discovery_request(OptimismNetworkSpec.model_validate(base)))
    other_url = {**base, "l1RpcUrl": "http://b/secret", "sharedConfig": {"logging": {"level": "debug"}}}
    assert discovery_inputs_hash(discovery_request(OptimismNetworkSpec.model_validate(other_url))) == h
    other_method = {**base, "contractAddresses": {"discoveryMethod": "superchain-registry"}}
    assert discovery_inputs_hash(discovery_request(OptimismNetworkSpec.model_validate(other_method))) != h
    given = {
        **base,
        "contractAddresses": {"discoveryMethod": "well-known", "batchInboxAddr": "0x" + "12" * 20},
    }
    assert discovery_inputs_hash(discovery_request(OptimismNetworkSpec.model_validate(given))) != h
    assert inputs_hash_of({"systemConfigAddr": "0x" + "12" * 20, "inputsHash": h}) == h
    assert inputs_hash_of({"discoveredAt": "2025-01-01T00:00:00Z"}) is None and inputs_hash_of(None) is None


def test_the_registry_override_is_an_input_where_the_registry_may_be_consulted() -> None:
    spec = OptimismNetworkSpec.model_validate(
        {**SEPOLIA, "l1RpcUrl": "http://a", "contractAddresses": {"discoveryMethod": "superchain-registry"}}
    )
    plain = discovery_inputs_hash(discovery_request(spec))
    one = discovery_inputs_hash(discovery_request(spec, override_text("0x" + "11" * 20)))
    two = discovery_inputs_hash(discovery_request(spec, override_text("0x" + "22" * 20)))
    assert len({plain, one, two}) == 3
    # system-config reads L1, never the registry: the override's content does not invalidate its cache.
    by_contract = OptimismNetworkSpec.model_validate(
        {
            **SEPOLIA,
            "l1RpcUrl": "http://a",
            "contractAddresses": {"discoveryMethod": "auto", "systemConfigAddr": "0x" + "33" * 20},
        }
    )
    assert discovery_inputs_hash(discovery_request(by_contract)) == discovery_inputs_hash(
        discovery_request(by_contract, override_text("0x" + "11" * 20))
    )


def test_documents_are_read_for_their_chain_facts() -> None:
    facts = read_rollup_config(json.dumps({"l1_chain_id": 1, "l2_chain_id": "0xa", "block_time": 2}))
    assert (facts.error, facts.l1_chain_id, facts.l2_chain_id, facts.block_time) == (None, 1, 10, 2)
    assert read_rollup_config("{nope").error is not None and "not valid JSON" in str(
        read_rollup_config("{nope").error
    )
    assert "not a JSON object" in str(read_rollup_config("[1]").error)
    assert read_genesis(json.dumps({"config": {"chainId": 901}})).l2_chain_id == 901


def test_owned_config_map_names_fit() -> None:
    assert owned_config_map_name("devnet", "rollup-config") == "devnet-rollup-config"
    long = owned_config_map_name("a" * 253, "rollup-config")
    assert len(long) <= 253 and long.endswith("-rollup-config")


# --- the reconciler with fakes ---------------------------------------------------------------------------


class FakeCache:
    def __init__(self) -> None:
        self.objects: dict[tuple[GVK, str, str], dict[str, Any]] = {}

    def put(self, gvk: GVK, obj: dict[str, Any]) -> None:
        self.objects[(gvk, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])] = freeze(
            copy.deepcopy(obj)
        )

    def get(self, gvk: GVK, name: str, namespace: str | None = None) -> dict[str, Any]:
        try:
            return self.objects[(gvk, namespace or "", name)]
        except KeyError:
            raise errors.NotFound(f"{name} not found") from None

    def list(
        self, gvk: GVK, namespace: str | None = None, *, index: tuple[str, str] | None = None
    ) -> list[Any]:
        return []  # no components


class FakeClient:
    def __init__(self, cache: FakeCache) -> None:
        self.cache = cache
        self.writes: list[tuple[str, Any]] = []
        self.rv = 100

    def _bump(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        return obj

    def patch(
        self, gvk: GVK, name: str, patch: Any, namespace: str | None = None, **_: Any
    ) -> dict[str, Any]:
        self.writes.append(("patch", patch))
        current = copy.deepcopy(self.cache.get(gvk, name, namespace))
        assert patch["metadata"]["resourceVersion"] == current["metadata"]["resourceVersion"]
        current["metadata"]["finalizers"] = patch["metadata"]["finalizers"]
        return self._bump(current)

    def update_status(self, obj: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.writes.append(("status", copy.deepcopy(obj["status"])))
        current = self.cache.get(NETWORK, obj["metadata"]["name"], obj["metadata"]["namespace"])
        if obj["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"]:
            raise errors.Conflict("the object has been modified")
        return self._bump(copy.deepcopy(obj))

    def apply(self, obj: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.writes.append(("apply", obj))
        return obj

    def delete(self, *args: Any, **_: Any) -> None:
        self.writes.append(("delete", args))


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


class FakeL1(L1Client):
    """Answers eth_chainId and the head; the head moves on every call, as a live chain's does."""

    urls: list[str] = []

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        super().__init__(url, timeout)
        FakeL1.urls.append(url)
        self.block = 1000

    def chain_id(self) -> int:
        return 11155111

    def head(self) -> tuple[int, int]:
        self.block += 1
        return self.block, 1_700_000_000 + 12 * self.block


class Clocks:
    def __init__(self) -> None:
        self.wall = datetime(2025, 1, 1, tzinfo=UTC)
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


class World:
    def __init__(self, spec: dict[str, Any], settings: Settings | None = None) -> None:
        self.cache = FakeCache()
        self.client = FakeClient(self.cache)
        self.recorder = FakeRecorder()
        self.clocks = Clocks()
        self.reconciler = OptimismNetworkReconciler(
            self.client,
            self.cache,
            self.recorder,  # type: ignore[arg-type]
            settings or Settings(l1_check_interval=60, l1_status_max_age=600),
            now=self.clocks.now,
            monotonic=self.clocks.monotonic,
            l1_client=FakeL1,
        )
        self.cache.put(
            NETWORK,
            {
                "apiVersion": NETWORK.api_version,
                "kind": NETWORK.kind,
                "metadata": {
                    "name": "net",
                    "namespace": "ns",
                    "uid": "u1",
                    "generation": 1,
                    "resourceVersion": "1",
                },
                "spec": spec,
            },
        )

    @property
    def network(self) -> dict[str, Any]:
        return self.cache.get(NETWORK, "net", "ns")

    def reconcile(self, *, sync: bool = True) -> int:
        """One reconcile; returns its write count. With `sync`, the cache then sees the written object."""
        before = len(self.client.writes)
        self.reconciler.reconcile(Request("ns", "net"))
        new = self.client.writes[before:]
        if sync:
            for kind, body in new:
                obj = copy.deepcopy(self.network)
                if kind == "patch":
                    obj["metadata"]["finalizers"] = body["metadata"]["finalizers"]
                elif kind == "status":
                    obj["status"] = body
                else:
                    continue
                self.client.rv += 1
                obj["metadata"]["resourceVersion"] = str(self.client.rv)
                self.cache.put(NETWORK, obj)
        return len(new)


def sepolia_spec(**extra: Any) -> dict[str, Any]:
    return {
        **SEPOLIA,
        "l1RpcUrl": "http://l1.example:8545",
        "contractAddresses": {"discoveryMethod": "well-known"},
        **extra,
    }


def cond(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


def test_finalizer_first_then_status_then_nothing() -> None:
    world = World(sepolia_spec())
    assert world.reconcile() == 1 and world.client.writes[0][0] == "patch"
    assert FINALIZER in world.network["metadata"]["finalizers"]
    assert world.reconcile() == 1 and world.client.writes[1][0] == "status"
    status = world.network["status"]
    assert status["phase"] == "Ready" and cond(world.network, "Ready")["status"] == "True"
    assert status["networkInfo"]["discoveredContracts"]["discoveryMethod"] == "well-known"
    assert status["networkInfo"]["l1"]["headBlock"] == 1001
    # Nothing changed: no write, even when the L1 check is due again and the head moved on.
    assert world.reconcile() == 0
    world.clocks.advance(61)
    assert world.reconcile() == 0
    assert world.network["status"]["networkInfo"]["l1"]["headBlock"] == 1001
    # The L1 snapshot is refreshed once it is older than l1_status_max_age (the documented tolerance).
    world.clocks.advance(600)
    assert world.reconcile() == 1
    assert world.network["status"]["networkInfo"]["l1"]["headBlock"] == 1003
    assert world.recorder.events == [("Normal", "Ready", cond(world.network, "Ready")["message"])]


def test_a_stale_cache_after_a_write_neither_rediscovers_nor_rewrites() -> None:
    world = World(sepolia_spec())
    world.reconcile()
    assert world.reconcile(sync=False) == 1  # the status write; the cache has not seen it yet
    assert world.reconcile(sync=False) == 0  # the controller knows what it wrote


def test_discovery_is_cached_for_cache_timeout_and_invalidated_by_a_spec_change() -> None:
    world = World(sepolia_spec(contractAddresses={"discoveryMethod": "well-known", "cacheTimeout": "1h"}))
    world.reconcile()
    world.reconcile()
    at = world.network["status"]["networkInfo"]["discoveredContracts"]["discoveredAt"]
    world.clocks.advance(1800)
    world.reconcile()
    assert world.network["status"]["networkInfo"]["discoveredContracts"]["discoveredAt"] == at
    world.clocks.advance(1801)
    assert world.reconcile() == 1
    later = world.network["status"]["networkInfo"]["discoveredContracts"]["discoveredAt"]
    assert later != at
    # A spec change of a discovery input: discovered again at once.
    obj = copy.deepcopy(world.network)
    obj["spec"]["contractAddresses"]["discoveryMethod"] = "superchain-registry"
    obj["metadata"]["generation"] = 2
    world.cache.put(NETWORK, obj)
    world.clocks.advance(1)
    assert world.reconcile() == 1
    found = world.network["status"]["networkInfo"]["discoveredContracts"]
    assert found["discoveryMethod"] == "superchain-registry" and found["discoveredAt"] != later


def test_secret_held_url_problems_and_no_leak() -> None:
    ref = {"name": "rpc", "key": "url"}
    world = World(sepolia_spec(l1RpcUrl=None, l1RpcUrlSecretRef=ref))
    world.reconcile()
    world.reconcile()
    c = cond(world.network, "ConfigurationValid")
    assert (c["status"], c["reason"]) == ("False", "SecretNotFound")
    assert "Secret ns/rpc not found" in c["message"] and "'url'" in c["message"]
    assert ("Warning", "SecretNotFound", c["message"]) in world.recorder.events
    assert world.network["status"]["phase"] == "Error"

    secret_url = "https://mainnet.example.io/v3/TOPSECRETKEY"
    world.cache.put(
        SECRET,
        {
            "metadata": {"name": "rpc", "namespace": "ns"},
            "data": {"url": base64.b64encode(secret_url.encode()).decode()},
        },
    )
    FakeL1.urls.clear()
    world.reconcile()
    assert FakeL1.urls == [secret_url]  # the URL reaches L1 ...
    assert cond(world.network, "Ready")["status"] == "True"
    dumped = json.dumps(world.network["status"]) + json.dumps(world.recorder.events)
    assert "TOPSECRETKEY" not in dumped and "/v3/" not in dumped  # ... and nowhere else
    assert "https://mainnet.example.io" in cond(world.network, "L1Connected")["message"]

    world.cache.put(
        SECRET,
        {
            "metadata": {"name": "rpc", "namespace": "ns"},
            "data": {"url": base64.b64encode(b"not a url").decode()},
        },
    )
    world.reconcile()
    c = cond(world.network, "ConfigurationValid")
    assert c["reason"] == "SecretValueInvalid" and "not a url" not in c["message"]
    # Data that is not base64 at all (a hand-built object): the same reason and message.
    world.cache.put(SECRET, {"metadata": {"name": "rpc", "namespace": "ns"}, "data": {"url": "no*base64!"}})
    world.reconcile()
    assert cond(world.network, "ConfigurationValid") == c


def test_inline_documents_become_an_owned_config_map_applied_only_when_different() -> None:
    rollup = json.dumps({"l2_chain_id": 11155420, "l1_chain_id": 11155111, "block_time": 2})
    world = World(sepolia_spec(rollupConfig={"inline": rollup}))
    world.reconcile()
    world.reconcile()
    applied = [body for kind, body in world.client.writes if kind == "apply"]
    assert len(applied) == 1
    cm = applied[0]
    assert cm["metadata"]["name"] == "net-rollup-config" and cm["data"] == {"rollup.json": rollup}
    assert (
        cm["metadata"]["ownerReferences"][0]["uid"] == "u1"
        and cm["metadata"]["ownerReferences"][0]["controller"]
    )
    world.cache.put(CM, cm | {"metadata": {**cm["metadata"], "uid": "cm1"}})
    assert world.reconcile() == 0
    assert world.network["status"]["networkInfo"]["rollupConfigMap"] == "net-rollup-config"
    assert world.network["status"]["networkInfo"]["blockTime"] == 2


def test_a_rollup_config_of_another_chain_is_refused_with_both_numbers() -> None:
    rollup = json.dumps({"l2_chain_id": 10, "l1_chain_id": 11155111})
    world = World(sepolia_spec(rollupConfig={"inline": rollup}))
    world.reconcile()
    world.reconcile()
    c = cond(world.network, "ConfigurationValid")
    assert c["reason"] == "RollupConfigMismatch"
    assert (
        "l2_chain_id 10" in c["message"]
        and "11155420" in c["message"]
        and "spec.rollupConfig.inline" in c["message"]
    )
    assert not [w for w in world.client.writes if w[0] == "apply"]  # an invalid document is not published


def test_a_websocket_l1_is_not_probed_and_says_so() -> None:
    FakeL1.urls.clear()
    world = World(sepolia_spec(l1RpcUrl="wss://l1.example/ws/KEY"))
    world.reconcile()
    world.reconcile()
    c = cond(world.network, "L1Connected")
    assert (c["status"], c["reason"]) == ("Unknown", "L1WebSocketNotChecked")
    assert "KEY" not in c["message"] and FakeL1.urls == []
    # Registry discovery needs no L1: the contracts are still known.
    assert cond(world.network, "ContractsDiscovered")["status"] == "True"
    assert world.network["status"]["phase"] == "Pending"


def test_a_registry_override_config_map_changes_the_discovered_addresses() -> None:
    ref = {"name": "registry", "key": "registry.json"}
    world = World(
        sepolia_spec(contractAddresses={"discoveryMethod": "superchain-registry", "registryOverride": ref})
    )
    world.reconcile()
    world.reconcile()
    c = cond(world.network, "ConfigurationValid")
    assert (c["status"], c["reason"]) == ("False", "ConfigMapNotFound")
    assert (
        "spec.contractAddresses.registryOverride" in c["message"] and "ConfigMap ns/registry" in c["message"]
    )
    # Not the snapshot instead of the data the user named: discovery waits.
    assert cond(world.network, "ContractsDiscovered")["reason"] == "WaitingForConfiguration"
    assert "discoveredContracts" not in world.network["status"].get("networkInfo", {})

    first = "0x" + "11" * 20
    world.cache.put(
        CM,
        {
            "metadata": {"name": "registry", "namespace": "ns"},
            "data": {"registry.json": override_text(first)},
        },
    )
    assert world.reconcile() == 1
    assert cond(world.network, "Ready")["status"] == "True"
    found = world.network["status"]["networkInfo"]["discoveredContracts"]
    assert (
        found["systemConfigAddr"] == first
        and "abc123" in found["source"]
        and "user-supplied" in found["source"]
    )
    assert found["inputsHash"] == discovery_inputs_hash(
        discovery_request(OptimismNetworkSpec.model_validate(world.network["spec"]), override_text(first))
    )
    assert "[inputs" not in cond(world.network, "ContractsDiscovered")["message"]
    assert world.reconcile() == 0  # cached: same inputs

    # The user updates the ConfigMap: discovered again at once, within cacheTimeout.
    second = "0x" + "22" * 20
    world.cache.put(
        CM,
        {
            "metadata": {"name": "registry", "namespace": "ns"},
            "data": {"registry.json": override_text(second)},
        },
    )
    world.clocks.advance(1)
    assert world.reconcile() == 1
    assert world.network["status"]["networkInfo"]["discoveredContracts"]["systemConfigAddr"] == second

    # An invalid override: ConfigurationValid names the JSON path and the fix; the published addresses stay.
    world.cache.put(
        CM,
        {
            "metadata": {"name": "registry", "namespace": "ns"},
            "data": {"registry.json": override_text("0x123")},
        },
    )
    world.clocks.advance(1)
    assert world.reconcile() == 1
    c = cond(world.network, "ConfigurationValid")
    assert (c["status"], c["reason"]) == ("False", "RegistryOverrideInvalid")
    assert "chains.op-sepolia.addresses.SystemConfigProxy" in c["message"] and "fix the JSON" in c["message"]
    assert ("Warning", "RegistryOverrideInvalid", c["message"]) in world.recorder.events
    assert cond(world.network, "ContractsDiscovered")["status"] == "Unknown"
    assert world.network["status"]["networkInfo"]["discoveredContracts"]["systemConfigAddr"] == second


def test_registry_networks_publish_their_builtin_network_names() -> None:
    world = World(sepolia_spec())
    world.reconcile()
    world.reconcile()
    info = world.network["status"]["networkInfo"]
    assert (info["opNodeNetwork"], info["opGethNetwork"]) == ("op-sepolia", "op-sepolia")
    rollup = json.dumps({"l2_chain_id": 11155420, "l1_chain_id": 11155111, "block_time": 2})
    custom = World(sepolia_spec(rollupConfig={"inline": rollup}))
    custom.reconcile()
    custom.reconcile()
    info = custom.network["status"]["networkInfo"]
    assert (
        "opNodeNetwork" not in info and info["opGethNetwork"] == "op-sepolia"
    )  # the genesis is still built in
