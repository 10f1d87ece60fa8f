"""Continuous sync: poll the remembered sources every N seconds and index webhook pushes.

One sync process per data dir, started by `innersearch serve --sync-interval`; web workers
only queue deliveries (catalog Writes.enqueue_hook), which this loop debounces and indexes. A poll
fetches only repos whose host reports a new push (run.index_repo).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import catalog, layout
from .run import index_sources
from .syncstate import SyncState

TICK_S = 0.2  # how often the queue is looked at
DEBOUNCE_S = 0.5  # pushes arriving this close together are indexed in one run


@dataclass
class CycleResult:
    kind: str  # poll | hooks | idle | busy
    repos: int = 0
    seconds: float = 0.0


class SyncLoop:
    """Polls every `interval` seconds (0: never) and indexes queued webhook events."""

    def __init__(
        self, data: layout.DataDir, interval: float, say: Callable[[str], None] = print
    ) -> None:
        self.data = data
        self.interval = interval
        self.say = say
        self.last_poll = 0.0
        self.next_poll = time.time() + interval if interval > 0 else None

    def _state(self, cat: catalog.Catalog) -> None:
        with cat.write() as tx:
            tx.set_sync_state(SyncState(self.interval, self.last_poll or None, self.next_poll))

    def cycle(self, now: float | None = None) -> CycleResult:
        """One look at the queue and the clock; indexes when something is due."""
        now = time.time() if now is None else now
        cat = catalog.Catalog(self.data.catalog_path)
        try:
            with cat.read() as r:
                pending = r.pending_hooks()
            due_hooks = pending and now - pending[-1].received_at >= DEBOUNCE_S
            due_poll = self.next_poll is not None and now >= self.next_poll
            if not due_hooks and not due_poll:
                return CycleResult("idle")
            started = time.monotonic()
            full = due_poll or any(h.action == "list" for h in pending)
            only = None if full else {h.repo for h in pending}
            try:
                summary = index_sources(self.data, None, say=lambda _m: None, only=only)
            except layout.IndexBusyError:
                return CycleResult("busy")  # an `innersearch index` runs: next tick
            except ValueError as err:  # no sources remembered yet
                self.say(f"sync: {err}")
                summary = None
            done = time.time()
            with cat.write() as tx:
                tx.finish_hooks([h.id for h in pending], done)
            if full:
                self.last_poll = done
                self.next_poll = done + self.interval if self.interval > 0 else None
            self._state(cat)
            changed = sum(1 for o in summary.outcomes if o.status != "unchanged") if summary else 0
            return CycleResult("poll" if full else "hooks", changed, time.monotonic() - started)
        finally:
            cat.close()

    def run_forever(self) -> None:
        cat = catalog.Catalog(self.data.catalog_path)
        try:
            self._state(cat)
        finally:
            cat.close()
        while True:
            try:
                result = self.cycle()
            except Exception as err:  # one bad cycle (a locked catalog...) must not end the sync
                self.say(f"sync: cycle failed: {type(err).__name__}: {err}")
                time.sleep(5)
                continue
            if result.kind in ("poll", "hooks"):
                self.say(
                    f"sync: {result.kind}, {result.repos} repos changed, {result.seconds:.1f} s"
                )
            time.sleep(TICK_S)


def main(argv: list[str] | None = None) -> int:
    """`python -m innersearch.indexer.sync --data DIR --interval S` (started by serve)."""
    from .orphans import die_with_parent

    parser = argparse.ArgumentParser(prog="innersearch-sync")
    parser.add_argument("--data", required=True)
    parser.add_argument("--interval", type=float, default=0.0)
    args = parser.parse_args(argv)
    die_with_parent()  # ends with the serve process that started it, even after kill -9
    data = layout.resolve_data_dir(args.data)
    try:
        SyncLoop(
            data, args.interval, say=lambda m: print(m, file=sys.stderr, flush=True)
        ).run_forever()
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
