"""OpNode benchmark against peers (issue 10): opstack's manager, a kopf operator, a controller-runtime
operator and a load generator (the floor), one after the other on one real control plane. See bench/README.md.

Run: python bench/bench_opnode.py [--quick] [--n 100 1000] [--reps 5] [--reps-large 1]
Writes bench/results/opnode.json (and opnode-quick.json with --quick); plot: bench/plot_opnode.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import workload  # noqa: E402
from opstack.runtime.client import Client  # noqa: E402
from opstack.runtime.gvk import GVK  # noqa: E402
from opstack.runtime.informer import EventHandlerFuncs, SharedInformer  # noqa: E402
from opstack.testing.anvil import Anvil  # noqa: E402
from opstack.testing.crds import install_crds  # noqa: E402
from opstack.testing.envtest import ControlPlane  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CACHE = Path.home() / ".cache" / "opstack" / "bench"
GO_PEER_DIR = ROOT / "bench" / "peers" / "controller-runtime"
GO_PEER = CACHE / "cr-peer"
OPNODE = GVK("optimism.optimism.io", "v1alpha1", "OpNode")
NETWORK = GVK("optimism.optimism.io", "v1alpha1", "OptimismNetwork")
STATEFULSET = GVK("apps", "v1", "StatefulSet")
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
DRIVER_THREADS = 8  # the driver's own writers (creates, spec patches), the same for every contender
WORKERS = 8  # opstack's default --max-concurrent-reconciles; the Go peer and the floor get as many
IDLE_PROBES = 20  # OpNodes changed one at a time for the idle latency
IDLE_GAP = 0.25  # seconds between two idle probes
IDLE_CPU = "120m"  # the value the idle probes set

CONTENDERS = ("opstack", "opstack-tuned", "kopf", "controller-runtime", "floor", "floor-wide")
# floor: WORKERS writers, the operators' concurrency; floor-wide: WORKERS + DRIVER_THREADS writers, the
# concurrency of an operator run as a whole (the driver's creators and the operator's workers overlap).
FLOOR_WIDE = WORKERS + DRIVER_THREADS


# --- processes ---------------------------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of the process tree under pid."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
    return total


def tree_peak_rss(pid: int) -> float:
    """Sum of the peak resident set sizes (VmHWM) of the tree under pid, MiB."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


@dataclass
class Contender:
    name: str
    kubeconfig: Path
    namespace: str
    workdir: Path
    workers: int = WORKERS
    proc: subprocess.Popen[bytes] | None = None
    latency_log: Path = field(default_factory=Path)
    started: float = 0.0

    def command(self) -> list[str]:
        if self.name.startswith("opstack"):
            return [
                sys.executable,
                str(ROOT / "bench" / "peers" / "opstack_manager.py"),
                "--kubeconfig",
                str(self.kubeconfig),
                "--namespace",
                self.namespace,
                # `opstack` runs with the manager's defaults; only opstack-tuned names a worker count.
                *(["--max-concurrent-reconciles", str(self.workers)] if self.name == "opstack-tuned" else []),
                "--metrics-bind-address",
                "0",
                "--health-probe-bind-address",
                "0",
                "--log-format",
                "json",
            ]
        if self.name == "kopf":
            return [
                sys.executable,
                "-m",
                "kopf",
                "run",
                "--standalone",
                "--namespace",
                self.namespace,
                str(ROOT / "bench" / "peers" / "kopf_operator.py"),
            ]
        if self.name == "controller-runtime":
            return [
                str(GO_PEER),
                "--mode",
                "operator",
                "--renders",
                str(self.workdir / "renders"),
                "--workers",
                str(self.workers),
                "--namespace",
                self.namespace,
                "--latency-log",
                str(self.latency_log),
            ]
        raise ValueError(self.name)

    def start(self, tag: str) -> None:
        self.latency_log = self.workdir / f"latency-{tag}.log"
        self.latency_log.touch()
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig), BENCH_LATENCY_LOG=str(self.latency_log))
        env["PYTHONPATH"] = str(ROOT)
        out = open(self.workdir / f"{tag}.out", "wb")  # noqa: SIM115 (the child holds it)
        self.started = time.time()
        self.proc = subprocess.Popen(self.command(), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        out.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def cpu(self) -> float:
        assert self.proc is not None
        return tree_cpu(self.proc.pid)

    def peak_rss(self) -> float:
        assert self.proc is not None
        return tree_peak_rss(self.proc.pid)

    def wait_quiet(self, window: float = 0.5, quiet_windows: int = 2, timeout: float = 60.0) -> None:
        """Until the contender used under 2% of a core for `quiet_windows` windows in a row."""
        deadline = time.monotonic() + timeout
        calm, last = 0, self.cpu()
        while calm < quiet_windows and time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.workdir}")
            time.sleep(window)
            now = self.cpu()
            calm = calm + 1 if now - last < 0.02 * window else 0
            last = now

    def reconcile_starts(self) -> list[tuple[str, int, str, float]]:
        rows = []
        for line in self.latency_log.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4:
                rows.append((parts[0], int(parts[1]), parts[2], float(parts[3])))
        return rows


# --- the API server's view ---------------------------------------------------------------------------------


class Audit:
    """Counts requests of one user in the audit log between two byte offsets."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def offset(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def count(self, start: int, user: str) -> dict[str, int]:
        verbs: Counter[str] = Counter()
        with open(self.path, "rb") as f:
            f.seek(start)
            for raw in f:
                if user.encode() not in raw:
                    continue
                try:
                    ev = json.loads(raw)
                except json.JSONDecodeError:
                    continue
                if ev.get("user", {}).get("username") != user or ev.get("stage") != "ResponseComplete":
                    continue
                verb = ev.get("verb", "?")
                resource_ = (ev.get("objectRef") or {}).get("resource", "")
                if user.startswith("bench-floor") and verb == "create" and resource_ == "opnodes":
                    continue  # the floor creates the OpNodes itself (the driver does it for the others)
                floor_spec_patch = verb == "patch" and not (ev.get("objectRef") or {}).get("subresource")
                if user.startswith("bench-floor") and floor_spec_patch and resource_ == "opnodes":
                    continue  # ... and patches their spec itself in the change phase
                verbs[verb] += 1
        return dict(sorted(verbs.items()))


class Tracker:
    """The first time each object of a kind satisfied a predicate (from a watch in the driver)."""

    def __init__(self, client: Client, gvk: GVK, namespace: str, done: Callable[[Mapping[str, Any]], bool]):
        self.done_at: dict[str, float] = {}
        self._done = done
        self._lock = threading.Lock()
        self.informer = SharedInformer(client, gvk, namespaces=[namespace])
        self.informer.add_event_handler(
            EventHandlerFuncs(add=lambda o, _i: self._see(o), update=lambda _o, n: self._see(n))
        )
        self.informer.start()
        assert self.informer.wait_for_sync(60)

    def _see(self, obj: Mapping[str, Any]) -> None:
        name = obj["metadata"]["name"]
        if name not in self.done_at and self._done(obj):
            with self._lock:
                self.done_at.setdefault(name, time.time())

    def wait(self, n: int, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while len(self.done_at) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.done_at)}/{n} done after {timeout}s")
            time.sleep(0.05)
        return max(self.done_at.values())

    def stop(self) -> None:
        self.informer.stop()


def status_current(obj: Mapping[str, Any]) -> bool:
    """Status reflects the current generation and a StatefulSet that exists (the benchmark's definition)."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return False
    conditions = status.get("conditions") or ()
    return any(c.get("type") == "Ready" for c in conditions) and not any(
        c.get("reason") == "NotCreated" for c in conditions
    )


# --- one run -----------------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p99_ms": None, "n": 0}  # type: ignore[dict-item]
    values = sorted(values)
    p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
    return {
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "n": len(values),
    }


def latencies(
    starts: Iterable[tuple[str, int, str, float]], sent: Mapping[tuple[str, str], float]
) -> list[float]:
    first: dict[tuple[str, str], float] = {}
    for name, _gen, stamp, t in starts:
        key = (name, stamp)
        if key in sent and key not in first:
            first[key] = t - sent[key]
    return list(first.values())


class Bench:
    def __init__(self, plane: ControlPlane, anvil: Anvil, workdir: Path) -> None:
        self.plane = plane
        self.anvil = anvil
        self.workdir = workdir
        self.admin = Client.from_kubeconfig(str(plane.kubeconfig))
        self.audit = Audit(plane.audit_log)
        self.users: dict[str, Path] = {}
        self.profile_dir: Path | None = None

    def profile(self, c: Contender) -> subprocess.Popen[bytes]:
        """py-spy, sampling every thread of the contender through converge, idle and change (collapsed
        stacks into <profile_dir>/<namespace>.txt; see bench/README.md for how they were read)."""
        assert c.proc is not None and self.profile_dir is not None
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        out = self.profile_dir / f"{c.namespace}.txt"
        cmd = ["py-spy", "record", "--pid", str(c.proc.pid), "--rate", "100", "--format", "raw"]
        cmd += ["--threads", "--nonblocking", "--output", str(out)]
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def user(self, contender: str) -> tuple[str, Path]:
        name = f"bench-{contender}"
        if name not in self.users:
            self.users[name] = self.plane.add_user(name, groups=["system:masters"])
        return name, self.users[name]

    # -- set-up and clean-up of a namespace

    def prepare(self, namespace: str, n: int, prerender: bool, workdir: Path) -> list[str]:
        self.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        network = workload.network_manifest(namespace, self.anvil.url)
        self.admin.create(network)
        names = [f"node-{i:04d}" for i in range(n)]
        if prerender:
            renders = workdir / "renders"
            renders.mkdir(parents=True, exist_ok=True)
            facts = workload.network_facts(network)
            for name in names:
                node = workload.opnode_manifest(namespace, name)
                node["metadata"]["uid"] = workload.OWNER_UID
                secrets: dict[str, Mapping[str, Any]] = {}
                variants: dict[str, Any] = {}
                for cpu in (workload.CPU_BEFORE, IDLE_CPU, workload.CPU_AFTER):
                    node["spec"]["resources"]["opNode"]["requests"]["cpu"] = cpu
                    create, apply = workload.render(node, facts, secrets.get)
                    for s in create:
                        secrets[s["metadata"]["name"]] = s
                    variants[cpu] = {"secrets": list(secrets.values()), "apply": apply}
                (renders / f"{name}.json").write_text(json.dumps(variants))
                floor = {
                    "opnode": workload.opnode_manifest(namespace, name, time.time()),
                    "patch": workload.change_patch(time.time()),
                }
                (renders / f"{name}.floor.json").write_text(json.dumps(floor))
            (workdir / "names.txt").write_text("\n".join(names) + "\n")
        return names

    def cleanup(self, namespace: str) -> None:
        """No kube-controller-manager runs (no garbage collector, no namespace controller): delete the
        objects kind by kind, so the next contender starts on an API server of the same size."""
        api = f"/apis/optimism.optimism.io/v1alpha1/namespaces/{namespace}"
        net = f"{api}/optimismnetworks/{workload.NETWORK_NAME}"
        with contextlib.suppress(Exception):  # absent, or no finalizer
            self.plane.request(
                "PATCH", net, {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json"
            )
        for path in (
            f"{api}/opnodes",
            f"{api}/optimismnetworks",
            f"/apis/apps/v1/namespaces/{namespace}/statefulsets",
            f"/api/v1/namespaces/{namespace}/services",
            f"/api/v1/namespaces/{namespace}/secrets",
            f"/api/v1/namespaces/{namespace}/configmaps",
            f"/api/v1/namespaces/{namespace}/events",
        ):
            if path.endswith("/services"):
                # Services have no deletecollection: delete them one by one.
                for svc in self.admin.list_all(GVK("", "v1", "Service"), namespace)[0]:
                    self.plane.raw("DELETE", f"{path}/{svc['metadata']['name']}")
            else:
                self.plane.raw("DELETE", path)

    # -- the phases

    def create_nodes(self, namespace: str, names: list[str]) -> dict[tuple[str, str], float]:
        sent: dict[tuple[str, str], float] = {}

        def one(name: str) -> None:
            t = time.time()
            obj = workload.opnode_manifest(namespace, name, t)
            sent[(name, obj["metadata"]["annotations"][workload.STAMP])] = t
            self.admin.create(obj)

        with ThreadPoolExecutor(DRIVER_THREADS) as pool:
            list(pool.map(one, names))
        return sent

    def patch_node(self, namespace: str, name: str, cpu: str) -> tuple[tuple[str, str], float]:
        t = time.time()
        patch = workload.change_patch(t)
        patch["spec"]["resources"]["opNode"]["requests"]["cpu"] = cpu
        self.admin.patch(OPNODE, name, patch, namespace)
        return (name, patch["metadata"]["annotations"][workload.STAMP]), t

    def run(self, contender_name: str, n: int, rep: int, workers: int = WORKERS) -> dict[str, Any]:
        namespace = f"{contender_name}-{n}-{rep}"
        workdir = self.workdir / namespace
        workdir.mkdir(parents=True)
        user, kubeconfig = self.user(contender_name)
        is_floor = contender_name.startswith("floor")
        prerender = is_floor or contender_name == "controller-runtime"
        names = self.prepare(namespace, n, prerender, workdir)
        result: dict[str, Any] = {"contender": contender_name, "n": n, "rep": rep, "workers": workers}
        timeout = 120 + n * 0.6
        if is_floor:
            result |= self.run_floor(namespace, n, workdir, user, kubeconfig, timeout, workers)
            self.cleanup(namespace)
            return result
        c = Contender(contender_name, kubeconfig, namespace, workdir, workers)
        c.start("main")
        c.wait_quiet(timeout=30)
        spy = self.profile(c) if self.profile_dir and contender_name in ("opstack", "kopf") else None
        client = self.admin

        # 1. converge
        tracker = Tracker(client, OPNODE, namespace, status_current)
        offset, cpu0, t0 = self.audit.offset(), c.cpu(), time.time()
        sent_converge = self.create_nodes(namespace, names)
        t_end = tracker.wait(n, timeout)
        c.wait_quiet()
        result["converge"] = {
            "seconds": round(t_end - t0, 3),
            "cpu_seconds": round(c.cpu() - cpu0, 2),
            "requests": self.audit.count(offset, user),
        }
        tracker.stop()

        # 2. idle latency: one OpNode at a time
        offset, cpu0 = self.audit.offset(), c.cpu()
        sent_idle: dict[tuple[str, str], float] = {}
        for name in names[:IDLE_PROBES]:
            key, t = self.patch_node(namespace, name, IDLE_CPU)
            sent_idle[key] = t
            time.sleep(IDLE_GAP)
        c.wait_quiet()

        # 3. change: one field on every OpNode
        tracker = Tracker(client, STATEFULSET, namespace, workload.changed)
        offset, cpu0, t0 = self.audit.offset(), c.cpu(), time.time()
        sent_change: dict[tuple[str, str], float] = {}
        with ThreadPoolExecutor(DRIVER_THREADS) as pool:
            for key, t in pool.map(lambda nm: self.patch_node(namespace, nm, workload.CPU_AFTER), names):
                sent_change[key] = t
        t_end = tracker.wait(n, timeout)
        c.wait_quiet()
        result["change"] = {
            "seconds": round(t_end - t0, 3),
            "cpu_seconds": round(c.cpu() - cpu0, 2),
            "requests": self.audit.count(offset, user),
        }
        tracker.stop()
        starts = c.reconcile_starts()
        result["latency"] = {
            "converge": percentiles(latencies(starts, sent_converge)),
            "idle": percentiles(latencies(starts, sent_idle)),
            "change": percentiles(latencies(starts, sent_change)),
        }
        result["peak_rss_mib"] = round(c.peak_rss(), 1)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        c.stop()

        # 4. steady state: a fresh process resyncs all N (initial list, every OpNode reconciled) with nothing
        # changed.
        offset = self.audit.offset()
        c.start("resync")
        while len({row[0] for row in c.reconcile_starts()}) < n:
            if time.time() - c.started > timeout:
                raise TimeoutError(f"{contender_name}: resync did not reach {n} OpNodes")
            time.sleep(0.05)
        starts = c.reconcile_starts()
        first_seen: dict[str, float] = {}
        for name, _g, _s, t in starts:
            first_seen.setdefault(name, t)
        c.wait_quiet()
        result["steady"] = {
            "seconds": round(max(first_seen.values()) - min(first_seen.values()), 3),
            "startup_seconds": round(min(first_seen.values()) - c.started, 3),
            "cpu_seconds_total": round(c.cpu(), 2),
            "requests": self.audit.count(offset, user),
        }
        c.stop()
        self.cleanup(namespace)
        return result

    def run_floor(
        self, namespace: str, n: int, workdir: Path, user: str, kubeconfig: Path, timeout: float, workers: int
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"workers": workers}
        for phase in ("converge", "change"):
            offset = self.audit.offset()
            env = dict(os.environ, KUBECONFIG=str(kubeconfig))
            stdout = workdir / f"floor-{phase}.json"
            with open(stdout, "wb") as sink:
                proc = subprocess.Popen(
                    [
                        str(GO_PEER),
                        "--mode",
                        "floor",
                        "--phase",
                        phase,
                        "--renders",
                        str(workdir / "renders"),
                        "--namespace",
                        namespace,
                        "--names",
                        str(workdir / "names.txt"),
                        "--workers",
                        str(workers),
                    ],
                    env=env,
                    stdout=sink,
                )
                # wait4: this child's own CPU and peak RSS
                _pid, code, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(code)
            if proc.returncode != 0:
                raise RuntimeError(f"floor {phase} exited {proc.returncode}")
            report = json.loads(stdout.read_text())
            if report.get("failed"):
                raise RuntimeError(f"floor {phase}: {report}")
            out[phase] = {
                "seconds": round(report["seconds"], 3),
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
                "requests": self.audit.count(offset, user),
            }
        # No peak RSS: the floor keeps no cache, and wait4's ru_maxrss would count the forked driver's
        # pages before exec.
        return out


# --- summary -----------------------------------------------------------------------------------------------


def _stat(values: list[float]) -> dict[str, float] | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for n in sorted({r["n"] for r in runs}):
        per: dict[str, Any] = {}
        for name in CONTENDERS:
            rs = [r for r in runs if r["n"] == n and r["contender"] == name]
            if not rs:
                continue
            s: dict[str, Any] = {"reps": len(rs)}
            for phase in ("converge", "change", "steady"):
                got = [r[phase] for r in rs if phase in r]
                if not got:
                    continue
                s[phase] = {
                    "seconds": _stat([g["seconds"] for g in got]),
                    "cpu_seconds": _stat([g.get("cpu_seconds", g.get("cpu_seconds_total")) for g in got]),
                    "writes": _stat(
                        [sum(v for k, v in g["requests"].items() if k in WRITE_VERBS) for g in got]
                    ),
                    "requests": {
                        verb: statistics.median([g["requests"].get(verb, 0) for g in got])
                        for verb in sorted({v for g in got for v in g["requests"]})
                    },
                }
            s["peak_rss_mib"] = _stat([r["peak_rss_mib"] for r in rs if r.get("peak_rss_mib")])
            if any("latency" in r for r in rs):
                s["latency"] = {
                    ph: {
                        k: _stat([r["latency"][ph][k] for r in rs if r["latency"][ph][k] is not None])
                        for k in ("p50_ms", "p99_ms")
                    }
                    for ph in ("converge", "idle", "change")
                }
            per[name] = s
        ratios: dict[str, Any] = {}
        base = per.get("opstack")
        for peer in ("controller-runtime", "kopf", "floor", "floor-wide"):
            if base is None or peer not in per:
                continue
            r: dict[str, Any] = {}
            for phase in ("converge", "change"):
                if phase in base and phase in per[peer]:
                    r[f"{phase}_seconds"] = round(
                        base[phase]["seconds"]["median"] / per[peer][phase]["seconds"]["median"], 2
                    )
            if per[peer].get("peak_rss_mib") and base.get("peak_rss_mib"):
                r["peak_rss"] = round(base["peak_rss_mib"]["median"] / per[peer]["peak_rss_mib"]["median"], 2)
            ratios[f"opstack/{peer}"] = r
        if "opstack-tuned" in per:
            tuned = per["opstack-tuned"]
            for peer in ("controller-runtime", "kopf", "floor", "floor-wide"):
                if peer in per and "converge" in per[peer]:
                    ratios.setdefault(f"opstack-tuned/{peer}", {})["converge_seconds"] = round(
                        tuned["converge"]["seconds"]["median"] / per[peer]["converge"]["seconds"]["median"], 2
                    )
        summary[str(n)] = {"contenders": per, "ratios": ratios}
    return summary


def table(summary: Mapping[str, Any]) -> str:
    def mm(s: Mapping[str, float] | None, fmt: str = "{:.2f}") -> str:
        if not s:
            return "-"
        return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})"

    lines = []
    for n, block in summary.items():
        lines.append(f"\nN = {n}")
        head = f"{'contender':<19}{'reps':>4}  {'converge s':<20}{'change s':<20}{'resync s':<20}"
        head += f"{'conv cpu s':<20}{'resync cpu s':<20}{'resync writes':<14}{'peak RSS MiB':<22}"
        head += "idle p50/p99 ms   conv p50/p99 ms"
        lines.append(head)
        for name, s in block["contenders"].items():
            lat = s.get("latency", {})
            idle = lat.get("idle", {})
            conv = lat.get("converge", {})
            steady = s.get("steady", {})
            lines.append(
                f"{name:<19}{s['reps']:>4}  {mm(s['converge']['seconds']):<20}"
                f"{mm(s['change']['seconds']):<20}"
                f"{mm(steady.get('seconds')):<20}{mm(s['converge']['cpu_seconds']):<20}"
                f"{mm(steady.get('cpu_seconds')):<20}{mm(steady.get('writes'), '{:.0f}'):<14}"
                f"{mm(s['peak_rss_mib'], '{:.0f}'):<22}"
                + f"{_ms(idle.get('p50_ms'))}/{_ms(idle.get('p99_ms'))}".ljust(18)
                + f"{_ms(conv.get('p50_ms'))}/{_ms(conv.get('p99_ms'))}"
            )
        lines.append(
            "requests by verb (medians): "
            + "; ".join(
                f"{name} {ph}: " + ",".join(f"{v}={c:g}" for v, c in s[ph]["requests"].items())
                for name, s in block["contenders"].items()
                for ph in ("converge", "change", "steady")
                if ph in s
            )
        )
        for k, v in block["ratios"].items():
            lines.append(f"ratio {k}: {v}")
    return "\n".join(lines)


def _ms(s: Mapping[str, float] | None) -> str:
    return "-" if not s else f"{s['median']:.0f}"


def machine() -> dict[str, Any]:
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "go": subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip(),
        "load_avg_at_start": os.getloadavg(),
    }


def build_go_peer() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["go", "build", "-o", str(GO_PEER), "."], cwd=GO_PEER_DIR, check=True)


def _runs_from_log(path: Path) -> dict[str, Any]:
    """The runs a bench's console log printed (one JSON per run), for a bench cut short by its time bound."""
    runs = [
        json.loads(line.split(": ", 1)[1]) for line in path.read_text().splitlines() if line.startswith("[")
    ]
    return {
        "when": datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "bench_wall_seconds": sum(r.get("wall_seconds", 0) for r in runs),
        "settings": {"from_log": str(path.name)},
        "runs": runs,
    }


def merge(paths: list[Path], out: Path) -> int:
    docs = [json.loads(p.read_text()) if p.suffix == ".json" else _runs_from_log(p) for p in paths]
    runs = [r for d in docs for r in d["runs"]]
    summary = summarize(runs)
    doc = {
        "when": max(d["when"] for d in docs),
        "machine": docs[0]["machine"],
        "bench_wall_seconds": {p.name: d["bench_wall_seconds"] for p, d in zip(paths, docs, strict=True)},
        "settings": {p.name: d["settings"] for p, d in zip(paths, docs, strict=True)},
        "summary": summary,
        "runs": runs,
    }
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(table(summary))
    print(f"\nwrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="N=100, one repetition")
    p.add_argument("--n", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--reps", type=int, default=5, help="repetitions at N <= 100")
    p.add_argument("--reps-large", type=int, default=5, help="repetitions at N > 100")
    p.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=CONTENDERS)
    p.add_argument("--tuned-workers", type=int, default=16, help="opstack-tuned's worker count")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--profile", type=Path, default=None, help="folder for py-spy profiles (opstack, kopf)")
    p.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        help="combine the runs of earlier result files (e.g. one per N) into --out, and summarize",
    )
    args = p.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.out or RESULTS / "opnode.json")
    if args.quick:
        args.n, args.reps, args.reps_large = [100], 1, 1
    out = args.out or RESULTS / ("opnode-quick.json" if args.quick else "opnode.json")
    build_go_peer()
    started = time.time()
    workdir = Path(tempfile.mkdtemp(prefix="opstack-bench-"))
    runs: list[dict[str, Any]] = []
    # A /16 service range: N=1000 OpNodes need 1000 ClusterIPs (the harness's default /24 has 254).
    plane = ControlPlane(
        controller_manager=False,
        scheduler=False,
        kwok=False,
        apiserver_args=["--service-cluster-ip-range=10.0.0.0/16"],
    )
    anvil = Anvil(chain_id=workload.L1_CHAIN_ID)
    try:
        plane.start()
        install_crds(plane.kubeconfig, [ROOT / "config" / "crd" / "bases"])
        anvil.start()
        for address in workload.CONTRACTS.values():
            anvil.rpc("anvil_setCode", [address, "0x6000"])
        bench = Bench(plane, anvil, workdir)
        bench.profile_dir = args.profile
        for n in args.n:
            reps = args.reps if n <= 100 else args.reps_large
            for rep in range(reps):
                # Interleave the contenders within a repetition, so that background load hits all alike.
                for name in args.contenders:
                    t = time.time()
                    workers = {"opstack-tuned": args.tuned_workers, "floor-wide": FLOOR_WIDE}.get(
                        name, WORKERS
                    )
                    run = bench.run(name, n, rep, workers)
                    run["wall_seconds"] = round(time.time() - t, 1)
                    runs.append(run)
                    print(
                        f"[{datetime.now():%H:%M:%S}] N={n} rep={rep} {name}: {json.dumps(run)}", flush=True
                    )
    finally:
        anvil.stop()
        plane.stop()
    summary = summarize(runs)
    doc = {
        "when": datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "bench_wall_seconds": round(time.time() - started, 1),
        "settings": {
            "driver_threads": DRIVER_THREADS,
            "workers": WORKERS,
            "tuned_workers": args.tuned_workers,
            "idle_probes": IDLE_PROBES,
            "idle_gap_seconds": IDLE_GAP,
            "reps": args.reps,
            "reps_large": args.reps_large,
        },
        "summary": summary,
        "runs": runs,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(table(summary))
    print(f"\nwrote {out} (work dir {workdir})")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
