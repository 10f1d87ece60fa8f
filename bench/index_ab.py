"""Back-to-back A/B of a full index by two versions of innersearch on one repo, same run.

Usage: .venv/bin/python bench/index_ab.py OLD_SRC REPO [--rounds 2] [--work DIR] [--sides new]
OLD_SRC is a directory holding an older `innersearch` package (e.g. `git archive REV
innersearch | tar -x -C OLD_SRC`); the new one is this checkout. Rounds alternate old/new so
both see the same machine load. Per run: wall seconds, CPU seconds of the indexing process
and of its whole tree (workers included, from /proc every 50 ms), peak RSS of the tree and
index size (tantivy index + catalog) against the indexed bytes, and what the tree held at its
peak (per process: anonymous and file-backed resident bytes from /proc/PID/status; mapped
index and pack files count in RSS too); then new/old ratios of medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(Path(__file__).resolve().parent)]

from index_bench import dir_bytes  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def procs_now() -> dict[int, tuple[int, float, int]]:
    """pid -> (parent, cpu seconds, rss bytes) of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            out[int(entry)] = (int(f[1]), (int(f[11]) + int(f[12])) / TICK, int(f[21]) * PAGE)
        except (OSError, IndexError, ValueError):
            continue  # exited while we looked
    return out


def _resident(pid: int) -> str:
    """`name anon+file MiB` of one process (RssAnon, RssFile of /proc/PID/status)."""
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                fields[key] = value.split()[0] if value.split() else ""
    except OSError:
        return f"{pid}: gone"
    anon, file = int(fields.get("RssAnon", 0)) >> 10, int(fields.get("RssFile", 0)) >> 10
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        argv = fh.read().split(b"\0")
    name = "git" if argv[0].endswith(b"git") else fields.get("Name", "?")
    if b"forkserver" in b" ".join(argv):
        name = "worker"
    return f"{name} {anon}+{file}"


def tree_of(root: int, procs: dict[int, tuple]) -> set[int]:
    """`root` and its descendants among `procs` (pid -> (parent, ...), as procs_now gives)."""
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [c for c, v in procs.items() if v[0] == pid and c not in tree]
        tree.update(kids)
        frontier.extend(kids)
    return tree


def measure(cmd: list[str], env: dict, cwd: Path) -> dict:
    """Wall, CPU of the root and of the tree, peak tree RSS of one command."""
    start = time.perf_counter()
    # cwd: `python -m` puts it first on sys.path, before PYTHONPATH.
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    cpu: dict[int, float] = {}  # last CPU seen per descendant (a process's CPU only grows)
    peak, at_peak = 0, ""
    while proc.poll() is None:
        procs = procs_now()
        tree = tree_of(proc.pid, procs)
        total = sum(procs[p][2] for p in tree if p in procs)
        if total > peak:
            peak = total
            at_peak = ", ".join(_resident(p) for p in sorted(tree) if p in procs)
        for p in tree:
            if p in procs:
                cpu[p] = procs[p][1]
        time.sleep(0.05)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return {
        "wall": wall,
        "main_cpu": cpu.get(proc.pid, 0.0),
        "tree_cpu": sum(cpu.values()),
        "rss": peak,
        "at_peak": at_peak,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("old_src", type=Path)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path("/var/tmp/innersearch-index-ab"))
    ap.add_argument("--sides", default="old,new", help="old,new or one of them (no ratios)")
    args = ap.parse_args()
    sides = args.sides.split(",")
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for _ in range(args.rounds):
        for label, src in (("old", args.old_src.resolve()), ("new", ROOT)):
            if label not in sides:
                continue
            data = args.work.resolve() / label
            shutil.rmtree(data, ignore_errors=True)
            env = {**os.environ, "PYTHONPATH": str(src)}
            cmd = [sys.executable, "-m", "innersearch.cli", "--data", str(data), "index"]
            row = measure([*cmd, "--quiet", str(args.repo.resolve())], env, src)
            with sqlite3.connect(data / "catalog.sqlite") as conn:
                indexed = conn.execute("SELECT SUM(size) FROM blobs").fetchone()[0]
            row["size"] = dir_bytes(data / "index") + (data / "catalog.sqlite").stat().st_size
            row["indexed"] = indexed
            runs[label].append(row)
            print(
                f"{label}: {row['wall']:.1f} s wall, main {row['main_cpu']:.1f} s CPU, tree "
                f"{row['tree_cpu']:.1f} s CPU, {row['rss'] / 2**20:.0f} MiB, "
                f"{row['size'] / indexed:.2f}x of {indexed / 1e6:.1f} MB; "
                f"load {os.getloadavg()[0]:.1f}; at the peak, anon+file MiB: {row['at_peak']}",
                flush=True,
            )
    if len(sides) < 2:
        return 0
    print("| metric | old (median) | new (median) | new / old |")
    print("|---|---:|---:|---:|")
    for key, unit, scale in (
        ("wall", "s", 1),
        ("main_cpu", "s", 1),
        ("tree_cpu", "s", 1),
        ("rss", "MiB", 2**20),
        ("size", "x", None),
    ):

        def med(label: str, key=key, scale=scale) -> float:
            vals = [r[key] / (r["indexed"] if scale is None else scale) for r in runs[label]]
            return statistics.median(vals)

        old, new = med("old"), med("new")
        print(f"| {key} | {old:.2f} {unit} | {new:.2f} {unit} | {new / old:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
