"""Pull-request mode speed and answer: `innersearch dedup --changed BASE..HEAD --repo R
--format sarif` on the sample organization, as a CI job would run it (a fresh process).

Usage: .venv/bin/python bench/dedup_changed.py [--repos /tmp/sample-org/repos] [--data DIR]
Clones py-tenacity (the index keeps the original), commits a renamed copy of backoff's
_wait_gen.py plus a new function, and a second change with new code only; runs the CLI
three times on each and prints wall times (median, max) and the SARIF results.
Writes bench/out/dedup_changed.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from innersearch.indexer import layout  # noqa: E402
from innersearch.indexer.run import index_sources  # noqa: E402

OUT = ROOT / "bench" / "out"
CLI = ROOT / ".venv" / "bin" / "innersearch"
NEW_CODE = """

def schedule_probe(jobs, workers, deadline):
    queue = sorted(jobs, key=lambda job: (job.priority, job.created))
    assigned = {worker: [] for worker in workers}
    for index, job in enumerate(queue):
        worker = workers[index % len(workers)]
        if job.estimate > deadline:
            job.state = "too-long"
            continue
        assigned[worker].append(job)
    return assigned
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=b@x.invalid", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def run(data: Path, repo: Path, rng: str) -> tuple[float, list]:
    cmd = [str(CLI), "--data", str(data), "dedup", "--changed", rng, "--repo", "py-tenacity"]
    cmd += ["--repo-path", str(repo), "--format", "sarif"]
    started = time.monotonic()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    took = time.monotonic() - started
    return took, json.loads(done.stdout)["runs"][0]["results"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repos", default="/tmp/sample-org/repos")
    ap.add_argument("--data", help="an existing index of --repos (default: index into a temp dir)")
    args = ap.parse_args()
    repos = Path(args.repos)
    work = Path(tempfile.mkdtemp(prefix="dedup-changed-"))
    try:
        data = Path(args.data) if args.data else work / "data"
        if not args.data:
            index_sources(layout.DataDir(data), [str(repos)], say=lambda _m: None)
        clone = work / "py-tenacity"
        subprocess.run(["git", "clone", "-q", str(repos / "py-tenacity"), str(clone)], check=True)
        base = git(clone, "rev-parse", "HEAD")
        source = (repos / "py-backoff" / "backoff" / "_wait_gen.py").read_text()
        (clone / "tenacity" / "wait_gen_copy.py").write_text(
            source.replace("def expo", "def exponential_gen") + NEW_CODE
        )
        git(clone, "add", "-A")
        git(clone, "commit", "-qm", "copy backoff's wait generators")
        copied = git(clone, "rev-parse", "HEAD")
        (clone / "tenacity" / "probe.py").write_text(NEW_CODE.lstrip())
        git(clone, "add", "-A")
        git(clone, "commit", "-qm", "new code only")
        fresh = git(clone, "rev-parse", "HEAD")
        result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        for name, rng in (("copy", f"{base}..{copied}"), ("new code only", f"{copied}..{fresh}")):
            times, results = [], []
            for _ in range(3):
                took, results = run(data, clone, rng)
                times.append(took)
            result[name] = {
                "median_s": round(statistics.median(times), 2),
                "max_s": round(max(times), 2),
                "results": [r["message"]["text"] for r in results],
            }
            print(f"{name}: median {statistics.median(times):.2f} s, max {max(times):.2f} s, "
                  f"{len(results)} results")  # fmt: skip
            for r in results:
                print("   ", r["message"]["text"][:160])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dedup_changed.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"-> {OUT / 'dedup_changed.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
