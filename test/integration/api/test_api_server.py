"""The generated CRDs against the real API server: accepted and Established, samples created, mistakes
refused with messages that name the field, `kubectl explain` and `kubectl get opstack` working, and the
models agreeing with the API server's defaulting."""

from __future__ import annotations

import copy
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opstack.api.v1alpha1 import KINDS, parse_object
from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.testing.crds import CRD_GVK, install_crds
from opstack.testing.samples import CRD_BASES, INVALID, SAMPLES, invalid_index, load, valid_samples

pytestmark = pytest.mark.integration


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def crds(kubeconfig: str) -> list[dict[str, Any]]:
    return install_crds(kubeconfig, [CRD_BASES])


@pytest.fixture(scope="module")
def client(kubeconfig: str, crds: list[dict[str, Any]]) -> Iterator[Client]:
    c = Client.from_kubeconfig(kubeconfig)
    yield c
    c.close()


def kubectl(control_plane: Any, *args: str) -> str:
    if control_plane.assets is None:
        pytest.skip("no kubectl beside the control plane (USE_EXISTING_CLUSTER)")
    out = subprocess.run(
        [str(Path(control_plane.assets) / "kubectl"), "--kubeconfig", str(control_plane.kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def in_namespace(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"]["namespace"] = namespace
    return obj


def test_every_crd_is_established(crds: list[dict[str, Any]], client: Client) -> None:
    assert {c["metadata"]["name"] for c in crds} == {k.crd_name for k in KINDS}
    for info in KINDS:
        crd = client.get(CRD_GVK, info.crd_name)
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions["Established"] == "True" and conditions["NamesAccepted"] == "True"
        assert crd["status"]["acceptedNames"]["shortNames"] == list(info.short_names)
        assert crd["status"]["acceptedNames"]["categories"] == ["opstack"]


def test_install_is_idempotent(kubeconfig: str, crds: list[dict[str, Any]]) -> None:
    again = install_crds(kubeconfig, [CRD_BASES])
    assert [c["metadata"]["uid"] for c in again] == [c["metadata"]["uid"] for c in crds]


@pytest.mark.parametrize("path", valid_samples(), ids=lambda p: p.stem)
def test_sample_is_created_and_round_trips(client: Client, namespace: str, path: Path) -> None:
    sample = load(path)
    created = client.create(in_namespace(sample, namespace))
    stored = client.get(GVK.from_object(sample), sample["metadata"]["name"], namespace)
    assert stored["metadata"]["uid"] == created["metadata"]["uid"]
    # The API server applied the schema's defaults; the models apply the same ones.
    assert stored["spec"] == parse_object(sample).to_dict()["spec"]
    # ...and the stored object is a valid model too, unchanged by another round.
    assert parse_object(stored).to_dict()["spec"] == stored["spec"]


@pytest.mark.parametrize("entry", invalid_index(), ids=lambda e: e["file"])
def test_invalid_sample_is_refused_naming_the_field(
    client: Client, namespace: str, entry: dict[str, Any]
) -> None:
    bad = in_namespace(load(INVALID / entry["file"]), namespace)
    if "updateOf" in entry:
        base = client.create(in_namespace(load(SAMPLES / entry["updateOf"]), namespace))
        assert base["metadata"]["name"] == bad["metadata"]["name"]
        bad["metadata"]["resourceVersion"] = base["metadata"]["resourceVersion"]
        with pytest.raises(errors.Invalid) as info:
            client.update(bad)
    else:
        with pytest.raises(errors.Invalid) as info:
            client.create(bad)
    text = str(info.value)
    assert entry["field"] in text, text
    assert entry["message"] in text, text
    # Nothing was stored: no object, or the old one unchanged.
    if "updateOf" in entry:
        assert client.get(GVK.from_object(bad), bad["metadata"]["name"], namespace)["spec"] == base["spec"]
    else:
        with pytest.raises(errors.NotFound):
            client.get(GVK.from_object(bad), bad["metadata"]["name"], namespace)


def test_kubectl_explain_teaches_the_api(control_plane: Any, crds: list[dict[str, Any]]) -> None:
    def explained() -> bool:
        try:
            return "storage" in kubectl(control_plane, "explain", "opnode.spec.opGeth")
        except AssertionError:
            return False

    wait_for(explained, 60, "the OpenAPI of the CRDs to be published")
    out = kubectl(control_plane, "explain", "opnode.spec.opGeth")
    assert "Settings of the op-geth container" in out
    assert "Persistent volume of the chain data" in out
    storage = kubectl(control_plane, "explain", "opnode.spec.opGeth.storage.size")
    assert "never shrink" in storage
    node_type = kubectl(control_plane, "explain", "opn.spec.nodeType")
    assert "sequencer" in node_type and "Immutable" in node_type
    net = kubectl(control_plane, "explain", "opnet.spec.contractAddresses.discoveryMethod")
    assert "system-config" in net


def test_kubectl_get_opstack_lists_every_kind_with_columns(
    control_plane: Any, client: Client, namespace: str
) -> None:
    for path in valid_samples():
        client.create(in_namespace(load(path), namespace))
    # Give the sequencer a status, as its controller will, so the columns have something to show.
    seq = client.get(GVK.from_object(load(valid_samples()[3])), "devnet-sequencer", namespace)
    seq["status"] = {
        "phase": "Running",
        "observedGeneration": seq["metadata"]["generation"],
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "NodeSynced",
                "message": "op-node and op-geth are running and in sync",
                "lastTransitionTime": "2025-07-11T10:00:00Z",
                "observedGeneration": seq["metadata"]["generation"],
            }
        ],
        "nodeInfo": {
            "peerCount": 3,
            "syncStatus": {"unsafeL2": {"number": 4242}, "safeL2": {"number": 4200}},
        },
    }
    client.update_status(seq)

    out = kubectl(control_plane, "get", "opstack", "-n", namespace)
    for name in (
        "optimismnetwork.optimism.optimism.io/devnet",
        "optimismnetwork.optimism.optimism.io/op-sepolia",
    ):
        assert name in out
    for kind in ("opnode", "opbatcher", "opproposer", "opchallenger"):
        assert f"{kind}.optimism.optimism.io/devnet-" in out, out
    for header in (
        "CHAIN ID",
        "L1 CHAIN ID",
        "TYPE",
        "NETWORK",
        "SEQUENCER",
        "DA",
        "GAME TYPE",
        "TRACE TYPES",
    ):
        assert header in out, out

    nodes = kubectl(control_plane, "get", "opn", "-n", namespace, "-o", "wide")
    line = next(ln for ln in nodes.splitlines() if ln.startswith("devnet-sequencer"))
    cells = line.split()
    assert cells[:7] == ["devnet-sequencer", "sequencer", "devnet", "Running", "True", "4242", "4200"], line
    assert "3" in cells[7:]
    nets = kubectl(control_plane, "get", "opnet", "-n", namespace)
    assert any(
        ln.split()[:4] == ["op-sepolia", "op-sepolia", "11155420", "11155111"] for ln in nets.splitlines()
    )
