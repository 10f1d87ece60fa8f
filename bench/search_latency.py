"""Search latency benchmark: innersearch's Python API against ripgrep and codesearch (csearch).

Usage: .venv/bin/python bench/search_latency.py [--data DIR] [--repos DIR] [--runs N] [--out MD]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from innersearch.indexer import layout  # noqa: E402
from innersearch.indexer.run import index_sources  # noqa: E402
from innersearch.indexer.store import Store  # noqa: E402
from innersearch.search import api  # noqa: E402

# The fixed query set: (class, innersearch query, pattern for rg/csearch, is_regex).
LITERALS = [
    "jitter",
    "shellingham",
    "charset_normalizer",
    "nanoid",
    "DEFAULT_TIMEOUT",
    "retry",
    "return",
    "import",
    "error",
    "def __init__",
    "func",
    "uuid",
    "const",
    "Exception",
]
REGEXES = [
    r"func \w+\(",
    r"^import .*$",
    r"[0-9]{4}-[0-9]{2}",
    r"retry|backoff",
    r"def \w+_\w+\(self",
    r"(?i)todo|fixme",
    r"\bmax_\w+",
    r"^\s*raise \w+Error",
]
SYMBOLS = [
    "backoff",
    "rate limiter",
    "uuid4",
    "Retry",
    "parse",
    "get color",
    "ExponentialBackOff",
    "minimist",
    "user_data_dir",
    "load dotenv",
]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[k]


def _smart_case(pattern: str) -> bool:
    """True when the pattern is case-sensitive under smart case (an upper-case letter)."""
    return any(c.isupper() for c in re.sub(r"\\.", "", pattern))


def _ensure_tools() -> None:
    missing = [
        pkg
        for tool, pkg in (("rg", "ripgrep"), ("cindex", "codesearch"))
        if shutil.which(tool) is None
    ]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing], check=False, env=env, capture_output=True
        )


def _checkout_trees(store: Store, repos_dir: Path, dest: Path) -> None:
    """The default branch of every indexed repo, extracted with git archive."""
    for name, repo in store.snapshot().repos.items():
        src = repos_dir / name
        if not src.exists() or not repo.default_branch:
            continue
        out = dest / name
        out.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(src), "archive", repo.default_branch], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)


def _time_cmd(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return (time.perf_counter() - start) * 1000.0


def _rg_cmd(pattern: str, regex: bool, trees: Path, word: bool = False) -> list[str]:
    cmd = ["rg", "-n", "--no-heading", "--no-ignore", "--hidden", "--max-filesize", "1M", "-S"]
    if not regex:
        cmd.append("-F")
    if word:
        cmd.append("-w")
    return [*cmd, "-e", pattern, str(trees)]


def _cs_cmd(pattern: str, regex: bool) -> list[str]:
    pat = pattern if regex else re.escape(pattern)
    flags = ["-n"] if _smart_case(pattern) else ["-n", "-i"]
    return ["csearch", *flags, pat]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", help="an existing data dir (default: index --repos into a temp dir)")
    ap.add_argument("--repos", default="/tmp/sample-org/repos")
    ap.add_argument("--runs", type=int, default=20, help="timed runs per query (innersearch)")
    ap.add_argument("--tool-runs", type=int, default=5, help="timed runs per query (rg, csearch)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "search.md"))
    args = ap.parse_args()
    _ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="innersearch-bench-"))
    try:
        data = Path(args.data) if args.data else work / "data"
        index_seconds = None
        if not args.data:
            t = time.perf_counter()
            index_sources(layout.DataDir(data), [args.repos], say=lambda _m: None)
            index_seconds = time.perf_counter() - t
        store = Store.open(data)
        snap = store.snapshot()
        trees = work / "trees"
        _checkout_trees(store, Path(args.repos), trees)
        cs_index = work / "csearchindex"
        cs_env = {**os.environ, "CSEARCHINDEX": str(cs_index)}
        have_cs = shutil.which("cindex") is not None
        if have_cs:
            subprocess.run(["cindex", str(trees)], env=cs_env, capture_output=True, check=True)

        rows = []  # (class, query, files, ours[], rg[], cs[])
        plan = (
            [("literal", q, q, False) for q in LITERALS]
            + [("regex", f"/{q}/", q, True) for q in REGEXES]
            + [("symbol", q, q, False) for q in SYMBOLS]
        )
        for cls, query, pattern, regex in plan:

            def run_ours(cls=cls, query=query):
                if cls == "symbol":
                    return api.symbols(store.snapshot(), query, limit=20).to_json()
                return api.search(store.snapshot(), query, limit=20).to_json()

            first = run_ours()  # warm-up (also fills the content cache)
            ours = []
            for _ in range(args.runs):
                t = time.perf_counter()
                run_ours()
                ours.append((time.perf_counter() - t) * 1000.0)
            files = first["total"] if cls == "symbol" else first["total_files"]
            bound = "" if cls == "symbol" or not first["limit_hit"] else "≥"
            if cls == "symbol":
                # No index: the nearest a grep user gets is the name as a word.
                rg_pat = (
                    "".join(w.capitalize() for w in pattern.split()) if " " in pattern else pattern
                )
                rg = [
                    _time_cmd(_rg_cmd(rg_pat, False, trees, word=True))
                    for _ in range(args.tool_runs)
                ]
                cs = (
                    [
                        _time_cmd(_cs_cmd(r"\b" + re.escape(rg_pat) + r"\b", True), cs_env)
                        for _ in range(args.tool_runs)
                    ]
                    if have_cs
                    else []
                )
            else:
                rg = [_time_cmd(_rg_cmd(pattern, regex, trees)) for _ in range(args.tool_runs)]
                cs = (
                    [_time_cmd(_cs_cmd(pattern, regex), cs_env) for _ in range(args.tool_runs)]
                    if have_cs
                    else []
                )
            rows.append((cls, query, f"{bound}{files}", ours, rg, cs))

        report = _report(rows, snap, index_seconds, args)
        print(report)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report)
        print(f"\nwritten to {args.out}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _report(rows, snap, index_seconds, args) -> str:
    out = []
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cpu = platform.processor() or platform.machine()
    out.append("## Search latency\n")
    out.append(
        f"- Command: `.venv/bin/python bench/search_latency.py --runs {args.runs} "
        f"--tool-runs {args.tool_runs}`"
    )
    out.append(
        f"- Date: {now}; machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
    )
    out.append(
        f"- Corpus: {args.repos} ({len(snap.repos)} repos, {len(snap.files)} live files)"
        + (f"; indexed in {index_seconds:.1f} s" if index_seconds else "")
    )
    out.append(
        "- innersearch: Python API, warm (one warm-up run per query), limit 20 files; "
        "symbol queries through `symbols(limit=20)`. ripgrep and csearch: one process per "
        "query over `git archive` trees of the default branches (smart case, like "
        "case:auto); for symbol queries they search the name as a word.\n"
    )
    out.append("### Per class (all runs of all queries)\n")
    out.append(
        "| class | queries | innersearch p50 | p99 | ripgrep p50 | p99 | csearch p50 | "
        "p99 | rg/innersearch (p50) | csearch/innersearch (p50) |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for cls in ("literal", "regex", "symbol"):
        sel = [r for r in rows if r[0] == cls]
        ours = [v for r in sel for v in r[3]]
        rg = [v for r in sel for v in r[4]]
        cs = [v for r in sel for v in r[5]]
        o50, o99 = _pct(ours, 50), _pct(ours, 99)
        r50, r99 = _pct(rg, 50), _pct(rg, 99)
        c50, c99 = (_pct(cs, 50), _pct(cs, 99)) if cs else (float("nan"),) * 2
        out.append(
            f"| {cls} | {len(sel)} | {o50:.1f} ms | {o99:.1f} ms | {r50:.1f} ms | "
            f"{r99:.1f} ms | {c50:.1f} ms | {c99:.1f} ms | {r50 / o50:.1f}x | "
            f"{c50 / o50:.1f}x |"
        )
    out.append("\n### Targets (issue: search)\n")
    for cls, p50_max, p99_max in (("literal", 20, 150), ("symbol", 20, 150), ("regex", None, 300)):
        sel = [r for r in rows if r[0] == cls]
        ours = [v for r in sel for v in r[3]]
        rg = [v for r in sel for v in r[4]]
        o50, o99 = _pct(ours, 50), _pct(ours, 99)
        checks = []
        if p50_max is not None:
            checks.append(
                f"p50 {o50:.1f} ms <= {p50_max} ms: {'met' if o50 <= p50_max else 'MISSED'}"
            )
        checks.append(f"p99 {o99:.1f} ms <= {p99_max} ms: {'met' if o99 <= p99_max else 'MISSED'}")
        ratio = _pct(rg, 50) / o50
        checks.append(
            f"ripgrep/innersearch p50 {ratio:.1f}x >= 3x: {'met' if ratio >= 3 else 'MISSED'}"
        )
        slow = [
            f"`{r[1]}` ({statistics.median(r[4]) / statistics.median(r[3]):.1f}x)"
            for r in sel
            if statistics.median(r[4]) < 3 * statistics.median(r[3])
        ]
        if slow:
            checks.append("queries under 3x on their own: " + ", ".join(slow))
        out.append(f"- {cls}: " + "; ".join(checks))
    out.append("- through HTTP: not measured here (the web layer's benchmark)")
    out.append("\n### Per query (median of runs)\n")
    out.append("| class | query | files | innersearch | ripgrep | csearch | rg ratio |")
    out.append("|---|---|---|---|---|---|---|")
    for cls, query, files, ours, rg, cs in rows:
        o, r = statistics.median(ours), statistics.median(rg)
        c = f"{statistics.median(cs):.1f} ms" if cs else "n/a"
        q = query.replace("|", "\\|")
        out.append(f"| {cls} | `{q}` | {files} | {o:.1f} ms | {r:.1f} ms | {c} | {r / o:.1f}x |")
    out.append("")
    out.append(
        "`files`: matching files (symbol rows: definitions); `≥` marks a lower bound "
        "(the search stopped once the top 20 were certain)."
    )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
