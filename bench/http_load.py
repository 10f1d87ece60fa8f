"""HTTP latency of `innersearch serve` under concurrent clients, on the sample organization.

Usage: .venv/bin/python bench/http_load.py [--data DIR] [--repos /tmp/sample-org/repos]
       [--clients 8] [--requests 2000] [--seconds 120] [--out docs/benchmarks/web.md]
Starts the real server (waitress workers) on a free loopback port, then N threads with keep-alive
connections (http.client) replay a fixed mix of search queries with limit 20. Prints p50/p95/p99
and the error count for, in one run: the server with its result cache off (every request
searches) with serve's default worker processes (one per core), the same with one
worker process (one GIL: the model before --workers), the same
with one client (what HTTP adds without contention), the server with its
cache on (the mix repeats, so this is the warm case), and the same queries called in process
(no HTTP, one thread). Without --data the repos are indexed into a temporary data dir first.

--wrk adds the uncached measure driven by wrk (Debian's `wrk`, a C load generator, installed
with apt-get if missing): the Python clients above cost CPU on the same two cores as the
server, so their figure is the server's latency plus the load generator's share of the cores.

--baseline DIR (a checkout of another commit, e.g. `git archive OLD | tar -x -C DIR`) adds
interleaved rounds of the uncached 8-client measure, this tree's server then DIR's, on the
same data dir: on a shared machine the load drifts, so only a ratio measured side by side
says what a change did.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Realistic "does this already exist?" searches over the sample org: literals, regexes,
# filters, symbols; a few match hundreds of lines, most a handful of files.
QUERIES = [
    "retry",
    "backoff",
    "uuid",
    "RateLimiter",
    "func NewV4",
    "lang:python import time",
    "lang:go retry",
    "/def \\w+_delay/",
    "/sleep\\(/ lang:python",
    "colorette",
    "sym:retry",
    "repo:tenacity wait",
    "file:README install",
    '"exponential backoff"',
    "-test parse",
    "max_attempts or maxRetries",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def index_sample(repos: Path, data: Path) -> float:
    from innersearch.indexer import layout
    from innersearch.indexer.run import index_sources

    start = time.perf_counter()
    index_sources(layout.DataDir(data), [str(repos)], say=lambda _m: None)
    return time.perf_counter() - start


def start_server(
    data: Path,
    port: int,
    threads: int,
    workers: int,
    cache: int | None,
    log,
    tree: Path = ROOT,
) -> subprocess.Popen:
    """The real server; its output goes to `log`, a file: nobody reads it during the load,
    and a full pipe would block the server on its next log line (waitress warns when its
    task queue grows)."""
    cmd = [
        sys.executable,
        "-m",
        "innersearch.cli",
        "--data",
        str(data),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--threads",
        str(threads),
        "--workers",
        str(workers),
        *(["--cache", str(cache)] if cache is not None else []),
    ]
    # `-m` puts the working directory first on sys.path: the server runs `tree`'s code.
    proc = subprocess.Popen(cmd, cwd=tree, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit(f"server exited: {log.read().decode(errors='replace')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not answer /healthz within 30 s")


def search_path(query: str, limit: int) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode({"q": query, "limit": limit})


class Load:
    """Clients share one request counter; each keeps its own keep-alive connection."""

    def __init__(self, port: int, paths: list[str], total: int, seconds: float) -> None:
        self.port, self.paths, self.total = port, paths, total
        self.deadline = time.monotonic() + seconds
        self.next = 0
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def take(self) -> int | None:
        with self.lock:
            if self.next >= self.total or time.monotonic() > self.deadline:
                return None
            self.next += 1
            return self.next - 1

    def client(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        mine: list[float] = []
        while (i := self.take()) is not None:
            path = self.paths[i % len(self.paths)]
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - start
                if response.status != 200 or not body.startswith(b"{"):
                    self.errors.append(f"{response.status} {path}")
                    continue
                mine.append(elapsed * 1000)
            except (OSError, http.client.HTTPException) as err:
                self.errors.append(f"{type(err).__name__}: {err} {path}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.close()
        with self.lock:
            self.latencies.extend(mine)

    def run(self, clients: int) -> float:
        threads = [threading.Thread(target=self.client) for _ in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - start


def in_process(data: Path, limit: int, rounds: int) -> list[float]:
    """The same queries through search.api.search in this process, one at a time."""
    from innersearch.indexer.store import Store
    from innersearch.search.api import search

    store = Store.open(data)
    times = []
    for _ in range(rounds):
        for q in QUERIES:
            start = time.perf_counter()
            search(store.snapshot(), q, limit=limit)
            times.append((time.perf_counter() - start) * 1000)
    store.close()
    return times


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


@contextlib.contextmanager
def warm_server(
    data: Path, args, cache: int | None, workers: int = 0, tree: Path = ROOT
) -> Iterator[tuple[int, list[str], Load]]:
    """A real server on a free port, warmed up with every query once: (port, the query
    paths, the warm-up's Load, whose errors count too); stopped on leaving."""
    port = free_port()
    paths = [search_path(q, args.limit) for q in QUERIES]
    with tempfile.TemporaryFile() as log:
        server = start_server(data, port, args.threads, workers or args.workers, cache, log, tree)
        try:
            warm = Load(port, paths, len(paths), 60)
            warm.run(1)
            yield port, paths, warm
        finally:
            server.terminate()
            server.wait(timeout=10)


def run_config(
    data: Path,
    args,
    cache: int | None,
    clients: int,
    requests: int,
    workers: int = 0,
    tree: Path = ROOT,
) -> dict:
    """One server, warmed up with every query once, then the measured load."""
    with warm_server(data, args, cache, workers, tree) as (port, paths, warm):
        load = Load(port, paths, requests, args.seconds)
        seconds = load.run(clients)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/api/v1/status")
        totals = json.loads(conn.getresponse().read())["totals"]
        conn.close()
    errors = warm.errors + load.errors
    return {
        **summary(load.latencies),
        "clients": clients,
        "errors": len(errors),
        "error_samples": errors[:5],
        "seconds": seconds,
        "rps": len(load.latencies) / seconds if seconds else 0.0,
        "totals": totals,
        "latencies": load.latencies,
    }


# wrk replays the same paths round-robin on every connection and prints what the summary
# needs as one JSON line (latency in microseconds; errors = socket errors + non-2xx/3xx).
WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"n": %%d, "p50": %%f, "p95": %%f, "p99": %%f, "max": %%f, "mean": %%f, ' ..
    '"errors": %%d, "seconds": %%f}\\n',
    summary.requests, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, summary.duration / 1e6))
end
"""


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def run_wrk(data: Path, args, clients: int) -> dict:
    """The uncached server under wrk (one wrk thread: it needs a fraction of a core)."""
    with warm_server(data, args, 0) as (port, paths, warm), tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
        seconds = max(5, int(min(args.seconds, args.requests / 100)))
        out = subprocess.run(
            [wrk_binary(), "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s"]
            + ["-s", str(script), f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    r["errors"] += len(warm.errors)
    r["rps"] = r["n"] / r["seconds"] if r["seconds"] else 0.0
    return {**r, "clients": clients, "error_samples": warm.errors[:5]}


def row(label: str, r: dict) -> str:
    rps = f"{r['rps']:.0f}" if "rps" in r else "-"
    return (
        f"| {label} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
        f"{r['max']:.1f} | {rps} | {r.get('errors', 0)} |"
    )


P50_GOAL_MS, P99_GOAL_MS = 20, 150


def verdict(r: dict) -> str:
    ok = r["p50"] <= P50_GOAL_MS and r["p99"] <= P99_GOAL_MS and r["errors"] == 0
    return (
        f"{'met' if ok else 'MISSED'} (p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
        f"{r['errors']} errors)"
    )


def side_by_side(data: Path, args) -> dict:
    """Interleaved rounds of the uncached measure: this tree, then the baseline tree."""
    mine, theirs, loads = [], [], []
    for _ in range(args.rounds):
        loads.append(os.getloadavg()[0])
        mine.append(run_config(data, args, 0, args.clients, args.requests))
        theirs.append(run_config(data, args, 0, args.clients, args.requests, tree=args.baseline))
    loads.append(os.getloadavg()[0])

    def pooled(runs: list[dict]) -> dict:
        latencies = [v for r in runs for v in r["latencies"]]
        seconds = sum(r["seconds"] for r in runs)
        return {
            **summary(latencies),
            "errors": sum(r["errors"] for r in runs),
            "rps": len(latencies) / seconds if seconds else 0.0,
            "p50_rounds": [r["p50"] for r in runs],
        }

    return {"this": pooled(mine), "baseline": pooled(theirs), "loads": loads}


def baseline_markdown(fig: dict) -> str:
    side = fig["side_by_side"]
    this, base = side["this"], side["baseline"]
    loads = ", ".join(f"{v:.1f}" for v in side["loads"])
    rounds = ", ".join(
        f"{a:.1f}/{b:.1f}" for a, b in zip(this["p50_rounds"], base["p50_rounds"], strict=True)
    )
    return "\n".join(
        [
            f"## Side by side with {fig['baseline_name']} (same data dir, interleaved rounds)",
            "",
            f"{len(this['p50_rounds'])} rounds of {fig['requests']} requests each, result cache "
            f"off, {fig['clients']} clients, {fig['workers']} workers; each round this tree's "
            f"server, then the baseline's. Load average at the rounds' starts and at the end: "
            f"{loads}. p50 per round (this/baseline): {rounds} ms.",
            "",
            "| server | requests | p50 ms | p95 ms | p99 ms | max ms | req/s | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            row("this tree", this),
            row(str(fig["baseline_name"]), base),
            "",
            f"Ratio baseline / this tree: p50 {base['p50'] / this['p50']:.2f}x, "
            f"p99 {base['p99'] / this['p99']:.2f}x, req/s {this['rps'] / base['rps']:.2f}x.",
            "",
        ]
    )


def markdown(fig: dict) -> str:
    cold, one, warm, direct = fig["uncached"], fig["uncached_1"], fig["cached"], fig["direct"]
    single, wrk = fig["uncached_1_worker"], fig.get("wrk")
    runs = (cold, one, warm, single, *([wrk] if wrk else []))
    c = fig["clients"]
    return "\n".join(
        [
            "# Web benchmark: HTTP search latency",
            "",
            f"Command: `{fig['command']}`  ",
            f"Date: {fig['date']}  ",
            f"Machine: {fig['machine']}; load average before the run "
            f"{fig['load_before']:.2f} (the machine is shared, so figures vary between runs)  ",
            f"Corpus: {fig['repos']} repos of the sample organization ({fig['files']} files). "
            f"`innersearch serve` ({fig['workers']} waitress worker processes, {fig['threads']} "
            f"threads each) on loopback; keep-alive "
            f"clients replay {len(QUERIES)} search queries with `limit=20` round-robin "
            "(literals, regexes, filters, `sym:`), after one warm-up pass.",
            "",
            "| measure | requests | p50 ms | p95 ms | p99 ms | max ms | req/s | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            row(f"HTTP, result cache off, {c} clients", cold),
            row(f"same, but 1 worker process instead of {fig['workers']}", single),
            row("HTTP, result cache off, 1 client", one),
            row(f"HTTP, result cache on (repeated queries), {c} clients", warm),
            row("in process `search()`, 1 thread, no HTTP", {**direct, "errors": 0}),
            *(
                [row(f"HTTP, result cache off, {c} connections, wrk load generator", wrk)]
                if wrk
                else []
            ),
            "",
            f"Ratios (same run): cache off, {c} clients / 1 client p50 = "
            f"{cold['p50'] / one['p50']:.2f}x; 1 client HTTP / in process p50 = "
            f"{one['p50'] / direct['p50']:.2f}x; cache off / cache on p50 ({c} clients) = "
            f"{cold['p50'] / warm['p50']:.1f}x; 1 worker / {fig['workers']} workers p50 = "
            f"{single['p50'] / cold['p50']:.2f}x, req/s = {single['rps'] / cold['rps']:.2f}x.",
            "",
            f"Target p50 <= {P50_GOAL_MS} ms and p99 <= {P99_GOAL_MS} ms with no errors at "
            f"{c} clients: every request searching: "
            f"**{verdict(cold)}**; with the result cache on repeated queries: "
            f"**{verdict(warm)}**"
            + (f"; every request searching, load from wrk: **{verdict(wrk)}**." if wrk else "."),
            "",
            "Reading: with the cache off the server is CPU-bound on the search itself. "
            f"{c} clients share {os.cpu_count()} cores, so by Little's law p50 is about "
            f"{c} x the per-query CPU time divided by the parallelism achieved "
            f"({cold['rps']:.0f} req/s here); HTTP, Flask and JSON add "
            f"{max(0.0, one['p50'] - direct['p50']):.1f} ms at p50 over the in-process call. "
            f"Achieved parallelism: {cold['rps']:.0f} req/s x {direct['mean']:.1f} ms mean "
            f"search = {cold['rps'] * direct['mean'] / 1000:.2f} searches at a time; meeting "
            f"the target without the cache needs a mean search cost near "
            f"{P50_GOAL_MS * max(1.0, cold['rps'] * direct['mean'] / 1000) / c:.1f} ms.",
            "",
            *(
                ["Error samples:", ""]
                + [f"- `{e}`" for r in runs for e in r["error_samples"]]
                + [""]
                if any(r["errors"] for r in runs)
                else []
            ),
        ]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="an existing data dir (else the repos are indexed first)")
    ap.add_argument("--repos", default="/tmp/sample-org/repos")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None, help="threads per worker (serve's)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (serve's)")
    ap.add_argument("--requests", type=int, default=2000, help="requests per measure (bounded)")
    ap.add_argument("--seconds", type=float, default=120, help="time bound per measure")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--out", help="write the markdown section here")
    ap.add_argument("--json", help="write the figures as JSON here")
    ap.add_argument("--baseline", type=Path, help="a checkout of another commit to compare")
    ap.add_argument("--baseline-name", help="how the baseline is named (default: its path)")
    ap.add_argument("--rounds", type=int, default=3, help="side-by-side rounds (--baseline)")
    ap.add_argument("--wrk", action="store_true", help="add the uncached measure under wrk")
    args = ap.parse_args()

    tmp = None
    if args.data:
        data = Path(args.data).resolve()
    else:
        tmp = tempfile.TemporaryDirectory(prefix="innersearch-bench-")
        data = Path(tmp.name) / "data"
        print(f"indexing {args.repos} into {data} ...", flush=True)
        print(f"  indexed in {index_sample(Path(args.repos), data):.1f} s", flush=True)

    from innersearch.web.cli import DEFAULT_THREADS, DEFAULT_WORKERS

    args.threads = args.threads or DEFAULT_THREADS
    args.workers = args.workers or DEFAULT_WORKERS
    load_before = os.getloadavg()[0]
    cold = run_config(data, args, 0, args.clients, args.requests)
    single = run_config(data, args, 0, args.clients, args.requests, workers=1)
    one = run_config(data, args, 0, 1, max(100, args.requests // 4))
    warm = run_config(data, args, None, args.clients, args.requests)
    direct = summary(in_process(data, args.limit, rounds=5))
    wrk = run_wrk(data, args, args.clients) if args.wrk else None
    fig = {
        "command": "python bench/http_load.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        "repos": cold["totals"].get("repos"),
        "files": cold["totals"].get("files"),
        "clients": args.clients,
        "threads": args.threads,
        "workers": args.workers,
        "load_before": load_before,
        "uncached": cold,
        "uncached_1": one,
        "uncached_1_worker": single,
        "cached": warm,
        "direct": direct,
        "wrk": wrk,
    }
    if args.baseline:
        fig["side_by_side"] = side_by_side(data, args)
        fig["baseline_name"] = args.baseline_name or str(args.baseline)
        fig["requests"] = args.requests
    for r in (cold, single, one, warm):
        del r["latencies"]
    text = markdown(fig) + ("\n" + baseline_markdown(fig) if args.baseline else "")
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2))
    if tmp:
        tmp.cleanup()
    errors = cold["errors"] + one["errors"] + warm["errors"] + single["errors"]
    errors += wrk["errors"] if wrk else 0
    if args.baseline:
        errors += fig["side_by_side"]["this"]["errors"] + fig["side_by_side"]["baseline"]["errors"]
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
