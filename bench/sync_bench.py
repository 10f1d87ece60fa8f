"""Continuous-sync figures: push -> searchable through a webhook, and a quiet poll of 1,000 repos.

Usage: .venv/bin/python bench/sync_bench.py [--repos /tmp/sample-org/repos] [--fake-repos 1000]
       [--out docs/benchmarks/sync.md]

1. The sample org behind a fake GitHub API (tests/fakehosts.py) with its git served over
   smart HTTP (tests/gitserver.py, token auth), indexed; then a real `innersearch serve` with
   its sync process. Each round commits one file to one repo, pushes it, posts a signed
   push webhook and polls /api/v1/search until the new line is found (median of 5).
2. A fake org of N repos (clone URLs: one local seed repo), indexed; then a poll cycle
   (`index_sources` on the remembered sources, as the sync loop runs it) with nothing pushed,
   side by side with the same cycle when every repo is fetched (the host's last push is not
   compared), counting git fetches (median of 3).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from innersearch.indexer import catalog, gitread, layout, run  # noqa: E402
from tests.fakehosts import FakeHost, FakeRepo  # noqa: E402
from tests.gitserver import GitHttpServer  # noqa: E402
from tests.helpers import GIT_ENV, commit_files, make_repo  # noqa: E402

TOKEN = "bench-token"
SECRET = "bench-secret"


def _git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _search_total(base: str, q: str) -> int:
    url = f"{base}/api/v1/search?" + urllib.parse.urlencode({"q": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())["total_files"]


def webhook_latency(repos_dir: Path, work: Path, rounds: int) -> dict:
    names = sorted(p.name for p in repos_dir.iterdir() if gitread.looks_like_repo(p))
    served = work / "served"
    for name in names:
        _git("clone", "-q", "--bare", str(repos_dir / name), str(served / "sample" / f"{name}.git"))
    data = layout.DataDir(work / "data")
    with (
        GitHttpServer(served, "x-access-token", TOKEN) as git,
        FakeHost(
            "github", [FakeRepo(f"sample/{n}") for n in names], TOKEN, git.url, per_page=100
        ) as host,
    ):
        cfg = work / "sources.toml"
        cfg.write_text(f'[[sources]]\ngithub = "sample"\napi_url = "{host.api_url}"\n')
        env = {**os.environ, "GITHUB_TOKEN": TOKEN, "INNERSEARCH_WEBHOOK_SECRET": SECRET}
        os.environ["GITHUB_TOKEN"] = TOKEN
        t0 = time.monotonic()
        summary = run.index_sources(data, [str(cfg)], say=lambda _m: None)
        index_s = time.monotonic() - t0
        assert not summary.failed and not summary.problems, summary
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "innersearch.cli", "--data", str(data.root), "serve"]
        proc = subprocess.Popen(
            [*cmd, "--port", str(port), "--sync-interval", "3600"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            checkout = work / "checkout"
            target = names[len(names) // 2]
            _git("clone", "-q", str(served / "sample" / f"{target}.git"), str(checkout))
            latencies = []
            for i in range(rounds):
                marker = f"webhook_bench_marker_{i}_{int(time.time())}"
                commit_files(checkout, {f"bench_{i}.txt": marker + "\n"}, f"bench {i}")
                _git("push", "-q", "origin", "HEAD", cwd=checkout)
                full = f"sample/{target}"
                host.repo(full).pushed_at += 1
                payload = {"ref": "refs/heads/main", "repository": {"full_name": full}}
                body = json.dumps(payload).encode()
                sig = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                req = urllib.request.Request(
                    f"{base}/api/v1/hooks/github",
                    data=body,
                    headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={sig}"},
                )
                start = time.monotonic()
                urllib.request.urlopen(req, timeout=10).close()
                while _search_total(base, marker) == 0:
                    if time.monotonic() - start > 60:
                        raise SystemExit("a push did not become searchable within 60 s")
                    time.sleep(0.05)
                latencies.append(time.monotonic() - start)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return {"repos": len(names), "initial_index_s": index_s, "latencies_s": latencies}


def quiet_poll(work: Path, n: int, rounds: int) -> dict:
    seed = make_repo(
        work / "seed-src",
        "seed",
        {
            "README.md": "# seed\n",
            "src/app.py": "def run():\n    return 1\n",
            "src/util.go": "package util\n\nfunc Add(a, b int) int { return a + b }\n",
        },
    )
    bare = work / "seed.git"
    _git("clone", "-q", "--bare", str(seed), str(bare))
    repos = [FakeRepo(f"big/repo-{i:04d}") for i in range(n)]
    with FakeHost("github", repos, TOKEN, "", per_page=100) as host:
        # Every repo clones the same local seed: this measures the sync, not git transfer.
        host.git_url = ""
        original = host._gh_repo

        def local_clone(r, full):
            out = original(r, full)
            out["clone_url"] = str(bare)
            return out

        host._gh_repo = local_clone
        os.environ["GITHUB_TOKEN"] = TOKEN
        data = layout.DataDir(work / "poll-data")
        cfg = work / "big.toml"
        cfg.write_text(f'[[sources]]\ngithub = "big"\napi_url = "{host.api_url}"\n')
        t0 = time.monotonic()
        run.index_sources(data, [str(cfg)], say=lambda _m: None)
        index_s = time.monotonic() - t0
        fetches = {"n": 0}
        real_mirror = gitread.mirror

        def counting_mirror(*a, **k):
            fetches["n"] += 1
            return real_mirror(*a, **k)

        run.gitread.mirror = counting_mirror
        quiet, quiet_fetches = [], []
        for _ in range(rounds):
            fetches["n"] = 0
            t = time.monotonic()
            s = run.index_sources(data, None, say=lambda _m: None)
            quiet.append(time.monotonic() - t)
            quiet_fetches.append(fetches["n"])
            assert {o.status for o in s.outcomes} == {"unchanged"}
        # The same cycle without comparing the host's last push: every repo is fetched.
        real_pushes = catalog.Reads.host_pushes
        catalog.Reads.host_pushes = lambda _self: {}
        fetches["n"] = 0
        t = time.monotonic()
        run.index_sources(data, None, say=lambda _m: None)
        fetch_all = time.monotonic() - t
        fetch_all_fetches = fetches["n"]
        catalog.Reads.host_pushes = real_pushes
        run.gitread.mirror = real_mirror
        pages = sum(1 for r in host.requests if r.startswith("GET /orgs/big/repos"))
    return {
        "repos": n,
        "initial_index_s": index_s,
        "quiet_s": quiet,
        "quiet_fetches": quiet_fetches,
        "fetch_all_s": fetch_all,
        "fetch_all_fetches": fetch_all_fetches,
        "listing_pages_total": pages,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repos", default="/tmp/sample-org/repos")
    ap.add_argument("--fake-repos", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", help="write the markdown page here")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="sync-bench-", dir="/var/tmp"))
    try:
        hook = webhook_latency(Path(args.repos), work / "hook", args.rounds)
        poll = quiet_poll(work / "poll", args.fake_repos, 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    hook_p50 = statistics.median(hook["latencies_s"])
    quiet_p50 = statistics.median(poll["quiet_s"])
    verdict = lambda ok: "met" if ok else "**MISSED**"  # noqa: E731
    lines = [
        "# Sync benchmark: webhook push to searchable, and a quiet poll",
        "",
        f"Command: `.venv/bin/python bench/sync_bench.py --repos {args.repos} "
        f"--fake-repos {args.fake_repos}`  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python "
        f"{platform.python_version()}; load average before the run {load:.2f}",
        "",
        "Code host: the fake GitHub API of tests/fakehosts.py on loopback (no real host can "
        "run here); git over smart HTTP with token auth (tests/gitserver.py).",
        "",
        "| figure | goal | measured | |",
        "|---|---|---|---|",
        f"| push -> searchable through a webhook, one-file commit, sample org "
        f"({hook['repos']} repos), median of {len(hook['latencies_s'])} | <= 5 s | "
        f"{hook_p50:.2f} s (min {min(hook['latencies_s']):.2f}, max "
        f"{max(hook['latencies_s']):.2f}) | {verdict(hook_p50 <= 5)} |",
        f"| poll cycle, fake org of {poll['repos']} repos, nothing pushed, median of 3 | "
        f"<= 5 s, no git fetch | {quiet_p50:.2f} s, {max(poll['quiet_fetches'])} git fetches | "
        f"{verdict(quiet_p50 <= 5 and max(poll['quiet_fetches']) == 0)} |",
        f"| same cycle fetching every repo (last push not compared), once | - | "
        f"{poll['fetch_all_s']:.2f} s, {poll['fetch_all_fetches']} git fetches | ratio "
        f"{poll['fetch_all_s'] / quiet_p50:.1f}x |",
        "",
        f"Setup (not goals): first index of the sample org over smart HTTP "
        f"{hook['initial_index_s']:.1f} s; first index of the {poll['repos']} fake repos "
        f"{poll['initial_index_s']:.1f} s. The webhook figure includes the sync loop's tick "
        "(0.2 s) and debounce (0.5 s), the git fetch, indexing one file and the searcher "
        "reload. The poll lists the org in pages of 100 and compares each repo's last push "
        "with the one indexed.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
