"""Dedup state kept under <data>/dedup/: verified pairs (the costly part) and the last report.

numpy arrays (pairs) and JSON (report) written atomically; a missing, corrupt or
other-format file is simply rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from innersearch.indexer import fingerprints as fp
from innersearch.indexer.layout import DataDir

from . import verify
from .fragments import mix64

STATE_FORMAT = 2  # 2: pairs.npz, fragment ids hashed


def dedup_dir(data: DataDir) -> Path:
    return data.root / "dedup"


def _signature() -> list:
    """What cached verdicts depend on; any change invalidates them."""
    return [
        STATE_FORMAT,
        fp.FORMAT_VERSION,
        verify.MIN_SIMILARITY,
        verify.SMALL_SIMILARITY,
        verify.SMALL,
        verify.LARGE,
        verify.MIN_RAW_FOR_T3,
        verify.STRUCTURE_ONLY,
        verify.COPY_EDIT_RAW,
        verify.COPY_EDIT_LINES,
        verify.LINES_FLOOR,
    ]


def write_json_atomic(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            # dumps, not dump: only the one-shot encoder is the C one (dump to a file ran
            # the pure-Python encoder, a second of a kernel slice)
            fh.write(json.dumps(value, separators=(",", ":")))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            value = json.load(fh)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class PairCache:
    """Verdicts by fragment-id pair, as sorted numpy arrays in pairs.npz (a JSON object per
    pair took gigabytes on the kernel). Fragment ids name a blob and a position, and blobs
    are immutable, so a verdict stays true as long as both fragments exist."""

    def __init__(self, data: DataDir | None) -> None:
        self.path = dedup_dir(data) / "pairs.npz" if data else None
        empty = np.zeros(0, dtype=np.uint64)
        self.hash, self.lo, self.hi = empty, empty, empty
        self.kind = np.zeros(0, dtype=np.uint8)
        self.sim = self.raw = np.zeros(0)
        self.new: list[tuple[np.ndarray, ...]] = []
        self.hits = 0
        self.misses = 0
        if self.path:
            self._read(self.path)

    def _read(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as found:
                if json.loads(str(found["signature"])) != _signature():
                    return
                arrays = [found[k] for k in ("hash", "lo", "hi", "kind", "sim", "raw")]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            return
        if len({len(a) for a in arrays}) == 1 and np.all(arrays[0][1:] >= arrays[0][:-1]):
            self.hash, self.lo, self.hi, self.kind, self.sim, self.raw = arrays

    @staticmethod
    def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        return mix64(lo ^ mix64(hi)), lo, hi

    def lookup(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, list[verify.Verdict]]:
        """For the pairs of ids (a[k], b[k]): which are cached, and their verdicts."""
        h, lo, hi = self._pair(a, b)
        at = np.minimum(np.searchsorted(self.hash, h), max(len(self.hash) - 1, 0))
        if len(self.hash):
            hit = (self.hash[at] == h) & (self.lo[at] == lo) & (self.hi[at] == hi)
        else:
            hit = np.zeros(len(h), dtype=bool)
        self.hits += int(hit.sum())
        self.misses += int(len(h) - hit.sum())
        found = at[hit]
        verdicts = [
            verify.Verdict(verify.CLONE_TYPES[k], s, r)
            for k, s, r in zip(
                self.kind[found].tolist(),
                self.sim[found].tolist(),
                self.raw[found].tolist(),
                strict=True,
            )
        ]
        return hit, verdicts

    def put(
        self, a: np.ndarray, b: np.ndarray, kind: np.ndarray, sim: np.ndarray, raw: np.ndarray
    ) -> None:
        """Verdicts of the id pairs (a[k], b[k]) as columns (kind: index into
        verify.CLONE_TYPES): no Verdict object per pair measured."""
        h, lo, hi = self._pair(a, b)
        f64 = np.float64
        self.new.append((h, lo, hi, kind.astype(np.uint8), sim.astype(f64), raw.astype(f64)))

    def save(self, live_ids: np.ndarray) -> None:
        """Keep only pairs whose fragments are still indexed."""
        if not self.path:
            return
        parts = [(self.hash, self.lo, self.hi, self.kind, self.sim, self.raw), *self.new]
        h, lo, hi, kind, sim, raw = (np.concatenate(c) for c in zip(*parts, strict=True))
        live = np.sort(live_ids)
        keep = _member(lo, live) & _member(hi, live)
        h, lo, hi, kind, sim, raw = (c[keep] for c in (h, lo, hi, kind, sim, raw))
        order = np.lexsort((hi, lo, h))
        h, lo, hi, kind, sim, raw = (c[order] for c in (h, lo, hi, kind, sim, raw))
        first = np.ones(len(h), dtype=bool)  # one entry per pair
        first[1:] = (h[1:] != h[:-1]) | (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
        arrays = {"hash": h, "lo": lo, "hi": hi, "kind": kind, "sim": sim, "raw": raw}
        with contextlib.suppress(OSError):  # read-only data dir: the next run re-verifies
            write_npz_atomic(
                self.path,
                signature=np.array(json.dumps(_signature())),
                **{k: v[first] for k, v in arrays.items()},
            )


def _member(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """values in the sorted array `ordered`, elementwise."""
    if len(ordered) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return ordered[at] == values


def write_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
