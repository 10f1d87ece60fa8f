"""Side by side in one run: a one-file commit in the kernel re-indexed by two innersearch builds.

Usage: .venv/bin/python bench/onefile_ab.py OLD_CMD WORK [--commits 3]
OLD_CMD: the older build's console script (e.g. /work/main/.venv/bin/innersearch); the new
one is this checkout's. WORK/old and WORK/new each hold `data/` (a copy of one kernel index)
and `linux/` (a clone of its own of the indexed repo), so neither build reads state the
other wrote. Per round, old then new, as a sync loop sees it (and as kernel_bench.py's
`--only incremental`): `innersearch index` with nothing changed, then one one-file commit
(kernel_bench's) and `innersearch index` again, each timed with the peak RSS of its process
tree. Prints every run, the medians, new/old and the load; then, for each data dir, whether
the lines innersearch finds for EXACT_QUERIES equal `git grep` on the clone's HEAD.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from index_bench import peak_rss  # noqa: E402
from kernel_bench import _one_file_commit, git_grep, innersearch_lines, not_indexed  # noqa: E402

from innersearch.indexer.store import Store  # noqa: E402

# A symbol of the edited file, a regex over its marker lines (one per bench commit), a
# literal elsewhere, and no match. (Not `bench edit`: two words are two terms, not a phrase.)
EXACT_QUERIES = [
    "sched_core_balance",
    "/bench edit [0-9]+ \\*/",
    "kmalloc_array_node",
    "zzqq_no_such_identifier",
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("old_cmd")
    ap.add_argument("work", type=Path)
    ap.add_argument("--commits", type=int, default=3)
    args = ap.parse_args()
    builds = {
        "old": [args.old_cmd],
        "new": [sys.executable, "-m", "innersearch.cli"],
    }
    seconds: dict[str, list[float]] = {"old": [], "new": []}
    same: dict[str, list[float]] = {"old": [], "new": []}
    rss: dict[str, list[int]] = {"old": [], "new": []}

    def run(build: str) -> tuple[float, int]:
        w = args.work / build
        cmd = [*builds[build], "--data", str(w / "data"), "index", "--quiet", str(w / "linux")]
        return peak_rss(cmd, cwd=HERE.parent)

    for build in builds:  # a first commit each, untimed: the new build records its state
        _one_file_commit(args.work / build / "linux")
        run(build)
    for i in range(args.commits):
        for build in builds:
            poll, _ = run(build)
            same[build].append(poll)
            _one_file_commit(args.work / build / "linux")
            secs, peak = run(build)
            seconds[build].append(secs)
            rss[build].append(peak)
            load = os.getloadavg()[0]
            print(
                f"round {i + 1} {build}: nothing changed {poll:.2f} s, one-file commit "
                f"{secs:.2f} s, {peak / 2**20:.0f} MiB, load {load:.1f}"
            )
    old, new = (statistics.median(seconds[b]) for b in builds)
    print(f"median one-file commit: old {old:.2f} s, new {new:.2f} s, new/old {new / old:.2f}")
    print(
        f"peak RSS (max): old {max(rss['old']) / 2**20:.0f} MiB, "
        f"new {max(rss['new']) / 2**20:.0f} MiB"
    )
    old_same, new_same = (statistics.median(same[b]) for b in builds)
    print(f"median nothing changed: old {old_same:.2f} s, new {new_same:.2f} s")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    for build in builds:
        w = args.work / build
        store = Store.open(str(w / "data"))
        skipped = not_indexed(w / "linux")
        for query in EXACT_QUERIES:
            expected = {hit for hit in git_grep(w / "linux", query) if hit[0] not in skipped}
            found = innersearch_lines(store, query)
            verdict = "equal" if found == expected else f"DIFFERENT ({len(found ^ expected)})"
            print(f"exactness {build} {query!r}: {len(found)} lines, git grep {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
