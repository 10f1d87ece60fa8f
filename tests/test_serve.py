"""`innersearch serve` as a real process: slow clients, foreign Host headers, its workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from innersearch.web.cli import CONNECTION_LIMIT
from tests.helpers import build_index, free_port, http_status, make_repo, wait_until_serving

SLOW_CLIENTS = 150  # more than waitress' default connection limit of 100


def _children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(p) for p in f.read().split()}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture()
def server_proc(tmp_path):
    make_repo(tmp_path / "org", "app", {"a.py": "def served():\n    return 1\n"})
    data = build_index(tmp_path, tmp_path / "org")
    port = free_port()
    cmd = [sys.executable, "-m", "innersearch.cli"]
    proc = subprocess.Popen(
        [*cmd, "--data", str(data.root), "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(proc, base)
    yield proc, base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def server(server_proc):
    return server_proc[1]


def test_slow_clients_do_not_block_the_server(server):
    assert SLOW_CLIENTS < CONNECTION_LIMIT
    port = int(server.rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(SLOW_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # never ends
            slow.append(sock)
        time.sleep(0.5)
        assert http_status(f"{server}/healthz") == 200
        assert http_status(f"{server}/api/v1/search?q=served") == 200
    finally:
        for sock in slow:
            sock.close()


def test_a_loopback_server_answers_only_loopback_names(server):
    assert http_status(f"{server}/healthz", host="attacker.example") == 400
    assert http_status(f"{server}/healthz", host="localhost") == 200


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_workers_share_the_port_and_a_dead_one_is_replaced(server_proc):
    proc, base = server_proc
    assert _wait_for(lambda: len(_children(proc.pid)) == 2)
    first = _children(proc.pid)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    assert _wait_for(lambda: len(_children(proc.pid) - {victim}) == 2)
    for _ in range(10):  # whichever worker accepts, every request is answered
        assert http_status(f"{base}/api/v1/search?q=served") == 200


def test_sigterm_stops_every_worker(server_proc):
    proc, base = server_proc
    assert _wait_for(lambda: len(_children(proc.pid)) == 2)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert not any(_alive(pid) for pid in workers)
    with pytest.raises(OSError):
        http_status(f"{base}/healthz", timeout=1)
