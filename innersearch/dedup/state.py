"""Dedup state kept under <data>/dedup/: verified pairs (the costly part) and the last report.

Plain JSON written atomically; a missing, corrupt or other-format file is simply rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from innersearch.indexer import fingerprints as fp
from innersearch.indexer.layout import DataDir

from . import verify

STATE_FORMAT = 1


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
    ]


def write_json_atomic(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh, separators=(",", ":"))
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
    """Verdicts by fragment-key pair. Fragment keys name a blob and a position, and blobs
    are immutable, so a verdict stays true as long as both fragments exist."""

    def __init__(self, data: DataDir | None) -> None:
        self.path = dedup_dir(data) / "pairs.json" if data else None
        self.pairs: dict[str, list] = {}
        self.hits = 0
        self.misses = 0
        if self.path:
            found = read_json(self.path)
            if found and found.get("signature") == _signature():
                pairs = found.get("pairs")
                if isinstance(pairs, dict):
                    self.pairs = pairs

    @staticmethod
    def key(a: str, b: str) -> str:
        return f"{a}|{b}" if a < b else f"{b}|{a}"

    def get(self, a: str, b: str) -> verify.Verdict | None:
        found = self.pairs.get(self.key(a, b))
        if found is None or len(found) != 3:
            self.misses += 1
            return None
        self.hits += 1
        return verify.Verdict(str(found[0]), float(found[1]), float(found[2]))

    def put(self, a: str, b: str, verdict: verify.Verdict) -> None:
        self.pairs[self.key(a, b)] = [
            verdict.clone_type,
            round(verdict.similarity, 5),
            round(verdict.raw_similarity, 5),
        ]

    def save(self, live_keys: set[str]) -> None:
        """Keep only pairs whose fragments are still indexed."""
        if not self.path:
            return
        kept = {
            k: v for k, v in self.pairs.items() if all(part in live_keys for part in k.split("|"))
        }
        with contextlib.suppress(OSError):  # read-only data dir: the next run re-verifies
            write_json_atomic(self.path, {"signature": _signature(), "pairs": kept})
