"""anvil, a real local Ethereum JSON-RPC node, for tests and `make dev`.

anvil comes from npm (`@foundry-rs/anvil-linux-amd64`, pinned below) and is installed once into a
cache folder outside the repository; each `Anvil` runs on a free loopback port with a chosen chain
id, and dies with the process that started it.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opstack.testing.envtest import Process, free_port, wait_until

ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64"
ANVIL_VERSION = "1.7.1"


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "opstack"


def npm_package(package: str, version: str) -> Path:
    """The installed folder of an npm package at a pinned version, installing it on first use."""
    prefix = cache_root() / "npm" / f"{package.replace('/', '+')}-{version}"
    folder = prefix / "node_modules" / package
    if not (folder / "package.json").exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(prefix),
                f"{package}@{version}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return folder


def anvil_binary() -> Path:
    if env := os.environ.get("ANVIL_BIN"):
        return Path(env)
    return npm_package(ANVIL_PACKAGE, ANVIL_VERSION) / "bin" / "anvil"


def rpc(url: str, method: str, params: list[Any] | None = None, timeout: float = 10.0) -> Any:
    """One JSON-RPC call; for the fixtures' own checks (the product talks to Ethereum from `chain/`)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        answer = json.loads(resp.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


@dataclass
class Anvil:
    chain_id: int = 31337
    host: str = "127.0.0.1"
    block_time: float | None = None
    extra_args: tuple[str, ...] = ()
    port: int = field(default=0, init=False)
    _process: Process | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Anvil:
        self.port = free_port(self.host)
        log = Path(tempfile.mkstemp(prefix="anvil-", suffix=".log")[1])
        args = [
            str(anvil_binary()),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
        ]
        if self.block_time:
            args += ["--block-time", str(self.block_time)]
        self._process = Process("anvil", [*args, *self.extra_args], log)
        self._process.start()
        wait_until(
            lambda: int(rpc(self.url, "eth_chainId"), 16) == self.chain_id,
            30,
            "anvil eth_chainId",
            self._process,
        )
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process.log.unlink(missing_ok=True)
            self._process = None

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        return rpc(self.url, method, params)

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
