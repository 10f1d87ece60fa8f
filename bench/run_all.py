"""Runs every benchmark in bench/ on the sample organization, one after the other.

Usage: .venv/bin/python bench/run_all.py [REPOS_DIR]   (default /tmp/sample-org/repos,
built by ../shared/corpus/build.sh). Each script prints its markdown table; docs/benchmarks.md
records the numbers with the date.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ["index_bench.py"],
    ["symbol_recall.py"],
    ["search_latency.py"],
    ["dedup_speed.py"],
    ["dedup_recall.py"],
    ["dedup_libraries.py"],
    ["http_load.py"],
    ["implementations_bench.py"],
]


def main() -> int:
    repos = sys.argv[1] if len(sys.argv) > 1 else "/tmp/sample-org/repos"
    if not Path(repos).is_dir():
        print(f"{repos} is missing: build it with ../shared/corpus/build.sh {Path(repos).parent}")
        return 2
    failed = []
    for script, *args in SCRIPTS:
        print(f"\n## {script}\n", flush=True)
        cmd = [sys.executable, str(HERE / script), *args]
        if script in ("index_bench.py", "symbol_recall.py", "implementations_bench.py"):
            cmd.append(repos)
        else:
            cmd += ["--repos", repos]
        if subprocess.run(cmd).returncode != 0:
            failed.append(script)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
