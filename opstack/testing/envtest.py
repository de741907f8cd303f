"""A real local Kubernetes control plane, started as processes, for tests and `make dev`.

The way controller-runtime's envtest does it, with binaries built from Go modules by
`hack/envtest/build.sh`: etcd and kube-apiserver (always), and optionally kube-controller-manager
(Deployments get ReplicaSets and Pods, garbage collection follows owner references, namespaces
delete), kube-scheduler (binds Pods to a node) and kwok with one fake Node (bound Pods become Running
and Ready without a kubelet).

Invariants:
- Every process started here is killed when the process that started it dies, however it dies
  (PR_SET_PDEATHSIG), and `stop()` kills them all and waits for them: nothing survives a test run.
- Each plane has its own CA, serving certificate, service-account signing key and client
  certificates; the API server enforces RBAC, so `add_user` gives a real unprivileged identity.
- Everything lives under one work folder, removed by `stop()` unless `keep_work_dir` was asked for.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import datetime
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok")
KWOK_NODE = "kwok-node-0"

_PR_SET_PDEATHSIG = 1


class ControlPlaneError(RuntimeError):
    """The control plane could not be started; the message names the process and its log."""


def find_assets(build: bool = True) -> Path:
    """The folder with the control-plane binaries: KUBEBUILDER_ASSETS when set, else the cache that
    `hack/envtest/build.sh` fills (building it when `build` is true and the cache is empty)."""
    if env := os.environ.get("KUBEBUILDER_ASSETS"):
        return Path(env)
    script = REPO_ROOT / "hack" / "envtest" / "build.sh"
    if not build and not script.exists():
        raise ControlPlaneError("set KUBEBUILDER_ASSETS to a folder with kube-apiserver, etcd and kubectl")
    out = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True).stdout
    return Path(out.strip().splitlines()[-1])


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: the kernel sends SIGKILL when the parent dies.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# --------------------------------------------------------------------------------------------------
# Certificates


@dataclass(frozen=True)
class KeyPair:
    cert_pem: bytes
    key_pem: bytes


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class CertificateAuthority:
    """A tiny CA (ECDSA P-256) that signs serving and client certificates valid for a week."""

    def __init__(self, common_name: str = "opstack-envtest-ca") -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.now(datetime.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(self._key, hashes.SHA256())
        )
        self.pair = KeyPair(self._cert.public_bytes(serialization.Encoding.PEM), _key_pem(self._key))

    def issue(
        self,
        common_name: str,
        *,
        organizations: Sequence[str] = (),
        hosts: Sequence[str] = (),
        client: bool = False,
    ) -> KeyPair:
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]
                ),
                critical=False,
            )
        )
        if hosts:
            import ipaddress

            sans: list[x509.GeneralName] = []
            for h in hosts:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(h)))
                except ValueError:
                    sans.append(x509.DNSName(h))
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def write_kubeconfig(path: Path, server: str, ca_pem: bytes, user: str, pair: KeyPair) -> Path:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "envtest", "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)}}
        ],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": b64(pair.cert_pem), "client-key-data": b64(pair.key_pem)},
            }
        ],
        "contexts": [{"name": "envtest", "context": {"cluster": "envtest", "user": user}}],
        "current-context": "envtest",
    }
    path.write_text(json.dumps(cfg, indent=2))  # JSON is YAML; no YAML dependency needed here
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------------------------------
# Processes


@dataclass
class Process:
    name: str
    args: list[str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal reaches us, not them; we stop them
                preexec_fn=_die_with_parent,
            )

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        p = self.popen
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.popen = None

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        self.popen = None

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_until(check: Callable[[], bool], timeout: float, what: str, process: Process | None = None) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        if process is not None and not process.running():
            raise ControlPlaneError(f"{process.name} exited while waiting for {what}:\n{process.tail()}")
        try:
            if check():
                return
        except Exception:  # not up yet: connection refused, TLS not ready, 5xx...
            pass
        if time.monotonic() > deadline:
            tail = f"\n{process.name} log ({process.log}):\n{process.tail()}" if process else ""
            raise ControlPlaneError(f"timed out after {timeout:.0f}s waiting for {what}{tail}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
"""


@dataclass
class User:
    name: str
    groups: tuple[str, ...]
    kubeconfig: Path


@dataclass
class ControlPlane:
    """etcd + kube-apiserver, and optionally kube-controller-manager, kube-scheduler and kwok.

    `audit` writes the API server's audit log (Metadata level, JSON lines) to `audit_log`, so that
    tests can count what a client did (writes, 403s) from the server's point of view.
    """

    assets: Path | None = None
    controller_manager: bool = True
    scheduler: bool = True
    kwok: bool = True
    audit: bool = True
    apiserver_args: Sequence[str] = ()
    etcd_args: Sequence[str] = ()
    work_dir: Path | None = None
    keep_work_dir: bool = False
    host: str = "127.0.0.1"
    start_timeout: float = 90.0

    processes: dict[str, Process] = field(default_factory=dict, init=False)
    users: dict[str, User] = field(default_factory=dict, init=False)

    # -- public surface ------------------------------------------------------------------------

    @property
    def server(self) -> str:
        return f"https://{self.host}:{self._apiserver_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.users["admin"].kubeconfig

    @property
    def audit_log(self) -> Path:
        return self._dir / "audit.log"

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """Trusts this plane's CA and presents the admin client certificate."""
        return self._ssl

    @property
    def ca_pem(self) -> bytes:
        return self._ca.pair.cert_pem

    def start(self) -> ControlPlane:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in ("kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"):
            if name in self.processes:
                self.processes[name].stop()
        if getattr(self, "_dir", None) is not None and not self.keep_work_dir and self._owns_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_user(self, name: str, groups: Iterable[str] = ()) -> Path:
        """A kubeconfig for a user authenticated by a client certificate (CN=name, O=groups)."""
        groups = tuple(groups)
        pair = self._ca.issue(name, organizations=groups, client=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        path = write_kubeconfig(self._dir / f"kubeconfig-{safe}.yaml", self.server, self.ca_pem, name, pair)
        self.users[name] = User(name, groups, path)
        return path

    def stop_apiserver(self) -> None:
        self.processes["kube-apiserver"].stop()

    def kill_apiserver(self) -> None:
        self.processes["kube-apiserver"].kill()

    def start_apiserver(self) -> None:
        proc = self.processes["kube-apiserver"]
        proc.start()
        self._wait_apiserver(proc)

    def restart_apiserver(self) -> None:
        self.stop_apiserver()
        self.start_apiserver()

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Runs the real kubectl built beside the control plane, as admin."""
        assets = self._assets
        return subprocess.run(
            [str(assets / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            check=check,
            capture_output=True,
            text=True,
            input=input,
        )

    def request(
        self, method: str, path: str, body: Any = None, *, content_type: str = "application/json"
    ) -> Any:
        """An admin request with a JSON body and answer, for the harness itself (not a client)."""
        return json.loads(self.raw(method, path, body, content_type=content_type) or b"null")

    def raw(
        self, method: str, path: str, body: Any = None, *, content_type: str = "application/json"
    ) -> bytes:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Content-Type", content_type)
        req.add_header("Accept", "application/json")
        with urllib.request.urlopen(req, context=self._ssl, timeout=30) as resp:
            return bytes(resp.read())

    # -- start-up -----------------------------------------------------------------------------

    def _start(self) -> None:
        self.assets = self._assets = self.assets or find_assets()
        for b in ("etcd", "kube-apiserver"):
            if not (self._assets / b).exists():
                raise ControlPlaneError(f"{self._assets} has no {b}; run `make envtest`")
        self._owns_dir = self.work_dir is None
        if self._owns_dir:
            _remove_stale_work_dirs()
        self._dir = Path(self.work_dir or tempfile.mkdtemp(prefix=_WORK_PREFIX))
        self._dir.mkdir(parents=True, exist_ok=True)
        (self._dir / "owner.pid").write_text(str(os.getpid()))
        self._write_certs()
        self._start_etcd()
        self._start_apiserver()
        if self.controller_manager:
            self._start_controller_manager()
        if self.scheduler:
            self._start_scheduler()
        if self.kwok:
            self._start_kwok()

    def _write_certs(self) -> None:
        d = self._dir
        self._ca = CertificateAuthority()
        (d / "ca.crt").write_bytes(self._ca.pair.cert_pem)
        (d / "ca.key").write_bytes(self._ca.pair.key_pem)
        serving = self._ca.issue(
            "kube-apiserver", hosts=["localhost", self.host, "10.0.0.1", "kubernetes.default.svc"]
        )
        (d / "apiserver.crt").write_bytes(serving.cert_pem)
        (d / "apiserver.key").write_bytes(serving.key_pem)
        sa_key = ec.generate_private_key(ec.SECP256R1())
        (d / "sa.key").write_bytes(_key_pem(sa_key))
        (d / "sa.pub").write_bytes(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        self._apiserver_port = free_port(self.host)
        admin = self._ca.issue("admin", organizations=["system:masters"], client=True)
        (d / "admin.crt").write_bytes(admin.cert_pem)
        (d / "admin.key").write_bytes(admin.key_pem)
        self.users["admin"] = User(
            "admin",
            ("system:masters",),
            write_kubeconfig(d / "kubeconfig.yaml", self.server, self.ca_pem, "admin", admin),
        )
        ctx = ssl.create_default_context(cafile=str(d / "ca.crt"))
        ctx.load_cert_chain(str(d / "admin.crt"), str(d / "admin.key"))
        self._ssl = ctx

    def _spawn(self, name: str, args: list[str]) -> Process:
        proc = Process(name, [str(self._assets / name), *args], self._dir / f"{name}.log")
        self.processes[name] = proc
        proc.start()
        return proc

    def _start_etcd(self) -> None:
        port, peer = free_port(self.host), free_port(self.host)
        self._etcd_url = f"http://{self.host}:{port}"
        proc = self._spawn(
            "etcd",
            [
                f"--data-dir={self._dir / 'etcd'}",
                f"--listen-client-urls={self._etcd_url}",
                f"--advertise-client-urls={self._etcd_url}",
                f"--listen-peer-urls=http://{self.host}:{peer}",
                f"--initial-advertise-peer-urls=http://{self.host}:{peer}",
                f"--initial-cluster=default=http://{self.host}:{peer}",
                "--unsafe-no-fsync=true",  # test data; fsync dominates write latency otherwise
                "--log-level=warn",
                *self.etcd_args,
            ],
        )

        def healthy() -> bool:
            with urllib.request.urlopen(self._etcd_url + "/health", timeout=2) as r:
                return bool(json.loads(r.read()).get("health") == "true")

        wait_until(healthy, self.start_timeout, "etcd /health", proc)

    def _start_apiserver(self) -> None:
        d = self._dir
        args = [
            f"--etcd-servers={self._etcd_url}",
            f"--cert-dir={d}",
            f"--tls-cert-file={d / 'apiserver.crt'}",
            f"--tls-private-key-file={d / 'apiserver.key'}",
            f"--client-ca-file={d / 'ca.crt'}",
            f"--secure-port={self._apiserver_port}",
            f"--bind-address={self.host}",
            f"--advertise-address={self.host}",  # no default route on a sandbox: name the address
            # ...and a loopback address may not back the `kubernetes` Service's endpoints.
            "--endpoint-reconciler-type=none",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=true",
            "--authorization-mode=RBAC",
            # As OpenShift and other distributions run it: setting blockOwnerDeletion on a child needs
            # `update` on the owner's finalizers, so tests show that the role's finalizers grants are needed.
            "--enable-admission-plugins=OwnerReferencesPermissionEnforcement",
            f"--service-account-issuer=https://{self.host}:{self._apiserver_port}/",
            f"--service-account-key-file={d / 'sa.pub'}",
            f"--service-account-signing-key-file={d / 'sa.key'}",
        ]
        if not self.controller_manager:
            # Nothing would create the `default` ServiceAccount that this admission plugin waits for.
            args.append("--disable-admission-plugins=ServiceAccount")
        if self.audit:
            (d / "audit-policy.yaml").write_text(AUDIT_POLICY)
            args += [
                f"--audit-policy-file={d / 'audit-policy.yaml'}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
                "--audit-log-maxsize=0",
            ]
        args += list(self.apiserver_args)
        self._spawn("kube-apiserver", args)
        self._wait_apiserver(self.processes["kube-apiserver"])

    def _wait_apiserver(self, proc: Process) -> None:
        wait_until(lambda: self.raw("GET", "/readyz") == b"ok", self.start_timeout, "/readyz", proc)
        wait_until(
            lambda: self.request("GET", "/api/v1/namespaces/default")["metadata"]["name"] == "default",
            self.start_timeout,
            "namespace default",
            proc,
        )

    def _component_kubeconfig(self, name: str) -> Path:
        # Components run as system:masters: this is a test plane, and it keeps RBAC bootstrap out of the way.
        pair = self._ca.issue(name, organizations=["system:masters"], client=True)
        return write_kubeconfig(self._dir / f"kubeconfig-{name}.yaml", self.server, self.ca_pem, name, pair)

    def _secure_serving(self, name: str, kubeconfig: Path) -> list[str]:
        cert_dir = self._dir / f"{name}-certs"
        cert_dir.mkdir(exist_ok=True)
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--secure-port={free_port(self.host)}",
            f"--bind-address={self.host}",
            f"--cert-dir={cert_dir}",
            "--leader-elect=false",
        ]

    def _start_controller_manager(self) -> None:
        kc = self._component_kubeconfig("system:kube-controller-manager")
        d = self._dir
        proc = self._spawn(
            "kube-controller-manager",
            [
                *self._secure_serving("kube-controller-manager", kc),
                f"--service-account-private-key-file={d / 'sa.key'}",
                f"--root-ca-file={d / 'ca.crt'}",
                f"--cluster-signing-cert-file={d / 'ca.crt'}",
                f"--cluster-signing-key-file={d / 'ca.key'}",
                "--use-service-account-credentials=true",
                "--controllers=*",
                # Short periods so that tests of garbage collection and namespaces do not wait long.
                "--concurrent-gc-syncs=10",
                "--concurrent-namespace-syncs=5",
            ],
        )

        def default_sa() -> bool:
            self.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")
            return True

        wait_until(default_sa, self.start_timeout, "the default ServiceAccount", proc)

    def _start_scheduler(self) -> None:
        kc = self._component_kubeconfig("system:kube-scheduler")
        self._spawn("kube-scheduler", self._secure_serving("kube-scheduler", kc))

    def _start_kwok(self) -> None:
        stages = self._assets / "kwok-stages"
        if not stages.is_dir():
            raise ControlPlaneError(
                f"{stages} is missing: kwok needs its Stage files (hack/envtest/build.sh copies them)"
            )
        config = self._dir / "kwok.yaml"
        config.write_text("\n---\n".join(p.read_text() for p in sorted(stages.glob("*.yaml"))))
        kc = self._component_kubeconfig("kwok")
        proc = self._spawn(
            "kwok",
            [
                f"--kubeconfig={kc}",
                f"--config={config}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--cidr=10.244.0.0/16",
                "--node-ip=10.244.0.1",
                "--node-lease-duration-seconds=40",
                f"--server-address={self.host}:{free_port(self.host)}",
            ],
        )
        self.request("POST", "/api/v1/nodes", fake_node(KWOK_NODE))

        def node_ready() -> bool:
            node = self.request("GET", f"/api/v1/nodes/{KWOK_NODE}")
            return any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in node.get("status", {}).get("conditions", [])
            )

        wait_until(node_ready, self.start_timeout, f"node {KWOK_NODE} Ready", proc)


_WORK_PREFIX = "opstack-envtest-"


def _remove_stale_work_dirs() -> None:
    """Work folders of planes whose owner was killed (its processes died with it; its files did not)."""
    for d in Path(tempfile.gettempdir()).glob(_WORK_PREFIX + "*"):
        try:
            os.kill(int((d / "owner.pid").read_text()), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (OSError, ValueError):
            continue


def fake_node(name: str) -> dict[str, Any]:
    """A Node that kwok manages (by its annotation) and that any Pod may be scheduled to (no taint)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "type": "kwok",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/os": "linux",
                "kubernetes.io/hostname": name,
                "node-role.kubernetes.io/agent": "",
            },
        },
        "status": {
            "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1Ti"},
            "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1Ti"},
            "nodeInfo": {
                "kubeletVersion": "fake",
                "kubeProxyVersion": "fake",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def leftover_processes(
    binaries: Sequence[str] = (*BINARIES, "anvil"), parent: int | None = None
) -> list[str]:
    """Processes of the control plane or anvil still running, as `pid cmdline`; with `parent`, only
    the children of that process (so that concurrent test runs do not see each other's)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            exe = os.path.basename(cmd[0].decode(errors="replace")) if cmd and cmd[0] else ""
            if exe not in binaries:
                continue
            if parent is not None:
                stat = Path(f"/proc/{pid}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) != parent:
                    continue
            found.append(f"{pid} {b' '.join(cmd).decode(errors='replace')[:200]}")
    return found


__all__ = [
    "BINARIES",
    "KWOK_NODE",
    "CertificateAuthority",
    "ControlPlane",
    "ControlPlaneError",
    "find_assets",
    "free_port",
    "leftover_processes",
    "wait_until",
    "write_kubeconfig",
]
