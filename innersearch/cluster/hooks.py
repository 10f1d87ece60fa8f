"""`serve --ray`'s webhook queue: one Ray actor per cluster data dir takes the verified
deliveries of every web worker and indexes them as one machine's sync loop does.

Pushes arriving within sync.DEBOUNCE_S of each other are indexed in one run: each pushed
repo on the node of the shard that owns it (index.index_repos_cluster), a repository event
lists the sources again (index.index_cluster). The queue is a catalog of its own,
DATA/hooks.sqlite (one machine's `hook_events` table): a delivery is committed before the
web request answers, stays pending until its shard's task succeeded, and an actor started
again (by Ray, or by the next delivery, or at serve start) indexes what is still pending.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from innersearch.indexer import catalog, layout
from innersearch.indexer.hosts.webhooks import HookEvent
from innersearch.indexer.run import RepoOutcome
from innersearch.indexer.sync import DEBOUNCE_S, TICK_S, CycleResult

from . import connect, placement
from .shards import hooks_path

MAX_RUNS = 100  # runs remembered for state()
ENQUEUE_TIMEOUT_S = 5.0  # a queue that does not take a delivery in this time: a 503
RETRY_S = 5.0  # a shard whose task failed (not busy) is tried again after this long
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
    """What the queue holds: deliveries this actor took, still pending (in its catalog,
    whoever took them), and this actor's last runs."""

    received: int
    pending: int
    runs: list[HookRun] = field(default_factory=list)


class HookQueue:
    """The queue (DATA/hooks.sqlite) and its indexing loop (a thread), kept in a Ray actor
    beside the DATA dir. `debounce_s`: how old the last delivery must be before a run."""

    def __init__(self, root: str, address: str, debounce_s: float = DEBOUNCE_S) -> None:
        self.data = layout.DataDir(Path(root))
        self.address = address
        self.debounce_s = debounce_s
        self.catalog = catalog.Catalog(hooks_path(self.data.root))
        self._lock = threading.Lock()
        self._received = 0
        self._retry_at = 0.0
        self._runs: deque[HookRun] = deque(maxlen=MAX_RUNS)
        threading.Thread(target=self._loop, name="hook-queue", daemon=True).start()

    def enqueue(self, event: HookEvent) -> None:
        """Take one verified delivery, committed to the catalog before this returns (the web
        request's 202 waits for it)."""
        with self.catalog.write() as tx:
            tx.enqueue_hook(event.kind, event.repo, event.action)
        with self._lock:
            self._received += 1

    def state(self) -> QueueState:
        with self.catalog.read() as r:
            pending = len(r.pending_hooks())
        with self._lock:
            return QueueState(self._received, pending, list(self._runs))

    def cycle(self, now: float | None = None) -> CycleResult:
        """One look at the queue (sync.SyncLoop.cycle's rule): once the last delivery is
        `debounce_s` old, everything pending is indexed in one run. A delivery is marked done
        once its shard's task returned (a repo that failed in it keeps its error in the
        shard's catalog, as on one machine); a busy or failed shard's stay pending."""
        now = time.time() if now is None else now
        with self.catalog.read() as r:
            pending = r.pending_hooks()
        if not pending or now < self._retry_at or now - pending[-1].received_at < self.debounce_s:
            return CycleResult("idle")
        started = time.monotonic()
        full = any(h.action == "list" for h in pending)
        repos = sorted({h.repo for h in pending if h.action == "push"})
        summary = self._index(full, repos)
        kept = set(summary.failed_shards)  # busy (an `index --ray` holds them) or failed
        if not kept:
            done = pending
        elif full:  # a listing is one run over every shard: all of it again
            done = []
        else:
            done = [h for h in pending if _owner(summary, h.repo) not in kept]
        with self.catalog.write() as tx:
            tx.finish_hooks([h.id for h in done], time.time())
        busy = {r.shard for r in summary.shards if r.summary is None and BUSY in r.error}
        if kept - busy:  # a node died or a task crashed: not at every tick
            self._retry_at = time.time() + RETRY_S
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
                time.sleep(RETRY_S)
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
    """The web worker's side: the queue actor of one DATA dir, shared by every worker;
    `start()` finds it by name or starts it (again, after it died: its catalog kept what
    was pending)."""

    ray: object
    actor: object
    start: Callable[[], object]

    @classmethod
    def open(
        cls,
        address: str,
        root: Path,
        env: Callable[[], dict | None],
        debounce_s: float = DEBOUNCE_S,
    ) -> ClusterHooks:
        """The queue actor of `root`, started on this process's node when missing (the DATA
        root, where a listing run writes the shards' configs and the queue its catalog, is
        this node's); `env()`: the runtime environment its shard tasks need (the code hosts'
        token variables); `debounce_s`: the new actor's (an existing one keeps its own)."""
        ray = connect(address)

        def start():
            here = ray.get_runtime_context().get_node_id()
            return (
                ray.remote(HookQueue)
                .options(
                    name=queue_name(root),
                    namespace="innersearch",
                    get_if_exists=True,
                    lifetime="detached",
                    max_restarts=-1,  # a crashed actor comes back and reads its catalog
                    num_cpus=0,
                    scheduling_strategy=placement.on_node(ray, here),
                    runtime_env=env(),
                )
                .remote(str(root), address, debounce_s)
            )

        return cls(ray, start(), start)

    def enqueue(self, event: HookEvent, timeout_s: float = ENQUEUE_TIMEOUT_S) -> None:
        """Hand `event` to the queue (committed to its catalog when this returns);
        ConnectionError when it did not take it in time."""
        try:
            self._call("enqueue", event, timeout_s=timeout_s)
        except Exception as err:  # noqa: BLE001 - Ray's timeout or a dead actor: one error
            raise ConnectionError(f"the webhook queue did not take the delivery: {err}") from err

    def state(self, timeout_s: float = ENQUEUE_TIMEOUT_S) -> QueueState:
        return self._call("state", timeout_s=timeout_s)

    def _call(self, method: str, *args, timeout_s: float):
        """The actor's `method`; an actor found dead is started again once (killed, or its
        restarts given up) and asked again."""
        try:
            return self.ray.get(getattr(self.actor, method).remote(*args), timeout=timeout_s)
        except self.ray.exceptions.ActorDiedError:
            self.actor = self.start()
            return self.ray.get(getattr(self.actor, method).remote(*args), timeout=timeout_s)

    def close(self) -> None:
        """Stop the queue actor (detached: only a test or the deployment's owner ends it)."""
        self.ray.kill(self.actor)


def queue_name(root) -> str:
    digest = hashlib.blake2b(str(root).encode(), digest_size=6).hexdigest()
    return f"hooks-{digest}"
