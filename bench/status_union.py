"""What `serve --ray`'s GET /api/v1/status pays to count a blob held by two shards once:
the blob rows every shard sends (bytes) and the gateway's union of them (seconds), for
synthetic shards of a given size (keys drawn so a share of blobs repeats across shards).

Usage: .venv/bin/python bench/status_union.py [--blobs 6000000] [--shards 100]
       [--shared 0.1] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from innersearch.web.fanout_status import BlobRows, blob_totals  # noqa: E402


def shards(blobs: int, count: int, shared: float, seed: int = 7) -> list[BlobRows]:
    """`count` shards of `blobs / count` blobs each; a `shared` share of each shard's keys
    comes from a common pool (vendored code, forks: blobs other shards hold too)."""
    rng = np.random.default_rng(seed)
    each = blobs // count
    pool = rng.integers(0, 2**60, size=max(1, int(each * shared * 4)), dtype=np.int64)
    out = []
    for _ in range(count):
        common = rng.choice(pool, size=int(each * shared), replace=False)
        own = rng.integers(0, 2**60, size=each - len(common), dtype=np.int64)
        keys = np.concatenate([common, own])
        size = rng.integers(100, 50_000, size=len(keys), dtype=np.int64)
        out.append(BlobRows(keys, size, size // 400, np.zeros(len(keys), dtype=bool)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blobs", type=int, default=6_000_000)
    ap.add_argument("--shards", type=int, default=100)
    ap.add_argument("--shared", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    parts = shards(args.blobs, args.shards, args.shared)
    sent = sum(len(pickle.dumps(p, protocol=5)) for p in parts)
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        found = blob_totals(parts)
        times.append(time.perf_counter() - t)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"{args.blobs:,} blobs over {args.shards} shards ({args.shared:.0%} shared)")
    print(f"  blob rows sent to the gateway: {sent / 2**20:.1f} MiB")
    print(f"  union at the gateway: {statistics.median(times):.2f} s (median of {args.runs})")
    print(f"  unique blobs: {found[0]:,}")
    print(f"  cpus {os.cpu_count()}, load: {load}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
