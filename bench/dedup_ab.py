"""The dedup job of two checkouts on one index, runs interleaved (A, B, A, B, ...), so a
loaded machine slows both alike; checks the two reports are the same.

Usage: .venv/bin/python bench/dedup_ab.py --base DIR --data DATA [--runs 3]
DIR is another checkout of innersearch (e.g. `git archive main | tar -x -C DIR`); this
checkout is B. Each run is cold (DATA/dedup removed first) and runs with PYTHONHASHSEED=0,
so the reports compare byte for byte apart from `generated_at` and `stats.seconds`.
Prints per side the wall seconds of each run, their median, and the peak RSS (VmHWM, GNU
time's %M: the job is one process), the median of the rounds' B / A ratios, with the load
average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(checkout: Path, data: Path, out: Path) -> tuple[float, int]:
    """Wall seconds and VmHWM in bytes of one cold `innersearch dedup`."""
    shutil.rmtree(data / "dedup", ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, "-m", "innersearch.cli", "--data", str(data), "dedup", "--out"]
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd, str(out)],
            cwd=checkout,
            env=env,
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - start
        return seconds, int(rss.read().split()[-1]) * 1024


def comparable(path: Path) -> dict:
    report = json.loads(path.read_text())
    report.pop("generated_at", None)
    report.get("stats", {}).pop("seconds", None)
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    sides = {"A (base)": args.base.resolve(), "B (this checkout)": ROOT}
    work = Path(tempfile.mkdtemp(prefix="dedup-ab-"))
    print(f"load average before: {os.getloadavg()}")
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in sides}
    try:
        for _ in range(args.runs):
            for k, (name, checkout) in enumerate(sides.items()):
                results[name].append(run_once(checkout, args.data, work / f"{k}.json"))
        same = comparable(work / "0.json") == comparable(work / "1.json")
        stats = comparable(work / "1.json")["stats"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")
    for name, runs in results.items():
        secs = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        each = ", ".join(f"{r[0]:.2f}" for r in runs)
        print(f"{name}: median {secs:.2f} s ({each}), peak RSS {peak / 2**20:.0f} MiB")
    # A and B of one round ran back to back, under about the same load: the median of the
    # rounds' ratios moves less with the machine's load than the ratio of the two medians.
    a_runs, b_runs = results.values()
    ratios = [b[0] / a[0] for a, b in zip(a_runs, b_runs, strict=True)]
    print(f"B / A: median of the rounds' ratios {statistics.median(ratios):.3f}")
    print(f"reports identical: {same}; stats: {stats}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
