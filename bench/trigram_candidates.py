"""How many of the blobs the trigram index offers a query really match it (issue 10)?

Usage: .venv/bin/python bench/trigram_candidates.py --data DIR [QUERY ...]
Without queries, the 16 of bench/http_load.py's mix. Per query: the candidate blobs of the
index (`plan.candidates`: every trigram of each literal present, no positions), how many of
them pass the query's filters (lang:, file:, repo:, on one file of each blob), how many of
those a verification finds matching, and that share. A candidate that passes the filters
and does not match is a blob the search reads and scans in vain when it reaches it (a
search stops early, so it reads only some of them): its trigrams are all there, but apart
or in another case; positional trigrams, as Zoekt keeps them, would drop most of them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import http_load  # noqa: E402

from innersearch.indexer.store import Store  # noqa: E402
from innersearch.search import execute  # noqa: E402
from innersearch.search.plan import RowTarget, candidates, compile_plan  # noqa: E402
from innersearch.search.query import parse  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="an index (innersearch --data DIR)")
    ap.add_argument("queries", nargs="*", help="default: bench/http_load.py's QUERIES")
    args = ap.parse_args()
    store = Store.open(args.data)
    try:
        snap = store.snapshot()
        print(f"{len(snap.files_by_blob)} blobs")
        print("| query | candidate blobs | passing the filters | matching | share |")
        print("|---|---:|---:|---:|---:|")
        offered = found = 0
        for text in args.queries or http_load.QUERIES:
            plan = compile_plan(parse(text))
            keys = candidates(plan, snap) if plan.positive else None
            if keys is None:
                print(f"| `{text}` | all | - | - | - |")
                continue
            ver = execute._Verifier(snap)
            rows = [snap.files_by_blob[k][0] for k in keys if snap.files_by_blob.get(k)]
            rows = [row for row in rows if plan.matches(RowTarget(row)) is not False]
            hits = sum(1 for row in rows if plan.matches(execute.BlobTarget(row, ver)))
            offered, found = offered + len(rows), found + hits
            share = hits / len(rows) if rows else 1.0
            print(f"| `{text}` | {len(keys)} | {len(rows)} | {hits} | {share:.2f} |")
        if offered:
            share = found / offered
            print(f"all queries: {found} of {offered} past the filters match ({share:.2f})")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
