"""Copy what the chart shares with config/ into helm/opstack-operator: the CRDs (crds/) and the RBAC rules of
the manager and of leader election (files/*.yaml, read by templates/rbac.yaml). `make manifests` runs it after
generating config/; `--check` fails when the chart is stale (test/integration/ship/test_helm.py checks too).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "opstack-operator"
HEADER = "# Copied by hack/helm/sync_chart.py (make manifests) from {src}. DO NOT EDIT.\n"


def wanted() -> dict[Path, str]:
    out: dict[Path, str] = {}
    for crd in sorted((ROOT / "config" / "crd" / "bases").glob("*.yaml")):
        out[CHART / "crds" / crd.name] = crd.read_text()
    for name, src in (
        ("manager-rules.yaml", "role.yaml"),
        ("leader-election-rules.yaml", "leader_election_role.yaml"),
    ):
        path = ROOT / "config" / "rbac" / src
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        rules = yaml.safe_dump(docs[0]["rules"], sort_keys=False)
        out[CHART / "files" / name] = HEADER.format(src=f"config/rbac/{src}") + rules
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    want = wanted()
    for folder in (CHART / "crds", CHART / "files"):
        for extra in sorted(folder.glob("*.yaml")):
            if extra not in want:
                stale.append(str(extra.relative_to(ROOT)))
                if not check:
                    extra.unlink()
    for path, text in want.items():
        if not path.exists() or path.read_text() != text:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    if check and stale:
        print("the chart is stale; run `make manifests`:\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
