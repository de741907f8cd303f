"""Shared code of the reliability scenarios: their size, the operator as a real process, and the evidence
(logs, audit entries, key material) that the secrets and least-privilege checks read at the end.

One piece of code serves both sizes: `SCALE` is `FAST` (the default, what `make test` runs from
test/integration/reliability) or `FULL` (`OPSTACK_RELIABILITY_SCALE=full`, what `make test-reliability`
runs from test/reliability). Every scenario takes its numbers from `SCALE` and nothing else.

The operator is `python -m opstack` in a subprocess, as a certificate user bound to the ClusterRole of
`config/rbac/role.yaml` (and the leader-election Role), never as an administrator: every scenario is also
a least-privilege run, and the audit log tells its requests apart by user.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from opstack.api.v1alpha1 import OP_NODE, OPTIMISM_NETWORK
from opstack.runtime import errors
from opstack.runtime.client import Client
from opstack.runtime.gvk import GVK
from opstack.testing import audit
from opstack.testing.envtest import ControlPlane, free_port

ROOT = Path(__file__).resolve().parents[3]
OPNODE = OP_NODE.gvk
NETWORK = OPTIMISM_NETWORK.gvk
STS = GVK("apps", "v1", "StatefulSet")
SVC = GVK("", "v1", "Service")
SECRET = GVK("", "v1", "Secret")
CM = GVK("", "v1", "ConfigMap")
EVENT = GVK("", "v1", "Event")
NS = GVK("", "v1", "Namespace")
CLUSTER_ROLE_BINDING = GVK("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding")
ROLE_BINDING = GVK("rbac.authorization.k8s.io", "v1", "RoleBinding")
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
LEASE_NAMESPACE = "opstack-system"  # where config/rbac/leader_election_role.yaml grants Leases
USER_PREFIX = "opstack-reliability-"
SCALE_ENV = "OPSTACK_RELIABILITY_SCALE"


@dataclass(frozen=True)
class Scale:
    name: str
    opnodes: int  # OpNodes converging while the API server is SIGKILLed
    burst: int  # changes in the watch-expiry burst
    fault_seconds: float  # how long the fault proxy resets connections
    fault_opnodes: int  # OpNodes converging through the fault proxy
    failover_opnodes: int  # OpNodes converging while the leader is killed / stopped
    storm_opnodes: int
    storm_writers: int
    storm_seconds: float
    bad_specs: int  # hypothesis examples (OpNode and OptimismNetwork specs)
    converge_timeout: float


FAST = Scale(
    name="fast",
    opnodes=60,
    burst=150,
    fault_seconds=15,
    fault_opnodes=20,
    failover_opnodes=30,
    storm_opnodes=5,
    storm_writers=4,
    storm_seconds=8,
    bad_specs=100,
    converge_timeout=120,
)
FULL = Scale(
    name="full",
    opnodes=300,
    burst=1000,
    fault_seconds=60,
    fault_opnodes=100,
    failover_opnodes=150,
    storm_opnodes=20,
    storm_writers=8,
    storm_seconds=30,
    bad_specs=1000,
    converge_timeout=600,
)


def scale() -> Scale:
    value = os.environ.get(SCALE_ENV, "fast").strip().lower()
    if value not in ("fast", "full"):
        raise ValueError(f"{SCALE_ENV}={value!r}: use fast or full")
    return FULL if value == "full" else FAST


SCALE = scale()


def report(scenario: str, **figures: Any) -> None:
    """One line of figures per scenario, in the test output (run pytest with -s to see it live)."""
    parts = [f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()]
    print(f"\n[reliability:{SCALE.name}] {scenario}: " + " ".join(parts), flush=True)


def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    every: float = 0.2,
    explain: Callable[[], Any] | None = None,
) -> float:
    """Poll until `predicate()` is truthy (API errors count as not yet); returns the seconds it took.
    On timeout the AssertionError carries `explain()` (the state that was not reached)."""
    start = time.monotonic()
    last: Exception | None = None
    while True:
        try:
            if predicate():
                return time.monotonic() - start
        except (errors.ApiError, KeyError, OSError) as exc:
            last = exc
        if time.monotonic() - start > timeout:
            detail = f" ({last})" if last else ""
            if explain is not None:
                detail += f"; now: {explain()}"
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(every)


# --- RBAC: the operator as the generated role's subject ---


def _rbac_docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((ROOT / "config" / "rbac" / name).read_text()) if d]


def manager_role() -> dict[str, Any]:
    (role,) = [d for d in _rbac_docs("role.yaml") if d["kind"] == "ClusterRole"]
    return role


def grant_operator(plane: ControlPlane, client: Client, user: str) -> Path:
    """A kubeconfig for `user`, bound to the manager ClusterRole and the leader-election Role, exactly as
    config/rbac generates them (applied here, so a regenerated role is what the scenarios run under)."""
    role = manager_role()
    client.apply(role, field_manager="reliability", force=True)
    with contextlib.suppress(errors.AlreadyExists):
        client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LEASE_NAMESPACE}})
    (le_role,) = _rbac_docs("leader_election_role.yaml")
    client.apply(le_role, field_manager="reliability", force=True)
    subject = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
    binding = f"{user}-manager"[:63]
    client.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": binding},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role["metadata"]["name"],
            },
            "subjects": subject,
        },
        field_manager="reliability",
        force=True,
    )
    client.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": binding, "namespace": LEASE_NAMESPACE},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": le_role["metadata"]["name"],
            },
            "subjects": subject,
        },
        field_manager="reliability",
        force=True,
    )
    return plane.add_user(user)


def kubeconfig_via(kubeconfig: Path, server: str) -> Path:
    """A copy of `kubeconfig` whose cluster is reached at `server` (a fault proxy on 127.0.0.1: the serving
    certificate is valid there too)."""
    cfg = json.loads(kubeconfig.read_text())
    cfg["clusters"][0]["cluster"]["server"] = server
    out = kubeconfig.with_name(kubeconfig.stem + "-proxied.yaml")
    out.write_text(json.dumps(cfg))
    out.chmod(0o600)
    return out


# --- the operator process ---


@dataclass
class Evidence:
    """What the whole session's operators left behind, for the secrets and least-privilege checks."""

    logs: list[Path] = field(default_factory=list)
    users: set[str] = field(default_factory=set)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (where, text) of Events, status, args...
    keys: set[str] = field(default_factory=set)  # key material seen in Secrets, hex without 0x
    full_devnet_users: set[str] = field(default_factory=set)  # operators that ran test_full_devnet to the end

    def snapshot(self, client: Client, namespace: str) -> None:
        """Record the namespace's Events, custom-resource statuses and annotations, workload args and env,
        and the key material of its Secrets (before the namespace is deleted)."""
        for kind in (EVENT,):
            for e in client.list_all(kind, namespace)[0]:
                self.texts.append((f"Event {namespace}/{e['metadata']['name']}", json.dumps(e)))
        from opstack.api.v1alpha1 import OP_BATCHER, OP_CHALLENGER, OP_PROPOSER

        for gvk in (OPNODE, NETWORK, OP_BATCHER.gvk, OP_PROPOSER.gvk, OP_CHALLENGER.gvk):
            for o in client.list_all(gvk, namespace)[0]:
                where = f"{gvk.kind} {namespace}/{o['metadata']['name']}"
                self.texts.append((f"{where} status", json.dumps(o.get("status") or {})))
                self.texts.append(
                    (f"{where} annotations", json.dumps(o["metadata"].get("annotations") or {}))
                )
        for gvk in (STS, GVK("apps", "v1", "Deployment"), GVK("", "v1", "Pod")):
            for o in client.list_all(gvk, namespace)[0]:
                where = f"{gvk.kind} {namespace}/{o['metadata']['name']}"
                self.texts.append(
                    (f"{where} annotations", json.dumps(o["metadata"].get("annotations") or {}))
                )
                spec = o["spec"].get("template", {}).get("spec") if gvk.kind != "Pod" else o["spec"]
                for c in [*(spec or {}).get("containers", ()), *(spec or {}).get("initContainers", ())]:
                    self.texts.append((f"{where} {c['name']} args", json.dumps(c.get("args") or [])))
                    self.texts.append((f"{where} {c['name']} command", json.dumps(c.get("command") or [])))
                    self.texts.append((f"{where} {c['name']} env", json.dumps(c.get("env") or [])))
        for s in client.list_all(SECRET, namespace)[0]:
            self.keys.update(key_material(s))


HEX_KEY = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")


def key_material(secret: dict[str, Any]) -> set[str]:
    """The 32-byte keys a Secret holds (JWT, P2P key, signer key), as lowercase hex without 0x."""
    import base64

    found: set[str] = set()
    for value in (secret.get("data") or {}).values():
        with contextlib.suppress(ValueError):
            text = base64.b64decode(value).decode(errors="replace")
            found.update(m.group(1).lower() for m in HEX_KEY.finditer(text))
    return found


EVIDENCE = Evidence()


class OperatorProcess:
    """`python -m opstack` with its own kubeconfig; logs (JSON lines) to a file kept for the whole session."""

    def __init__(
        self,
        kubeconfig: Path,
        namespaces: Iterable[str],
        log_dir: Path,
        *,
        user: str,
        leader_election_id: str | None = None,
        extra: Iterable[str] = (),
    ) -> None:
        self.user = user
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.log_path = log_dir / f"{user}-{uuid.uuid4().hex[:6]}.log"
        args = [
            sys.executable,
            "-m",
            "opstack",
            "--kubeconfig",
            str(kubeconfig),
            "--namespace",
            ",".join(namespaces),
            "--metrics-bind-address",
            f"127.0.0.1:{self.metrics_port}",
            "--health-probe-bind-address",
            f"127.0.0.1:{self.health_port}",
            "--log-format",
            "json",
            "--log-level",
            "debug",
            "--graceful-shutdown-timeout",
            "10",
            *extra,
        ]
        if leader_election_id:
            args += ["--leader-elect", "--leader-election-id", leader_election_id]
            args += ["--leader-election-namespace", LEASE_NAMESPACE]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPSTACK_")}
        self._log = self.log_path.open("ab")
        self.started_at = time.time()
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT)
        )
        EVIDENCE.logs.append(self.log_path)
        EVIDENCE.users.add(user)

    # -- probes

    def http(self, port: int, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
                return int(resp.status), resp.read().decode()
        except urllib.error.HTTPError as e:
            return int(e.code), e.read().decode()
        except OSError:
            return 0, ""

    def ready(self) -> bool:
        return self.http(self.health_port, "/readyz")[0] == 200

    def metric(self, metric: str, **labels: str) -> float:
        """Sum of the samples of `metric` whose labels include `labels` (0 when absent)."""
        from prometheus_client.parser import text_string_to_metric_families

        status, text = self.http(self.metrics_port, "/metrics")
        if status != 200:
            return 0.0
        total = 0.0
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items()):
                    total += s.value
        return total

    def is_leader(self) -> bool:
        return self.metric("leader_election_master_status") == 1.0

    # -- lifecycle

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: signal.Signals) -> float:
        t = time.time()
        self.proc.send_signal(sig)
        return t

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.user} did not exit within {timeout}s:\n{self.tail()}") from None

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.send_signal(signal.SIGCONT)  # a stopped process cannot handle SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    # -- logs

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"event": raw, "level": "raw"}
            if isinstance(line, dict):
                out.append(line)
        return out

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


# Exceptions a reconciler may surface while the API server or the network misbehave: these are requeued
# with backoff by design. Anything else in a "Reconciler error" line escaped a reconciler.
EXPECTED_ERRORS = (
    "Conflict",
    "TransportError",
    "ServiceUnavailable",
    "ServerTimeout",
    "InternalError",
    "TooManyRequests",
    "Gone",
    "NotFound",
    "AlreadyExists",
    "ConnectionError",
    "ProtocolError",
    "MaxRetryError",
    "ReadTimeoutError",
    "TimeoutError",
    "NewConnectionError",
    "ConnectionResetError",
    "ConnectionRefusedError",
    "RemoteDisconnected",
    "SSLError",
    "NoKindMatch",
    "LeadershipLost",  # a write fenced off by the manager after its lease could have expired
)


def exception_types(line: dict[str, Any]) -> list[str]:
    """The type of the exception a log line carries (the outermost one: what the reconciler raised)."""
    exc = line.get("exception")
    if isinstance(exc, list) and exc and isinstance(exc[0], dict):
        return [str(exc[0].get("exc_type", ""))]
    if isinstance(exc, str):
        return re.findall(r"^(\w+(?:\.\w+)*):", exc, flags=re.M)[-1:]
    return []


@dataclass
class LogScan:
    lines: int = 0
    errors: int = 0  # level error lines
    reconcile_errors: int = 0
    escaped: list[str] = field(default_factory=list)  # unexpected exception types from reconcilers
    tracebacks_outside_reconcile: list[str] = field(default_factory=list)


def scan_logs(op: OperatorProcess, allow: Iterable[str] = ()) -> LogScan:
    """Errors and escaped exceptions in the operator's log; `allow` adds exception types a scenario causes
    on purpose (e.g. Forbidden while a restarted API server's RBAC authorizer has not synced yet)."""
    expected = {*EXPECTED_ERRORS, *allow}
    scan = LogScan()
    for line in op.lines():
        scan.lines += 1
        if line.get("level") in ("error", "critical"):
            scan.errors += 1
        has_exc = "exception" in line or "Traceback" in str(line.get("event", ""))
        if str(line.get("event", "")).startswith("Reconciler error"):
            scan.reconcile_errors += 1
            bad = [t for t in exception_types(line) if t.rsplit(".", 1)[-1] not in expected]
            if bad:
                scan.escaped.append(
                    f"{line.get('controller')} {line.get('namespace')}/{line.get('name')}: {bad}"
                )
        elif has_exc and line.get("level") in ("error", "critical"):
            scan.tracebacks_outside_reconcile.append(
                str(line.get("event"))[:200] + " " + str(exception_types(line))
            )
    return scan


# --- the audit log ---


def audit_entries(plane: ControlPlane, users: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
    return audit.entries(plane.audit_log, users)


def audit_sentinel(plane: ControlPlane, client: Client, namespace: str) -> None:
    """Write something and wait until the audit log has it: every earlier request is in the log too."""
    audit.sentinel(plane.audit_log, client, namespace)


def is_write(entry: dict[str, Any]) -> bool:
    ref = entry.get("objectRef") or {}
    return entry.get("verb") in WRITE_VERBS and ref.get("resource") not in ("events", "leases")


# --- OpNodes ---


ROLLUP = json.dumps({"l1_chain_id": 900, "l2_chain_id": 901, "block_time": 2})
GENESIS = json.dumps({"config": {"chainId": 901}, "alloc": {}})


def sample(name: str, namespace: str) -> dict[str, Any]:
    from opstack.testing.samples import SAMPLES, load

    obj = load(SAMPLES / name)
    obj["metadata"]["namespace"] = namespace
    return obj


def devnet_network(client: Client, namespace: str) -> None:
    """The devnet sample network and its ConfigMaps; its L1 (an in-cluster name) is not reachable from
    here, which OpNodes do not need: they only mount what the network names."""
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


def opnode(name: str, namespace: str) -> dict[str, Any]:
    """A replica with no pods (replicas 0): its children are a StatefulSet, Services, a PDB and its generated
    JWT and P2P Secrets; no PersistentVolumes, no node RPC worth waiting for."""
    return {
        "apiVersion": OPNODE.api_version,
        "kind": "OpNode",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"optimismNetworkRef": {"name": "devnet"}, "nodeType": "replica", "replicas": 0},
    }


def create_all(client: Client, objs: list[dict[str, Any]], workers: int = 8) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(client.create, objs))


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == type_:
            return dict(c)
    return None


def opnode_converged(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    valid = condition(obj, "ConfigurationValid")
    return bool(
        status.get("observedGeneration") == obj["metadata"]["generation"]
        and valid is not None
        and valid["status"] == "True"
        and condition(obj, "Ready") is not None
    )


@dataclass
class Convergence:
    total: int
    converged: int
    missing_children: list[str]
    duplicates: list[str]

    @property
    def done(self) -> bool:
        return self.converged == self.total and not self.missing_children and not self.duplicates


def convergence(
    client: Client, namespace: str, names: Iterable[str], deleted_uids: Iterable[str] = ()
) -> Convergence:
    """OpNodes converged (status observed their generation, configuration valid) and each has exactly one
    StatefulSet, Service, headless Service and JWT/P2P Secret, controlled by it. Children of `deleted_uids`
    (OpNodes deleted on a plane without a garbage collector) are not counted as orphans."""
    wanted = set(names)
    every = client.list_all(OPNODE, namespace)[0]
    nodes = {o["metadata"]["name"]: o for o in every if o["metadata"]["name"] in wanted}
    converged = sum(1 for o in nodes.values() if opnode_converged(o))
    owned: dict[tuple[str, str], int] = {}
    for gvk in (STS, SVC, SECRET):
        for child in client.list_all(gvk, namespace)[0]:
            for ref in child["metadata"].get("ownerReferences") or ():
                if ref.get("controller") and ref.get("kind") == "OpNode":
                    suffix = child["metadata"]["name"][len(ref["name"]) :] or "-"
                    key = (ref["uid"], f"{gvk.kind}{suffix}")
                    owned[key] = owned.get(key, 0) + 1
    missing, dupes = [], []
    for name, o in nodes.items():
        uid = o["metadata"]["uid"]
        for part in ("StatefulSet-", "Service-", "Service-headless", "Secret-jwt", "Secret-p2p"):
            n = owned.get((uid, part), 0)
            if n == 0:
                missing.append(f"{name}:{part}")
            elif n > 1:
                dupes.append(f"{name}:{part}x{n}")
    # Children owned by OpNode uids that are not the current objects (a recreated parent) are duplicates too.
    uids = {o["metadata"]["uid"] for o in every} | set(deleted_uids)
    dupes += [f"orphan {part} of {uid}" for (uid, part) in owned if uid not in uids]
    return Convergence(len(wanted), converged, missing[:10], dupes[:10])


def successful_creates(plane: ControlPlane, user: str, namespace: str) -> dict[str, int]:
    """`resource/name` -> how many creates by `user` the API server accepted (201)."""
    counts: dict[str, int] = {}
    for e in audit_entries(plane, [user]):
        ref = e.get("objectRef") or {}
        if (
            e.get("verb") == "create"
            and ref.get("namespace") == namespace
            and (e.get("responseStatus") or {}).get("code") == 201
        ):
            key = f"{ref.get('resource')}/{ref.get('name')}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def writes_by(
    plane: ControlPlane, user: str, since: float = 0.0, namespace: str | None = None
) -> list[dict[str, Any]]:
    """Write requests of `user` (Events and Leases aside) received at or after `since` (epoch seconds)."""
    from datetime import datetime

    out = []
    for e in audit_entries(plane, [user]):
        if not is_write(e):
            continue
        if namespace is not None and (e.get("objectRef") or {}).get("namespace") != namespace:
            continue
        received = datetime.fromisoformat(e["requestReceivedTimestamp"].replace("Z", "+00:00")).timestamp()
        if received >= since:
            e["_received"] = received
            out.append(e)
    return out
