"""A real Ray cluster on this machine's loopback, for tests, benchmarks and trying `--ray`: a
head node and worker nodes, each a `ray start --block` process in its own process group.

Only these processes are ever stopped (by their process groups), never `ray stop`, so
another session's cluster on the same machine is left alone. Each cluster has a temp dir of
its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
OBJECT_STORE_BYTES = 80 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _common() -> list[str]:
    # Every port of a node chosen free, so that two clusters on one machine (two sessions, or
    # a test beside a benchmark) never meet on a default port.
    ports = []
    for flag in (
        "--node-manager-port",
        "--object-manager-port",
        "--dashboard-agent-grpc-port",
        "--dashboard-agent-listen-port",
        "--runtime-env-agent-port",
        "--metrics-export-port",
    ):
        ports += [flag, str(_free_port())]
    return [
        *ports,
        "--block",
        "--node-ip-address",
        "127.0.0.1",
        "--num-cpus",
        "1",
        "--object-store-memory",
        str(OBJECT_STORE_BYTES),
        "--disable-usage-stats",
    ]


def _descendants(root: int) -> list[int]:
    """Every process below `root` (from /proc: children by parent pid)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@dataclass
class LocalCluster:
    """`start()` the head, `add_node()` workers; `kill_node(i)` ends one node abruptly."""

    temp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="isray-", dir="/tmp")))
    port: int = field(default_factory=_free_port)
    procs: list[subprocess.Popen] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)  # nodes ended on purpose (kill_node)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.temp / f"{name}.log", "wb")  # noqa: SIM115 - lives with the process
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_DEDUP_LOGS": "0"}
        proc = subprocess.Popen(
            [RAY, "start", *args, *_common()],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: stopped without touching others
        )
        log.close()
        self.procs.append(proc)
        return proc

    def start(self) -> LocalCluster:
        self._spawn(
            [
                "--head",
                "--port",
                str(self.port),
                "--temp-dir",
                str(self.temp / "ray"),
                "--include-dashboard=false",
                "--ray-client-server-port",
                str(_free_port()),
            ],
            "head",
        )
        self._wait_port()
        return self

    def add_node(self) -> subprocess.Popen:
        # The head's temp dir, not the machine's default /tmp/ray: a worker node of another
        # cluster on this machine would otherwise share (and end) its session files.
        args = ["--address", self.address, "--temp-dir", str(self.temp / "ray")]
        return self._spawn(args, f"node{len(self.procs)}")

    def _restart_failed_nodes(self) -> None:
        """A worker node that gave up starting (`ray start` times out on a loaded machine:
        "the current node timed out during startup") is started again, in its place."""
        for i, proc in enumerate(self.procs[1:], start=1):
            if proc.poll() is not None and i not in self.killed:
                args = ["--address", self.address, "--temp-dir", str(self.temp / "ray")]
                self.procs[i] = self._spawn(args, f"node{i}-again")
                self.procs.pop()  # _spawn appended it; it takes the failed one's place

    def _wait_port(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.procs[0].poll() is not None:
                raise RuntimeError((self.temp / "head.log").read_text()[-2000:])
            time.sleep(0.2)
        raise TimeoutError("the Ray head did not start")

    def wait_nodes(self, ray, count: int, seconds: float = 240) -> list[dict]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            alive = [n for n in ray.nodes() if n["Alive"]]
            if len(alive) >= count:
                return alive
            self._restart_failed_nodes()
            time.sleep(0.2)
        raise TimeoutError(f"{count} Ray nodes did not come up")

    def kill_node(self, index: int) -> None:
        """End node `index` (0: the head) and everything it started, at once, as a machine
        that dies would: its raylet and its worker processes (which run in sessions of
        their own, so the process group alone would leave them serving)."""
        proc = self.procs[index]
        self.killed.add(index)
        doomed = _descendants(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        doomed = [pid for proc in self.procs for pid in _descendants(proc.pid)]
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            # Anything of the group still there (a worker that ignored SIGTERM).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for pid in doomed:  # workers run in sessions of their own
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.temp, ignore_errors=True)
