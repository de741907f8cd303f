"""The sample devnet of config/samples, made runnable on a local control plane (kwok) with anvil as L1.

Shared by `make dev` (`python -m opstack.dev`) and the tests: the pieces a real cluster would have that a
kwok plane lacks, and the substitutions the samples leave to whoever applies them.

- `BeaconStub`: the three beacon API paths the network controller checks (anvil has no consensus layer;
  op-challenger needs an `l1BeaconUrl`).
- `persistent_volumes`: PersistentVolumes for the StatefulSets' claims (no provisioner runs on the plane).
- `Devnet.apply()`: rollup/genesis ConfigMaps, fresh signing keys in the Secrets the samples name (funded on
  L1; the sequencer's key made the chain's unsafe block signer, which the OpNode controller checks), then
  network, sequencer, replica, batcher, proposer and challenger, with the network's L1 URL, beacon URL and
  SystemConfig address substituted.

Invariants:
- Keys are generated here and written only to Secrets; nothing here prints or logs them.
- `OBJECTS` lists every devnet object (`kubectl wait` targets), in the order they are created.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opstack.components.keys import address_of, generate_signing_key, parse_signing_key
from opstack.runtime.client import Client
from opstack.testing.anvil import rpc
from opstack.testing.l1 import OpStackL1
from opstack.testing.samples import SAMPLES, load

L1_CHAIN_ID = 900
L2_CHAIN_ID = 901
ETH = 10**18
ROLLUP = json.dumps({"l1_chain_id": L1_CHAIN_ID, "l2_chain_id": L2_CHAIN_ID, "block_time": 2})
GENESIS = json.dumps({"config": {"chainId": L2_CHAIN_ID}, "alloc": {}})

# (sample file suffix, kind's plural, name): every object of the devnet, in creation order.
OBJECTS: tuple[tuple[str, str, str], ...] = (
    ("optimismnetwork_devnet", "optimismnetworks", "devnet"),
    ("opnode_devnet_sequencer", "opnodes", "devnet-sequencer"),
    ("opnode_devnet_replica", "opnodes", "devnet-replica"),
    ("opbatcher_devnet", "opbatchers", "devnet-batcher"),
    ("opproposer_devnet", "opproposers", "devnet-proposer"),
    ("opchallenger_devnet", "opchallengers", "devnet-challenger"),
)
SIGNERS = ("sequencer", "batcher", "proposer", "challenger")
# Claims of the StatefulSets: sequencer 1, replica 2, challenger 1 (each asks for 20Gi).
VOLUMES = 4


class _BeaconHandler(BaseHTTPRequestHandler):
    answers = {
        "/eth/v1/node/version": {"data": {"version": "Lighthouse/v7.0.1-stub"}},
        "/eth/v1/beacon/genesis": {"data": {"genesis_time": "1700000000"}},
        "/eth/v1/config/deposit_contract": {
            "data": {"chain_id": str(L1_CHAIN_ID), "address": "0x" + "00" * 20}
        },
    }

    def do_GET(self) -> None:
        body = self.answers.get(self.path)
        data = json.dumps(body or {"code": 404, "message": "not found"}).encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class BeaconStub:
    """A beacon API stub on a free loopback port, served by a daemon thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = ThreadingHTTPServer((host, 0), _BeaconHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="beacon-stub", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> BeaconStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever, which must be running
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> BeaconStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def persistent_volumes(client: Client, count: int, prefix: str, size: str = "20Gi") -> list[str]:
    """`count` hostPath PersistentVolumes named `<prefix>-<i>`, for claims to bind to; returns the names."""
    names = []
    for i in range(count):
        name = f"{prefix}-{i}"[:63]
        client.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "devnet"}},
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": ["ReadWriteOnce"],
                    "hostPath": {"path": f"/tmp/{name}"},
                    "persistentVolumeReclaimPolicy": "Delete",
                },
            }
        )
        names.append(name)
    return names


def secret(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": encoded,
    }


def config_map(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def sample(name: str, namespace: str) -> dict[str, Any]:
    obj = load(SAMPLES / f"optimism_v1alpha1_{name}.yaml")
    obj["metadata"]["namespace"] = namespace
    return obj


def set_unsafe_block_signer(l1_url: str, system_config: str, address: str) -> None:
    """SystemConfig.setUnsafeBlockSigner from the owner (anvil's first account, the fixture's deployer)."""
    from web3 import HTTPProvider, Web3

    from opstack.testing.contracts_bedrock import artifact

    w3 = Web3(HTTPProvider(l1_url))
    contract = w3.eth.contract(
        address=Web3.to_checksum_address(system_config), abi=artifact("SystemConfig").abi
    )
    tx = contract.functions.setUnsafeBlockSigner(Web3.to_checksum_address(address)).transact(
        {"from": w3.eth.accounts[0]}
    )
    if w3.eth.wait_for_transaction_receipt(tx, timeout=30)["status"] != 1:
        raise RuntimeError("setUnsafeBlockSigner reverted")


class Devnet:
    """The devnet of config/samples in one namespace, on an L1 deployed by `deploy_op_stack`."""

    def __init__(self, client: Client, namespace: str, op_stack: OpStackL1, beacon_url: str) -> None:
        self.client, self.namespace, self.op_stack, self.beacon_url = client, namespace, op_stack, beacon_url
        self.addresses: dict[str, str] = {}  # role -> signer address (public)

    def objects(self) -> list[dict[str, Any]]:
        """The sample objects with this devnet's namespace, L1 URL, beacon URL and SystemConfig address."""
        out = []
        for file, _, _ in OBJECTS:
            obj = sample(file, self.namespace)
            if obj["kind"] == "OptimismNetwork":
                obj["spec"]["l1RpcUrl"] = self.op_stack.url
                obj["spec"]["l1BeaconUrl"] = self.beacon_url  # op-challenger needs one (--l1-beacon)
                obj["spec"]["contractAddresses"]["systemConfigAddr"] = self.op_stack.system_config
            out.append(obj)
        return out

    def apply(self, fund: int = 10 * ETH) -> None:
        ns = self.namespace
        self.client.create(config_map("devnet-rollup", ns, {"rollup.json": ROLLUP}))
        self.client.create(config_map("devnet-genesis", ns, {"genesis.json": GENESIS}))
        for role in SIGNERS:
            key = generate_signing_key()
            address = address_of(parse_signing_key(key))
            self.client.create(secret(f"devnet-{role}-key", ns, {"private-key": key}))
            rpc(self.op_stack.url, "anvil_setBalance", [address, hex(fund)])
            self.addresses[role] = address
        set_unsafe_block_signer(self.op_stack.url, self.op_stack.system_config, self.addresses["sequencer"])
        for obj in self.objects():
            self.client.create(obj)


__all__ = [
    "GENESIS",
    "L1_CHAIN_ID",
    "L2_CHAIN_ID",
    "OBJECTS",
    "ROLLUP",
    "VOLUMES",
    "BeaconStub",
    "Devnet",
    "persistent_volumes",
    "set_unsafe_block_signer",
]
