"""POST /api/v1/similar under `serve --ray` against one machine: the same snippets asked of
the fan-out app (4 shard actors on 2 nodes) and of one Store in process, interleaved, in one
run; medians, p90 and the ratio, and whether every answer is equal.

Usage: .venv/bin/python bench/cluster_similar.py [--repos /tmp/sample-org/repos] [--take 12]
       [--work /var/tmp/innersearch-cluster-similar] [--snippets 30] [--seed 1]
Snippets are whole functions of 8-60 lines taken at random (seeded) from the indexed
Python, JavaScript and Go files, asked with and without `lang`. Over shards each shard
verifies up to 60 candidates per language tried and the gateway ranks them all; one machine
verifies 60 in all: this measures what that costs.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sharded_org import SHARDS, first_repos, one_and_sharded, org_arguments, uptime  # noqa: E402

from innersearch.indexer.store import Store  # noqa: E402
from innersearch.web import create_app  # noqa: E402
from innersearch.web.fanout import create_fanout_app  # noqa: E402

LANGS = ("python", "javascript", "go")


def _snippets(store: Store, count: int, seed: int) -> list[tuple[str, str | None]]:
    """(snippet, lang or None): function bodies cut from indexed files by their symbols."""
    snap = store.snapshot()
    files = [f for repo in snap.default_files_by_repo().values() for f in repo]
    rng = random.Random(seed)
    rng.shuffle(files)
    found: list[tuple[str, str | None]] = []
    for f in files:
        if len(found) >= count:
            break
        if f.lang not in LANGS:
            continue
        data = snap.content(f.blob_key)
        if data is None:
            continue
        lines = data.decode("utf-8", "replace").splitlines()
        spans = [
            s
            for s in snap.symbols(f.blob_key)
            if s.kind in ("function", "method") and 8 <= s.end_line - s.line < 60
        ]
        if not spans:
            continue
        s = rng.choice(spans)
        snippet = "\n".join(lines[s.line - 1 : s.end_line])
        found.append((snippet, f.lang if len(found) % 2 else None))
    return found


def _post(client, body: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    got = client.post("/api/v1/similar", json=body)
    took = (time.perf_counter() - started) * 1000
    assert got.status_code == 200, (got.status_code, got.get_data(as_text=True)[:300])
    return took, got.get_json()


def main() -> int:
    ap = argparse.ArgumentParser()
    org_arguments(ap, "/var/tmp/innersearch-cluster-similar")
    ap.add_argument("--snippets", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    work = Path(args.work)
    src = first_repos(args.repos, args.take, work)
    with one_and_sharded(src, work) as org:
        store = Store(org.one)
        local = create_app(store, cache_entries=0).test_client()
        over = create_fanout_app(org.searcher, org.many.root).test_client()
        snippets = _snippets(store, args.snippets, args.seed)
        print(f"before: {uptime()}", flush=True)
        one_ms, many_ms, differing = [], [], 0
        for run in range(2):  # the first round warms both sides, not counted
            for snippet, lang in snippets:
                body = {"snippet": snippet, "lang": lang, "limit": 10}
                a, one = _post(local, body)
                b, many = _post(over, body)
                if run:
                    one_ms.append(a)
                    many_ms.append(b)
                    differing += one["matches"] != many["matches"]
        print(f"after: {uptime()}")
        p50a, p50b = statistics.median(one_ms), statistics.median(many_ms)
        p90a, p90b = (statistics.quantiles(v, n=10)[-1] for v in (one_ms, many_ms))
        print(f"{args.take} repos, {SHARDS} shards on 2 nodes, {len(snippets)} snippets:")
        print("| | one machine | serve --ray | ratio |")
        print("|---|---:|---:|---:|")
        print(f"| p50 | {p50a:.1f} ms | {p50b:.1f} ms | {p50b / p50a:.2f}x |")
        print(f"| p90 | {p90a:.1f} ms | {p90b:.1f} ms | {p90b / p90a:.2f}x |")
        print(f"answers differing: {differing} of {len(snippets)}")
        store.close()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
