"""Where the dedup job's time goes: each stage of `build_report` timed on one data dir.

Usage: .venv/bin/python bench/dedup_stages.py --data DIR [--min-tokens 50] [--min-lines 6]
Runs the stages of dedup.report.build_report one after the other with the pair cache off
(a cold run, as `kernel_bench.py --only dedup` on a fresh index) and prints the seconds of
each, the load average before and after, and the report's counts, so a change to one stage
can be judged on the stage (the whole job on the kernel takes minutes and the machine's load
moves the total by more than one stage's gain).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--min-tokens", type=int, default=50)
    ap.add_argument("--min-lines", type=int, default=6)
    args = ap.parse_args()

    from innersearch.dedup import clones, libraries
    from innersearch.dedup.detect import Detection, PairCache, candidates, verify_pairs
    from innersearch.dedup.fragments import blob_lines, load
    from innersearch.dedup.report import assemble, runtime_call_sites
    from innersearch.indexer import deps
    from innersearch.indexer.store import Store

    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load before {os.getloadavg()}", flush=True)
    store = Store.open(args.data)
    snap = store.snapshot()
    times: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        times[name] = now - mark
        mark = now
        print(f"  {name:<28} {times[name]:8.1f} s", flush=True)

    frags = load(store, snap, args.min_tokens, args.min_lines)
    lap("load signatures")
    pairs = candidates(frags)
    lap("LSH candidates")
    frags.raw_sig = frags.raw_sig[:0]
    frags.abs_sig = frags.abs_sig[:0]
    edges = verify_pairs(store, frags, pairs, PairCache(None))
    lap("verify pairs")
    classes = clones.build(frags, edges)
    lap("clone classes")
    found = Detection(frags, edges, classes, {"fragments": len(frags)})
    files = libraries.code_files(snap)
    lines = blob_lines(store, {f.blob_key for rows in files.values() for f in rows})
    sites = runtime_call_sites(snap, files, deps.graph(snap))
    lap("code files, lines, call sites")
    vocab = libraries.load_api_vocabulary(
        store, {f.blob_key for rows in files.values() for f in rows}
    )
    lap("API vocabulary")
    report = assemble(snap, found, lines, sites, vocab)
    lap("assemble (libraries, report)")
    text = json.dumps(report)
    lap("JSON encoding")
    total = sum(times.values())
    print(
        f"total {total:.1f} s; {len(frags)} fragments, {len(pairs)} candidate pairs, "
        f"{len(edges)} clone pairs, {len(classes)} classes, {len(text) / 1e6:.1f} MB of JSON; "
        f"load after {os.getloadavg()}"
    )
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
