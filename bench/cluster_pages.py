"""The HTML pages under `serve --ray` against one machine's: each page's time on the fan-out
app (4 shard actors on 2 nodes) beside the same page on one Store in process, and beside
the fan-out JSON route of the same document (what rendering adds), measured in one run,
interleaved, as ratios.

Usage: .venv/bin/python bench/cluster_pages.py [--repos /tmp/sample-org/repos] [--take 12]
       [--work /var/tmp/rayui/pages-bench] [--runs 15]
The cluster is real (`ray start` on loopback, one CPU per node; innersearch/cluster/local.py);
`--take N` indexes the first N repos of --repos (by name) to keep the run short.
"""

from __future__ import annotations

import argparse
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


def _pages(snap) -> list[tuple[str, str | None]]:
    """(page, the JSON route of its document or None; the UI's search asks for 20 files
    with 2 lines of context): searches, a repo, a file, a symbol, the lists."""
    repo = sorted(snap.repos)[0]
    path = snap.default_files_by_repo()[repo][0].path
    return [
        ("/", None),
        # Quoted: plain words add the implementations box, whose org-wide index over shards
        # bench/org_impl_index.py times; a quoted word is the same search without it.
        ("/?q=%22retry%22", "/api/v1/search?q=%22retry%22&limit=20&context=2"),
        ("/?q=%2Fretry%7Cbackoff%2F", "/api/v1/search?q=%2Fretry%7Cbackoff%2F&limit=20&context=2"),
        ("/?q=lang%3Apython+timeout", "/api/v1/search?q=lang%3Apython+timeout&limit=20&context=2"),
        (f"/repos/{repo}", f"/api/v1/repos/{repo}"),
        (f"/file?repo={repo}&path={path}", f"/api/v1/file?repo={repo}&path={path}"),
        ("/symbol?name=retry", "/api/v1/refs?name=retry"),
        ("/repos", "/api/v1/repos"),
        ("/status", "/api/v1/status"),
    ]


def _ms(client, url: str) -> float:
    started = time.perf_counter()
    got = client.get(url)
    took = (time.perf_counter() - started) * 1000
    assert got.status_code == 200, (url, got.status_code, got.get_data(as_text=True)[:300])
    return took


def main() -> int:
    ap = argparse.ArgumentParser()
    org_arguments(ap, "/var/tmp/rayui/pages-bench")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    work = Path(args.work)
    src = first_repos(args.repos, args.take, work)
    with one_and_sharded(src, work) as org:
        store = Store(org.one)
        local = create_app(store, cache_entries=0).test_client()  # no cache: each page works
        over = create_fanout_app(org.searcher, org.many.root).test_client()
        pages = _pages(store.snapshot())
        print(f"before: {uptime()}", flush=True)
        times: dict[str, tuple[list, list, list]] = {p: ([], [], []) for p, _j in pages}
        for run in range(args.runs + 1):  # the first round warms every cache, not counted
            for page, route in pages:
                a, b = _ms(local, page), _ms(over, page)
                c = _ms(over, route) if route else 0.0
                if run:
                    for kept, value in zip(times[page], (a, b, c), strict=True):
                        kept.append(value)
        print(f"after: {uptime()}")
        print(f"{args.take} repos, {SHARDS} shards on 2 nodes, {args.runs} runs, medians:")
        print("| page | one machine | serve --ray | ratio | its JSON over shards | HTML/JSON |")
        print("|---|---|---|---|---|---|")
        for page, route in pages:
            a, b, c = (statistics.median(v) for v in times[page])
            json_cells = f"{c:.1f} ms | {b / c:.2f}x" if route else "- | -"
            print(f"| `{page}` | {a:.1f} ms | {b:.1f} ms | {b / a:.2f}x | {json_cells} |")
        store.close()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
