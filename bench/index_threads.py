"""Where a full index spends its CPU: seconds per process kind and thread, one run.

Usage: .venv/bin/python bench/index_threads.py REPO [--work DIR]
Samples /proc/PID/task/TID/stat of the indexer's whole process tree every 50 ms and keeps
each thread's last CPU time, then sums by (process kind, thread name): the main process's
Python thread against tantivy's indexing and merge threads (Rust names its threads), the
parsing workers, git. Shows which part of the pipeline is serial on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(Path(__file__).resolve().parent)]

from index_ab import procs_now, tree_of  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _stat(path: str) -> tuple[str, int, float] | None:
    """(thread name, parent pid, cpu seconds) from one thread's stat file."""
    try:
        with open(path) as fh:
            text = fh.read()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    f = text.rsplit(")", 1)[1].split()
    return name, int(f[1]), (int(f[11]) + int(f[12])) / TICK


def _kind(pid: int, root: int) -> str:
    if pid == root:
        return "main"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return "gone"
    if argv[0].endswith(b"git"):
        return "git " + (argv[1].decode() if len(argv) > 1 else "")
    if b"forkserver" in b" ".join(argv):
        return "forkserver/worker"
    return "other"


def measure(cmd: list[str]) -> tuple[float, dict[tuple[str, str], float]]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    last: dict[tuple[int, int], tuple[str, str, float]] = {}
    kinds: dict[int, str] = {}
    while proc.poll() is None:
        for pid in tree_of(proc.pid, procs_now()):
            if pid not in kinds:
                kinds[pid] = _kind(pid, proc.pid)
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tids:
                got = _stat(f"/proc/{pid}/task/{tid}/stat")
                if got:
                    last[(pid, int(tid))] = (kinds[pid], got[0], got[2])
        time.sleep(0.05)
    wall = time.perf_counter() - start
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for kind, name, cpu in last.values():
        # Worker threads are numbered (tantivy's "thrd-tantivy-index0"): one row per family.
        sums[(kind, name.rstrip("0123456789"))] += cpu
    return wall, sums


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--work", type=Path, default=Path("/var/tmp/innersearch-index-threads"))
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    cmd = [sys.executable, "-m", "innersearch.cli", "--data", str(args.work), "index"]
    load = os.getloadavg()[0]
    wall, sums = measure([*cmd, "--quiet", str(args.repo.resolve())])
    total = sum(sums.values())
    after = os.getloadavg()[0]
    print(f"{wall:.1f} s wall, {total:.1f} s CPU in all; load {load:.1f} -> {after:.1f}")
    print("| process | thread | CPU s | share |")
    print("|---|---|---:|---:|")
    for (kind, name), cpu in sorted(sums.items(), key=lambda kv: -kv[1]):
        if cpu >= 0.05:
            print(f"| {kind} | {name} | {cpu:.1f} | {cpu / total:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
