"""Time `make demo` on a fresh clone, from `make` to "serving", first run and cached run.

Usage: .venv/bin/python bench/demo_time.py [--port 8089] [--warm-pip]
Clones this checkout's HEAD into a temp dir with no ../shared beside it, runs `make demo`
twice (the second time with .venv and .demo cached) and stops the server each time. By
default pip's cache is off for the first run, as on a fresh machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 900


def run_demo(checkout: Path, port: int, env: dict[str, str]) -> tuple[float, str]:
    """Seconds from `make demo` to the first search answered by its server, and its output."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["make", "demo", f"DEMO_PORT={port}"],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the server is a grandchild: stop the whole group
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving "):
                break
        url = f"http://127.0.0.1:{port}/api/v1/search?q=retry&limit=1"
        while time.perf_counter() - start < LIMIT_S:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("make demo stopped:\n" + "".join(lines)) from None
                time.sleep(0.1)
        seconds = time.perf_counter() - start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return seconds, "".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--warm-pip", action="store_true", help="keep pip's cache on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="demo-time-") as tmp:
        checkout = Path(tmp) / "innersearch"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(checkout)], check=True)
        env = {**os.environ}
        env.pop("VIRTUAL_ENV", None)
        first_env = env if args.warm_pip else {**env, "PIP_NO_CACHE_DIR": "1"}
        first, output = run_demo(checkout, args.port, first_env)
        cached, _ = run_demo(checkout, args.port, env)
    print(output)
    print(
        f"# make demo on a fresh clone, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} cores, pip cache {'warm' if args.warm_pip else 'off'} first\n"
    )
    print("| run | seconds to the first answered search | target |")
    print("|---|---|---|")
    print(f"| first (install, download, build, index, dedup) | {first:.1f} | ≤ 180 |")
    print(f"| cached (.venv and .demo kept) | {cached:.1f} | ≤ 30 |")
    return 0 if first <= 180 and cached <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
