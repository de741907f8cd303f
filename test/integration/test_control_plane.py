"""The foundation: the local control plane is a real Kubernetes, and the fixtures keep their promises.

These tests talk to the API server with the harness's own minimal HTTP (not the runtime client), so
that they show the control plane works independently of the code they will later test.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.error
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opstack.testing.anvil import Anvil
from opstack.testing.envtest import KWOK_NODE, REPO_ROOT, ControlPlane, wait_until

GROUP = "test.opstack.io"


def _crd(plural: str, kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"},
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
                                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                                "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
                            },
                        }
                    },
                }
            ],
        },
    }


def _established(plane: ControlPlane, name: str) -> bool:
    crd = plane.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    return any(
        c["type"] == "Established" and c["status"] == "True"
        for c in crd.get("status", {}).get("conditions", [])
    )


def _open_watch(
    plane: ControlPlane, path: str
) -> tuple[http.client.HTTPSConnection, http.client.HTTPResponse]:
    host, port = plane.server.removeprefix("https://").rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=plane.ssl_context, timeout=30)
    conn.request("GET", path, headers={"Accept": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    return conn, resp


def test_crd_established_custom_resource_status_and_raw_watch(
    control_plane: ControlPlane, namespace: str
) -> None:
    plural = f"widgets{uuid.uuid4().hex[:6]}"
    crd = _crd(plural, "Widget" + plural[-6:].capitalize())
    control_plane.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    wait_until(lambda: _established(control_plane, crd["metadata"]["name"]), 30, "CRD Established")
    base = f"/apis/{GROUP}/v1/namespaces/{namespace}/{plural}"
    kind = crd["spec"]["names"]["kind"]
    # The CRD's discovery and storage may lag Established by a moment: wait until a list answers.
    wait_until(lambda: control_plane.request("GET", base)["kind"] == f"{kind}List", 30, "CR list served")

    listed = control_plane.request("GET", base)
    conn, stream = _open_watch(
        control_plane, f"{base}?watch=true&resourceVersion={listed['metadata']['resourceVersion']}"
    )
    try:
        obj = {"apiVersion": f"{GROUP}/v1", "kind": kind, "metadata": {"name": "w1"}, "spec": {"size": 3}}
        created = control_plane.request("POST", base, obj)
        read = control_plane.request("GET", f"{base}/w1")
        assert read["spec"] == {"size": 3}
        assert read["metadata"]["uid"] == created["metadata"]["uid"]

        read["status"] = {"ready": True}
        updated = control_plane.request("PUT", f"{base}/w1/status", read)
        assert updated["status"] == {"ready": True}
        assert updated["metadata"]["generation"] == 1, "a status write must not bump the generation"
        # The main resource ignores status; the status subresource ignores spec.
        read2 = control_plane.request("GET", f"{base}/w1")
        read2["spec"]["size"] = 4
        read2["status"] = {"ready": False}
        after = control_plane.request("PUT", f"{base}/w1", read2)
        assert after["status"] == {"ready": True} and after["spec"]["size"] == 4

        control_plane.request("DELETE", f"{base}/w1")

        events = []
        while len(events) < 4:
            line = stream.readline()
            assert line, "watch stream ended early"
            ev = json.loads(line)
            events.append((ev["type"], ev["object"].get("spec"), ev["object"].get("status")))
    finally:
        conn.close()
    assert [e[0] for e in events] == ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]
    assert events[0][1] == {"size": 3}
    assert events[1][2] == {"ready": True}
    assert events[2][1] == {"size": 4}


def _deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "example.invalid/app:1", "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }


def test_deployment_pod_becomes_ready_on_kwok_node(control_plane: ControlPlane, namespace: str) -> None:
    control_plane.request("POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", _deployment("web"))

    def ready_pod() -> dict[str, Any] | None:
        pods = control_plane.request("GET", f"/api/v1/namespaces/{namespace}/pods?labelSelector=app%3Dweb")[
            "items"
        ]
        for pod in pods:
            conds = {c["type"]: c["status"] for c in pod.get("status", {}).get("conditions", [])}
            if conds.get("Ready") == "True" and pod["status"].get("phase") == "Running":
                return pod  # type: ignore[no-any-return]
        return None

    wait_until(lambda: ready_pod() is not None, 60, "a Ready pod of the Deployment")
    pod = ready_pod()
    assert pod is not None and pod["spec"]["nodeName"] == KWOK_NODE
    wait_until(
        lambda: (
            control_plane.request("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/web")[
                "status"
            ].get("readyReplicas")
            == 1
        ),
        60,
        "Deployment readyReplicas=1",
    )


def _gone(plane: ControlPlane, path: str) -> bool:
    try:
        plane.request("GET", path)
    except urllib.error.HTTPError as e:
        return e.code == 404
    return False


def test_garbage_collection_follows_owner_references(control_plane: ControlPlane, namespace: str) -> None:
    cm = f"/api/v1/namespaces/{namespace}/configmaps"
    owner = control_plane.request("POST", cm, {"metadata": {"name": "owner"}, "data": {"k": "v"}})
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
        "controller": True,
    }
    control_plane.request("POST", cm, {"metadata": {"name": "child", "ownerReferences": [ref]}, "data": {}})
    control_plane.request("DELETE", f"{cm}/owner")
    wait_until(lambda: _gone(control_plane, f"{cm}/child"), 60, "the child to be garbage-collected")


def test_deleting_a_namespace_removes_it(control_plane: ControlPlane) -> None:
    name = f"doomed-{uuid.uuid4().hex[:6]}"
    control_plane.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    control_plane.request("POST", f"/api/v1/namespaces/{name}/configmaps", {"metadata": {"name": "x"}})
    control_plane.request("DELETE", f"/api/v1/namespaces/{name}")
    wait_until(lambda: _gone(control_plane, f"/api/v1/namespaces/{name}"), 60, "the namespace to be removed")


def test_rbac_forbids_until_a_rolebinding_grants(control_plane: ControlPlane, namespace: str) -> None:
    kubeconfig = control_plane.add_user(f"alice-{namespace}", groups=["developers"])
    kubectl = str(Path(control_plane.assets or "") / "kubectl")
    cmd = [kubectl, "--kubeconfig", str(kubeconfig), "-n", namespace, "get", "secrets", "-o", "name"]
    denied = subprocess.run(cmd, capture_output=True, text=True)
    assert denied.returncode != 0
    assert "Forbidden" in denied.stderr and "secrets" in denied.stderr

    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"
    control_plane.request(
        "POST",
        f"{rbac}/roles",
        {
            "metadata": {"name": "secret-reader"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}],
        },
    )
    control_plane.request(
        "POST",
        f"{rbac}/rolebindings",
        {
            "metadata": {"name": "alice-reads"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"},
            "subjects": [
                {"kind": "User", "name": f"alice-{namespace}", "apiGroup": "rbac.authorization.k8s.io"}
            ],
        },
    )
    wait_until(lambda: subprocess.run(cmd, capture_output=True).returncode == 0, 30, "RBAC to grant the list")


def test_anvil_fixture_serves_the_chosen_chain_id(anvil: Callable[..., Anvil]) -> None:
    node = anvil(chain_id=901)
    assert int(node.rpc("eth_chainId"), 16) == 901
    assert int(node.rpc("eth_blockNumber"), 16) >= 0


def test_second_build_reuses_cached_binaries(control_plane: ControlPlane) -> None:
    if os.environ.get("KUBEBUILDER_ASSETS"):
        pytest.skip("binaries come from KUBEBUILDER_ASSETS: nothing is built at all")
    t0 = time.monotonic()
    out = subprocess.run(
        ["bash", str(REPO_ROOT / "hack/envtest/build.sh")], check=True, capture_output=True, text=True
    )
    assert ">> building" not in out.stderr, out.stderr
    assert Path(out.stdout.strip().splitlines()[-1]) == control_plane.assets
    assert time.monotonic() - t0 < 30, "a cached build must not compile anything"


def test_processes_die_with_an_interrupted_owner(control_plane: ControlPlane) -> None:
    """A test run killed outright (SIGKILL: no teardown at all) leaves no control-plane process behind."""
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from opstack.testing.envtest import ControlPlane\n"
        "p = ControlPlane(assets=Path(sys.argv[1]), controller_manager=False, scheduler=False, kwok=False)\n"
        "p.start()\n"
        "print(' '.join(str(x.popen.pid) for x in p.processes.values() if x.popen), flush=True)\n"
        "sys.stdin.read()\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script, str(control_plane.assets)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    pids = [int(p) for p in owner.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    owner.kill()
    owner.wait()
    wait_until(
        lambda: not any(_alive(p) for p in pids), 15, "etcd and kube-apiserver to die with their owner"
    )


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
