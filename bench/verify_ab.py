"""The dedup job's verification of one slice of candidate pairs, this checkout against
another, in the same data dir: CPU seconds per side, and whether the verdicts are equal.

Usage: .venv/bin/python bench/verify_ab.py --base DIR --data DATA [--groups 30] [--rounds 2]
DIR is another checkout of innersearch (e.g. `git archive main | tar -x -C DIR`). Each side
runs in its own process: it loads the fragments, bands them, takes `--groups` consecutive
groups of candidate pairs from the middle third and verifies them in process
(`verify_pool.verify_rowid_pairs`), timing CPU with `time.process_time` (a loaded machine
slows the wall clock more than the CPU time). Sides alternate for `--rounds` rounds.
Verification is four fifths of the kernel's dedup (bench/dedup_stages.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SIDE = r"""
import hashlib, json, sys, time
import numpy as np
from innersearch.dedup import verify_pool
from innersearch.dedup.detect import TILE, candidates, group_bounds
from innersearch.dedup.fragments import load
from innersearch.indexer.store import Store

store = Store.open(sys.argv[1])
groups = int(sys.argv[2])
frags = load(store, store.snapshot(), 50, 6)
pairs = candidates(frags)
order = np.lexsort((pairs[:, 1], pairs[:, 0], pairs[:, 1] // TILE, pairs[:, 0] // TILE))
todo = pairs[order]
bounds = list(group_bounds(todo, frags.tokens))
pick = bounds[len(bounds) // 3 : len(bounds) // 3 + groups]
parents = verify_pool.ParentCache(verify_pool.PARENTS_KEPT, verify_pool.PARENT_TOKENS)
digest = hashlib.sha256()
started = time.process_time()
for lo, hi in pick:
    kinds, sims, raws = verify_pool.verify_rowid_pairs(store, parents, frags.rowid[todo[lo:hi]])
    digest.update(kinds.tobytes())
    digest.update(np.round(sims, 9).tobytes())
    digest.update(np.round(raws, 9).tobytes())
cpu = time.process_time() - started
print(json.dumps({"cpu": cpu, "pairs": int(sum(hi - lo for lo, hi in pick)),
                  "verdicts": digest.hexdigest()}))
"""


def side(tree: Path, data: str, groups: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", SIDE, data, str(groups)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--groups", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    print(f"load before {os.getloadavg()}", flush=True)
    runs: dict[str, list[dict]] = {"base": [], "this": []}
    for _ in range(args.rounds):
        runs["base"].append(side(args.base, args.data, args.groups))
        runs["this"].append(side(ROOT, args.data, args.groups))
        for name in ("base", "this"):
            r = runs[name][-1]
            print(f"  {name}: {r['cpu']:.2f} s CPU for {r['pairs']} pairs", flush=True)
    best = {name: min(r["cpu"] for r in rs) for name, rs in runs.items()}
    pairs = runs["this"][0]["pairs"]
    same = len({r["verdicts"] for rs in runs.values() for r in rs}) == 1
    print(
        f"best of {args.rounds}: base {best['base']:.2f} s, this {best['this']:.2f} s "
        f"({1e6 * best['base'] / pairs:.0f} -> {1e6 * best['this'] / pairs:.0f} us a pair, "
        f"this/base {best['this'] / best['base']:.2f}); verdicts equal: {same}; "
        f"load after {os.getloadavg()}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
