"""What reading a repo's activity costs per indexed commit on a long history, with and without
the last indexed commit's known first commit (gitread.recent_activity `known`).

Usage: .venv/bin/python bench/activity_walk.py [--commits 300000] [--work DIR]
Builds a repo of COMMITS commits 10 minutes apart (git fast-import, 500 authors), then times
recent_activity at its head: the whole history walked for root commits, and with `known`
(the parent of the head and its first commit time), as a re-index after one commit does;
and top_committers (which walks its year). Prints the median of 5 runs each and the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import git

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from innersearch.indexer import gitread  # noqa: E402


def build(repo: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    stream = bytearray()
    for i in range(commits):
        ts = 1_600_000_000 + i * 600
        data = f"v{i}\n".encode()
        stream += b"commit refs/heads/main\n"
        stream += f"author A{i % 500} <a{i % 500}@x> {ts} +0000\n".encode()
        stream += f"committer C <c@x> {ts} +0000\ndata 1\nc\n".encode()
        stream += b"M 100644 inline f%d.txt\ndata %d\n%s\n" % (i % 1000, len(data), data)
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=stream, check=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=300_000)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="activity-walk-"))
    repo_path = work / "repo"
    if not repo_path.exists():
        build(repo_path, args.commits)
    repo = git.Repo(repo_path)
    head = repo.git.rev_parse("main")
    parent = repo.git.rev_parse("main^")
    first = gitread.recent_activity(repo, parent)["first_commit_at"]
    times: dict[str, list[float]] = {"whole history": [], "since the last indexed": []}
    results = {}
    for _ in range(5):
        for label, known in (("whole history", None), ("since the last indexed", (parent, first))):
            start = time.perf_counter()
            results[label] = gitread.recent_activity(repo, head, known=known)
            times[label].append(time.perf_counter() - start)
    assert results["whole history"] == results["since the last indexed"]
    print(f"{args.commits} commits; activity at the head: {results['whole history']}")
    for label, secs in times.items():
        print(f"{label}: median {statistics.median(secs):.3f} s of 5")
    committers = []
    for _ in range(5):
        start = time.perf_counter()
        gitread.top_committers(repo, head)
        committers.append(time.perf_counter() - start)
    print(f"top_committers (a year's window): median {statistics.median(committers):.3f} s of 5")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
