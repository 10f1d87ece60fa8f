"""Clone-detection speed on the sample organization, side by side with jscpd 4 in one run.

Usage: .venv/bin/python bench/dedup_speed.py [--repos /tmp/sample-org/repos] [--data DIR]
Indexes the repos into a temp data dir (unless --data names an index), then times
`innersearch dedup` cold (no cache) and warm (pair cache kept), medians of 3, and
`jscpd --min-tokens 50 --min-lines 6` over the same checked-out trees; peak RSS by GNU time.
Writes bench/out/dedup_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
JSCPD_PREFIX = Path("/tmp/jscpd")
JSCPD = JSCPD_PREFIX / "node_modules" / ".bin" / "jscpd"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
INNERSEARCH = [sys.executable, "-m", "innersearch.cli"]
RUNS = 3


def measured(cmd: list[str], **kw) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds, peak RSS in bytes (GNU time %M, largest process), the result."""
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd],
            capture_output=True,
            env=ENV,
            **kw,
        )
        seconds = time.perf_counter() - start
        lines = rss.read().strip().splitlines()
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr.decode()[-2000:]}")
    return seconds, int(lines[-1]) * 1024 if lines else 0, done


def ensure_jscpd() -> str:
    if not JSCPD.exists():
        subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(JSCPD_PREFIX), "jscpd@4"], check=True
        )
    return subprocess.run([str(JSCPD), "--version"], capture_output=True, text=True).stdout.strip()


def _jscpd_location(side: dict, repos: Path) -> tuple[str, str, int, int]:
    name = Path(side["name"])  # absolute with --absolute, else relative to the cwd
    parts = (name if name.is_absolute() else Path.cwd() / name).relative_to(repos).parts
    return parts[0], "/".join(parts[1:]), int(side["start"]), int(side["end"])


def compare_findings(report: dict, duplicates: list[dict], repos: Path) -> dict:
    """Pairs of locations: does the other tool report a clone joining the same two places?
    innersearch side: the first member of each class against every other member."""
    ours = []
    for c in report["clone_classes"]:
        first = c["members"][0]
        for other in c["members"][1:]:
            ours.append((c["type"], first, other))
    theirs = []
    for d in duplicates:
        try:
            theirs.append(
                (_jscpd_location(d["firstFile"], repos), _jscpd_location(d["secondFile"], repos))
            )
        except (KeyError, ValueError, TypeError):
            continue

    def touches(m: dict, loc: tuple) -> bool:
        return (
            (m["repo"], m["path"]) == loc[:2]
            and m["start_line"] <= loc[3]
            and loc[2] <= (m["end_line"])
        )

    by_type: dict[str, list[int]] = {}
    for kind, a, b in ours:
        hit = any(
            (touches(a, x) and touches(b, y)) or (touches(a, y) and touches(b, x))
            for x, y in theirs
        )
        counts = by_type.setdefault(kind, [0, 0])
        counts[0] += 1
        counts[1] += hit
    members = [m for c in report["clone_classes"] for m in c["members"]]
    covered = sum(
        1
        for x, y in theirs
        if any(touches(m, x) for m in members) and any(touches(m, y) for m in members)
    )
    return {
        "innersearch_pairs_by_type": {
            k: {"pairs": n, "also_found_by_jscpd": hit} for k, (n, hit) in sorted(by_type.items())
        },
        "jscpd_duplicates": len(theirs),
        "jscpd_duplicates_inside_innersearch_classes": covered,
    }


GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def incremental(data: Path, repos: Path, work: Path) -> dict:
    """A clone of one sample repo joins the index; then a one-file commit to it is indexed
    and `innersearch dedup` runs again: how long, and how many pairs are measured anew."""
    clone = work / "extra" / "zz-edited"
    subprocess.run(["git", "clone", "-q", str(repos / "py-tenacity"), str(clone)], check=True)
    index = [*INNERSEARCH, "--data", str(data), "index", str(repos), str(clone)]
    report_path = work / "incremental.json"
    dedup = [*INNERSEARCH, "--data", str(data), "dedup", "--out", str(report_path)]
    measured(index)
    measured(dedup)
    # Renamed, so it is a new blob with new fragments (an identical copy would be a blob
    # the index already has).
    copied = (repos / "py-backoff" / "backoff" / "_wait_gen.py").read_text()
    copied = copied.replace("def expo(", "def exponential(").replace("max_value", "ceiling")
    (clone / "tenacity" / "copied_wait.py").write_text(copied)
    for args in (["add", "-A"], ["commit", "-q", "-m", "copy a module"]):
        subprocess.run(["git", "-C", str(clone), *args], check=True, env=GIT_ENV)
    index_secs, _, _ = measured(index)
    dedup_secs, rss, _ = measured(dedup)
    stats = json.loads(report_path.read_text())["stats"]
    return {
        "reindex_seconds": round(index_secs, 2),
        "dedup_seconds": round(dedup_secs, 2),
        "peak_rss_mb": rss >> 20,
        "verified_pairs": stats["verified_pairs"],
        "cached_pairs": stats["cached_pairs"],
    }


def similar_latency(data: Path, repos: Path, count: int = 30) -> dict:
    """api.similar_to on snippets cut from the organization's files (seeded): the first
    call (loads the fragments), then the median / max of the rest, language guessed."""
    sys.path.insert(0, str(ROOT))
    from innersearch.dedup import api
    from innersearch.indexer.store import Store

    rng = random.Random(3)
    files = sorted(
        p for p in repos.rglob("*") if p.suffix in (".py", ".js", ".go") and ".git" not in p.parts
    )
    store = Store.open(data)
    times, found = [], 0
    try:
        for path in rng.sample(files, min(count, len(files))):
            text = path.read_text("utf-8", "replace")
            start = rng.randrange(max(1, len(text) - 1500))
            snippet = text[start : start + 1500] or text
            began = time.perf_counter()
            answer = api.similar_to(store, snippet, limit=10)
            times.append(time.perf_counter() - began)
            rel = path.relative_to(repos)
            where = (rel.parts[0], "/".join(rel.parts[1:]))
            found += any((m.repo, m.path) == where for m in answer.matches)
    finally:
        store.close()
    rest = sorted(times[1:])
    return {
        "snippets": len(times),
        "first_call_ms": round(1000 * times[0], 1),
        "median_ms": round(1000 * statistics.median(rest), 1),
        "max_ms": round(1000 * rest[-1], 1),
        "source_file_among_matches": found,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repos", default="/tmp/sample-org/repos")
    ap.add_argument("--data", help="an existing index of --repos (default: index into a temp dir)")
    args = ap.parse_args()
    repos = Path(args.repos).resolve()
    if not repos.is_dir():
        sys.exit(f"no sample organization at {repos}: run ../shared/corpus/build.sh")
    if shutil.which("/usr/bin/time") is None:
        sys.exit("GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time")
    jscpd_version = ensure_jscpd()
    work = Path(tempfile.mkdtemp(prefix="dedup-speed-"))
    results: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "repos": str(repos),
        "jscpd_version": jscpd_version,
    }
    try:
        data = Path(args.data) if args.data else work / "data"
        if not args.data:
            secs, rss, _ = measured([*INNERSEARCH, "--data", str(data), "index", str(repos)])
            results["index"] = {"seconds": round(secs, 2), "peak_rss_mb": rss >> 20}
            print(f"index: {secs:.1f} s, {rss >> 20} MB")
        shutil.rmtree(data / "dedup", ignore_errors=True)
        report_path = work / "report.json"
        dedup = [*INNERSEARCH, "--data", str(data), "dedup", "--out", str(report_path)]
        for label in ("cold", "warm"):
            runs = []
            for _ in range(RUNS):
                if label == "cold":
                    shutil.rmtree(data / "dedup", ignore_errors=True)
                runs.append(measured(dedup)[:2])
            secs = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            results[f"dedup_{label}"] = {
                "seconds": round(secs, 2),
                "runs": [round(r[0], 2) for r in runs],
                "peak_rss_mb": rss >> 20,
            }
            print(f"innersearch dedup ({label}, median of {RUNS}): {secs:.2f} s, {rss >> 20} MB")
        report = json.loads(report_path.read_text())
        results["similar_to"] = similar_latency(data, repos)
        print("similar_to:", results["similar_to"])
        results["innersearch_found"] = {
            "clone_classes": len(report["clone_classes"]),
            "by_type": report["stats"]["by_type"],
            "clone_pairs": report["stats"]["clone_pairs"],
            "library_pairs": len(report["libraries"]),
        }
        jscpd_out = work / "jscpd"
        jscpd_cmd = [
            str(JSCPD), "--silent", "--min-tokens", "50", "--min-lines", "6",
            "--format", "python,javascript,typescript,go", "--ignore", "**/.git/**",
            "--absolute", "--reporters", "json", "--output", str(jscpd_out), str(repos),
        ]  # fmt: skip
        secs, rss, _ = measured(jscpd_cmd)
        found = json.loads((jscpd_out / "jscpd-report.json").read_text())
        results["jscpd"] = {
            "seconds": round(secs, 2),
            "peak_rss_mb": rss >> 20,
            "duplicates": len(found.get("duplicates", [])),
            "files": found.get("statistics", {}).get("total", {}).get("sources"),
        }
        print(f"jscpd: {secs:.2f} s, {rss >> 20} MB, {results['jscpd']['duplicates']} duplicates")
        results["overlap"] = compare_findings(report, found.get("duplicates", []), repos)
        print("found by both / only innersearch / only jscpd:", results["overlap"])
        results["incremental"] = incremental(data, repos, work)
        print("after a one-file commit in one repo:", results["incremental"])
        cold = results["dedup_cold"]["seconds"]
        results["speedup_vs_jscpd_cold"] = round(secs / cold, 2)
        if "index" in results:
            total = cold + results["index"]["seconds"]
            results["speedup_vs_jscpd_index_plus_dedup"] = round(secs / total, 2)
        print(
            f"speed-up vs jscpd: dedup cold {results['speedup_vs_jscpd_cold']}x"
            + (
                f", index+dedup {results['speedup_vs_jscpd_index_plus_dedup']}x"
                if "index" in results
                else ""
            )
        )
        print("innersearch classes by type:", results["innersearch_found"]["by_type"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dedup_speed.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"-> {OUT / 'dedup_speed.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
