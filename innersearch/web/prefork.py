"""Pre-forked serving: one supervisor, N worker processes sharing one listening socket.

Each worker runs waitress (asynchronous reads, so slow clients cost a socket, not a thread)
and opens its own Store after the fork; the supervisor restarts a worker that dies and, on
SIGTERM or SIGINT, stops every child and waits for it, so no process is left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

STOP_GRACE_S = 10.0  # a child still alive this long after SIGTERM gets SIGKILL
FAST_EXIT_S = 2.0  # a child dying this soon after its start counts as a failed start
MAX_FAILED_STARTS = 5  # in a row: the supervisor gives up instead of spinning


@dataclass
class Child:
    """One supervised process: `run` is called in the forked child and never returns."""

    name: str
    run: Callable[[], None]
    pid: int = 0
    started: float = 0.0
    failures: int = 0


class _Stop(Exception):
    pass


def listen(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """A bound, listening TCP socket (IPv6 when `host` is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def _exit_with_parent(parent: int) -> None:
    # A supervisor killed with SIGKILL cannot stop its children: they notice and go.
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _start(child: Child) -> None:
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: default signal handling, then its work
        code = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _exit_with_parent(parent)
            child.run()
        except BaseException as err:  # noqa: BLE001 - the child must never return to the caller
            print(f"innersearch serve: {child.name}: {err}", file=sys.stderr, flush=True)
            code = 1
        finally:
            os._exit(code)
    child.pid, child.started = pid, time.monotonic()


def _stop_all(children: list[Child]) -> None:
    alive = {c.pid for c in children if c.pid}
    for pid in alive:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            alive.discard(pid)
    deadline = time.monotonic() + STOP_GRACE_S
    while alive:
        for pid in list(alive):
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                alive.discard(pid)
        if alive and time.monotonic() > deadline:
            for pid in alive:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            break
        time.sleep(0.05)


def supervise(children: list[Child]) -> int:
    """Fork every child and keep them running until SIGTERM/SIGINT (exit 0) or a child that
    fails to start MAX_FAILED_STARTS times in a row (exit 1). Call it from the main thread."""

    def stop(_signum, _frame):
        raise _Stop

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    code = 0
    try:
        for child in children:
            _start(child)
        while True:
            pid, _status = os.wait()
            child = next((c for c in children if c.pid == pid), None)
            if child is None:
                continue
            child.pid = 0
            quick = time.monotonic() - child.started < FAST_EXIT_S
            child.failures = child.failures + 1 if quick else 0
            if child.failures >= MAX_FAILED_STARTS:
                print(
                    f"innersearch serve: {child.name} keeps exiting at start; stopping",
                    file=sys.stderr,
                    flush=True,
                )
                code = 1
                break
            time.sleep(0.2 * child.failures)  # back off a crash loop
            _start(child)
    except _Stop:
        pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _stop_all(children)
    return code
