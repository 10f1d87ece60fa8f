"""What a webhook delivery costs the `serve --ray` queue actor now that it is durable: the
catalog commit of HookQueue.enqueue (DATA/hooks.sqlite) against the in-memory append it
replaced, interleaved in one run, with the queue already holding `--pending` deliveries.

Usage: .venv/bin/python bench/hook_queue.py [--work /var/tmp/innersearch-hook-queue]
       [--deliveries 2000] [--pending 1000]
Measured in process, without Ray: the actor call around either (a Ray round trip, about a
millisecond) is the same for both. The queue's indexing loop is kept idle (a debounce of a
day) so only the enqueue is timed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sharded_org import uptime  # noqa: E402

from innersearch.cluster.hooks import HookQueue  # noqa: E402
from innersearch.indexer.hosts.webhooks import HookEvent  # noqa: E402


class _MemoryQueue:
    """The queue as it was: a list under a lock (what an actor that died lost)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[str, str, float]] = []

    def enqueue(self, event: HookEvent) -> None:
        with self._lock:
            self._pending.append((event.repo, event.action, time.time()))


def _time(queue, event: HookEvent) -> float:
    started = time.perf_counter()
    queue.enqueue(event)
    return time.perf_counter() - started


def _fresh(work: Path) -> Path:
    """`work`, emptied: the queue's catalog starts with no delivery."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="/var/tmp/innersearch-hook-queue")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--pending", type=int, default=1000)
    args = parser.parse_args()
    durable = HookQueue(str(_fresh(Path(args.work))), address="", debounce_s=86400)
    memory = _MemoryQueue()
    for i in range(args.pending):  # a backlog, as during a long `index --ray`
        event = HookEvent("github", f"acme/repo{i % 50}", "push")
        durable.enqueue(event)
        memory.enqueue(event)
    times: dict[str, list[float]] = {"memory": [], "catalog": []}
    for i in range(args.deliveries):
        event = HookEvent("github", f"acme/repo{i % 50}", "push")
        order = (("memory", memory), ("catalog", durable))
        for name, queue in order if i % 2 else order[::-1]:
            times[name].append(_time(queue, event))
    print(f"load: {uptime()}")
    print(f"{args.deliveries} deliveries each, {args.pending} already pending")
    for name, found in times.items():
        found.sort()
        p50, p99 = statistics.median(found), found[int(len(found) * 0.99)]
        print(f"  {name:8s} p50 {p50 * 1e6:8.1f} us   p99 {p99 * 1e6:8.1f} us")
    ratio = statistics.median(times["catalog"]) / statistics.median(times["memory"])
    extra = statistics.median(times["catalog"]) - statistics.median(times["memory"])
    print(f"catalog / memory at p50: {ratio:.0f}x, {extra * 1e3:.3f} ms more per delivery")
    print(f"pending in the catalog: {durable.state().pending}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
