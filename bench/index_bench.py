"""Indexing figures on the sample organization, side by side with ctags -R and cindex.

Usage: .venv/bin/python bench/index_bench.py [REPOS_DIR] [--json OUT]
Measures, in one run: full index time and peak RSS (innersearch, universal-ctags, codesearch's
cindex on the same checked-out trees), index size against the source, re-index with nothing
changed, and re-index after a one-file commit (medians of 3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INNERSEARCH = [sys.executable, "-m", "innersearch.cli"]


def ensure_tools() -> None:
    tools = (("ctags", "universal-ctags"), ("cindex", "codesearch"))
    missing = [pkg for tool, pkg in tools if shutil.which(tool) is None]
    if missing:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )


def _tree_rss(root: int) -> int:
    """Summed RSS in bytes of `root` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue  # exited while we looked
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid and c not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


def peak_rss(cmd: list[str], **kw) -> tuple[float, int]:
    """Wall seconds and the peak of the whole process tree's summed RSS (workers included),
    sampled every 50 ms."""
    kw.setdefault("stdout", subprocess.DEVNULL)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, **kw)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # index exits 1 when a repo failed; still measured
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return seconds, peak


def dir_bytes(path: Path, skip_git: bool = False) -> int:
    total = 0
    for root, dirs, files in os.walk(path):
        if skip_git:
            dirs[:] = [d for d in dirs if d != ".git"]
        total += sum(
            os.path.getsize(os.path.join(root, f))
            for f in files
            if not os.path.islink(os.path.join(root, f))
        )
    return total


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repos", nargs="?", default="/tmp/sample-org/repos")
    ap.add_argument("--json", default=str(ROOT / "bench/out/index.json"))
    args = ap.parse_args()
    ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="innersearch-bench-"))
    org = work / "repos"
    shutil.copytree(args.repos, org, symlinks=True)  # we commit into the copy, not the corpus
    data = work / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    idx = [*INNERSEARCH, "--data", str(data), "index", "--quiet"]

    full_s, full_rss = peak_rss([*idx, str(org)], env=env)
    status = json.loads(
        subprocess.run(
            [*INNERSEARCH, "--data", str(data), "status", "--json"],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
    )
    source_bytes = status["totals"]["source_bytes"]
    tree_bytes = dir_bytes(org, skip_git=True)
    index_bytes = dir_bytes(data / "index") + (data / "catalog.sqlite").stat().st_size
    mirror_bytes = dir_bytes(data / "mirrors")

    ctags_s, ctags_rss = peak_rss(
        ["ctags", "-R", "--exclude=.git", "-f", str(work / "tags"), str(org)],
        stderr=subprocess.DEVNULL,
    )
    cs_env = {**os.environ, "CSEARCHINDEX": str(work / "csearchindex")}
    cindex_s, cindex_rss = peak_rss(["cindex", str(org)], env=cs_env, stderr=subprocess.DEVNULL)
    cindex_bytes = (work / "csearchindex").stat().st_size

    nochange = []
    for _ in range(3):
        s, _ = peak_rss([*idx, str(org)], env=env)
        nochange.append(s)
    onefile = []
    target_repo = sorted(p for p in org.iterdir() if (p / ".git").exists())[0]
    target = next(
        p
        for p in sorted(target_repo.rglob("*.py")) + sorted(target_repo.rglob("*.go"))
        if ".git" not in p.parts
    )
    git_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "b@x.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "b@x.invalid",
    }
    for i in range(3):
        with target.open("a") as fh:
            fh.write(f"\n// bench change {i}\n")
        subprocess.run(
            ["git", "-C", str(target_repo), "commit", "-qam", f"bench {i}"], check=True, env=git_env
        )
        s, _ = peak_rss([*idx, str(org)], env=env)
        onefile.append(s)

    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "repos": status["totals"]["repos"],
        "files": status["totals"]["files"],
        "unique_blobs": status["totals"]["unique_blobs"],
        "source_bytes_indexed": source_bytes,
        "tree_bytes": tree_bytes,
        "full_index_s": round(full_s, 2),
        "full_index_peak_rss_mb": round(full_rss / 2**20, 1),
        "mb_per_s_per_thread": round(source_bytes / 1e6 / full_s / (os.cpu_count() or 1), 2),
        "index_bytes": index_bytes,
        "index_to_source": round(index_bytes / source_bytes, 2),
        "mirror_bytes": mirror_bytes,
        "ctags_s": round(ctags_s, 2),
        "ctags_peak_rss_mb": round(ctags_rss / 2**20, 1),
        "cindex_s": round(cindex_s, 2),
        "cindex_peak_rss_mb": round(cindex_rss / 2**20, 1),
        "cindex_bytes": cindex_bytes,
        "reindex_nochange_s_median": round(statistics.median(nochange), 2),
        "reindex_onefile_s_median": round(statistics.median(onefile), 2),
        "symbols": status["totals"]["symbols"],
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    r = results
    print(
        f"sample org: {r['repos']} repos, {r['files']} files, {r['unique_blobs']} unique blobs, "
        f"{source_bytes / 1e6:.1f} MB indexed text ({tree_bytes / 1e6:.1f} MB checked out)"
    )
    print("| tool | full index (s) | peak RSS, process tree (MB) | index (MB) | index / source |")
    print("|---|---|---|---|---|")
    print(
        f"| innersearch | {r['full_index_s']} | {r['full_index_peak_rss_mb']} | "
        f"{index_bytes / 1e6:.1f} | {r['index_to_source']} |"
    )
    print(f"| ctags -R | {r['ctags_s']} | {r['ctags_peak_rss_mb']} | - | - |")
    print(
        f"| cindex | {r['cindex_s']} | {r['cindex_peak_rss_mb']} | {cindex_bytes / 1e6:.1f} | "
        f"{round(cindex_bytes / source_bytes, 2)} |"
    )
    print(
        f"throughput: {r['mb_per_s_per_thread']} MB/s per thread; re-index, nothing changed: "
        f"{r['reindex_nochange_s_median']} s; after a one-file commit: "
        f"{r['reindex_onefile_s_median']} s (medians of 3)"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
