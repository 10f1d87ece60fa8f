"""Permission filtering cost: search p50 with --auth none against token and proxy auth.

1,000 generated repos (half public, half private to one of 100 groups) indexed once; the
same queries go through the Flask app (result cache off) side by side in one run.
Usage: .venv/bin/python bench/permissions_bench.py [--data DIR] [--rounds N] [--out MD]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from innersearch.indexer import layout  # noqa: E402
from innersearch.indexer.access import Principal  # noqa: E402
from innersearch.indexer.run import index_sources  # noqa: E402
from innersearch.indexer.store import Store  # noqa: E402
from innersearch.indexer.tokens import open_tokens  # noqa: E402
from innersearch.web import create_app  # noqa: E402
from innersearch.web.auth import AuthSettings  # noqa: E402

REPOS = 1000
GROUPS = 100
SOURCE_FILES = 6  # per repo, taken in turn from the sample organization's code
QUERIES = [
    "return",
    "import",
    "error",
    "def __init__",
    "retry",
    "Exception",
    "/func \\w+\\(/",
    "/def \\w+_\\w+\\(self/",
    "timeout lang:python",
    "sym:parse",
    "type:path test",
    "const",
]
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _sample_files(sample: Path, limit: int) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for path in sorted(sample.rglob("*")):
        if ".git" in path.parts or not path.is_file():
            continue
        if path.suffix not in (".py", ".go", ".js", ".ts", ".rs", ".java"):
            continue
        data = path.read_bytes()
        if 200 < len(data) < 64_000:
            found.append((path.relative_to(sample).as_posix(), data))
        if len(found) >= limit:
            break
    return found


def _make_repos(repos_dir: Path, sample: Path) -> None:
    files = _sample_files(sample, REPOS * SOURCE_FILES // 2)
    for i in range(REPOS):
        repo = repos_dir / f"repo{i:04d}"
        repo.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=GIT_ENV)
        for k in range(SOURCE_FILES):
            rel, data = files[(i * SOURCE_FILES + k) % len(files)]
            target = repo / rel.split("/", 1)[-1]
            target.parent.mkdir(parents=True, exist_ok=True)
            # Each repo's copy differs by a line: 1,000 repos, not 1,000 names for one blob.
            target.write_bytes(data + f"\n# repo{i:04d}\n".encode())
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=GIT_ENV)
        subprocess.run(
            ["git", "-C", str(repo), "commit", "-q", "-m", "initial"], check=True, env=GIT_ENV
        )


def _host_info(data: layout.DataDir) -> None:
    """Even repos public on the host, odd ones private to group g(i % 100) (as the host
    sync would store it in repos.info["host"])."""
    conn = sqlite3.connect(data.catalog_path)
    with conn:
        for i in range(REPOS):
            if i % 2 == 0:
                host = {"kind": "github", "visibility": "public"}
            else:
                host = {
                    "kind": "github",
                    "visibility": "private",
                    "readers": {"users": [], "groups": [f"github:acme/g{i % GROUPS}"]},
                }
            conn.execute(
                "UPDATE repos SET info = json_set(info, '$.host', json(?)) WHERE name = ?",
                (json.dumps(host), f"repo{i:04d}"),
            )
    conn.close()


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="/var/tmp/perms/bench-data")
    ap.add_argument("--sample", default="/tmp/sample-org/repos")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "permissions.md"))
    args = ap.parse_args()
    data = layout.DataDir(Path(args.data))
    built = ""
    if not data.exists():
        repos_dir = data.root.parent / "bench-repos"
        start = time.perf_counter()
        _make_repos(repos_dir, Path(args.sample))
        index_sources(data, [str(repos_dir)], say=lambda _m: None)
        _host_info(data)
        built = f"built and indexed in {time.perf_counter() - start:.0f} s"
    load = os.getloadavg()[0]
    store = Store.open(data.root)
    tokens = open_tokens(data)
    groups = ["github:acme/g1", "github:acme/g3", "github:acme/g5"]
    token = tokens.create("ursula", groups)
    # Every group but g1 (whose 10 private repos she may not read): nearly the whole corpus
    # through a restricted view, which isolates the cost of the filtering itself.
    wide_groups = [f"github:acme/g{k}" for k in range(GROUPS) if k != 1]
    wide = tokens.create("wanda", wide_groups)
    # Result cache off: every request searches.
    apps = {
        "none": create_app(store, cache_entries=0),
        "token": create_app(store, cache_entries=0, auth=AuthSettings.parse("token")),
        "proxy": create_app(store, cache_entries=0, auth=AuthSettings.parse("proxy")),
        "token, wide": create_app(store, cache_entries=0, auth=AuthSettings.parse("token")),
    }
    headers = {
        "none": {},
        "token": {"Authorization": f"Bearer {token}"},
        "proxy": {"X-Forwarded-User": "ursula", "X-Forwarded-Groups": ",".join(groups)},
        "token, wide": {"Authorization": f"Bearer {wide}"},
    }
    clients = {mode: app.test_client() for mode, app in apps.items()}
    snap = store.snapshot()
    narrow = snap.for_principal(Principal("ursula", frozenset(groups)))
    wide_snap = snap.for_principal(Principal("wanda", frozenset(wide_groups)))
    # The first request of a permission set builds its restricted view; timed apart.
    first: dict[str, float] = {}
    for mode, client in clients.items():
        start = time.perf_counter()
        assert client.get("/api/v1/search?q=return", headers=headers[mode]).status_code == 200
        first[mode] = (time.perf_counter() - start) * 1000
    times: dict[str, list[float]] = {mode: [] for mode in clients}
    for _ in range(args.rounds):
        for q in QUERIES:
            for mode, client in clients.items():  # interleaved: same load for each mode
                start = time.perf_counter()
                r = client.get("/api/v1/search", query_string={"q": q}, headers=headers[mode])
                times[mode].append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200, (mode, q, r.status_code)
    p50 = {mode: statistics.median(v) for mode, v in times.items()}
    rows = [
        f"| {mode} | {len(v)} | {p50[mode]:.2f} | {_pct(v, 95):.2f} | {first[mode]:.1f} | "
        f"{p50[mode] / p50['none']:.3f}x |"
        for mode, v in times.items()
    ]
    worst = max(p50[m] / p50["none"] for m in ("token", "proxy", "token, wide"))
    verdict = "met" if worst <= 1.10 else "**MISSED**"
    command = f"`.venv/bin/python bench/permissions_bench.py --rounds {args.rounds}`"
    lines = [
        "# Permissions benchmark: what filtering per principal adds to search",
        "",
        f"Command: {command}" + (f" ({built})" if built else ""),
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python "
        f"{platform.python_version()}; load average before the run {load:.2f}",
        f"Corpus: {len(snap.repos)} generated repos ({len(snap.files)} files: each repo "
        f"{SOURCE_FILES} code files of the sample organization plus a line naming the repo); "
        f"even repos public on the host, odd ones private to one of {GROUPS} groups. "
        f"`ursula` (3 groups) reads {len(narrow.repos)} repos ({len(narrow.files)} files); "
        f"`wanda` (all groups but g1) reads {len(wide_snap.repos)} "
        f"({len(wide_snap.files)} files).",
        "Method: the Flask app in process (test client, the whole request path: "
        "authentication, the filtered snapshot, search, JSON), result cache off; "
        f"{len(QUERIES)} queries x {args.rounds} rounds, the modes interleaved query by query.",
        "",
        "| mode | requests | p50 ms | p95 ms | first request ms | p50 / none |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Target: permission filtering adds <= 10% to search p50: **{verdict}** (worst ratio "
        f"{worst:.3f}x). The first request of a permission set builds its restricted view.",
        "`ursula` searches about half of the files, so her ratio also shows the smaller "
        "corpus; `wanda` (row `token, wide`: every repo but 10) isolates the cost of "
        "identifying the user and filtering.",
        "",
    ]
    text = "\n".join(lines)
    Path(args.out).write_text(text)
    print(text)
    tokens.revoke(token)
    tokens.revoke(wide)
    tokens.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
