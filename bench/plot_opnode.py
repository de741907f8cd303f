"""Plot bench/results/opnode.json into docs/bench-opnode.png: per N, converge and change wall time, resync CPU
and peak RSS for each contender (bars: medians; whiskers: min-max over the repetitions).

Run: python bench/plot_opnode.py [results.json] [out.png]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
COLORS = {
    "opstack": "#1f77b4",
    "opstack-tuned": "#6baed6",
    "kopf": "#ff7f0e",
    "controller-runtime": "#2ca02c",
    "floor": "#7f7f7f",
    "floor-wide": "#bdbdbd",
}
PANELS = (
    ("converge", "seconds", "converge: wall time (s)"),
    ("change", "seconds", "change: wall time (s)"),
    ("converge", "cpu_seconds", "converge: operator CPU (s)"),
    ("steady", "cpu_seconds", "restart resync: CPU incl. start-up (s)"),
    (None, "peak_rss_mib", "peak RSS (MiB)"),
)


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else ROOT / "bench" / "results" / "opnode.json"
    out = Path(argv[2]) if len(argv) > 2 else ROOT / "docs" / "bench-opnode.png"
    doc = json.loads(src.read_text())
    sizes = list(doc["summary"])
    fig, axes = plt.subplots(
        len(sizes), len(PANELS), figsize=(4 * len(PANELS), 3.4 * len(sizes)), squeeze=False
    )
    for row, n in enumerate(sizes):
        contenders: dict[str, Any] = doc["summary"][n]["contenders"]
        for col, (phase, metric, title) in enumerate(PANELS):
            ax = axes[row][col]
            names, med, lo, hi = [], [], [], []
            for name, s in contenders.items():
                stat = s.get(metric) if phase is None else (s.get(phase) or {}).get(metric)
                if not stat:
                    continue
                names.append(name)
                med.append(stat["median"])
                lo.append(stat["median"] - stat["min"])
                hi.append(stat["max"] - stat["median"])
            ax.bar(
                range(len(names)),
                med,
                yerr=[lo, hi],
                capsize=3,
                color=[COLORS.get(nm, "#999999") for nm in names],
            )
            ax.set_xticks(range(len(names)), [nm.replace("controller-runtime", "ctrl-rt") for nm in names])
            ax.tick_params(axis="x", labelrotation=30, labelsize=8)
            reps = max((s["reps"] for s in contenders.values()), default=0)
            ax.set_title(f"N={n} ({reps} rep{'s' if reps != 1 else ''}): {title}", fontsize=9)
            ax.grid(axis="y", alpha=0.3)
    machine = doc.get("machine", {})
    fig.suptitle(
        f"OpNode benchmark, {machine.get('cpus')} CPUs / {machine.get('memory_gib')} GiB, {doc.get('when')}",
        fontsize=11,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
