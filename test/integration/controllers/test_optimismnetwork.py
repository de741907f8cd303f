"""The OptimismNetwork controller against the real API server, with anvil as L1 and the real OP Stack
contracts.

One manager runs in-process on a thread for the whole module (restarted once, to show that the discovery
cache survives a restart through status). Writes are counted from the API server's audit log; L1 requests
from the `opstack_l1_rpc_requests_total{method}` metric.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from opstack.api.v1alpha1 import OP_NODE
from opstack.controllers.optimismnetwork import FINALIZER, NETWORK, Settings, setup
from opstack.controllers.optimismnetwork_rules import RULES
from opstack.controllers.rbac import merge
from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.runtime.manager import Manager
from opstack.runtime.metrics import REGISTRY
from opstack.testing import audit
from opstack.testing.anvil import Anvil
from opstack.testing.crds import install_crds
from opstack.testing.envtest import ControlPlane, free_port
from opstack.testing.l1 import OpStackL1, Returns, Reverts, deploy_getter_stub, deploy_op_stack
from opstack.testing.manager import ManagerThread
from opstack.testing.waiting import condition, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
FACTS = Path("/work/shared/facts/opstack.json")
CM = GVK("", "v1", "ConfigMap")
SECRET = GVK("", "v1", "Secret")
EVENT = GVK("", "v1", "Event")
L1_CHAIN_ID = 900
L2_CHAIN_ID = 901
SETTINGS = Settings(l1_check_interval=2.0, l1_retry_base=0.5, l1_status_max_age=600.0)
DISCOVERY_METHODS = ("eth_call", "eth_getCode")  # what discovery sends; the L1 check sends neither


# --- helpers -----------------------------------------------------------------------------------------------


def rpc_count(*methods: str) -> float:
    return sum(
        REGISTRY.get_sample_value("opstack_l1_rpc_requests_total", {"method": m}) or 0.0 for m in methods
    )


def audit_writes(
    plane: ControlPlane, namespace: str, resource: str, name: str | None = None, user: str | None = None
) -> int:
    """Write requests on `resource` in `namespace` seen by the API server (made by `user`, when given)."""
    users = [user] if user is not None else None
    return len(
        audit.writes(plane.audit_log, namespace=namespace, resources=[resource], name=name, users=users)
    )


class Operator:
    """The manager with the OptimismNetwork controller, on a thread (a new manager at each start)."""

    def __init__(self, kubeconfig: str) -> None:
        self.kubeconfig = kubeconfig
        self.running: ManagerThread | None = None

    @property
    def mgr(self) -> Manager | None:
        return self.running.mgr if self.running is not None else None

    def start(self) -> Operator:
        mgr = Manager(Client.from_kubeconfig(self.kubeconfig), metrics_bind_address="0")
        setup(mgr, SETTINGS)
        self.running = ManagerThread(mgr, "optimismnetwork-operator").start()
        return self

    def stop(self) -> None:
        assert self.running is not None
        self.running.stop()

    def restart(self) -> None:
        self.stop()
        self.start()


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(kubeconfig: str) -> Iterator[Client]:
    install_crds(kubeconfig, [ROOT / "config" / "crd" / "bases"])
    c = Client.from_kubeconfig(kubeconfig)
    yield c
    c.close()


CLUSTER_ROLE = GVK("rbac.authorization.k8s.io", "v1", "ClusterRole")
CLUSTER_ROLE_BINDING = GVK("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding")
OPERATOR_USER = "optimismnetwork-controller-test"


@pytest.fixture(scope="module")
def operator_kubeconfig(control_plane: ControlPlane, client: Client) -> str:
    """A user with exactly the rules the controller declares (optimismnetwork_rules), nothing else: every
    test below also proves that those rules are enough."""
    name = "opstack-optimismnetwork-test"
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": [r.to_dict() for r in merge(RULES)],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": OPERATOR_USER}],
    }
    for obj in (role, binding):
        client.apply(obj, field_manager="optimismnetwork-test")
    return str(control_plane.add_user(OPERATOR_USER))


@pytest.fixture(scope="module")
def operator(operator_kubeconfig: str) -> Iterator[Operator]:
    op = Operator(operator_kubeconfig).start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def l1(anvil: Callable[..., Anvil]) -> Anvil:
    return anvil(chain_id=L1_CHAIN_ID)


@pytest.fixture(scope="module")
def op_stack(l1: Anvil) -> OpStackL1:
    return deploy_op_stack(l1.url, l2_chain_id=L2_CHAIN_ID)


def expected_status_addresses(dep: OpStackL1) -> dict[str, str]:
    return {
        "systemConfigAddr": dep.system_config,
        "optimismPortalAddr": dep.optimism_portal,
        "l1CrossDomainMessengerAddr": dep.l1_cross_domain_messenger,
        "l1StandardBridgeAddr": dep.l1_standard_bridge,
        "l1ERC721BridgeAddr": dep.l1_erc721_bridge,
        "optimismMintableERC20FactoryAddr": dep.optimism_mintable_erc20_factory,
        "disputeGameFactoryAddr": dep.dispute_game_factory,
        "anchorStateRegistryAddr": dep.anchor_state_registry,
        "batchInboxAddr": dep.batch_inbox,
        "unsafeBlockSigner": dep.unsafe_block_signer,
    }


ROLLUP = json.dumps({"l1_chain_id": L1_CHAIN_ID, "l2_chain_id": L2_CHAIN_ID, "block_time": 2})
GENESIS = json.dumps({"config": {"chainId": L2_CHAIN_ID}, "alloc": {}})


def network(
    name: str, namespace: str, l1_url: str | None, contracts: dict[str, Any], **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "networkName": "devnet",
        "chainID": L2_CHAIN_ID,
        "l1ChainID": L1_CHAIN_ID,
        "l1RpcUrl": l1_url,
        "rollupConfig": {"inline": ROLLUP},
        "l2Genesis": {"inline": GENESIS},
        "contractAddresses": contracts,
    }
    body.update(spec)
    body = {k: v for k, v in body.items() if v is not None}
    return {
        "apiVersion": NETWORK.api_version,
        "kind": NETWORK.kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def get(client: Client, namespace: str, name: str) -> dict[str, Any]:
    return client.get(NETWORK, name, namespace)


def wait_condition(
    client: Client,
    namespace: str,
    name: str,
    type_: str,
    status: str,
    reason: str | None = None,
    timeout: float = 30,
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        obj = get(client, namespace, name)
        cond = condition(obj, type_)
        if cond and cond["status"] == status and (reason is None or cond["reason"] == reason):
            return obj
        return None

    try:
        obj: dict[str, Any] = wait_for(check, timeout, f"{type_}={status} ({reason}) on {namespace}/{name}")
    except AssertionError as exc:
        conds = (get(client, namespace, name).get("status") or {}).get("conditions")
        raise AssertionError(f"{exc}; conditions: {json.dumps(conds, indent=1)}") from None
    return obj


def events_for(client: Client, namespace: str, name: str) -> list[dict[str, Any]]:
    items, _ = client.list_all(EVENT, namespace)
    return [e for e in items if (e.get("involvedObject") or {}).get("name") == name]


def wait_event(client: Client, namespace: str, name: str, reason: str) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        lambda: next((e for e in events_for(client, namespace, name) if e.get("reason") == reason), None),
        15,
        f"a {reason} Event for {name}",
    )
    return found


def patch_spec(client: Client, namespace: str, name: str, spec: dict[str, Any]) -> None:
    client.patch(NETWORK, name, {"spec": spec}, namespace)


def config_map(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def secret(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": encoded,
    }


# --- discovery from the real SystemConfig ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["system-config", "auto"])
def test_system_config_discovery_reports_exactly_the_deployed_addresses(
    operator: Operator,
    client: Client,
    control_plane: ControlPlane,
    namespace: str,
    l1: Anvil,
    op_stack: OpStackL1,
    method: str,
) -> None:
    client.create(config_map("devnet-genesis", namespace, {"genesis.json": GENESIS}))
    contracts = {"discoveryMethod": method, "systemConfigAddr": op_stack.system_config}
    client.create(
        network(
            "devnet",
            namespace,
            l1.url,
            contracts,
            l2Genesis={"configMapRef": {"name": "devnet-genesis", "key": "genesis.json"}},
        )
    )
    obj = wait_condition(client, namespace, "devnet", "Ready", "True", timeout=60)

    status = obj["status"]
    found = status["networkInfo"]["discoveredContracts"]
    assert {k: v for k, v in found.items() if k.endswith("Addr") or k == "unsafeBlockSigner"} == (
        expected_status_addresses(op_stack)
    )
    assert found["discoveryMethod"] == "system-config"  # auto resolves to the method that ran
    assert op_stack.system_config in found["source"]
    assert status["phase"] == "Ready" and status["observedGeneration"] == obj["metadata"]["generation"]
    assert FINALIZER in obj["metadata"]["finalizers"]
    l1_info = status["networkInfo"]["l1"]
    assert l1_info["chainID"] == L1_CHAIN_ID and l1_info["headBlock"] >= 1 and l1_info["latencyMs"] >= 0
    assert status["networkInfo"]["blockTime"] == 2
    assert status["networkInfo"]["unsafeBlockSigner"] == op_stack.unsafe_block_signer
    # inline rollup config -> a ConfigMap the network owns; configMapRef genesis -> referenced as is
    assert status["networkInfo"]["rollupConfigMap"] == "devnet-rollup-config"
    assert status["networkInfo"]["genesisConfigMap"] == "devnet-genesis"
    owned = client.get(CM, "devnet-rollup-config", namespace)
    assert owned["data"] == {"rollup.json": ROLLUP}
    assert [(r["kind"], r["uid"], r["controller"]) for r in owned["metadata"]["ownerReferences"]] == [
        ("OptimismNetwork", obj["metadata"]["uid"], True)
    ]
    for type_ in ("ConfigurationValid", "L1Connected", "ContractsDiscovered"):
        cond = condition(obj, type_)
        assert cond is not None and cond["status"] == "True", cond
        assert set(cond) == {
            "type",
            "status",
            "observedGeneration",
            "lastTransitionTime",
            "reason",
            "message",
        }

    if method != "system-config":
        return
    # Steady state: L1 is re-checked every 2 s, and nothing is written while nothing changes.
    time.sleep(0.5)  # let the write that made it Ready reach the cache
    writes = audit_writes(control_plane, namespace, "optimismnetworks", "devnet")
    cm_writes = audit_writes(control_plane, namespace, "configmaps")
    by_operator = audit_writes(control_plane, namespace, "optimismnetworks", "devnet", user=OPERATOR_USER)
    cm_by_operator = audit_writes(control_plane, namespace, "configmaps", user=OPERATOR_USER)
    assert by_operator >= 2 and cm_by_operator == 1  # finalizer + status; the owned ConfigMap, applied once
    checks = rpc_count("eth_chainId")
    discovery_calls = rpc_count(*DISCOVERY_METHODS)
    wait_for(lambda: rpc_count("eth_chainId") >= checks + 3, 15, "three more L1 checks")
    time.sleep(0.3)
    assert audit_writes(control_plane, namespace, "optimismnetworks", "devnet") == writes
    assert audit_writes(control_plane, namespace, "configmaps") == cm_writes
    assert rpc_count(*DISCOVERY_METHODS) == discovery_calls
    again = get(client, namespace, "devnet")
    assert again["status"]["conditions"] == obj["status"]["conditions"]
    print(
        f"\nto Ready: {by_operator} operator writes on the network, {cm_by_operator} on ConfigMaps; "
        f"steady state: {rpc_count('eth_chainId') - checks:.0f} L1 checks, 0 writes"
    )


# --- each bad input: its own reason and message; fixing it recovers -----------------------------------------


def test_wrong_chain_id_names_both_numbers_and_recovers(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1
) -> None:
    contracts = {"discoveryMethod": "system-config", "systemConfigAddr": op_stack.system_config}
    client.create(
        network(
            "wrong-chain", namespace, l1.url, contracts, l1ChainID=11155111, rollupConfig={"inline": "{}"}
        )
    )
    obj = wait_condition(client, namespace, "wrong-chain", "L1Connected", "False", "L1WrongChain")
    message = condition(obj, "L1Connected")["message"]  # type: ignore[index]
    assert "chain id 900" in message and "chain id 11155111" in message and "spec.l1RpcUrl" in message
    assert condition(obj, "Ready")["reason"] == "L1WrongChain"  # type: ignore[index]
    assert condition(obj, "ContractsDiscovered")["reason"] == "WaitingForL1"  # type: ignore[index]
    assert obj["status"]["phase"] == "Error"
    assert obj["status"]["networkInfo"]["l1"]["chainID"] == L1_CHAIN_ID  # what the endpoint reported
    event = wait_event(client, namespace, "wrong-chain", "L1WrongChain")
    assert event["type"] == "Warning" and "11155111" in event["message"]

    patch_spec(client, namespace, "wrong-chain", {"l1ChainID": L1_CHAIN_ID})
    obj = wait_condition(client, namespace, "wrong-chain", "Ready", "True")
    assert (
        obj["status"]["networkInfo"]["discoveredContracts"]["optimismPortalAddr"] == op_stack.optimism_portal
    )


def test_unreachable_rpc_is_reported_without_the_secret_part_and_recovers(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1
) -> None:
    port = free_port()
    bad_url = f"http://127.0.0.1:{port}/v3/SECRETAPIKEY"
    contracts = {"discoveryMethod": "system-config", "systemConfigAddr": op_stack.system_config}
    client.create(network("unreachable", namespace, bad_url, contracts))
    obj = wait_condition(client, namespace, "unreachable", "L1Connected", "False", "L1Unreachable")
    message = condition(obj, "L1Connected")["message"]  # type: ignore[index]
    assert f"127.0.0.1:{port}" in message and "reachable" in message
    event = wait_event(client, namespace, "unreachable", "L1Unreachable")
    for text in (
        json.dumps(obj["status"]),
        json.dumps(events_for(client, namespace, "unreachable")),
        event["message"],
    ):
        assert "SECRETAPIKEY" not in text

    patch_spec(client, namespace, "unreachable", {"l1RpcUrl": l1.url})
    wait_condition(client, namespace, "unreachable", "Ready", "True")


def test_address_without_code_is_reported_and_recovers(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1
) -> None:
    no_code = "0x000000000000000000000000000000000000dEaD"
    contracts = {"discoveryMethod": "system-config", "systemConfigAddr": no_code}
    client.create(network("no-code", namespace, l1.url, contracts))
    obj = wait_condition(client, namespace, "no-code", "ContractsDiscovered", "False", "ContractNotFound")
    message = condition(obj, "ContractsDiscovered")["message"]  # type: ignore[index]
    assert no_code in message and "systemConfigAddr" in message and "no code" in message
    assert condition(obj, "L1Connected")["status"] == "True"  # type: ignore[index]
    wait_event(client, namespace, "no-code", "ContractNotFound")

    patch_spec(
        client, namespace, "no-code", {"contractAddresses": {"systemConfigAddr": op_stack.system_config}}
    )
    obj = wait_condition(client, namespace, "no-code", "Ready", "True")
    assert obj["status"]["networkInfo"]["discoveredContracts"]["systemConfigAddr"] == op_stack.system_config


def test_reverting_getter_is_reported_not_fatal_and_recovers(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1
) -> None:
    address = ["address"]
    answers: dict[str, Returns | Reverts] = {
        "optimismPortal()": Returns(address, [op_stack.optimism_portal]),
        "l1CrossDomainMessenger()": Returns(address, [op_stack.l1_cross_domain_messenger]),
        "l1StandardBridge()": Returns(address, [op_stack.l1_standard_bridge]),
        "l1ERC721Bridge()": Returns(address, [op_stack.l1_erc721_bridge]),
        "optimismMintableERC20Factory()": Returns(address, [op_stack.optimism_mintable_erc20_factory]),
        "disputeGameFactory()": Reverts("SystemConfig: game factory paused"),
        "batchInbox()": Returns(address, [op_stack.batch_inbox]),
        "startBlock()": Returns(["uint256"], [1]),
        "unsafeBlockSigner()": Returns(address, [op_stack.unsafe_block_signer]),
        "batcherHash()": Returns(["bytes32"], [bytes(12) + bytes.fromhex(op_stack.batcher[2:])]),
        "version()": Returns(["string"], ["9.9.9-stub"]),
    }
    stub = deploy_getter_stub(l1.url, answers)
    contracts = {"discoveryMethod": "system-config", "systemConfigAddr": stub}
    client.create(network("reverting", namespace, l1.url, contracts))
    obj = wait_condition(
        client, namespace, "reverting", "ContractsDiscovered", "False", "ContractGetterReverted"
    )
    message = condition(obj, "ContractsDiscovered")["message"]  # type: ignore[index]
    assert "SystemConfig.disputeGameFactory()" in message and "game factory paused" in message
    # Not fatal: what the other getters answered is published.
    found = obj["status"]["networkInfo"]["discoveredContracts"]
    assert found["optimismPortalAddr"] == op_stack.optimism_portal and "disputeGameFactoryAddr" not in found
    wait_event(client, namespace, "reverting", "ContractGetterReverted")

    patch_spec(
        client, namespace, "reverting", {"contractAddresses": {"systemConfigAddr": op_stack.system_config}}
    )
    obj = wait_condition(client, namespace, "reverting", "Ready", "True")
    assert (
        obj["status"]["networkInfo"]["discoveredContracts"]["disputeGameFactoryAddr"]
        == op_stack.dispute_game_factory
    )


def test_missing_secret_then_missing_key_then_fixed_by_the_secret_watch(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1
) -> None:
    contracts = {"discoveryMethod": "system-config", "systemConfigAddr": op_stack.system_config}
    ref = {"name": "l1-rpc", "key": "url"}
    client.create(network("secret-url", namespace, None, contracts, l1RpcUrlSecretRef=ref))
    obj = wait_condition(client, namespace, "secret-url", "ConfigurationValid", "False", "SecretNotFound")
    message = condition(obj, "ConfigurationValid")["message"]  # type: ignore[index]
    assert f"Secret {namespace}/l1-rpc not found" in message and "spec.l1RpcUrlSecretRef" in message
    assert condition(obj, "L1Connected")["status"] == "Unknown"  # type: ignore[index]
    wait_event(client, namespace, "secret-url", "SecretNotFound")

    client.create(secret("l1-rpc", namespace, {"endpoint": l1.url}))
    obj = wait_condition(client, namespace, "secret-url", "ConfigurationValid", "False", "SecretKeyMissing")
    message = condition(obj, "ConfigurationValid")["message"]  # type: ignore[index]
    assert "no key 'url'" in message and "endpoint" in message and "spec.l1RpcUrlSecretRef.key" in message

    client.patch(SECRET, "l1-rpc", {"stringData": {"url": l1.url}}, namespace)
    obj = wait_condition(client, namespace, "secret-url", "Ready", "True")
    port = l1.url.rsplit(":", 1)[1].rstrip("/")
    assert port in condition(obj, "L1Connected")["message"]  # type: ignore[index]


def test_missing_config_map_key_is_reported_and_a_config_map_change_recovers(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1
) -> None:
    contracts = {"discoveryMethod": "system-config", "systemConfigAddr": op_stack.system_config}
    ref = {"configMapRef": {"name": "rollup", "key": "rollup.json"}}
    client.create(network("cm-ref", namespace, l1.url, contracts, rollupConfig=ref))
    obj = wait_condition(client, namespace, "cm-ref", "ConfigurationValid", "False", "ConfigMapNotFound")
    assert "spec.rollupConfig.configMapRef" in condition(obj, "ConfigurationValid")["message"]  # type: ignore[index]

    client.create(config_map("rollup", namespace, {"config.json": ROLLUP}))
    obj = wait_condition(client, namespace, "cm-ref", "ConfigurationValid", "False", "ConfigMapKeyMissing")
    message = condition(obj, "ConfigurationValid")["message"]  # type: ignore[index]
    assert "no key 'rollup.json'" in message and "config.json" in message
    wait_event(client, namespace, "cm-ref", "ConfigMapKeyMissing")

    wrong = json.dumps({"l1_chain_id": L1_CHAIN_ID, "l2_chain_id": 12345})
    client.patch(CM, "rollup", {"data": {"rollup.json": wrong}}, namespace)
    obj = wait_condition(client, namespace, "cm-ref", "ConfigurationValid", "False", "RollupConfigMismatch")
    assert "l2_chain_id 12345" in condition(obj, "ConfigurationValid")["message"]  # type: ignore[index]

    client.patch(CM, "rollup", {"data": {"rollup.json": ROLLUP}}, namespace)
    obj = wait_condition(client, namespace, "cm-ref", "Ready", "True")
    assert obj["status"]["networkInfo"]["rollupConfigMap"] == "rollup"


def test_custom_network_without_rollup_config_gets_a_clear_condition(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1
) -> None:
    contracts = {"discoveryMethod": "system-config", "systemConfigAddr": op_stack.system_config}
    client.create(network("custom", namespace, l1.url, contracts, rollupConfig={"autoDiscover": True}))
    obj = wait_condition(
        client, namespace, "custom", "ConfigurationValid", "False", "AutoDiscoverUnsupported"
    )
    message = condition(obj, "ConfigurationValid")["message"]  # type: ignore[index]
    assert "'devnet'" in message and "spec.rollupConfig.configMapRef" in message


# --- the beacon endpoint ---------------------------------------------------------------------------------
# No beacon node runs here (anvil has no consensus layer): a small HTTP server answers the standard beacon
# API paths with the shapes of the beacon-API spec.


class _Beacon(BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, Any]] = {}

    def do_GET(self) -> None:
        status, body = self.answers.get(self.path, (404, {"code": 404, "message": "not found"}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def beacon() -> Iterator[tuple[str, dict[str, tuple[int, Any]]]]:
    answers: dict[str, tuple[int, Any]] = {
        "/eth/v1/node/version": (200, {"data": {"version": "Lighthouse/v7.0.1-e42406d/x86_64-linux"}}),
        "/eth/v1/beacon/genesis": (200, {"data": {"genesis_time": "1655733600"}}),
        "/eth/v1/config/deposit_contract": (
            200,
            {"data": {"chain_id": str(L1_CHAIN_ID), "address": "0x" + "11" * 20}},
        ),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Beacon,), {"answers": answers}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answers
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_beacon_is_checked_periodically_and_a_failure_recovers_by_itself(
    operator: Operator,
    client: Client,
    namespace: str,
    l1: Anvil,
    op_stack: OpStackL1,
    beacon: tuple[str, dict[str, tuple[int, Any]]],
) -> None:
    url, answers = beacon
    contracts = {"discoveryMethod": "system-config", "systemConfigAddr": op_stack.system_config}
    client.create(network("with-beacon", namespace, l1.url, contracts, l1BeaconUrl=url))
    obj = wait_condition(client, namespace, "with-beacon", "Ready", "True")
    assert "beacon" in condition(obj, "L1Connected")["message"]  # type: ignore[index]
    assert obj["status"]["networkInfo"]["l1"]["beaconReachable"] is True

    # The beacon breaks: the next periodic check (no spec change) reports it ...
    answers["/eth/v1/node/version"] = (503, {"code": 503, "message": "syncing"})
    obj = wait_condition(client, namespace, "with-beacon", "L1Connected", "False", "BeaconBadResponse")
    assert "spec.l1BeaconUrl" in condition(obj, "L1Connected")["message"]  # type: ignore[index]
    assert obj["status"]["networkInfo"]["l1"]["beaconReachable"] is False
    # ... and once it answers again, the network recovers without anyone touching it.
    answers["/eth/v1/node/version"] = (200, {"data": {"version": "Lighthouse/v7.0.1"}})
    obj = wait_condition(client, namespace, "with-beacon", "Ready", "True")
    assert obj["status"]["networkInfo"]["l1"]["beaconReachable"] is True


# --- the discovery cache -----------------------------------------------------------------------------------


def test_no_discovery_call_within_cache_timeout_even_across_a_restart_and_one_after_a_spec_change(
    operator: Operator,
    client: Client,
    control_plane: ControlPlane,
    namespace: str,
    l1: Anvil,
    op_stack: OpStackL1,
) -> None:
    # Other tests' networks are gone or settled: discovery calls counted below are this network's.
    contracts = {
        "discoveryMethod": "system-config",
        "systemConfigAddr": op_stack.system_config,
        "cacheTimeout": "1h",
    }
    before = rpc_count(*DISCOVERY_METHODS)
    client.create(network("cached", namespace, l1.url, contracts))
    obj = wait_condition(client, namespace, "cached", "Ready", "True")
    first = rpc_count(*DISCOVERY_METHODS) - before
    assert first > 0
    discovered_at = obj["status"]["networkInfo"]["discoveredContracts"]["discoveredAt"]
    inputs_hash = obj["status"]["networkInfo"]["discoveredContracts"]["inputsHash"]
    assert "[inputs" not in condition(obj, "ContractsDiscovered")["message"]  # type: ignore[index]

    # Periodic L1 checks, a change outside the discovery inputs, and an operator restart: no discovery call.
    start = rpc_count(*DISCOVERY_METHODS)
    checks = rpc_count("eth_chainId")
    patch_spec(client, namespace, "cached", {"sharedConfig": {"logging": {"level": "debug"}}})
    wait_for(
        lambda: get(client, namespace, "cached")["status"]["observedGeneration"] == 2, 15, "generation 2"
    )
    operator.restart()
    wait_for(lambda: rpc_count("eth_chainId") >= checks + 3, 20, "L1 checks after the restart")
    assert rpc_count(*DISCOVERY_METHODS) == start, "discovery ran again within cacheTimeout"
    obj = get(client, namespace, "cached")
    assert obj["status"]["networkInfo"]["discoveredContracts"]["discoveredAt"] == discovered_at
    assert condition(obj, "ContractsDiscovered")["observedGeneration"] == 2  # type: ignore[index]

    # A change of the discovery inputs invalidates the cache at once: exactly one more discovery.
    patch_spec(client, namespace, "cached", {"contractAddresses": {"discoveryMethod": "auto"}})
    wait_for(lambda: rpc_count(*DISCOVERY_METHODS) > start, 15, "a discovery after the spec change")
    obj = wait_for(
        lambda: (o := get(client, namespace, "cached"))["status"]["observedGeneration"] == 3 and o,
        15,
        "generation 3",
    )
    assert condition(obj, "Ready")["status"] == "True"  # type: ignore[index]
    assert obj["status"]["networkInfo"]["discoveredContracts"]["inputsHash"] != inputs_hash
    time.sleep(2 * SETTINGS.l1_check_interval)
    assert rpc_count(*DISCOVERY_METHODS) - start == first, (
        "one discovery (same calls as the first) after the change"
    )
    print(f"\ndiscovery: {first:.0f} eth_call/eth_getCode per run; 0 within cacheTimeout across a restart")


def test_discovery_runs_again_when_the_cache_expires(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1
) -> None:
    contracts = {
        "discoveryMethod": "system-config",
        "systemConfigAddr": op_stack.system_config,
        "cacheTimeout": "3s",
    }
    client.create(network("expiring", namespace, l1.url, contracts))
    obj = wait_condition(client, namespace, "expiring", "Ready", "True")
    first_at = obj["status"]["networkInfo"]["discoveredContracts"]["discoveredAt"]
    wait_for(
        lambda: (
            get(client, namespace, "expiring")["status"]["networkInfo"]["discoveredContracts"]["discoveredAt"]
            != first_at
        ),
        15,
        "a new discovery after cacheTimeout",
    )


# --- registry networks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["well-known", "superchain-registry"])
def test_op_sepolia_by_name_gives_the_facts_addresses_without_discovery_calls(
    operator: Operator, client: Client, namespace: str, anvil: Callable[..., Anvil], method: str
) -> None:
    if not FACTS.exists():
        pytest.skip("the shared facts are not on this machine")
    chain = json.loads(FACTS.read_text())["chains"]["op-sepolia"]
    stable = next(v for k, v in chain.items() if k.startswith("stable_addresses"))
    sepolia_l1 = anvil(chain_id=11155111)  # a local L1 with Sepolia's chain id: the L1 check passes
    before = rpc_count(*DISCOVERY_METHODS)
    body = network(
        "op-sepolia",
        namespace,
        sepolia_l1.url,
        {"discoveryMethod": method},
        networkName="op-sepolia",
        chainID=11155420,
        l1ChainID=11155111,
        rollupConfig=None,
        l2Genesis=None,
    )
    client.create(body)
    obj = wait_condition(client, namespace, "op-sepolia", "Ready", "True")
    found = obj["status"]["networkInfo"]["discoveredContracts"]
    assert found["discoveryMethod"] == method
    assert found["systemConfigAddr"] == stable["SystemConfigProxy"]
    assert found["optimismPortalAddr"] == stable["OptimismPortalProxy"]
    assert found["l1CrossDomainMessengerAddr"] == stable["L1CrossDomainMessengerProxy"]
    assert found["l1StandardBridgeAddr"] == stable["L1StandardBridgeProxy"]
    assert found["l1ERC721BridgeAddr"] == stable["L1ERC721BridgeProxy"]
    assert found["optimismMintableERC20FactoryAddr"] == stable["OptimismMintableERC20FactoryProxy"]
    assert found["disputeGameFactoryAddr"] == stable["DisputeGameFactoryProxy"]
    assert found["batchInboxAddr"] == chain["batch_inbox_addr"]
    assert rpc_count(*DISCOVERY_METHODS) == before  # the registry needs no RPC
    valid = condition(obj, "ConfigurationValid")["message"]  # type: ignore[index]
    assert "--network=op-sepolia" in valid and "--op-network=op-sepolia" in valid
    info = obj["status"]["networkInfo"]
    assert "rollupConfigMap" not in info and info["blockTime"] == chain["block_time_s"]
    assert (info["opNodeNetwork"], info["opGethNetwork"]) == ("op-sepolia", "op-sepolia")


def registry_override(system_config: str) -> str:
    """User-kept registry data: the shipped snapshot's op-sepolia entry with another SystemConfigProxy."""
    snapshot = json.loads((ROOT / "opstack" / "chain" / "data" / "superchain-registry.json").read_text())
    chain = snapshot["chains"]["op-sepolia"]
    chain["addresses"]["SystemConfigProxy"] = system_config
    source = {"repository": "example/registry-copy", "commit": "0123abcd", "date": "2030-01-01"}
    return json.dumps({"source": source, "chains": {"op-sepolia": chain}})


def test_a_registry_override_config_map_changes_the_discovered_addresses_and_is_validated(
    operator: Operator, client: Client, namespace: str, anvil: Callable[..., Anvil]
) -> None:
    sepolia_l1 = anvil(chain_id=11155111)
    first, second = "0x" + "1a" * 20, "0x" + "2b" * 20
    client.create(config_map("registry", namespace, {"registry.json": registry_override(first)}))
    ref = {"name": "registry", "key": "registry.json"}
    body = network(
        "op-sepolia",
        namespace,
        sepolia_l1.url,
        {"discoveryMethod": "auto", "registryOverride": ref, "cacheTimeout": "1h"},
        networkName="op-sepolia",
        chainID=11155420,
        l1ChainID=11155111,
        rollupConfig=None,
        l2Genesis=None,
    )
    client.create(body)
    obj = wait_condition(client, namespace, "op-sepolia", "Ready", "True")
    found = obj["status"]["networkInfo"]["discoveredContracts"]
    assert found["discoveryMethod"] == "superchain-registry"  # auto: the (overridden) registry knows it
    assert found["systemConfigAddr"] == Web3.to_checksum_address(first)
    assert "example/registry-copy@0123abcd" in found["source"] and "user-supplied" in found["source"]
    hash_before = found["inputsHash"]

    # The user updates the ConfigMap: the watch brings the network back and discovery runs again at once,
    # well within cacheTimeout.
    client.patch(CM, "registry", {"data": {"registry.json": registry_override(second)}}, namespace)
    obj = wait_for(
        lambda: (
            (o := get(client, namespace, "op-sepolia"))["status"]["networkInfo"]["discoveredContracts"][
                "systemConfigAddr"
            ]
            == Web3.to_checksum_address(second)
            and o
        ),
        15,
        "the overridden SystemConfig address",
    )
    assert obj["status"]["networkInfo"]["discoveredContracts"]["inputsHash"] != hash_before

    # An invalid override: its own reason, the JSON path and the fix; the published addresses stay.
    client.patch(CM, "registry", {"data": {"registry.json": registry_override("0x1234")}}, namespace)
    obj = wait_condition(
        client, namespace, "op-sepolia", "ConfigurationValid", "False", "RegistryOverrideInvalid"
    )
    message = condition(obj, "ConfigurationValid")["message"]  # type: ignore[index]
    assert "spec.contractAddresses.registryOverride (ConfigMap registry, key registry.json)" in message
    assert "chains.op-sepolia.addresses.SystemConfigProxy" in message and "fix the JSON" in message
    assert condition(obj, "ContractsDiscovered")["reason"] == "WaitingForConfiguration"  # type: ignore[index]
    assert obj["status"]["networkInfo"]["discoveredContracts"]["systemConfigAddr"] == (
        Web3.to_checksum_address(second)
    )
    wait_event(client, namespace, "op-sepolia", "RegistryOverrideInvalid")

    client.patch(CM, "registry", {"data": {"registry.json": registry_override(first)}}, namespace)
    obj = wait_condition(client, namespace, "op-sepolia", "Ready", "True")
    assert obj["status"]["networkInfo"]["discoveredContracts"]["systemConfigAddr"] == (
        Web3.to_checksum_address(first)
    )


# --- deletion ----------------------------------------------------------------------------------------------


def test_deletion_waits_for_referencing_components(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1
) -> None:
    contracts = {"discoveryMethod": "system-config", "systemConfigAddr": op_stack.system_config}
    client.create(network("doomed", namespace, l1.url, contracts))
    obj = wait_condition(client, namespace, "doomed", "Ready", "True")
    uid = obj["metadata"]["uid"]
    client.create(
        {
            "apiVersion": OP_NODE.gvk.api_version,
            "kind": "OpNode",
            "metadata": {"name": "replica-1", "namespace": namespace},
            "spec": {"optimismNetworkRef": {"name": "doomed"}, "nodeType": "replica"},
        }
    )
    client.delete(NETWORK, "doomed", namespace)
    obj = wait_condition(client, namespace, "doomed", "Ready", "False", "DeletionBlocked")
    assert obj["metadata"].get("deletionTimestamp") and obj["status"]["phase"] == "Terminating"
    message = condition(obj, "Ready")["message"]  # type: ignore[index]
    assert f"OpNode {namespace}/replica-1" in message
    event = wait_event(client, namespace, "doomed", "DeletionBlocked")
    assert f"OpNode {namespace}/replica-1" in event["message"]
    time.sleep(1.0)
    assert get(client, namespace, "doomed")["metadata"]["uid"] == uid  # still there

    client.delete(OP_NODE.gvk, "replica-1", namespace)

    def gone() -> bool:
        try:
            get(client, namespace, "doomed")
        except errors.NotFound:
            return True
        return False

    wait_for(gone, 20, "the network to be deleted once no component refers to it")

    def collected() -> bool:
        try:
            client.get(CM, "doomed-rollup-config", namespace)
        except errors.NotFound:
            return True
        return False

    wait_for(collected, 30, "the owned ConfigMap to be garbage-collected")
