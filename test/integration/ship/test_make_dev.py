"""`make dev` as a new user runs it: in the background here, the devnet waited for with the real
`kubectl wait --for=condition=Ready`, `kubectl get opstack` showing it, then Ctrl-C (SIGINT to the process
group, as a terminal sends it) and nothing left behind: no process of the tree, no work folder.

`make dev` starts its own control plane and anvil (not the session's), as it would on a fresh machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from _ship import ROOT, wait_for

from opstack.testing.devnet import OBJECTS


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid` (pid -> command line), from /proc."""
    children: dict[int, list[int]] = {}
    cmdlines: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
            cmdlines[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = cmdlines.get(child, "")[:160]
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited; only its parent's wait is due


def test_make_dev_brings_the_devnet_to_ready_and_ctrl_c_leaves_nothing(tmp_path: Path) -> None:
    output: list[str] = []
    started = time.monotonic()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "dev", f"PYTHON={sys.executable}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so that SIGINT reaches it as a terminal's Ctrl-C
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.stdout is not None
    stdout = proc.stdout

    def read() -> None:
        for line in stdout:
            output.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        kubeconfig = wait_for(
            lambda: (
                next(
                    (m.group(1) for line in output if (m := re.search(r"export KUBECONFIG=(\S+)", line))),
                    None,
                )
                or (proc.poll() is not None and AssertionError("make dev exited:\n" + "".join(output[-40:])))
            ),
            240,
            "make dev to print how to look at it",
        )
        assert not isinstance(kubeconfig, AssertionError), kubeconfig
        kubectl = wait_for(
            lambda: next(
                (m.group(1) for line in output if (m := re.search(r"alias kubectl=(\S+)", line))), None
            ),
            5,
            "the kubectl path",
        )
        workdir = Path(kubeconfig).parent
        env = {**os.environ, "KUBECONFIG": kubeconfig}
        for _, plural, name in OBJECTS:
            done = subprocess.run(
                [kubectl, "wait", "--for=condition=Ready", f"{plural}/{name}", "--timeout=180s"],
                env=env,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr + "".join(output[-40:])
        ready = time.monotonic() - started
        shown = subprocess.run(
            [kubectl, "get", "opstack"], env=env, capture_output=True, text=True, check=True
        )
        for _, _, name in OBJECTS:
            assert name in shown.stdout, shown.stdout
        assert shown.stdout.count("True") >= len(OBJECTS), shown.stdout
        tree = descendants(proc.pid)
        names = {os.path.basename(cmd.split(" ", 1)[0]) for cmd in tree.values()}
        assert {"etcd", "kube-apiserver", "kwok", "anvil"} <= names, names
        print(f"\nmake dev: devnet Ready {ready:.1f}s after `make dev`; {len(tree)} processes in its tree")
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise

    stop = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
    proc.wait(90)
    wait_for(lambda: not [p for p in tree if alive(p)], 60, "every process of make dev to exit")
    reader.join(5)
    print(f"stopped in {time.monotonic() - stop:.1f}s")
    text = "".join(output)
    assert "signal received; shutting down gracefully" in text, text[-3000:]
    assert "operator stopped; stopping anvil and the control plane" in text
    assert not workdir.exists(), f"{workdir} left behind"
    assert "Traceback" not in text, text[-3000:]
