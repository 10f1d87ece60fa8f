"""The JSON API of two checkouts on one index, requests interleaved (A, B, A, B, ...), so a
loaded machine slows both alike; checks the two answer the same JSON.

Usage: .venv/bin/python bench/api_ab.py --base DIR --data DATA [--rounds 20]
DIR is another checkout of innersearch (e.g. `git archive main | tar -x -C DIR`); this
checkout is B. Each side is one process serving DATA through Flask's test client (no
sockets); every round asks each route once per side. The dedup report must be persisted
(`innersearch dedup` first), so no request recomputes it. Prints per route and side the
median milliseconds (the search result cache off), and whether the answers are the same
JSON text apart from `took_ms` (keys in the same order), with the load average before and
after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The routes whose answers became typed results, and a search as a control.
ROUTES = [
    "/api/v1/repos",
    "/api/v1/repos/{repo}",
    "/api/v1/status",
    "/api/v1/duplicates",
    "/api/v1/duplicates?repo={repo}",
    "/api/v1/implementations?q=retry%20with%20backoff",
    "/api/v1/search?q=retry",
    "/api/v1/search?q=lang%3Apython%20import%20time",
    "/api/v1/search?q=-test%20parse",
]

# One side: read a route per line on stdin, answer one JSON line (ms, body) on stdout.
SERVER = r"""
import json, sys, time
from innersearch.indexer.store import Store
from innersearch.web import create_app
# The result cache off: every round searches again instead of timing a cache hit.
client = create_app(Store.open(sys.argv[1]), cache_entries=0).test_client()
for line in sys.stdin:
    url = line.strip()
    started = time.perf_counter()
    r = client.get(url)
    ms = 1000 * (time.perf_counter() - started)
    print(json.dumps({"ms": ms, "status": r.status_code, "body": r.get_json()}), flush=True)
"""


def _side(checkout: Path, data: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONHASHSEED": "0"}
    return subprocess.Popen(
        [sys.executable, "-c", SERVER, str(data)],
        cwd=checkout,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _ask(proc: subprocess.Popen, url: str) -> dict:
    proc.stdin.write(url + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def _comparable(body: object) -> object:
    """The answer without its timings."""
    if isinstance(body, dict):
        return {k: _comparable(v) for k, v in body.items() if k != "took_ms"}
    if isinstance(body, list):
        return [_comparable(v) for v in body]
    return body


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--repo", default="", help="repo for the per-repo routes (default: first)")
    args = ap.parse_args()
    print(f"load before: {os.getloadavg()}  date: {time.strftime('%Y-%m-%d %H:%M UTC')}")
    sides = {"A": _side(args.base.resolve(), args.data), "B": _side(ROOT, args.data)}
    repo = args.repo or _ask(sides["B"], "/api/v1/repos")["body"]["repos"][0]["name"]
    urls = [r.format(repo=repo) for r in ROUTES]
    times: dict[tuple[str, str], list[float]] = {(u, s): [] for u in urls for s in sides}
    same: dict[str, bool] = {}
    for n in range(args.rounds + 1):  # round 0 warms both sides up and is not counted
        for url in urls:
            answers = {}
            for name, proc in sides.items():
                answers[name] = _ask(proc, url)
                if n:
                    times[(url, name)].append(answers[name]["ms"])
            # Compared as text: the keys' order counts too (the server does not sort them).
            a, b = (
                json.dumps([answers[s]["status"], _comparable(answers[s]["body"])]) for s in sides
            )
            same[url] = same.get(url, True) and a == b
    for proc in sides.values():
        proc.stdin.close()
        proc.wait()
    print(f"{'route':<52} {'A ms':>9} {'B ms':>9} {'B/A':>6}  same JSON")
    for url in urls:
        a = statistics.median(times[(url, "A")])
        b = statistics.median(times[(url, "B")])
        print(f"{url:<52} {a:>9.2f} {b:>9.2f} {b / a:>6.2f}  {same[url]}")
    print(f"load after: {os.getloadavg()}  rounds: {args.rounds}")
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
