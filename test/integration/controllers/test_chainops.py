"""The OpBatcher, OpProposer and OpChallenger controllers against the real control plane (with
kube-controller-manager, kube-scheduler and kwok: Deployments get pods that are scheduled and become Ready),
with anvil as L1 carrying the real OP Stack contracts.

One manager runs in-process on a thread for the module, with the OptimismNetwork controller and the three
signing-component controllers. The sequencer OpNode's readiness is set through its status subresource by
the test (see `sequencer_ready`): the OpNode controller is not part of this module's manager, so that
what these tests see is the signing controllers' behaviour alone.

The manager's logs are captured (structlog JSON through stdlib logging, debug level) and scanned for the
keys, as are Events, status and every container's args and env.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opstack.api.v1alpha1 import OP_BATCHER, OP_CHALLENGER, OP_NODE, OP_PROPOSER
from opstack.components.common import flag_names
from opstack.components.keys import address_of, generate_signing_key, parse_signing_key
from opstack.components.versions import Component, flag_set
from opstack.controllers import opbatcher, opchallenger, opproposer, optimismnetwork
from opstack.controllers.chainops import Settings
from opstack.resources.meta import ANNOTATION_CONFIG_HASH
from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.runtime.logging import configure_logging
from opstack.runtime.manager import Manager
from opstack.runtime.metrics import REGISTRY
from opstack.testing import audit
from opstack.testing.anvil import Anvil
from opstack.testing.crds import install_crds
from opstack.testing.devnet import BeaconStub
from opstack.testing.envtest import ControlPlane
from opstack.testing.l1 import OpStackL1, deploy_op_stack
from opstack.testing.manager import ManagerThread
from opstack.testing.samples import SAMPLES, load
from opstack.testing.waiting import condition, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
NETWORK = optimismnetwork.NETWORK
SECRET = GVK("", "v1", "Secret")
CM = GVK("", "v1", "ConfigMap")
EVENT = GVK("", "v1", "Event")
POD = GVK("", "v1", "Pod")
PV = GVK("", "v1", "PersistentVolume")
DEPLOYMENT = GVK("apps", "v1", "Deployment")
STATEFULSET = GVK("apps", "v1", "StatefulSet")
L1_CHAIN_ID = 900
L2_CHAIN_ID = 901
ETH = 10**18
ROLLUP = json.dumps({"l1_chain_id": L1_CHAIN_ID, "l2_chain_id": L2_CHAIN_ID, "block_time": 2})
GENESIS = json.dumps({"config": {"chainId": L2_CHAIN_ID}, "alloc": {}})
SETTINGS = Settings(balance_interval=1.0, balance_retry=1.0)
NETWORK_SETTINGS = optimismnetwork.Settings(l1_check_interval=30.0, l1_retry_base=0.5)
KINDS = {"batcher": OP_BATCHER.gvk, "proposer": OP_PROPOSER.gvk, "challenger": OP_CHALLENGER.gvk}


# --- helpers -----------------------------------------------------------------------------------------------


def wait_condition(
    client: Client,
    gvk: GVK,
    namespace: str,
    name: str,
    type_: str,
    status: str,
    reason: str | None = None,
    timeout: float = 60,
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        obj = client.get(gvk, name, namespace)
        cond = condition(obj, type_)
        if cond and cond["status"] == status and (reason is None or cond["reason"] == reason):
            return obj
        return None

    try:
        found: dict[str, Any] = wait_for(check, timeout, f"{type_}={status} ({reason}) on {gvk.kind} {name}")
    except AssertionError as exc:
        conds = (client.get(gvk, name, namespace).get("status") or {}).get("conditions")
        raise AssertionError(f"{exc}; conditions: {json.dumps(conds, indent=1)}") from None
    return found


def audit_writes(plane: ControlPlane, namespace: str, resources: tuple[str, ...]) -> int:
    return len(audit.writes(plane.audit_log, namespace=namespace, resources=resources))


def events_for(client: Client, namespace: str, name: str) -> list[dict[str, Any]]:
    items, _ = client.list_all(EVENT, namespace)
    return [e for e in items if (e.get("involvedObject") or {}).get("name") == name]


def secret(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": encoded,
    }


def sample(name: str, namespace: str) -> dict[str, Any]:
    obj = load(SAMPLES / f"optimism_v1alpha1_{name}.yaml")
    obj["metadata"]["namespace"] = namespace
    return obj


def balance_metric(role: str, namespace: str, name: str, address: str) -> float | None:
    return REGISTRY.get_sample_value(
        "opstack_signer_balance_wei",
        {"component": role, "namespace": namespace, "name": name, "address": address},
    )


class LogCapture(logging.Handler):
    """Every rendered log line of the process (the manager's included), for the key scan."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record the formatter cannot render is still scanned raw
            text = f"{record.msg!r} {record.args!r}"
        with self._lock2:
            self.lines.append(text)


class Operator(ManagerThread):
    def __init__(self, kubeconfig: str) -> None:
        super().__init__(
            Manager(Client.from_kubeconfig(kubeconfig), metrics_bind_address="0"), "chainops-operator"
        )
        optimismnetwork.setup(self.mgr, NETWORK_SETTINGS)
        for module in (opbatcher, opproposer, opchallenger):
            module.setup(self.mgr, SETTINGS)


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def logs() -> Iterator[LogCapture]:
    configure_logging(level="debug", fmt="json")
    capture = LogCapture()
    root = logging.getLogger()
    opstack_handler = next(h for h in root.handlers if h.get_name() == "opstack")
    capture.setFormatter(opstack_handler.formatter)
    root.addHandler(capture)
    yield capture
    root.removeHandler(capture)
    configure_logging(level="info")


@pytest.fixture(scope="module")
def client(kubeconfig: str) -> Iterator[Client]:
    install_crds(kubeconfig, [ROOT / "config" / "crd" / "bases"])
    c = Client.from_kubeconfig(kubeconfig)
    yield c
    c.close()


@pytest.fixture(scope="module")
def operator(kubeconfig: str, client: Client, logs: LogCapture) -> Iterator[Operator]:
    op = Operator(kubeconfig).start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def l1(anvil: Callable[..., Anvil]) -> Anvil:
    return anvil(chain_id=L1_CHAIN_ID)


@pytest.fixture(scope="module")
def op_stack(l1: Anvil) -> OpStackL1:
    return deploy_op_stack(l1.url, l2_chain_id=L2_CHAIN_ID)


@pytest.fixture(scope="module")
def beacon() -> Iterator[str]:
    with BeaconStub() as stub:
        yield stub.url


class Devnet:
    """The devnet of config/samples in one namespace: network on anvil, sequencer (+ replica) OpNodes."""

    def __init__(self, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1, beacon: str) -> None:
        self.client, self.namespace, self.l1 = client, namespace, l1
        client.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "devnet-rollup", "namespace": namespace},
                "data": {"rollup.json": ROLLUP},
            }
        )
        client.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "devnet-genesis", "namespace": namespace},
                "data": {"genesis.json": GENESIS},
            }
        )
        network = sample("optimismnetwork_devnet", namespace)
        network["spec"]["l1RpcUrl"] = l1.url
        network["spec"]["l1BeaconUrl"] = beacon  # op-challenger needs one (--l1-beacon)
        network["spec"]["contractAddresses"]["systemConfigAddr"] = op_stack.system_config
        client.create(network)
        client.create(sample("opnode_devnet_sequencer", namespace))
        client.create(sample("opnode_devnet_replica", namespace))
        self.keys: dict[str, str] = {}

    def sequencer_ready(self, name: str = "devnet-sequencer") -> None:
        """Stand-in for the OpNode controller: the sequencer's Ready condition, via the status subresource."""
        obj = self.client.get(OP_NODE.gvk, name, self.namespace)
        obj["status"] = {
            "phase": "Running",
            "observedGeneration": obj["metadata"]["generation"],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Ready",
                    "message": "set by the test",
                    "lastTransitionTime": "2025-01-01T00:00:00Z",
                    "observedGeneration": obj["metadata"]["generation"],
                }
            ],
        }
        self.client.update_status(obj)

    def key_secret(self, role: str, *, fund: int | None = 10 * ETH, key: str | None = None) -> str:
        """A fresh key in Secret devnet-<role>-key (as the samples name it); returns its address."""
        key = key or generate_signing_key()
        self.keys[role] = key
        self.client.create(secret(f"devnet-{role}-key", self.namespace, {"private-key": key}))
        address = address_of(parse_signing_key(key))
        if fund is not None:
            self.l1.rpc("anvil_setBalance", [address, hex(fund)])
        return address

    def component(self, role: str, **spec: Any) -> dict[str, Any]:
        obj = sample(f"op{role}_devnet", self.namespace)
        obj["spec"].update(spec)
        created: dict[str, Any] = self.client.create(obj)
        return created


@pytest.fixture
def devnet(
    operator: Operator, client: Client, namespace: str, l1: Anvil, op_stack: OpStackL1, beacon: str
) -> Devnet:
    net = Devnet(client, namespace, l1, op_stack, beacon)
    net.sequencer_ready()
    wait_condition(client, NETWORK, namespace, "devnet", "Ready", "True", timeout=90)
    return net


@pytest.fixture
def volumes(client: Client, namespace: str) -> Iterator[Callable[[int], None]]:
    """PersistentVolumes for the claims of StatefulSets (no provisioner runs in the test control plane)."""
    made: list[str] = []

    def make(count: int) -> None:
        for _ in range(count):
            name = f"pv-{len(made)}-{namespace}"[:63]
            client.create(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": name},
                    "spec": {
                        "capacity": {"storage": "20Gi"},
                        "accessModes": ["ReadWriteOnce"],
                        "hostPath": {"path": f"/tmp/{name}"},
                        "persistentVolumeReclaimPolicy": "Delete",
                    },
                }
            )
            made.append(name)

    yield make
    for name in made:
        with contextlib.suppress(errors.NotFound):
            client.delete(PV, name)


# --- the devnet reaches Ready ------------------------------------------------------------------------------


def test_devnet_reaches_ready_without_leaking_keys(
    devnet: Devnet,
    client: Client,
    control_plane: ControlPlane,
    namespace: str,
    volumes: Callable[[int], None],
    logs: LogCapture,
) -> None:
    volumes(1)
    started = time.monotonic()
    addresses = {role: devnet.key_secret(role) for role in KINDS}
    for role in KINDS:
        devnet.component(role)
    ready = {
        role: wait_condition(client, gvk, namespace, f"devnet-{role}", "Ready", "True", timeout=120)
        for role, gvk in KINDS.items()
    }
    elapsed = time.monotonic() - started
    print(f"\ndevnet batcher+proposer+challenger Ready {elapsed:.1f}s after creation")

    for role, obj in ready.items():
        status = obj["status"]
        assert status["signerAddress"] == addresses[role]
        assert status["phase"] == "Running"
        assert int(status["signerBalanceWei"]) == 10 * ETH
        assert status["observedGeneration"] == obj["metadata"]["generation"]
        for type_ in ("NetworkReady", "SequencerReady", "SignerReady", "SignerFunded", "WorkloadReady"):
            assert (condition(obj, type_) or {}).get("status") == "True", (role, type_, condition(obj, type_))
        assert balance_metric(role, namespace, f"devnet-{role}", addresses[role]) == 10 * ETH

    seq_host = f"devnet-sequencer.{namespace}.svc"
    assert ready["batcher"]["status"]["batcherInfo"] == {
        "l2RpcUrl": f"http://{seq_host}:8545",
        "rollupRpcUrl": f"http://{seq_host}:9545",
        "batchInboxAddr": devnet.client.get(NETWORK, "devnet", namespace)["status"]["networkInfo"][
            "discoveredContracts"
        ]["batchInboxAddr"],
        "dataAvailability": "calldata",
    }
    factory = client.get(NETWORK, "devnet", namespace)["status"]["networkInfo"]["discoveredContracts"][
        "disputeGameFactoryAddr"
    ]
    assert ready["proposer"]["status"]["proposerInfo"]["disputeGameFactoryAddr"] == factory
    assert ready["challenger"]["status"]["challengerInfo"]["traceTypes"] == ["permissioned", "cannon"]

    # Workloads: one replica, Recreate for the Deployments; every flag known to the pinned version; the key
    # only as an env var from its Secret.
    workloads = {
        "batcher": client.get(DEPLOYMENT, "devnet-batcher", namespace),
        "proposer": client.get(DEPLOYMENT, "devnet-proposer", namespace),
        "challenger": client.get(STATEFULSET, "devnet-challenger", namespace),
    }
    for role, workload in workloads.items():
        assert workload["spec"]["replicas"] == 1
        if role != "challenger":
            assert workload["spec"]["strategy"] == {"type": "Recreate"}
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        component: Component = f"op-{role}"  # type: ignore[assignment]
        allowed = flag_set(component, container["image"]).flags
        unknown = [f for f in flag_names(container["args"]) if f not in allowed]
        assert not unknown, f"{role}: flags its version does not accept: {unknown}"
        key_env = [e for e in container.get("env", ()) if e["name"].endswith("_PRIVATE_KEY")]
        assert key_env == [
            {
                "name": f"OP_{role.upper()}_PRIVATE_KEY",
                "valueFrom": {"secretKeyRef": {"name": f"devnet-{role}-key", "key": "private-key"}},
            }
        ]
        assert not any(a.startswith("--private-key") for a in container["args"])
        owner = workload["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["controller"]) == (
            KINDS[role].kind,
            f"devnet-{role}",
            True,
        )

    # Steady state: balances are re-read every second, nothing is written while nothing changes.
    resources = ("deployments", "statefulsets", "services", "opbatchers", "opproposers", "opchallengers")
    reads_before = (
        REGISTRY.get_sample_value("opstack_l1_rpc_requests_total", {"method": "eth_getBalance"}) or 0
    )
    before = audit_writes(control_plane, namespace, resources)
    time.sleep(4)
    writes = audit_writes(control_plane, namespace, resources) - before
    reads = (
        REGISTRY.get_sample_value("opstack_l1_rpc_requests_total", {"method": "eth_getBalance"}) or 0
    ) - (reads_before)
    print(f"steady state over 4s: {writes} writes, {reads:.0f} eth_getBalance reads")
    assert reads >= 3 * 2, "the balances were not re-read periodically"
    assert writes == 0, f"{writes} writes in steady state"

    # The key appears nowhere: logs, Events, status, args, env values of any pod or workload.
    keys = [k.removeprefix("0x").lower() for k in devnet.keys.values()]
    pods, _ = client.list_all(POD, namespace)
    assert len([p for p in pods if p["status"].get("phase") == "Running"]) >= 3
    haystacks = {
        "logs": "\n".join(logs.lines),
        "events": json.dumps(client.list_all(EVENT, namespace)[0]),
        "status": json.dumps(
            [client.get(g, f"devnet-{r}", namespace).get("status") for r, g in KINDS.items()]
        ),
        "workloads": json.dumps(list(workloads.values())),
        "pods": json.dumps(pods),
    }
    assert len(logs.lines) > 50, "the manager's logs were not captured"
    for where, text in haystacks.items():
        for key in keys:
            assert key not in text.lower(), f"a signing key appears in the {where}"


# --- signer balance ----------------------------------------------------------------------------------------


def test_draining_and_funding_the_signer_flips_signer_funded(
    devnet: Devnet, client: Client, namespace: str, l1: Anvil
) -> None:
    address = devnet.key_secret("batcher", fund=10 * ETH)
    devnet.component("batcher")  # threshold 0.5eth (sample)
    wait_condition(client, OP_BATCHER.gvk, namespace, "devnet-batcher", "SignerFunded", "True")

    l1.rpc("anvil_setBalance", [address, hex(ETH // 10)])
    obj = wait_condition(
        client, OP_BATCHER.gvk, namespace, "devnet-batcher", "SignerFunded", "False", "BalanceLow"
    )
    message = condition(obj, "SignerFunded")["message"]  # type: ignore[index]
    assert address in message and "0.1 ETH" in message and "0.5eth" in message
    assert obj["status"]["signerBalanceWei"] == str(ETH // 10)
    wait_for(
        lambda: balance_metric("batcher", namespace, "devnet-batcher", address) == ETH // 10, 10, "metric"
    )
    low = wait_for(
        lambda: [
            e for e in events_for(client, namespace, "devnet-batcher") if e["reason"] == "SignerBalanceLow"
        ],
        15,
        "a SignerBalanceLow Event",
    )
    assert low[0]["type"] == "Warning" and address in low[0]["message"]
    # Ready stays: a low balance warns, it does not stop the batcher; the phase says Degraded.
    assert (condition(obj, "Ready") or {}).get("status") == "True" and obj["status"]["phase"] == "Degraded"

    l1.rpc("anvil_setBalance", [address, hex(3 * ETH)])
    obj = wait_condition(client, OP_BATCHER.gvk, namespace, "devnet-batcher", "SignerFunded", "True")
    assert obj["status"]["phase"] == "Running" and obj["status"]["signerBalanceWei"] == str(3 * ETH)
    wait_for(
        lambda: [e for e in events_for(client, namespace, "devnet-batcher") if e["reason"] == "SignerFunded"],
        15,
        "a SignerFunded Event",
    )


# --- bad inputs, each with its own condition, and recovery -------------------------------------------------


def test_bad_signer_inputs_get_clear_conditions_and_recover(
    devnet: Devnet, client: Client, namespace: str, l1: Anvil
) -> None:
    gvk = OP_BATCHER.gvk
    devnet.component("batcher")
    obj = wait_condition(
        client, gvk, namespace, "devnet-batcher", "SignerReady", "False", "KeySecretNotFound"
    )
    msg = condition(obj, "SignerReady")["message"]  # type: ignore[index]
    assert "spec.privateKey.secretRef" in msg and "devnet-batcher-key" in msg
    assert (condition(obj, "Ready") or {}).get("status") == "False" and obj["status"]["phase"] == "Error"
    with pytest.raises(errors.NotFound):
        client.get(DEPLOYMENT, "devnet-batcher", namespace)

    # A key with a trailing newline (what `echo` writes): the binary would refuse it.
    bad = generate_signing_key()
    client.create(secret("devnet-batcher-key", namespace, {"private-key": bad + "\n"}))
    obj = wait_condition(client, gvk, namespace, "devnet-batcher", "SignerReady", "False", "KeyMalformed")
    msg = condition(obj, "SignerReady")["message"]  # type: ignore[index]
    assert "whitespace" in msg and bad.removeprefix("0x") not in msg.lower()

    good = generate_signing_key()
    address = address_of(parse_signing_key(good))
    l1.rpc("anvil_setBalance", [address, hex(10 * ETH)])
    client.patch(
        SECRET,
        "devnet-batcher-key",
        {"data": {"private-key": base64.b64encode(good.encode()).decode()}},
        namespace,
    )
    obj = wait_condition(client, gvk, namespace, "devnet-batcher", "Ready", "True", timeout=90)
    assert obj["status"]["signerAddress"] == address

    # A proposer with the batcher's key: refused (the batcher is older), no workload; its own key fixes it.
    client.create(secret("devnet-proposer-key", namespace, {"private-key": good}))
    devnet.component("proposer")
    obj = wait_condition(
        client, OP_PROPOSER.gvk, namespace, "devnet-proposer", "SignerReady", "False", "DuplicateSigner"
    )
    msg = condition(obj, "SignerReady")["message"]  # type: ignore[index]
    assert address in msg and f"OpBatcher {namespace}/devnet-batcher" in msg
    assert (condition(client.get(gvk, "devnet-batcher", namespace), "SignerReady") or {}).get(
        "status"
    ) == "True"
    with pytest.raises(errors.NotFound):
        client.get(DEPLOYMENT, "devnet-proposer", namespace)
    own = generate_signing_key()
    l1.rpc("anvil_setBalance", [address_of(parse_signing_key(own)), hex(10 * ETH)])
    client.patch(
        SECRET,
        "devnet-proposer-key",
        {"data": {"private-key": base64.b64encode(own.encode()).decode()}},
        namespace,
    )
    wait_condition(client, OP_PROPOSER.gvk, namespace, "devnet-proposer", "Ready", "True", timeout=90)
    assert client.get(DEPLOYMENT, "devnet-proposer", namespace)["spec"]["replicas"] == 1

    # A running component whose key becomes another's: its pods go (never two instances of one signer).
    client.patch(
        SECRET,
        "devnet-proposer-key",
        {"data": {"private-key": base64.b64encode(good.encode()).decode()}},
        namespace,
    )
    wait_condition(
        client, OP_PROPOSER.gvk, namespace, "devnet-proposer", "SignerReady", "False", "DuplicateSigner"
    )

    def proposer_gone() -> bool:
        try:
            dep = client.get(DEPLOYMENT, "devnet-proposer", namespace)
        except errors.NotFound:
            return True
        return bool(dep["metadata"].get("deletionTimestamp"))

    wait_for(proposer_gone, 30, "the duplicate proposer's Deployment to be deleted")
    obj = client.get(OP_PROPOSER.gvk, "devnet-proposer", namespace)
    assert (condition(obj, "WorkloadReady") or {}).get("reason") == "SignerRefused"


def test_bad_sequencer_refs_get_clear_conditions_and_recover(
    devnet: Devnet, client: Client, namespace: str
) -> None:
    gvk = OP_BATCHER.gvk
    devnet.key_secret("batcher")
    devnet.component("batcher", sequencerRef={"name": "devnet-replica"})
    obj = wait_condition(client, gvk, namespace, "devnet-batcher", "SequencerReady", "False", "NotASequencer")
    msg = condition(obj, "SequencerReady")["message"]  # type: ignore[index]
    assert "devnet-replica" in msg and "replica" in msg and "nodeType: sequencer" in msg
    with pytest.raises(errors.NotFound):
        client.get(DEPLOYMENT, "devnet-batcher", namespace)

    client.patch(gvk, "devnet-batcher", {"spec": {"sequencerRef": {"name": "no-such-node"}}}, namespace)
    obj = wait_condition(
        client, gvk, namespace, "devnet-batcher", "SequencerReady", "False", "SequencerNotFound"
    )
    assert "no-such-node" in condition(obj, "SequencerReady")["message"]  # type: ignore[index]

    client.patch(gvk, "devnet-batcher", {"spec": {"sequencerRef": {"name": "devnet-sequencer"}}}, namespace)
    wait_condition(client, gvk, namespace, "devnet-batcher", "Ready", "True", timeout=90)


# --- the sequencer's ports ---------------------------------------------------------------------------------


def test_sequencer_port_change_rerenders_urls_and_rolls_the_pods(
    devnet: Devnet, client: Client, namespace: str
) -> None:
    for role in ("batcher", "proposer"):
        devnet.key_secret(role)
        devnet.component(role)
    for role in ("batcher", "proposer"):
        wait_condition(client, KINDS[role], namespace, f"devnet-{role}", "Ready", "True", timeout=90)

    def pod_hashes(role: str) -> set[str]:
        pods, _ = client.list_all(POD, namespace, label_selector=f"app.kubernetes.io/instance=devnet-{role}")
        return {
            p["metadata"]["annotations"][ANNOTATION_CONFIG_HASH]
            for p in pods
            if not p["metadata"].get("deletionTimestamp")
        }

    old = {r: pod_hashes(r) for r in ("batcher", "proposer")}
    assert all(len(h) == 1 for h in old.values()), old

    client.patch(
        OP_NODE.gvk,
        "devnet-sequencer",
        {"spec": {"opNode": {"rpc": {"port": 9645}}, "opGeth": {"networking": {"http": {"port": 8645}}}}},
        namespace,
    )
    devnet.sequencer_ready()  # the new generation is Ready (what the OpNode controller would report)
    host = f"devnet-sequencer.{namespace}.svc"

    def rendered(role: str) -> bool:
        dep = client.get(DEPLOYMENT, f"devnet-{role}", namespace)
        args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
        want = {f"--rollup-rpc=http://{host}:9645"}
        if role == "batcher":
            want.add(f"--l2-eth-rpc=http://{host}:8645")
        return want <= set(args)

    for role in ("batcher", "proposer"):
        wait_for(lambda r=role: rendered(r), 30, f"the {role}'s new URLs")  # type: ignore[misc]
        new = wait_for(
            lambda r=role: (h := pod_hashes(r)) and h.isdisjoint(old[r]) and len(h) == 1 and h,  # type: ignore[misc]
            90,
            f"the {role}'s pods to roll",
        )
        assert new != old[role]
        obj = wait_condition(client, KINDS[role], namespace, f"devnet-{role}", "Ready", "True", timeout=90)
        info = obj["status"][f"{role}Info"]
        assert info["rollupRpcUrl"] == f"http://{host}:9645"


# --- with the real OpNode controller ----------------------------------------------------------------------


def test_devnet_reaches_ready_with_the_real_opnode_controller(
    operator: Operator,
    client: Client,
    namespace: str,
    l1: Anvil,
    op_stack: OpStackL1,
    beacon: str,
    volumes: Callable[[int], None],
) -> None:
    """The whole devnet of config/samples, the sequencer's readiness reported by the OpNode controller
    (added to the running manager here, after the tests that set the sequencer's status themselves)."""
    from opstack.controllers import opnode

    opnode.setup(operator.mgr)
    volumes(4)  # sequencer 1, replica 2, challenger 1
    sequencer_key = generate_signing_key()
    client.create(secret("devnet-sequencer-key", namespace, {"private-key": sequencer_key}))
    # The sequencer's key must be the chain's unsafe block signer (the OpNode controller checks it against
    # the SystemConfig); the fixture's SystemConfig is owned by anvil's first account.
    set_unsafe_block_signer(l1, op_stack, address_of(parse_signing_key(sequencer_key)))
    try:
        started = time.monotonic()
        devnet = Devnet(client, namespace, l1, op_stack, beacon)
        for role in KINDS:
            devnet.key_secret(role)
            devnet.component(role)
        wait_condition(client, OP_NODE.gvk, namespace, "devnet-sequencer", "Ready", "True", timeout=180)
        for role, gvk in KINDS.items():
            wait_condition(client, gvk, namespace, f"devnet-{role}", "Ready", "True", timeout=120)
        wait_condition(client, OP_NODE.gvk, namespace, "devnet-replica", "Ready", "True", timeout=120)
        print(
            f"\nfull devnet (real OpNode controller) Ready {time.monotonic() - started:.1f}s after creation"
        )
    finally:
        set_unsafe_block_signer(l1, op_stack, op_stack.unsafe_block_signer)


def set_unsafe_block_signer(l1: Anvil, op_stack: OpStackL1, address: str) -> None:
    from web3 import HTTPProvider, Web3

    from opstack.testing.contracts_bedrock import artifact

    w3 = Web3(HTTPProvider(l1.url))
    system_config = w3.eth.contract(
        address=Web3.to_checksum_address(op_stack.system_config), abi=artifact("SystemConfig").abi
    )
    tx = system_config.functions.setUnsafeBlockSigner(Web3.to_checksum_address(address)).transact(
        {"from": w3.eth.accounts[0]}
    )
    assert w3.eth.wait_for_transaction_receipt(tx, timeout=30)["status"] == 1
