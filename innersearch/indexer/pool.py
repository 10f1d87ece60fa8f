"""Analysing new blobs: in process for a few, else in a pool of worker processes.

A bounded window of blobs is in flight, so memory does not grow with the repo's size.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from . import orphans
from .analyze import BlobAnalysis, analyze_blob

WORKERS = max(1, os.cpu_count() or 1)  # parsing processes: every core
INLINE_PARSE_LIMIT = 48  # fewer new blobs than this are parsed in-process (no pool start-up)
IN_FLIGHT_PER_WORKER = 16  # bounded window of blobs handed to workers: memory stays bounded

# (oid, path, lang, data) of one text blob: what analyze_blob takes.
BlobTask = tuple[str, str, str, bytes]


class Analyzer:
    """Turns blob tasks into analyses; starts its pool on first need, once per run."""

    def __init__(self) -> None:
        self.pool: ProcessPoolExecutor | None = None

    def analyses(
        self, tasks: Iterator[BlobTask], count: int
    ) -> Iterator[tuple[BlobTask, BlobAnalysis]]:
        """(task, analysis) in task order; tasks are produced lazily."""
        # A few blobs are parsed in process rather than starting the pool for them; once the
        # pool runs, everything goes to it (both cores, no start-up left to save).
        if count < INLINE_PARSE_LIMIT and self.pool is None:
            for task in tasks:
                yield task, analyze_blob(task)
            return
        if self.pool is None:
            ctx = multiprocessing.get_context("forkserver")
            # No orphans after a kill -9: the forkserver and each worker die with their parent.
            ctx.set_forkserver_preload(["innersearch.indexer.orphans_preload"])
            self.pool = ProcessPoolExecutor(
                WORKERS, mp_context=ctx, initializer=orphans.die_with_parent
            )
        window: deque[tuple[BlobTask, Future]] = deque()
        limit = IN_FLIGHT_PER_WORKER * WORKERS
        for task in tasks:
            window.append((task, self.pool.submit(analyze_blob, task)))
            if len(window) >= limit:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
