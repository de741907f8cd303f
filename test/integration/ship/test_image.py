"""What can be tested of the image without a container engine: the wheel builds (with its package data),
it installs into a clean virtualenv with its dependencies, `python -m opstack --help` (the image's
entrypoint) runs from there, and every file the Dockerfile copies exists in the repository."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from _ship import ROOT


def dockerfile_sources() -> list[str]:
    """The sources of every COPY/ADD of the Dockerfile that reads the build context (not --from)."""
    sources: list[str] = []
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")  # join continued lines
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        words = shlex.split(line)
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words[1:]):
            continue
        sources += args[:-1]
    return sources


def test_every_file_the_dockerfile_copies_exists() -> None:
    sources = dockerfile_sources()
    assert {"pyproject.toml", "opstack"} <= set(sources), sources
    for src in sources:
        assert (ROOT / src).exists(), f"the Dockerfile copies {src}, which does not exist"
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    for src in sources:  # .dockerignore admits what is copied
        assert f"!{src.rstrip('/')}" in ignore or f"!{src.rstrip('/')}/" in ignore, src
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(stages) == 2, "multi-stage: a build stage and the final stage"
    final = text[text.rindex("\nFROM") :]
    assert "build-essential" not in final and "gcc" not in final, "no compilers in the final stage"
    assert re.search(r"^USER\s+\d+", final, re.M), "the final stage runs as a numeric non-root user"
    assert 'ENTRYPOINT ["python", "-m", "opstack"]' in final


def test_wheel_installs_into_a_clean_virtualenv_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = dist.glob("opstack_operator-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("opstack/chain/data", "opstack/components/data"):
        in_repo = {str(p.relative_to(ROOT)) for p in (ROOT / folder).glob("*.json")}
        assert in_repo, folder
        assert in_repo <= names, f"package data missing from the wheel: {sorted(in_repo - names)}"
    assert "opstack/py.typed" in names and "opstack/__main__.py" in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, clear=True)  # no system site-packages: only what the wheel pulls in
    python = env_dir / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outside = tmp_path  # not the repository, so that `opstack` can only come from the virtualenv
    helped = subprocess.run(
        [str(python), "-m", "opstack", "--help"], cwd=outside, capture_output=True, text=True
    )
    assert helped.returncode == 0, helped.stderr
    for flag in ("--metrics-bind-address", "--health-probe-bind-address", "--leader-elect", "--namespace"):
        assert flag in helped.stdout
    # The whole operator imports with the wheel's declared dependencies (not only --help's argparse).
    probe = (
        "import opstack, opstack.controllers, opstack.runtime, opstack.chain; "
        "from opstack.controllers import setup_all; print(opstack.__file__)"
    )
    imported = subprocess.run([str(python), "-c", probe], cwd=outside, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert str(env_dir) in imported.stdout, imported.stdout
