"""Locality-sensitive hashing over MinHash signatures: banding, then candidate pairs.

Vectorized with numpy (one sort per band, no Python loop per bucket); see docs/dedup.md.
"""

from __future__ import annotations

import numpy as np

# (bands, rows) per view for 64 permutations. The abstracted view finds Type-2/3 clones, so
# its S-curve threshold is low, (1/21)^(1/3) ~ 0.36; the raw view only adds pairs that share
# code verbatim, threshold (1/8)^(1/8) ~ 0.77.
ABS_BANDS = (21, 3)
RAW_BANDS = (8, 8)
# Small fragments get the raw view banded like the abstracted one too, threshold ~0.36: a
# fixed number of edited lines changes a share of a fragment's shingles that grows as the
# fragment shrinks. Three edited lines leave pairs of 100 tokens or more an estimated
# Jaccard of about 0.5 or more (10th percentile), which the bands above find with
# probability about 0.94; under 100 tokens it falls to 0.3-0.45 in a tenth of them. A
# copy-edit keeps its names, so its raw shingles survive as well as its abstracted ones,
# while code that only shares a style shares abstracted shingles but few raw ones: banding
# the raw view keeps the added candidates mostly to copies (issue 15). SMALL_TOKENS is
# verify.LARGE, where the Type-3 threshold starts rising for the same reason.
SMALL_RAW_BANDS = (21, 3)
SMALL_TOKENS = 100
# A bucket larger than this pairs each member with its next WINDOW neighbours only, so
# boilerplate shared by thousands of fragments cannot explode the candidate count.
MAX_BUCKET = 40
WINDOW = 8

_MIX = np.random.RandomState(7).randint(1, 2**62, size=64, dtype=np.int64).astype(np.uint64) | 1


def band_keys(sig: np.ndarray, bands: int, rows: int, salt: np.ndarray) -> np.ndarray:
    """(n, bands) uint64 bucket keys; `salt` (n,) keeps groups that must not mix apart."""
    keys = np.empty((sig.shape[0], bands), dtype=np.uint64)
    for b in range(bands):
        keys[:, b] = band_key(sig, b, rows, salt)
    return keys


def band_key(sig: np.ndarray, band: int, rows: int, salt: np.ndarray) -> np.ndarray:
    """(n,) uint64 bucket keys of one band: one band at a time keeps memory at n keys."""
    block = sig[:, band * rows : (band + 1) * rows].astype(np.uint64)
    with np.errstate(over="ignore"):
        acc = salt.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(band)
        for j in range(rows):
            acc = (acc ^ block[:, j]) * _MIX[j]
            acc ^= acc >> np.uint64(29)
    return acc


def candidate_pairs(keys: np.ndarray) -> np.ndarray:
    """Unique (i, j) pairs, i < j, sharing at least one bucket: an (m, 2) int64 array."""
    n = keys.shape[0]
    found = [band_pairs(keys[:, b]) for b in range(keys.shape[1])]
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    codes = np.unique(np.concatenate([p[:, 0] * n + p[:, 1] for p in found]))
    return np.stack((codes // n, codes % n), axis=1)


def band_pairs(column: np.ndarray) -> np.ndarray:
    """(i, j) pairs, i < j, sharing a bucket of one band, without a Python loop per bucket:
    members of a bucket are consecutive once sorted by key (in index order, the sort being
    stable), so the pairs at distance d are the positions p, p + d of one bucket, for d up
    to the bucket size (up to WINDOW in a bucket larger than MAX_BUCKET)."""
    n = len(column)
    order = np.argsort(column, kind="stable")
    ordered = column[order]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    sizes = np.diff(np.append(starts, n))
    shared = sizes > 1
    starts, sizes = starts[shared], sizes[shared]
    if len(starts) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    # every position of a shared bucket, with its bucket's end and reach
    pos = np.repeat(starts, sizes) + _ranks(sizes)
    end = np.repeat(starts + sizes, sizes)
    reach = np.where(np.repeat(sizes, sizes) > MAX_BUCKET, WINDOW, MAX_BUCKET)
    out = []
    for d in range(1, MAX_BUCKET):
        alive = (pos + d < end) & (d <= reach)
        if d > 1 and not alive.all():
            pos, end, reach = pos[alive], end[alive], reach[alive]
            alive = np.ones(len(pos), dtype=bool)
        if len(pos) == 0:
            break
        out.append(np.stack((order[pos[alive]], order[pos[alive] + d]), axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def _ranks(sizes: np.ndarray) -> np.ndarray:
    """0..size-1 for each size, concatenated."""
    total = int(sizes.sum())
    firsts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.arange(total) - firsts


def estimated_jaccard(sig: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """MinHash estimate per pair: the share of equal signature positions."""
    if len(pairs) == 0:
        return np.zeros(0)
    return (sig[pairs[:, 0]] == sig[pairs[:, 1]]).mean(axis=1)
