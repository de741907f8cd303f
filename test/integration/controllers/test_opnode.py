"""The OpNode controller against the real control plane (kube-apiserver, kube-controller-manager,
kube-scheduler and kwok: pods are scheduled onto a fake node and become Ready), with anvil as L1 and as the
op-geth RPC the status reader talks to.

One manager (the OptimismNetwork and OpNode controllers) runs in-process on a thread for the whole module,
as its own user, so that its writes can be counted from the API server's audit log. StatefulSet claims are
bound to PersistentVolumes the tests create (no storage provisioner in the test plane).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from opstack.api.v1alpha1 import OP_NODE, OPTIMISM_NETWORK
from opstack.chain.wellknown import well_known
from opstack.components import keys
from opstack.components.opnode import NodeUrls, node_urls
from opstack.controllers import optimismnetwork
from opstack.controllers.opnode import Settings, setup
from opstack.resources.config import secret_value
from opstack.resources.meta import ANNOTATION_CONFIG_HASH
from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.runtime.manager import Manager
from opstack.runtime.metrics import REGISTRY
from opstack.testing import audit
from opstack.testing.anvil import Anvil
from opstack.testing.crds import install_crds
from opstack.testing.envtest import KWOK_NODE, ControlPlane
from opstack.testing.manager import ManagerThread
from opstack.testing.samples import SAMPLES, load
from opstack.testing.waiting import condition, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
OPNODE = OP_NODE.gvk
NETWORK = OPTIMISM_NETWORK.gvk
STS = GVK("apps", "v1", "StatefulSet")
SVC = GVK("", "v1", "Service")
SECRET = GVK("", "v1", "Secret")
CM = GVK("", "v1", "ConfigMap")
POD = GVK("", "v1", "Pod")
PV = GVK("", "v1", "PersistentVolume")
PDB = GVK("policy", "v1", "PodDisruptionBudget")
NS = GVK("", "v1", "Namespace")
EVENT = GVK("", "v1", "Event")
OPERATOR_USER = "opstack-opnode-operator"
WRITE_VERBS = ("create", "update", "patch", "delete")

# Where the operator reads a node's RPC: the in-cluster Service unless a test redirects it here.
ENDPOINTS: dict[str, NodeUrls] = {}


def endpoints(name: str, namespace: str, spec: Any) -> NodeUrls:
    return ENDPOINTS.get(f"{namespace}/{name}") or node_urls(name, namespace, spec)


SETTINGS = Settings(status_interval=1.0, unreachable_interval=1.0, rpc_timeout=1.0, endpoints=endpoints)


# --- helpers -----------------------------------------------------------------------------------------------


def wait_condition(
    client: Client,
    ns: str,
    name: str,
    type_: str,
    status: str,
    reason: str | None = None,
    timeout: float = 30,
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        obj = client.get(OPNODE, name, ns)
        c = condition(obj, type_)
        return obj if c and c["status"] == status and (reason is None or c["reason"] == reason) else None

    try:
        found: dict[str, Any] = wait_for(check, timeout, f"{type_}={status} ({reason}) on {ns}/{name}")
    except AssertionError as exc:
        status_now = client.get(OPNODE, name, ns).get("status")
        raise AssertionError(f"{exc}; status: {json.dumps(status_now, indent=1)}") from None
    return found


def wait_phase(client: Client, ns: str, name: str, phase: str, timeout: float = 90) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        obj = client.get(OPNODE, name, ns)
        return obj if (obj.get("status") or {}).get("phase") == phase else None

    try:
        found: dict[str, Any] = wait_for(check, timeout, f"phase {phase} of {ns}/{name}")
    except AssertionError as exc:
        status_now = client.get(OPNODE, name, ns).get("status")
        raise AssertionError(f"{exc}; status: {json.dumps(status_now, indent=1)}") from None
    return found


def wait_event(client: Client, ns: str, name: str, reason: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        items, _ = client.list_all(EVENT, ns)
        return next(
            (
                e
                for e in items
                if (e.get("involvedObject") or {}).get("name") == name and e["reason"] == reason
            ),
            None,
        )

    found: dict[str, Any] = wait_for(find, 20, f"a {reason} Event for {name}")
    return found


def operator_writes(plane: ControlPlane, namespace: str) -> list[str]:
    """Writes the operator's user made in `namespace` (as the API server's audit log saw them)."""
    return [
        f"{e['verb']} {e['objectRef'].get('resource')}/{e['objectRef'].get('name')} "
        f"{e['objectRef'].get('subresource', '')}"
        for e in audit.writes(plane.audit_log, namespace=namespace, users=[OPERATOR_USER])
        if e["objectRef"].get("resource") != "events"
    ]


def audit_sentinel(plane: ControlPlane, client: Client, namespace: str) -> None:
    audit.sentinel(plane.audit_log, client, namespace)


def reconciles() -> float:
    return sum(
        REGISTRY.get_sample_value("controller_runtime_reconcile_total", {"controller": "opnode", "result": r})
        or 0.0
        for r in ("success", "error", "requeue", "requeue_after")
    )


def sample(name: str, namespace: str) -> dict[str, Any]:
    obj = load(SAMPLES / name)
    obj["metadata"]["namespace"] = namespace
    return obj


def provide_volumes(client: Client, created: list[str], ns: str, sts: str, count: int, size: str) -> None:
    """PersistentVolumes pre-bound to the claims `data-<sts>-<i>` the StatefulSet will make."""
    for i in range(count):
        name = f"pv-{sts}-{i}-{uuid.uuid4().hex[:8]}"
        client.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name},
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": f"/tmp/{name}"},
                    "claimRef": {"namespace": ns, "name": f"data-{sts}-{i}"},
                },
            }
        )
        created.append(name)


def restrict(client: Client, namespace: str) -> None:
    client.patch(
        NS,
        namespace,
        {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
    )


def pods_of(client: Client, ns: str, name: str) -> list[dict[str, Any]]:
    items, _ = client.list_all(POD, ns, label_selector=f"app.kubernetes.io/instance={name}")
    return items


def container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in pod_spec["containers"] if c["name"] == name)


def secret_text(client: Client, ns: str, name: str, key: str) -> bytes:
    value = secret_value(client.get(SECRET, name, ns), key)
    assert value is not None, f"Secret {name} has no key {key}"
    return value


class Operator(ManagerThread):
    def __init__(self, kubeconfig: str) -> None:
        super().__init__(
            Manager(Client.from_kubeconfig(kubeconfig), metrics_bind_address="0"), "opnode-operator"
        )
        optimismnetwork.setup(
            self.mgr, optimismnetwork.Settings(l1_check_interval=5.0, l1_retry_base=1.0, l1_status_max_age=0)
        )
        setup(self.mgr, SETTINGS)


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(kubeconfig: str) -> Iterator[Client]:
    install_crds(kubeconfig, [ROOT / "config" / "crd" / "bases"])
    c = Client.from_kubeconfig(kubeconfig)
    yield c
    c.close()


@pytest.fixture(scope="module")
def operator(control_plane: ControlPlane, client: Client) -> Iterator[Operator]:
    kubeconfig = control_plane.add_user(OPERATOR_USER, ["system:masters"])
    op = Operator(str(kubeconfig)).start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def sepolia(anvil: Callable[..., Anvil]) -> Anvil:
    return anvil(chain_id=11155111)


@pytest.fixture
def volumes(client: Client) -> Iterator[list[str]]:
    created: list[str] = []
    yield created
    for name in created:
        with contextlib.suppress(errors.NotFound):
            client.delete(PV, name)


def op_sepolia_network(namespace: str, l1_url: str) -> dict[str, Any]:
    """The op-sepolia sample, with its L1 on anvil (chain id 11155111) instead of a provider Secret."""
    net = sample("optimism_v1alpha1_optimismnetwork_op_sepolia.yaml", namespace)
    spec = net["spec"]
    for field_name in ("l1RpcUrlSecretRef", "l1BeaconUrlSecretRef"):
        spec.pop(field_name)
    spec["l1RpcUrl"] = l1_url
    spec["l1RpcKind"] = "standard"
    return net


ROLLUP = json.dumps({"l1_chain_id": 900, "l2_chain_id": 901, "block_time": 2})
GENESIS = json.dumps({"config": {"chainId": 901}, "alloc": {}})


def devnet(client: Client, namespace: str) -> None:
    """The devnet sample network and the ConfigMaps it names (rollup config, genesis)."""
    for name, key, doc in (
        ("devnet-rollup", "rollup.json", ROLLUP),
        ("devnet-genesis", "genesis.json", GENESIS),
    ):
        client.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace},
                "data": {key: doc},
            }
        )
    client.create(sample("optimism_v1alpha1_optimismnetwork_devnet.yaml", namespace))


# --- tests -------------------------------------------------------------------------------------------------


def test_op_sepolia_replica_runs_and_an_unchanged_node_writes_nothing(
    control_plane: ControlPlane,
    client: Client,
    operator: Operator,
    sepolia: Anvil,
    namespace: str,
    volumes: list[str],
) -> None:
    restrict(client, namespace)
    client.create(op_sepolia_network(namespace, sepolia.url))
    node = sample("optimism_v1alpha1_opnode_op_sepolia_replica.yaml", namespace)
    name = node["metadata"]["name"]
    provide_volumes(client, volumes, namespace, name, 1, "500Gi")
    started = time.monotonic()
    client.create(node)
    obj = wait_phase(client, namespace, name, "Running", timeout=120)
    time_to_running = time.monotonic() - started
    print(f"\nop-sepolia replica: Running after {time_to_running:.1f}s")
    assert condition(obj, "Ready")["status"] == "True"  # type: ignore[index]
    assert obj["status"]["readyReplicas"] == 1

    # The pod: on the kwok node, Ready, admitted under the restricted Pod Security Standard.
    (pod,) = pods_of(client, namespace, name)
    assert pod["spec"]["nodeName"] == KWOK_NODE
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])
    op_node = container(pod["spec"], "op-node")
    op_geth = container(pod["spec"], "op-geth")
    assert "--network=op-sepolia" in op_node["args"]
    assert "--op-network=op-sepolia" in op_geth["args"]
    chain = well_known("op-sepolia")
    assert chain is not None and chain.sequencer_rpc
    assert f"--rollup.sequencerhttp={chain.sequencer_rpc}" in op_geth["args"]
    assert not pod["spec"].get("initContainers"), "a registry chain needs no geth init"

    # Services with the right ports.
    svc = client.get(SVC, name, namespace)
    ports = {(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]}
    assert {("geth-http", 8545, "TCP"), ("geth-ws", 8546, "TCP"), ("node-rpc", 9545, "TCP")} <= ports
    assert not any(p[1] == 8551 for p in ports), "the engine API is never in a Service"
    p2p = client.get(SVC, f"{name}-p2p-0", namespace)
    assert p2p["spec"]["type"] == "NodePort"
    p2p_ports = {(p["port"], p["protocol"]) for p in p2p["spec"]["ports"]}
    assert p2p_ports == {(9222, "TCP"), (9222, "UDP"), (30303, "TCP"), (30303, "UDP")}
    node_port = next(p["nodePort"] for p in p2p["spec"]["ports"] if p["name"] == "node-p2p")
    assert f"--p2p.advertise.tcp={node_port}" in op_node["args"]
    headless = client.get(SVC, f"{name}-headless", namespace)
    assert headless["spec"]["clusterIP"] == "None"

    # Generated secrets, in the binaries' formats, owned by the OpNode; status shows the peer id only.
    jwt = secret_text(client, namespace, f"{name}-jwt", "jwt.hex")
    assert len(keys.parse_jwt_secret(jwt)) == 32
    p2p_key = keys.parse_p2p_key(secret_text(client, namespace, f"{name}-p2p", "p2p.key"))
    assert obj["status"]["nodeInfo"]["peerID"] == keys.peer_id_of(p2p_key)
    assert p2p_key.hex() not in json.dumps(obj["status"])
    uid = obj["metadata"]["uid"]
    for kind, child in ((SECRET, f"{name}-jwt"), (SECRET, f"{name}-p2p"), (STS, name), (SVC, name)):
        refs = client.get(kind, child, namespace)["metadata"]["ownerReferences"]
        assert [r["uid"] for r in refs if r.get("controller")] == [uid]

    # The operator runs outside the cluster here: the node's Service is not reachable, and status says so.
    reach = condition(obj, "NodeReachable")
    assert reach is not None and reach["status"] == "False" and "outside the cluster" in reach["message"]

    # Reapply the same spec, then make the controller reconcile (a watched object changes): zero writes.
    audit_sentinel(control_plane, client, namespace)
    before = operator_writes(control_plane, namespace)
    count = reconciles()
    client.apply(node, field_manager="test-user", force=True)
    client.patch(
        NETWORK, "op-sepolia", {"metadata": {"annotations": {"touched": uuid.uuid4().hex}}}, namespace
    )
    client.patch(STS, name, {"metadata": {"annotations": {"touched": "yes"}}}, namespace)
    wait_for(lambda: reconciles() >= count + 3, 30, "three more reconciles")
    audit_sentinel(control_plane, client, namespace)
    after = operator_writes(control_plane, namespace)
    assert after[len(before) :] == [], f"an unchanged OpNode was written to: {after[len(before) :]}"
    print(
        f"writes on unchanged reconciles: {len(after) - len(before)} "
        f"over {reconciles() - count:.0f} reconciles"
    )


def test_custom_chain_sequencer_and_replica_roll_and_go(
    control_plane: ControlPlane, client: Client, operator: Operator, namespace: str, volumes: list[str]
) -> None:
    restrict(client, namespace)
    devnet(client, namespace)
    signer = keys.generate_signing_key()
    client.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "devnet-sequencer-key", "namespace": namespace},
            "stringData": {"private-key": signer},
        }
    )
    seq = sample("optimism_v1alpha1_opnode_devnet_sequencer.yaml", namespace)
    rep = sample("optimism_v1alpha1_opnode_devnet_replica.yaml", namespace)
    provide_volumes(client, volumes, namespace, "devnet-sequencer", 1, "20Gi")
    provide_volumes(client, volumes, namespace, "devnet-replica", 2, "20Gi")
    started = time.monotonic()
    client.create(rep)  # first: it waits for its sequencer's peer id
    client.create(seq)
    seq_obj = wait_phase(client, namespace, "devnet-sequencer", "Running", timeout=120)
    rep_obj = wait_phase(client, namespace, "devnet-replica", "Running", timeout=120)
    print(f"\ndevnet sequencer + replica: Running after {time.monotonic() - started:.1f}s")
    assert rep_obj["status"]["readyReplicas"] == 2
    assert seq_obj["status"]["unsafeBlockSigner"] == keys.address_of(keys.parse_signing_key(signer))
    assert signer[2:] not in json.dumps(seq_obj["status"])

    (seq_pod,) = pods_of(client, namespace, "devnet-sequencer")
    rep_pods = pods_of(client, namespace, "devnet-replica")
    assert len(rep_pods) == 2 and all(p["spec"]["nodeName"] == KWOK_NODE for p in [seq_pod, *rep_pods])
    seq_node = container(seq_pod["spec"], "op-node")
    assert "--sequencer.enabled=true" in seq_node["args"] and "--p2p.no-discovery" in seq_node["args"]
    assert {
        "name": "OP_NODE_P2P_SEQUENCER_KEY",
        "valueFrom": {"secretKeyRef": {"name": "devnet-sequencer-key", "key": "private-key"}},
    } in seq_node["env"]
    assert [c["name"] for c in seq_pod["spec"]["initContainers"]] == ["geth-init"]
    assert "--rollup.config=/config/rollup/rollup.json" in seq_node["args"]

    rep_spec = rep_pods[0]["spec"]
    seq_peer = seq_obj["status"]["nodeInfo"]["peerID"]
    static = f"/dns4/devnet-sequencer-0.devnet-sequencer-headless.{namespace}.svc/tcp/9222/p2p/{seq_peer}"
    assert f"--p2p.static={static}" in container(rep_spec, "op-node")["args"]
    assert (
        f"--rollup.sequencerhttp=http://devnet-sequencer.{namespace}.svc:8545"
        in container(rep_spec, "op-geth")["args"]
    )
    assert client.get(PDB, "devnet-replica", namespace)["spec"]["maxUnavailable"] == 1
    # Every generated object was accepted by the API server; JWTs are each node's own.
    assert secret_text(client, namespace, "devnet-sequencer-jwt", "jwt.hex") != secret_text(
        client, namespace, "devnet-replica-jwt", "jwt.hex"
    )

    # A flag-bearing field changes: the template hash changes and the pod is replaced.
    old_hash = seq_pod["metadata"]["annotations"][ANNOTATION_CONFIG_HASH]
    old_revision = seq_pod["metadata"]["labels"]["controller-revision-hash"]
    client.patch(OPNODE, "devnet-sequencer", {"spec": {"opNode": {"sequencer": {"l1Confs": 6}}}}, namespace)

    def rolled() -> dict[str, Any] | None:
        pods = pods_of(client, namespace, "devnet-sequencer")
        return next(
            (
                p
                for p in pods
                if p["metadata"]["labels"]["controller-revision-hash"] != old_revision
                and any(
                    c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", ())
                )
            ),
            None,
        )

    new_pod = wait_for(rolled, 90, "the sequencer pod to roll")
    assert new_pod["metadata"]["annotations"][ANNOTATION_CONFIG_HASH] != old_hash
    assert "--sequencer.l1-confs=6" in container(new_pod["spec"], "op-node")["args"]
    wait_phase(client, namespace, "devnet-sequencer", "Running", timeout=60)

    # Deleting an OpNode removes its children (garbage collection follows the owner references).
    client.delete(OPNODE, "devnet-replica", namespace)

    def gone() -> bool:
        for kind, child in (
            (STS, "devnet-replica"),
            (SVC, "devnet-replica"),
            (SVC, "devnet-replica-headless"),
            (SECRET, "devnet-replica-jwt"),
            (SECRET, "devnet-replica-p2p"),
            (PDB, "devnet-replica"),
        ):
            try:
                client.get(kind, child, namespace)
                return False
            except errors.NotFound:
                continue
        return True

    wait_for(gone, 60, "the replica's children to be garbage-collected")


def test_missing_network_secret_and_malformed_key_are_reported_and_recover(
    client: Client, operator: Operator, namespace: str
) -> None:
    node = {
        "apiVersion": OPNODE.api_version,
        "kind": "OpNode",
        "metadata": {"name": "broken", "namespace": namespace},
        "spec": {
            "optimismNetworkRef": {"name": "devnet"},
            "nodeType": "replica",
            "replicas": 0,
            "opNode": {"p2p": {"privateKey": {"secretRef": {"name": "my-p2p", "key": "key"}}}},
        },
    }
    client.create(node)
    obj = wait_condition(client, namespace, "broken", "NetworkReady", "False", "NetworkNotFound")
    assert "OptimismNetwork" in condition(obj, "NetworkReady")["message"]  # type: ignore[index]
    assert obj["status"]["phase"] == "Pending"
    assert condition(obj, "Ready")["status"] == "False"  # type: ignore[index]
    wait_event(client, namespace, "broken", "NetworkNotFound")

    devnet(client, namespace)
    obj = wait_condition(client, namespace, "broken", "SecretsReady", "False", "SecretNotFound")
    assert condition(obj, "NetworkReady")["status"] == "True"  # type: ignore[index]
    assert "spec.opNode.p2p.privateKey.secretRef" in condition(obj, "SecretsReady")["message"]  # type: ignore[index]
    assert obj["status"]["phase"] == "Error"
    wait_event(client, namespace, "broken", "SecretNotFound")

    bad = "0x" + "zz" * 32
    client.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "my-p2p", "namespace": namespace},
            "stringData": {"key": bad},
        }
    )
    obj = wait_condition(client, namespace, "broken", "SecretsReady", "False", "SecretValueInvalid")
    message = condition(obj, "SecretsReady")["message"]  # type: ignore[index]
    assert "64 hex characters" in message and "zz" not in message
    event = wait_event(client, namespace, "broken", "SecretValueInvalid")
    assert "zz" not in event["message"]

    good = keys.generate_p2p_key()
    client.patch(SECRET, "my-p2p", {"stringData": {"key": good}}, namespace)
    obj = wait_condition(client, namespace, "broken", "SecretsReady", "True")
    assert obj["status"]["nodeInfo"]["peerID"] == keys.peer_id_of(bytes.fromhex(good))
    assert condition(obj, "ConfigurationValid")["status"] == "True"  # type: ignore[index]
    assert client.get(STS, "broken", namespace)["spec"]["replicas"] == 0


def test_a_spec_whose_statefulset_the_api_server_refuses_gets_a_condition_and_recovers(
    client: Client, operator: Operator, namespace: str
) -> None:
    """A volume size of "-1" is a quantity (the schema admits it) that no volume claim can have: the
    StatefulSet apply is refused (422), and that is a condition naming the field, not a reconcile error
    (which never reached the status write: the object stayed without conditions)."""
    devnet(client, namespace)
    client.create(
        {
            "apiVersion": OPNODE.api_version,
            "kind": "OpNode",
            "metadata": {"name": "bad-volume", "namespace": namespace},
            "spec": {
                "optimismNetworkRef": {"name": "devnet"},
                "nodeType": "replica",
                "replicas": 0,
                "opGeth": {"storage": {"size": "-1"}},
            },
        }
    )
    obj = wait_condition(client, namespace, "bad-volume", "ConfigurationValid", "False", "ChildRejected")
    message = condition(obj, "ConfigurationValid")["message"]  # type: ignore[index]
    assert "StatefulSet bad-volume" in message and "spec.opGeth.storage.size" in message, message
    assert "must be greater than zero" in message, message
    assert obj["status"]["phase"] == "Error"
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert condition(obj, "Ready")["status"] == "False"  # type: ignore[index]
    wait_event(client, namespace, "bad-volume", "ChildRejected")

    client.patch(OPNODE, "bad-volume", {"spec": {"opGeth": {"storage": {"size": "20Gi"}}}}, namespace)
    obj = wait_condition(client, namespace, "bad-volume", "ConfigurationValid", "True")
    claim = client.get(STS, "bad-volume", namespace)["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"


def test_node_rpc_reachable_and_unreachable(
    client: Client, operator: Operator, sepolia: Anvil, namespace: str, volumes: list[str]
) -> None:
    devnet(client, namespace)
    node = {
        "apiVersion": OPNODE.api_version,
        "kind": "OpNode",
        "metadata": {"name": "reader", "namespace": namespace},
        "spec": {
            "optimismNetworkRef": {"name": "devnet"},
            "nodeType": "replica",
            "opNode": {"p2p": {"enabled": False}},
        },
    }
    provide_volumes(client, volumes, namespace, "reader", 1, "100Gi")
    client.create(node)
    wait_phase(client, namespace, "reader", "Running", timeout=120)

    # Unreachable: the Service's in-cluster DNS name does not resolve from the test machine.
    obj = wait_condition(client, namespace, "reader", "NodeReachable", "False", "OpGethUnreachable")
    assert "outside the cluster" in condition(obj, "NodeReachable")["message"]  # type: ignore[index]
    assert condition(obj, "Ready")["status"] == "True", "an unreachable RPC does not make the node unready"  # type: ignore[index]
    total = REGISTRY.get_sample_value(
        "controller_runtime_reconcile_time_seconds_sum", {"controller": "opnode"}
    )
    count = REGISTRY.get_sample_value(
        "controller_runtime_reconcile_time_seconds_count", {"controller": "opnode"}
    )
    assert total is not None and count
    print(f"\nmean OpNode reconcile time: {total / count * 1000:.0f} ms over {count:.0f} reconciles")
    assert total / count < 1.5, "an unreachable node RPC must not slow reconciles"

    # Reachable: anvil answers op-geth's eth_* methods; it has no optimism_* methods, and status says so.
    ENDPOINTS[f"{namespace}/reader"] = NodeUrls(geth_http=sepolia.url, geth_ws=None, op_node_rpc=sepolia.url)
    try:
        obj = wait_condition(client, namespace, "reader", "NodeReachable", "False", "OpNodeMethodNotFound")
        message = condition(obj, "NodeReachable")["message"]  # type: ignore[index]
        assert "optimism_syncStatus" in message and "op-geth answers" in message
        head = obj["status"]["nodeInfo"]["chainHead"]
        number = int(
            requests.post(
                sepolia.url,
                json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
                timeout=5,
            ).json()["result"],
            16,
        )
        assert head["blockNumber"] == number and head["blockHash"].startswith("0x")
        syncing = condition(obj, "Syncing")
        assert (
            syncing is not None
            and syncing["status"] == "False"
            and obj["status"]["nodeInfo"]["syncing"] is False
        )
    finally:
        ENDPOINTS.pop(f"{namespace}/reader", None)
