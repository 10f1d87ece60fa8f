"""Locality-sensitive hashing over MinHash signatures: banding, then candidate pairs.

Vectorized with numpy (one sort per band) instead of a dict per band; see docs/dedup.md.
"""

from __future__ import annotations

import numpy as np

# (bands, rows) per view for 64 permutations. The abstracted view finds Type-2/3 clones, so
# its S-curve threshold is low, (1/21)^(1/3) ~ 0.36; the raw view only adds pairs that share
# code verbatim, threshold (1/8)^(1/8) ~ 0.77.
ABS_BANDS = (21, 3)
RAW_BANDS = (8, 8)
# A bucket larger than this pairs each member with its next WINDOW neighbours only, so
# boilerplate shared by thousands of fragments cannot explode the candidate count.
MAX_BUCKET = 40
WINDOW = 8

_MIX = np.random.RandomState(7).randint(1, 2**62, size=64, dtype=np.int64).astype(np.uint64) | 1


def band_keys(sig: np.ndarray, bands: int, rows: int, salt: np.ndarray) -> np.ndarray:
    """(n, bands) uint64 bucket keys; `salt` (n,) keeps groups that must not mix apart."""
    n = sig.shape[0]
    keys = np.empty((n, bands), dtype=np.uint64)
    wide = sig.astype(np.uint64)
    with np.errstate(over="ignore"):
        for b in range(bands):
            block = wide[:, b * rows : (b + 1) * rows]
            acc = salt.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(b)
            for j in range(rows):
                acc = (acc ^ block[:, j]) * _MIX[j]
                acc ^= acc >> np.uint64(29)
            keys[:, b] = acc
    return keys


def candidate_pairs(keys: np.ndarray) -> np.ndarray:
    """Unique (i, j) pairs, i < j, sharing at least one bucket: an (m, 2) int64 array."""
    n, bands = keys.shape
    found: list[np.ndarray] = []
    for b in range(bands):
        column = keys[:, b]
        order = np.argsort(column, kind="stable")
        sorted_keys = column[order]
        boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
        starts = np.concatenate(([0], boundaries))
        ends = np.concatenate((boundaries, [n]))
        sizes = ends - starts
        for s, e in zip(starts[sizes > 1], ends[sizes > 1], strict=True):
            members = np.sort(order[s:e])
            found.append(_bucket_pairs(members))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack((codes // n, codes % n), axis=1)


def _bucket_pairs(members: np.ndarray) -> np.ndarray:
    size = len(members)
    if size <= MAX_BUCKET:
        i, j = np.triu_indices(size, 1)
    else:
        i = np.repeat(np.arange(size), WINDOW)
        j = i + np.tile(np.arange(1, WINDOW + 1), size)
        keep = j < size
        i, j = i[keep], j[keep]
    return np.stack((members[i], members[j]), axis=1)


def estimated_jaccard(sig: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """MinHash estimate per pair: the share of equal signature positions."""
    if len(pairs) == 0:
        return np.zeros(0)
    return (sig[pairs[:, 0]] == sig[pairs[:, 1]]).mean(axis=1)
