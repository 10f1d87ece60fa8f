"""The clone-detection pipeline: fragments -> LSH candidates -> verified pairs -> classes.

Verified pairs are cached by fragment key, so after one repo changes only pairs that
involve its new blobs are measured again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from innersearch.indexer.store import Snapshot, Store

from . import clones, lsh, verify
from .fragments import Fragments, load, load_streams
from .state import PairCache

# Candidate pairs whose signatures agree on fewer positions than this are not verified:
# below it a Type-3 clone (>= 0.75 measured) is very unlikely (see docs/dedup.md).
MIN_ESTIMATED = 0.3
# Fragments whose sizes differ more than this cannot reach MIN_SIMILARITY.
MIN_SIZE_RATIO = 0.6
# Fragments whose token streams are in memory at once while verifying.
STREAMS_PER_GROUP = 4000


@dataclass
class Detection:
    fragments: Fragments
    edges: list[tuple[int, int, verify.Verdict]]
    classes: list[clones.CloneClass]
    stats: dict = field(default_factory=dict)


def candidates(frags: Fragments) -> np.ndarray:
    """Candidate pairs of one level, passing cheap filters."""
    if len(frags) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    salt = frags.is_file.astype(np.uint64)
    abs_keys = lsh.band_keys(frags.abs_sig, *lsh.ABS_BANDS, salt)
    raw_keys = lsh.band_keys(frags.raw_sig, *lsh.RAW_BANDS, salt + np.uint64(2))
    pairs = lsh.candidate_pairs(np.concatenate((abs_keys, raw_keys), axis=1))
    if len(pairs) == 0:
        return pairs
    a, b = pairs[:, 0], pairs[:, 1]
    same_level = frags.is_file[a] == frags.is_file[b]
    sizes = np.minimum(frags.tokens[a], frags.tokens[b]) / np.maximum(
        frags.tokens[a], frags.tokens[b]
    )
    estimate = np.maximum(
        lsh.estimated_jaccard(frags.abs_sig, pairs), lsh.estimated_jaccard(frags.raw_sig, pairs)
    )
    nested = (
        (frags.blob[a] == frags.blob[b])
        & (frags.start[a] <= frags.end[b])
        & (frags.start[b] <= frags.end[a])
    )
    keep = same_level & (sizes >= MIN_SIZE_RATIO) & (estimate >= MIN_ESTIMATED) & ~nested
    return pairs[keep]


def verify_pairs(
    store: Store, frags: Fragments, pairs: np.ndarray, cache: PairCache
) -> list[tuple[int, int, verify.Verdict]]:
    keys = [frags.key(i) for i in range(len(frags))]
    todo: list[tuple[int, int]] = []
    edges: list[tuple[int, int, verify.Verdict]] = []
    for i, j in pairs.tolist():
        found = cache.get(keys[i], keys[j])
        if found is None:
            todo.append((i, j))
        elif found.clone_type:
            edges.append((i, j, found))
    # Streams are loaded for a bounded group of fragments at a time and dropped after it:
    # holding every candidate's streams at once took 17 GB on the kernel.
    todo.sort()
    start = 0
    while start < len(todo):
        group: set[int] = set()
        end = start
        while end < len(todo) and len(group) < STREAMS_PER_GROUP:
            group.update(todo[end])
            end += 1
        for i, j, verdict in _verify_group(store, frags, todo[start:end], group):
            cache.put(keys[i], keys[j], verdict)
            if verdict.clone_type:
                edges.append((i, j, verdict))
        start = end
    edges.sort(key=lambda e: (e[0], e[1]))
    return edges


def _verify_group(
    store: Store, frags: Fragments, pairs: list[tuple[int, int]], group: set[int]
) -> Iterator[tuple[int, int, verify.Verdict]]:
    """Verdicts of `pairs`, whose fragments are `group`, with their streams loaded once."""
    records = load_streams(store, sorted({int(frags.rowid[x]) for x in group}))
    streams: dict[int, verify.Streams] = {}

    def get(x: int) -> verify.Streams | None:
        rowid = int(frags.rowid[x])
        if rowid not in streams and rowid in records:
            streams[rowid] = verify.Streams(records[rowid])
        return streams.get(rowid)

    for i, j in pairs:
        sa, sb = get(i), get(j)
        if sa is not None and sb is not None:
            yield i, j, verify.compare(sa, sb)


def detect(
    store: Store, snap: Snapshot, min_tokens: int, min_lines: int, use_cache: bool = True
) -> Detection:
    frags = load(store, snap, min_tokens, min_lines)
    cache = PairCache(store.data if use_cache else None)
    pairs = candidates(frags)
    edges = verify_pairs(store, frags, pairs, cache)
    if use_cache:
        cache.save({frags.key(i) for i in range(len(frags))})
    classes = clones.build(frags, edges)
    stats = {
        "fragments": len(frags),
        "candidate_pairs": int(len(pairs)),
        "verified_pairs": cache.misses,
        "cached_pairs": cache.hits,
        "clone_pairs": len(edges),
    }
    return Detection(frags, edges, classes, stats)
