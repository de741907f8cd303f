"""The samples of `config/samples`: where they live and how to read them (tests, `make dev`).

`invalid/index.yaml` lists the invalid samples with the field each must be refused for and a piece of
the expected message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "config" / "samples"
INVALID = SAMPLES / "invalid"
CRD_BASES = ROOT / "config" / "crd" / "bases"


def load(path: Path) -> dict[str, Any]:
    obj = yaml.safe_load(path.read_text())
    assert isinstance(obj, dict), f"{path} must hold a single object"
    return obj


def valid_samples() -> list[Path]:
    return sorted(SAMPLES.glob("optimism_v1alpha1_*.yaml"))


def invalid_index() -> list[dict[str, Any]]:
    entries = yaml.safe_load((INVALID / "index.yaml").read_text())
    assert isinstance(entries, list)
    return entries
