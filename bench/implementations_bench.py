"""Implementations search ("does anyone have a ...?") against a grep-style baseline.

Usage: .venv/bin/python bench/implementations_bench.py [REPOS_DIR] [--data DIR] [--json OUT]

The labelled queries are bench/implementations_queries.tsv (written before any tuning); a
query's relevant repos are every repo of its category in ../shared/corpus/categories.tsv.
Both rankings run on the same index in one run:
- implementations: search.implementations.find (BM25 over what the code says about itself);
- grep baseline: repos ranked by how many of their files contain every word of the query
  (the exact search, case-insensitive; ties broken by name).
Scores: mean average precision over the whole ranking and recall@5. Also measured: the full
index time of the org and, in the same run, what describing the repos costs (describe.py +
the implementations documents), the extraction this feature adds to indexing.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from innersearch.indexer import catalog, classify, gitread, implindex, layout  # noqa: E402
from innersearch.indexer.run import index_sources  # noqa: E402
from innersearch.indexer.store import Store  # noqa: E402
from innersearch.search import api  # noqa: E402
from innersearch.search.implementations import find  # noqa: E402

DEFAULT_REPOS = "/tmp/sample-org/repos"
QUERIES = ROOT / "bench" / "implementations_queries.tsv"
# ../shared/corpus beside the checkout (/work/main); a worktree sits one level deeper.
CATEGORIES = (
    next(
        (
            p
            for p in (ROOT.parent, ROOT.parent.parent)
            if (p / "shared/corpus/categories.tsv").exists()
        ),
        ROOT.parent,
    )
    / "shared/corpus/categories.tsv"
)


def read_tsv(path: Path) -> list[dict]:
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def average_precision(ranking: list[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for i, repo in enumerate(ranking, 1):
        if repo in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant) if relevant else 0.0


def recall_at(ranking: list[str], relevant: set[str], k: int = 5) -> float:
    return len(set(ranking[:k]) & relevant) / len(relevant) if relevant else 0.0


def grep_ranking(store: Store, query: str) -> list[str]:
    """Repos by how many files contain every word (lower-case words: case-insensitive)."""
    words = " ".join(f'"{w}"' for w in query.lower().split())
    out = api.search(store.snapshot(), words, limit=0, time_budget_ms=120_000).to_json()
    counts = Counter(r["repo"] for r in out["results"])
    return [repo for repo, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def describe_cost(data: layout.DataDir) -> float:
    """Seconds to describe every repo and write its implementations documents, as indexing
    does (the same functions, on the indexed mirrors), into a scratch index."""
    cat = catalog.Catalog(data.catalog_path)
    with cat.read() as r:
        repos = r.repos()
    cat.close()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="impl-bench-") as scratch:
        writer = implindex.ImplWriter.open(Path(scratch))
        for row in repos:
            mirror = gitread.git.Repo(data.mirror_path(row.name))
            commit = gitread.branches(mirror)[row.default_branch]
            files = {
                e.path: (0, classify.language(e.path), classify.file_flags(e.path, False))
                for e in gitread.list_tree(mirror, commit)
            }
            writer.describe(row.name, mirror, commit, files, {})
        writer.commit()
        writer.close()
    return time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repos", nargs="?", default=DEFAULT_REPOS)
    ap.add_argument("--data", help="reuse this data dir (indexed if empty)")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--limit", type=int, default=50, help="implementations ranked per query")
    args = ap.parse_args()
    categories = read_tsv(CATEGORIES)
    by_category: dict[str, set[str]] = {}
    for row in categories:
        by_category.setdefault(row["category"], set()).add(row["name"])
    present = {p.name for p in Path(args.repos).iterdir() if p.is_dir()}
    queries = read_tsv(QUERIES)
    tmp = None
    if args.data:
        data = layout.resolve_data_dir(args.data)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="impl-bench-data-")
        data = layout.resolve_data_dir(tmp.name)
    started = time.perf_counter()
    index_sources(data, [args.repos], say=lambda _msg: None)
    index_seconds = time.perf_counter() - started
    extraction_seconds = describe_cost(data)
    store = Store(data)
    snap = store.snapshot()
    rows = []
    for q in queries:
        relevant = by_category.get(q["category"], set()) & present
        ours = [i.repo for i in find(snap, q["query"], limit=args.limit).implementations]
        grep = grep_ranking(store, q["query"])
        rows.append(
            {
                "query": q["query"],
                "category": q["category"],
                "relevant": sorted(relevant),
                "ap": average_precision(ours, relevant),
                "r5": recall_at(ours, relevant),
                "grep_ap": average_precision(grep, relevant),
                "grep_r5": recall_at(grep, relevant),
                "top5": ours[:5],
                "grep_top5": grep[:5],
            }
        )
    latencies = []
    for q in queries:
        t = time.perf_counter()
        find(snap, q["query"], limit=10)
        latencies.append((time.perf_counter() - t) * 1000)
    store.close()
    summary = {
        "queries": len(rows),
        "map": statistics.mean(r["ap"] for r in rows),
        "recall_at_5": statistics.mean(r["r5"] for r in rows),
        "grep_map": statistics.mean(r["grep_ap"] for r in rows),
        "grep_recall_at_5": statistics.mean(r["grep_r5"] for r in rows),
        "index_seconds": round(index_seconds, 2),
        "extraction_seconds": round(extraction_seconds, 2),
        "find_p50_ms": round(statistics.median(latencies), 1),
        "find_max_ms": round(max(latencies), 1),
    }
    print(f"{'query':50} {'AP':>5} {'R@5':>5} | {'grepAP':>6} {'R@5':>5}  top 3")
    for r in rows:
        print(
            f"{r['query'][:50]:50} {r['ap']:5.2f} {r['r5']:5.2f} | {r['grep_ap']:6.2f}"
            f" {r['grep_r5']:5.2f}  {', '.join(r['top5'][:3])}"
        )
    print(
        f"\nMAP {summary['map']:.3f} (grep {summary['grep_map']:.3f}), recall@5 "
        f"{summary['recall_at_5']:.3f} (grep {summary['grep_recall_at_5']:.3f}), "
        f"{len(rows)} queries"
    )
    print(
        f"full index {index_seconds:.1f} s; describing repos + implementations documents "
        f"{extraction_seconds:.1f} s when run alone "
        f"({100 * extraction_seconds / index_seconds:.0f}% of the index time); "
        f"find p50 {summary['find_p50_ms']} ms, max {summary['find_max_ms']} ms"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "queries": rows}, indent=1))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
