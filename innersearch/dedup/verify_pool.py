"""Verifying groups of candidate pairs: in process for a few, else in worker processes
(one per core), each reading its groups' token streams from the catalog itself.

Workers are started by a forkserver, not forked from the job: a forked child would count
the job's fragment arrays in its RSS. Results come back in group order, so the report does
not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np

from innersearch.indexer import orphans
from innersearch.indexer.store import Store

from . import verify
from .fragments import ParentCache, load_streams

WORKERS = max(1, os.cpu_count() or 1)
# Fewer pairs to verify than this are verified in process: starting the workers costs
# about a second, more than the sample org's whole verification.
PARALLEL_PAIRS = 50_000
IN_FLIGHT_PER_WORKER = 2  # groups handed out ahead: memory stays bounded
MISSING = 255  # the verdict code of a pair one of whose streams cannot be read
# File records whose inflated streams are kept between groups (per process), and their
# tokens in all (13 bytes each inflated, plus the vocabulary: about 60 MB). 512 records
# thrashed on the kernel: inflating file records again was half of its verification.
PARENTS_KEPT = 8192
PARENT_TOKENS = 4_000_000

# (kinds: index into verify.CLONE_TYPES or MISSING, similarities, raw similarities)
Verdicts = tuple[np.ndarray, np.ndarray, np.ndarray]

_worker: tuple[Store, ParentCache] | None = None  # in a worker process: its store


def verify_rowid_pairs(store: Store, parents: ParentCache, pairs: np.ndarray) -> Verdicts:
    """Verdicts of the (m, 2) catalog rowid pairs `pairs`, their streams loaded once."""
    records = load_streams(store, sorted(set(pairs.ravel().tolist())), parents)
    streams = verify.group_streams(records)
    kinds = np.full(len(pairs), MISSING, dtype=np.uint8)
    sims, raws = np.zeros(len(pairs)), np.zeros(len(pairs))
    for k, (a, b) in enumerate(pairs.tolist()):
        if a in streams and b in streams:
            v = verify.compare(streams[a], streams[b])
            kinds[k] = verify.CLONE_TYPES.index(v.clone_type)
            sims[k], raws[k] = v.similarity, v.raw_similarity
    return kinds, sims, raws


def verdicts(store: Store, groups: Iterable[np.ndarray], pairs: int) -> Iterator[Verdicts]:
    """The verdicts of each group of rowid pairs, in order; `pairs`: how many in all."""
    if pairs < PARALLEL_PAIRS or WORKERS < 2:
        parents = ParentCache(PARENTS_KEPT, PARENT_TOKENS)
        for group in groups:
            yield verify_rowid_pairs(store, parents, group)
        return
    ctx = multiprocessing.get_context("forkserver")
    # No orphans after a kill -9: the forkserver and each worker die with the job.
    ctx.set_forkserver_preload(["innersearch.indexer.orphans_preload"])
    root = str(store.data.root)
    with ProcessPoolExecutor(WORKERS, mp_context=ctx, initializer=_start, initargs=(root,)) as ex:
        window: deque[Future] = deque()
        for group in groups:
            window.append(ex.submit(_verify, group))
            if len(window) >= IN_FLIGHT_PER_WORKER * WORKERS:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _start(root: str) -> None:
    global _worker
    orphans.die_with_parent()
    _worker = (Store.open(root), ParentCache(PARENTS_KEPT, PARENT_TOKENS))


def _verify(pairs: np.ndarray) -> Verdicts:
    assert _worker is not None, "started without _start"
    return verify_rowid_pairs(*_worker, pairs)
