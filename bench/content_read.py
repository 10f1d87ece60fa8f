"""What reading a blob's stored content costs: Snapshot.content over every blob of a data dir.

Usage: PYTHONPATH=SRC .venv/bin/python bench/content_read.py DATA_DIR [--passes 3]
SRC is the checkout (or `git archive` of an older one) whose innersearch reads DATA_DIR, so
two formats can be compared side by side in one run. Prints the best pass: microseconds per
content() call and MB/s. A search pays this once per candidate file it verifies.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from innersearch.indexer import layout
from innersearch.indexer.store import Store


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", type=Path)
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    snap = Store(layout.DataDir(args.data)).snapshot()
    keys = sorted({f.blob_key for f in snap.files})
    best, total = float("inf"), 0
    for _ in range(args.passes):
        start = time.perf_counter()
        total = sum(len(snap.content(k) or b"") for k in keys)
        best = min(best, time.perf_counter() - start)
    print(
        f"{args.data}: {len(keys)} blobs, {total / 1e6:.1f} MB: "
        f"{best / len(keys) * 1e6:.0f} us per content(), {total / best / 1e6:.0f} MB/s; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
