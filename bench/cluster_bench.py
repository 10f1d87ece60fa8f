"""Scale-out benchmark: indexing on a Ray cluster of 1 and 2 nodes against one machine, and
the fan-out overhead of a query over 4 shard actors against one Store in process.

Usage: .venv/bin/python bench/cluster_bench.py [--repos /tmp/sample-org/repos]
       [--work /var/tmp/ray-bench] [--runs 20] [--out docs/benchmarks/cluster.md]
The clusters are real (`ray start` on loopback, one CPU per node; innersearch/cluster/local.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from innersearch.cluster import connect  # noqa: E402
from innersearch.cluster.index import index_cluster  # noqa: E402
from innersearch.cluster.local import LocalCluster  # noqa: E402
from innersearch.cluster.search import ClusterSearch  # noqa: E402
from innersearch.indexer import layout  # noqa: E402
from innersearch.indexer.run import index_sources  # noqa: E402
from innersearch.indexer.store import Store  # noqa: E402
from innersearch.search import api  # noqa: E402

QUERIES = [
    "retry",
    "import",
    "error",
    "def __init__",
    "DEFAULT_TIMEOUT",
    "charset_normalizer",
    "zzq_not_anywhere_qzz",
    "/retry|backoff/",
    "/[0-9]{4}-[0-9]{2}/",
    "sym:parse",
    "type:symbol Session",
    "lang:python timeout",
]
SHARDS = 4


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def _index_on_cluster(nodes: int, repos: Path, work: Path) -> tuple[float, int, dict]:
    cluster = LocalCluster().start()
    try:
        for _ in range(nodes - 1):
            cluster.add_node()
        ray = connect(cluster.address)
        cluster.wait_nodes(ray, nodes)
        data = layout.DataDir(work / f"nodes{nodes}")
        started = time.monotonic()
        summary = index_cluster(cluster.address, data, [str(repos)], SHARDS, say=lambda _m: None)
        seconds = time.monotonic() - started
        per_node: dict[str, int] = {}
        for run in summary.shards:
            per_node[run.node[:8]] = per_node.get(run.node[:8], 0) + 1
        assert not summary.failed, summary.failed
        return seconds, summary.total("new_bytes"), per_node
    finally:
        import ray as ray_module

        ray_module.shutdown()
        cluster.stop()


def _median_ms(call, runs: int) -> float:
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _round_trips(ray, searcher: ClusterSearch, runs: int) -> dict[str, float]:
    """Where a fan-out's time goes: Ray's bare call to one actor and to all four (a method
    that does nothing: `node`), fetched per actor or in one get, against a whole search
    that matches nothing."""
    actors = [h.actor for h in searcher.handles]
    return {
        "one actor": _median_ms(lambda: ray.get(actors[0].node.remote()), runs),
        "4 actors, one get": _median_ms(lambda: ray.get([a.node.remote() for a in actors]), runs),
        "4 actors, a get each": _median_ms(
            lambda: [ray.get(r) for r in [a.node.remote() for a in actors]], runs
        ),
        "search matching nothing": _median_ms(
            lambda: searcher.search("zzq_not_anywhere_qzz", limit=20), runs
        ),
    }


def _page(out: dict) -> list:
    return [(r["repo"], r["branch"], r["path"], r["score"]) for r in out["results"]]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", default="/tmp/sample-org/repos")
    ap.add_argument("--work", default="/var/tmp/ray-bench")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--out", default=None)
    ap.add_argument(
        "--parts",
        default="index,fanout",
        help="index (one machine, 1 and 2 nodes), fanout (queries), or both",
    )
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="keep the indexes under --work between runs (fanout only: measure again)",
    )
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    repos, work = Path(args.repos), Path(args.work)
    if not args.reuse:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()

    one = layout.DataDir(work / "one")
    started = time.monotonic()
    size_file = work / "one-mb.txt"  # what the first run indexed, for --reuse
    if args.reuse and size_file.exists():
        one_mb = float(size_file.read_text())
    else:
        one_mb = index_sources(one, [str(repos)], say=lambda _m: None).new_bytes / 1e6
        size_file.write_text(f"{one_mb}\n")
    one_s = time.monotonic() - started
    print(f"one machine: {one_s:.1f} s, {one_mb:.1f} MB", flush=True)

    timings = {}
    for nodes in (1, 2) if "index" in parts else ():
        seconds, new_bytes, per_node = _index_on_cluster(nodes, repos, work)
        timings[nodes] = (seconds, new_bytes / 1e6, per_node)
        print(
            f"{nodes} node(s): {seconds:.1f} s, {new_bytes / 1e6:.1f} MB, shards {per_node}",
            flush=True,
        )

    if "fanout" not in parts:
        return 0
    # Fan-out: 4 shard actors (on 2 nodes) against one Store in this process, same data.
    cluster = LocalCluster().start()
    rows = []
    mismatches = 0
    try:
        cluster.add_node()
        ray = connect(cluster.address)
        cluster.wait_nodes(ray, 2)
        if not (args.reuse and (work / "fan" / "cluster.json").exists()):
            fan = layout.DataDir(work / "fan")
            index_cluster(cluster.address, fan, [str(repos)], SHARDS, say=lambda _m: None)
        searcher = ClusterSearch.open(cluster.address, work / "fan")
        store = Store(one)
        for q in QUERIES:
            api.search(store.snapshot(), q, limit=20).to_json()
            searcher.search(q, limit=20)
            local, remote, whole = [], [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                want = api.search(store.snapshot(), q, limit=20).to_json()
                local.append((time.perf_counter() - t) * 1000)
                for share_first, times in ((False, remote), (True, whole)):
                    searcher.share_first = share_first
                    t = time.perf_counter()
                    # To JSON, as the one machine's: what the web route sends either way.
                    got = searcher.search(q, limit=20).to_json()
                    times.append((time.perf_counter() - t) * 1000)
                    mismatches += _page(got) != _page(want) or got["partial"]
            searcher.share_first = False
            rows.append(
                (q, statistics.median(local), statistics.median(remote), local, remote, whole)
            )
            print(
                f"{q!r}: one {rows[-1][1]:.1f} ms, 4 shards {rows[-1][2]:.1f} ms "
                f"(each asked for its share first: {statistics.median(whole):.1f} ms)"
            )
        trips = _round_trips(ray, searcher, args.runs * 2)
        print(f"round trips: {trips}")
        footprints = searcher.footprints()
        print(f"shards: {footprints}")
        searcher.close()
        store.close()
    finally:
        import ray as ray_module

        ray_module.shutdown()
        cluster.stop()
    load_after = os.getloadavg()

    all_local = [v for r in rows for v in r[3]]
    all_remote = [v for r in rows for v in r[4]]
    overheads = [r[2] - r[1] for r in rows]
    whole_overheads = [statistics.median(r[5]) - r[1] for r in rows]
    empty = next(r for r in rows if r[0] == "zzq_not_anywhere_qzz")
    lines = [
        "## Scale-out (Ray)",
        "",
        f"- Command: `.venv/bin/python bench/cluster_bench.py --runs {args.runs}`",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores "
        f"(shared with other sessions), {platform.machine()}, Python {platform.python_version()}; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after",
        f"- Corpus: {repos} ({len([p for p in repos.iterdir() if p.is_dir()])} repos, "
        f"{one_mb:.1f} MB indexed); {SHARDS} shards; Ray nodes started with `--num-cpus 1`, "
        "all on this machine (loopback)",
        "",
    ]
    if timings:  # not with --reuse alone: nothing was indexed then
        lines += [
            "### Indexing",
            "",
            "| setup | seconds | MB/s | speed-up vs one machine | shards per node |",
            "|---|---|---|---|---|",
            f"| one machine, no Ray | {one_s:.1f} | {one_mb / one_s:.2f} | 1.00x | - |",
        ]
    for nodes, (seconds, mb, per_node) in timings.items():
        spread = ", ".join(str(n) for n in sorted(per_node.values(), reverse=True))
        lines.append(
            f"| Ray, {nodes} node(s) | {seconds:.1f} | {mb / seconds:.2f} | "
            f"{one_s / seconds:.2f}x | {spread} |"
        )
    lines += [
        "",
        "### Query fan-out (limit 20; same data: one Store in process vs 4 shard actors)",
        "",
        f"- all runs: one Store p50 {_pct(all_local, 0.5):.1f} ms, "
        f"p99 {_pct(all_local, 0.99):.1f} ms;"
        f" 4 shards p50 {_pct(all_remote, 0.5):.1f} ms, p99 {_pct(all_remote, 0.99):.1f} ms",
        f"- fan-out overhead (per-query median difference), p50 over queries: "
        f"{statistics.median(overheads):.1f} ms (goal <= 10 ms: "
        f"{'met' if statistics.median(overheads) <= 10 else 'missed'}); a query matching "
        f"nothing: {empty[1]:.1f} ms vs {empty[2]:.1f} ms",
        f"- the same with each shard first asked for its share of the page (`share_first`, "
        f"`shard_want`: 10 of 20): overhead p50 {statistics.median(whole_overheads):.1f} ms; "
        f"shards asked again for the whole page: {searcher.asked_again} in "
        f"{len(rows) * (args.runs + 1)} searches",
        f"- pages different from one machine's, or partial: {mismatches} of "
        f"{len(rows) * args.runs * 2}",
        "- Ray's own cost (medians of "
        f"{args.runs * 2} calls): "
        + "; ".join(f"{name} {ms:.1f} ms" for name, ms in trips.items()),
        "",
        "| shard | repos | files | actor RSS after the queries | data dir on disk |",
        "|---|---|---|---|---|",
        *(
            f"| {sid} | {f['repos']} | {f['files']} | {f['rss_mib']} MiB | {f['disk_mib']} MiB |"
            for sid, f in sorted(footprints.items())
        ),
        "",
        "| query | one Store p50 | 4 shards p50 | overhead | share first (overhead) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{q}` | {a:.1f} ms | {b:.1f} ms | {b - a:+.1f} ms | "
        f"{statistics.median(w):.1f} ms ({statistics.median(w) - a:+.1f}) |"
        for q, a, b, _l, _r, w in rows
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if not args.reuse:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
