"""A bounded soak on loopback: several clients search, open files and the duplicates page of a
real `innersearch serve` while `innersearch index` runs twice over changing repos."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from tests.helpers import commit_files, free_port, make_repo, wait_until_serving

FILES = 120
CLIENTS = 4
CLI = [sys.executable, "-m", "innersearch.cli"]


def _version_files(version: int) -> dict[str, str]:
    return {f"m{i}.py": f"MARK_VERSION = 'v{version}'  # file {i}\n" for i in range(FILES)}


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(re.search(r"VmRSS:\s+(\d+)", fh.read()).group(1))


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_serving_while_indexing_twice(tmp_path):
    org = tmp_path / "org"
    repos = [make_repo(org, f"r{n}", _version_files(0)) for n in range(2)]
    data = tmp_path / "data"
    subprocess.run([*CLI, "--data", str(data), "index", str(org)], check=True, capture_output=True)
    subprocess.run([*CLI, "--data", str(data), "dedup"], check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "--data", str(data), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    errors: list[str] = []
    mixed: list[str] = []
    requests = [0]
    stop = threading.Event()

    def client(k: int) -> None:
        urls = [
            f"{base}/api/v1/search?q=MARK_VERSION&limit=0",
            f"{base}/file?repo=r{k % 2}&path=m{k}.py",
            f"{base}/duplicates",
            f"{base}/?q=MARK_VERSION+repo:r{k % 2}",
        ]
        i = 0
        while not stop.is_set():
            url = urls[i % len(urls)]
            i += 1
            status, body = _fetch(url)
            requests[0] += 1
            if status != 200:
                errors.append(f"{status} {url}")
            elif "/api/v1/search" in url:
                for repo in ("r0", "r1"):
                    pattern = rf'"repo":"{repo}".*?"text":"MARK_VERSION = \'v(\d+)\''
                    seen = set(re.findall(pattern, body.decode()))
                    if len(seen) > 1:  # one repo at two versions: half indexed
                        mixed.append(f"{repo}: {sorted(seen)}")

    try:
        wait_until_serving(server, base)
        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(2)
        warm_rss = _rss_kb(server.pid)
        for version in (1, 2):
            for repo in repos:
                commit_files(repo, _version_files(version), f"v{version}")
            subprocess.run(
                [*CLI, "--data", str(data), "index", str(org)], check=True, capture_output=True
            )
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        final_rss = _rss_kb(server.pid)
        status, body = _fetch(f"{base}/api/v1/search?q=MARK_VERSION&limit=0")
        lines = re.findall(r'"text":"MARK_VERSION = \'(v\d+)\'', body.decode())
        assert status == 200 and lines == ["v2"] * (2 * FILES)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=10)
    assert requests[0] > 40
    assert not errors, errors[:5]
    assert not mixed, mixed[:5]
    assert final_rss < warm_rss * 1.5 + 50_000, (warm_rss, final_rss)  # kB: no runaway growth
