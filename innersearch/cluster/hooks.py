"""`serve --ray`'s webhook queue: one Ray actor per cluster data dir takes the verified
deliveries of every web worker and indexes them as one machine's sync loop does.

Pushes arriving within sync.DEBOUNCE_S of each other are indexed in one run: each pushed
repo on the node of the shard that owns it (index.index_repos_cluster), a repository event
lists the sources again (index.index_cluster). The web request only waits for the queue to
hold the event; the shard actors then serve the new generation. The queue lives in the
actor's memory (one machine's is in the catalog): an actor that dies loses what was pending.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from innersearch.indexer import layout
from innersearch.indexer.hosts.webhooks import HookEvent
from innersearch.indexer.run import RepoOutcome
from innersearch.indexer.sync import DEBOUNCE_S, TICK_S, CycleResult

from . import connect, placement

MAX_RUNS = 100  # runs remembered for state()
ENQUEUE_TIMEOUT_S = 5.0  # a queue that does not take a delivery in this time: a 503
BUSY = "IndexBusyError"  # a shard task that found its shard being indexed (by `index --ray`)


@dataclass(frozen=True)
class HookRun:
    """One indexing run of the queue: what it was asked ("hooks": the pushed repos, "list":
    every source again), each repo's outcome, and the shards whose task failed."""

    kind: str
    repos: list[str]
    outcomes: list[RepoOutcome]
    failed_shards: list[str]
    finished_at: float
    seconds: float


@dataclass(frozen=True)
class QueueState:
    """What the queue holds: deliveries taken, still pending, and its last runs."""

    received: int
    pending: int
    runs: list[HookRun] = field(default_factory=list)


@dataclass(frozen=True)
class _Pending:
    repo: str
    action: str  # push | list
    received_at: float


class HookQueue:
    """The queue and its indexing loop (a thread), kept in a Ray actor beside the DATA dir."""

    def __init__(self, root: str, address: str) -> None:
        self.data = layout.DataDir(Path(root))
        self.address = address
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._received = 0
        self._runs: deque[HookRun] = deque(maxlen=MAX_RUNS)
        threading.Thread(target=self._loop, name="hook-queue", daemon=True).start()

    def enqueue(self, event: HookEvent) -> int:
        """Take one verified delivery; how many are pending now."""
        with self._lock:
            self._pending.append(_Pending(event.repo, event.action, time.time()))
            self._received += 1
            return len(self._pending)

    def state(self) -> QueueState:
        with self._lock:
            return QueueState(self._received, len(self._pending), list(self._runs))

    def cycle(self, now: float | None = None) -> CycleResult:
        """One look at the queue (sync.SyncLoop.cycle's rule): once the last delivery is
        DEBOUNCE_S old, everything pending is indexed in one run."""
        now = time.time() if now is None else now
        with self._lock:
            pending = list(self._pending)
            if not pending or now - pending[-1].received_at < DEBOUNCE_S:
                return CycleResult("idle")
            del self._pending[: len(pending)]  # what arrives meanwhile waits for the next run
        started = time.monotonic()
        full = any(p.action == "list" for p in pending)
        repos = sorted({p.repo for p in pending if p.action == "push"})
        summary = self._index(full, repos)
        busy = [r.shard for r in summary.shards if r.summary is None and BUSY in r.error]
        if busy:  # an `index --ray` holds those shards: their share waits for the next tick
            again = pending if full else [p for p in pending if _owner(summary, p.repo) in busy]
            with self._lock:
                self._pending[:0] = again
        run = HookRun(
            "list" if full else "hooks",
            [] if full else repos,
            summary.outcomes,
            summary.failed_shards,
            time.time(),
            time.monotonic() - started,
        )
        with self._lock:
            self._runs.append(run)
        if busy:
            return CycleResult("busy")
        changed = sum(1 for o in summary.outcomes if o.status not in ("unchanged", "error"))
        return CycleResult(run.kind, changed, run.seconds)

    def _index(self, full: bool, repos: list[str]):
        from .index import index_cluster, index_repos_cluster

        say = _say
        if full:
            return index_cluster(self.address, self.data, None, say=say)
        return index_repos_cluster(self.address, self.data, set(repos), say=say)

    def _loop(self) -> None:
        while True:
            try:
                result = self.cycle()
            except Exception as err:  # noqa: BLE001 - one bad run must not end the queue
                _say(f"hooks: run failed: {type(err).__name__}: {err}")
                time.sleep(5)
                continue
            if result.kind in ("hooks", "list"):
                _say(f"hooks: {result.kind}, {result.repos} repos changed, {result.seconds:.1f} s")
            time.sleep(TICK_S)


def _owner(summary, repo: str) -> str | None:
    return next((r.shard for r in summary.shards if repo in r.repos), None)


def _say(line: str) -> None:
    print(line, flush=True)  # the actor's log (Ray's worker logs on its node)


@dataclass
class ClusterHooks:
    """The web worker's side: the queue actor of one DATA dir, shared by every worker."""

    ray: object
    actor: object

    @classmethod
    def open(cls, address: str, root: Path, env: Callable[[], dict | None]) -> ClusterHooks:
        """The queue actor of `root`, started on this process's node when missing (the DATA
        root, where a listing run writes the shards' configs, is this node's); `env()`: the
        runtime environment its shard tasks need (the code hosts' token variables)."""
        ray = connect(address)
        here = ray.get_runtime_context().get_node_id()
        actor = (
            ray.remote(HookQueue)
            .options(
                name=queue_name(root),
                namespace="innersearch",
                get_if_exists=True,
                lifetime="detached",
                num_cpus=0,
                scheduling_strategy=placement.on_node(ray, here),
                runtime_env=env(),
            )
            .remote(str(root), address)
        )
        return cls(ray, actor)

    def enqueue(self, event: HookEvent, timeout_s: float = ENQUEUE_TIMEOUT_S) -> None:
        """Hand `event` to the queue; ConnectionError when it did not take it in time."""
        try:
            self.ray.get(self.actor.enqueue.remote(event), timeout=timeout_s)
        except Exception as err:  # noqa: BLE001 - Ray's timeout or a dead actor: one error
            raise ConnectionError(f"the webhook queue did not take the delivery: {err}") from err

    def state(self, timeout_s: float = ENQUEUE_TIMEOUT_S) -> QueueState:
        return self.ray.get(self.actor.state.remote(), timeout=timeout_s)

    def close(self) -> None:
        """Stop the queue actor (detached: only a test or the deployment's owner ends it)."""
        self.ray.kill(self.actor)


def queue_name(root) -> str:
    digest = hashlib.blake2b(str(root).encode(), digest_size=6).hexdigest()
    return f"hooks-{digest}"
