"""`serve --ray`'s org-wide implementations index (web/fanout_impl.py): how long it takes to
build, how big it is, and what a query costs against one machine's, in one run.

Usage: .venv/bin/python bench/org_impl_index.py [--repos /tmp/sample-org/repos]
       [--work /var/tmp/org-impl-bench] [--runs 5]
A real Ray cluster on loopback (a head and a second node, one CPU each; cluster/local.py),
4 shards; one machine's index of the same repos beside it. Prints the figures and `uptime`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sharded_org import SHARDS, one_and_sharded, uptime  # noqa: E402

from innersearch.indexer import implindex, layout  # noqa: E402
from innersearch.indexer.store import Store  # noqa: E402
from innersearch.web import create_app  # noqa: E402
from innersearch.web.fanout import create_fanout_app  # noqa: E402
from innersearch.web.fanout_impl import ORG_INDEX  # noqa: E402

TEXT = (implindex.F_TITLE, implindex.F_ABOUT, implindex.F_BODY)


def _dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    out = call()
    return time.perf_counter() - started, out


def _queries() -> list[str]:
    rows = (ROOT / "bench" / "implementations_queries.tsv").read_text().splitlines()
    return [r.split("\t")[0] for r in rows if r and not r.startswith("#")][1:]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", default="/tmp/sample-org/repos")
    ap.add_argument("--work", default="/var/tmp/org-impl-bench")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"load before: {uptime()}")
    with one_and_sharded(Path(args.repos), work) as org:
        report(args, org.one, org.many, org.searcher)
    print(f"load after: {uptime()}")
    return 0


def report(args, one: layout.DataDir, many: layout.DataDir, searcher) -> None:
    app = create_fanout_app(searcher, many.root)
    cache = app.extensions[ORG_INDEX]
    with app.test_request_context():
        first, org = _timed(lambda: cache.get(searcher))
        cache.current = None  # as after a shard's generation moved: documents kept
        again, _ = _timed(lambda: cache.get(searcher))
        ordered = [
            f for k in sorted(org.keys, key=lambda k: (org.keys[k], k)) for f in cache.fields[k]
        ]
        builds = [_timed(lambda: implindex.in_memory(ordered))[0] for _ in range(args.runs)]
    kinds = Counter(f[implindex.F_KIND] for f in ordered)
    text_mib = sum(len(str(f[n]).encode()) for f in ordered for n in TEXT) / 2**20
    sent_mib = len(json.dumps([f for fs in cache.fields.values() for f in fs]).encode()) / 2**20
    on_disk = many.root.parent / "org-impl"
    shutil.rmtree(on_disk, ignore_errors=True)
    index = implindex.open_index(on_disk, create=True)
    writer = index.writer(implindex.WRITER_HEAP_BYTES, 1)
    for fields in ordered:
        writer.add_document(implindex.document(fields))
    writer.commit()
    writer.wait_merging_threads()
    shards_mib = sum(
        _dir_mib(many.root / "shards" / s / "implementations") for s in searcher.layout.ids
    )
    repos = len(set(org.keys.values()))
    source_mib = _dir_mib(Path(args.repos)) if Path(args.repos).exists() else 0.0
    print(f"\norg-wide implementations index, {repos} repos over {SHARDS} shards, 2 nodes")
    print(f"documents: {len(ordered)} ({dict(kinds)}), text fields {text_mib:.2f} MiB")
    print(f"sent by the shards (fields as JSON): {sent_mib:.2f} MiB")
    print(
        f"index on disk: {_dir_mib(on_disk):.2f} MiB; the shards' own implementations "
        f"indexes together {shards_mib:.2f} MiB; one machine's "
        f"{_dir_mib(one.implementations_dir):.2f} MiB; repos dir {source_mib:.1f} MiB"
    )
    print(f"first build (shards describe again + transfer + build): {first:.2f} s")
    print(f"rebuild after a generation moved (documents kept): {again:.2f} s")
    build = statistics.median(builds)
    rate = len(ordered) / build
    print(f"the build alone: median {build:.3f} s of {args.runs} ({rate:,.0f} documents/s)")
    # Queries, one machine and the gateway side by side in one loop (ratios, not times).
    store = Store.open(one.root)
    machine = create_app(store, cache_entries=0).test_client()
    gateway = app.test_client()
    one_ms, many_ms, differ = [], [], 0
    queries = _queries()
    for _run in range(args.runs):
        for q in queries:
            url = f"/api/v1/implementations?q={urllib.parse.quote(q)}"
            a_s, a = _timed(lambda url=url: machine.get(url).get_json())
            b_s, b = _timed(lambda url=url: gateway.get(url).get_json())
            one_ms.append(a_s * 1000)
            many_ms.append(b_s * 1000)
            differ += a["implementations"] != b["implementations"]
    store.close()
    p50_one, p50_many = statistics.median(one_ms), statistics.median(many_ms)
    print(
        f"queries ({len(queries)} x {args.runs}): one machine p50 {p50_one:.1f} ms, gateway "
        f"p50 {p50_many:.1f} ms ({p50_many / p50_one:.2f}x); answers differing: {differ}"
    )


if __name__ == "__main__":
    sys.exit(main())
