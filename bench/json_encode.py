"""What encoding a search response costs: Flask's json.dumps against the apps' orjson
provider (web/jsonprovider.py), on the bodies of bench/http_load.py's queries.

Usage: .venv/bin/python bench/json_encode.py --data DIR [--rounds 20]
Each query's /api/v1/search body (limit 20, with and without 2 lines of context, as the API
and the UI ask) is made once through the app, then encoded `--rounds` times by each
encoder, interleaved; prints ms per body and the ratio, and whether both parse back equal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from http_load import QUERIES  # noqa: E402

from innersearch.indexer.store import Store  # noqa: E402
from innersearch.web import create_app  # noqa: E402
from innersearch.web.jsonprovider import FastJSONProvider  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    store = Store.open(args.data)
    app = create_app(store, cache_entries=0)
    client = app.test_client()
    bodies = [
        client.get(f"/api/v1/search?q={urllib.parse.quote(q)}&limit=20{extra}").get_json()
        for q in QUERIES
        for extra in ("", "&context=2")
    ]
    provider = FastJSONProvider(app)
    encoders = {
        # Flask's DefaultJSONProvider as the apps used it: compact, keys unsorted.
        "json.dumps": lambda b: json.dumps(b, separators=(",", ":"), ensure_ascii=True).encode(),
        "orjson": provider._encoded,
    }
    spent = dict.fromkeys(encoders, 0.0)
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, encode in encoders.items():
            started = time.perf_counter()
            for body in bodies:
                encode(body)
            spent[name] += time.perf_counter() - started
    same = all(json.loads(provider._encoded(b)) == b for b in bodies)
    per = {name: s * 1000 / (args.rounds * len(bodies)) for name, s in spent.items()}
    size = sum(len(provider._encoded(b)) for b in bodies) / len(bodies)
    print(f"{len(bodies)} bodies, {size / 1024:.1f} KiB mean; load {load:.1f}")
    for name, ms in per.items():
        print(f"{name}: {ms:.3f} ms per body")
    ratio = per["json.dumps"] / per["orjson"]
    print(f"json.dumps / orjson: {ratio:.1f}x; parse back equal: {same}")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
