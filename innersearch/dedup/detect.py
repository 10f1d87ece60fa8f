"""The clone-detection pipeline: fragments -> LSH candidates -> verified pairs -> classes.

Verified pairs are cached by fragment key, so after one repo changes only pairs that
involve its new blobs are measured again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from innersearch.indexer.store import Snapshot, Store

from . import clones, lsh, verify, verify_pool
from .fragments import Fragments, load
from .state import PairCache

# Candidate pairs whose signatures agree on fewer positions than this are not verified:
# below it a Type-3 clone (>= 0.75 measured) is very unlikely (see docs/dedup.md).
MIN_ESTIMATED = 0.3
# Fragments whose sizes differ more than this cannot reach MIN_SIMILARITY.
MIN_SIZE_RATIO = 0.6
# Fragments whose token streams are in memory at once while verifying (per process), and
# their tokens: a group of 4,000 whole kernel files took most of a gigabyte.
STREAMS_PER_GROUP = 4000
GROUP_TOKENS = 2_000_000
# Fragments per side of a tile of candidate pairs verified together (see verify_pairs).
TILE = 8192


@dataclass
class Detection:
    fragments: Fragments  # without signatures (dropped after banding)
    edges: list[tuple[int, int, verify.Verdict]]
    classes: list[clones.CloneClass]
    stats: dict = field(default_factory=dict)


def candidates(frags: Fragments) -> np.ndarray:
    """Candidate pairs of one level, passing cheap filters: (m, 2) int64, sorted.

    One band at a time: its pairs are filtered before the next band is hashed, so only the
    pairs that pass are ever held (all bands' raw pairs at once took gigabytes)."""
    n = len(frags)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    salt = frags.is_file.astype(np.uint64)
    everyone = np.arange(n)
    # the fragments a pair whose smaller side is under SMALL_TOKENS can have (the size
    # filter bounds the larger side), for the small fragments' extra raw bands (lsh.py)
    small = np.flatnonzero(frags.tokens < lsh.SMALL_TOKENS / MIN_SIZE_RATIO)
    views = (
        (frags.abs_sig, lsh.ABS_BANDS, salt, everyone),
        (frags.raw_sig, lsh.RAW_BANDS, salt + np.uint64(2), everyone),
        (frags.raw_sig[small], lsh.SMALL_RAW_BANDS, salt[small] + np.uint64(4), small),
    )
    kept = np.zeros(0, dtype=np.int64)  # pair codes i * n + j, sorted
    for sig, (bands, rows), view_salt, members in views:
        for band in range(bands):
            # members is increasing, so member pairs (i < j) stay ordered as fragments
            pairs = members[lsh.band_pairs(lsh.band_key(sig, band, rows, view_salt))]
            if len(members) < n:
                smaller = np.minimum(frags.tokens[pairs[:, 0]], frags.tokens[pairs[:, 1]])
                pairs = pairs[smaller < lsh.SMALL_TOKENS]
            codes = pairs[:, 0] * n + pairs[:, 1]
            new = codes[~_member(codes, kept)]  # pairs of an earlier band are known
            passed = [_filtered(frags, new[lo : lo + FILTER_CHUNK], n)
                      for lo in range(0, len(new), FILTER_CHUNK)]  # fmt: skip
            kept = _merged(kept, np.unique(np.concatenate([kept[:0], *passed])))
    return np.stack((kept // n, kept % n), axis=1)


# Pairs whose signatures are compared at once (two (chunk, 64) gathers of uint32).
FILTER_CHUNK = 1 << 18


def _filtered(frags: Fragments, codes: np.ndarray, n: int) -> np.ndarray:
    a, b = codes // n, codes % n
    keep = frags.is_file[a] == frags.is_file[b]
    ta, tb = frags.tokens[a], frags.tokens[b]
    keep &= np.minimum(ta, tb) / np.maximum(ta, tb) >= MIN_SIZE_RATIO
    keep &= ~(
        (frags.blob[a] == frags.blob[b])
        & (frags.start[a] <= frags.end[b])
        & (frags.start[b] <= frags.end[a])
    )
    a, b, codes = a[keep], b[keep], codes[keep]
    pairs = np.stack((a, b), axis=1)
    estimate = np.maximum(
        lsh.estimated_jaccard(frags.abs_sig, pairs), lsh.estimated_jaccard(frags.raw_sig, pairs)
    )
    return codes[estimate >= MIN_ESTIMATED]


def _merged(kept: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The union of two sorted arrays with no value in common, sorted: a stable sort of the
    two runs is a linear merge (timsort), where np.union1d re-sorted all the pairs kept so
    far once per band (a fifth of the kernel's job)."""
    return np.sort(np.concatenate((kept, new)), kind="stable")


def _member(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """values in the sorted array `ordered`, elementwise."""
    if len(ordered) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return ordered[at] == values


def verify_pairs(
    store: Store, frags: Fragments, pairs: np.ndarray, cache: PairCache
) -> list[tuple[int, int, verify.Verdict]]:
    ids = frags.ids()
    hit, cached = cache.lookup(ids[pairs[:, 0]], ids[pairs[:, 1]])
    edges = [
        (i, j, v) for (i, j), v in zip(pairs[hit].tolist(), cached, strict=True) if v.clone_type
    ]
    # Streams are loaded for a bounded group of fragments at a time and dropped after it:
    # holding every candidate's streams at once took 17 GB on the kernel. File records
    # (which function records slice) stay in a bounded cache across groups; pairs go tile
    # by tile (TILE fragments on each side, in blob order), so a group's second fragments
    # come from a few files too, not from all over the corpus.
    todo = pairs[~hit]
    todo = todo[np.lexsort((todo[:, 1], todo[:, 0], todo[:, 1] // TILE, todo[:, 0] // TILE))]
    bounds = list(group_bounds(todo, frags.tokens))
    groups = (frags.rowid[todo[lo:hi]] for lo, hi in bounds)
    found = verify_pool.verdicts(store, groups, len(todo))
    for (lo, hi), (kinds, sims, raws) in zip(bounds, found, strict=True):
        batch = todo[lo:hi]
        measured = kinds != verify_pool.MISSING
        a, b = ids[batch[measured, 0]], ids[batch[measured, 1]]
        cache.put(a, b, kinds[measured], sims[measured], raws[measured])
        clone = measured & (kinds > 0)
        coded = (
            batch[clone].tolist(),
            kinds[clone].tolist(),
            sims[clone].tolist(),
            raws[clone].tolist(),
        )
        edges.extend(
            (i, j, verify.Verdict(verify.CLONE_TYPES[k], s, r))
            for (i, j), k, s, r in zip(*coded, strict=True)
        )
    edges.sort(key=lambda e: (e[0], e[1]))
    return edges


def group_bounds(todo: np.ndarray, tokens: np.ndarray | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive runs of the (m, 2) candidate pairs `todo`, each cut once
    STREAMS_PER_GROUP fragments are named, or GROUP_TOKENS tokens if `tokens` (per
    fragment) is given: whose streams are loaded together. Walked a chunk at a time: the
    kernel's pairs as Python lists took hundreds of megabytes."""
    sizes = tokens.tolist() if tokens is not None else None
    start, group, held = 0, set(), 0
    for lo in range(0, len(todo), 1 << 16):
        for k, (i, j) in enumerate(todo[lo : lo + (1 << 16)].tolist(), lo):
            if len(group) >= STREAMS_PER_GROUP or held >= GROUP_TOKENS:
                yield start, k
                start, group, held = k, set(), 0
            for x in (i, j):
                if x not in group:
                    group.add(x)
                    held += sizes[x] if sizes is not None else 0
    if start < len(todo):
        yield start, len(todo)


def pair_groups(todo: list) -> Iterator[tuple[list, set[int]]]:
    """The runs of `group_bounds` over the candidate pairs `todo` (a list of (i, j)), each
    with the fragments it names."""
    for start, end in group_bounds(np.asarray(todo, dtype=np.int64).reshape(-1, 2)):
        batch = todo[start:end]
        yield batch, {x for pair in batch for x in pair}


def detect(
    store: Store, snap: Snapshot, min_tokens: int, min_lines: int, use_cache: bool = True
) -> Detection:
    frags = load(store, snap, min_tokens, min_lines)
    cache = PairCache(store.data if use_cache else None)
    pairs = candidates(frags)
    # Signatures are only for banding: dropped before verification (256 bytes a fragment,
    # a quarter of the job's memory on the kernel); the report reads the other columns.
    frags.raw_sig = frags.raw_sig[:0]
    frags.abs_sig = frags.abs_sig[:0]
    edges = verify_pairs(store, frags, pairs, cache)
    if use_cache:
        cache.save(frags.ids())
    classes = clones.build(frags, edges)
    stats = {
        "fragments": len(frags),
        "candidate_pairs": int(len(pairs)),
        "verified_pairs": cache.misses,
        "cached_pairs": cache.hits,
        "clone_pairs": len(edges),
    }
    return Detection(frags, edges, classes, stats)
