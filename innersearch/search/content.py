"""Blob bytes through a cache owned by the snapshot's generation, and lines cut out of them.

The one place that slices lines out of a blob (search results, references, go-to-definition).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ..indexer.store import Snapshot
from .match import line_bounds

CONTENT_CACHE_BYTES = 512 << 20


class ContentCache:
    """Blob bytes by blob key, least recently used dropped past `budget` bytes (keys are
    content hashes, so an entry never goes stale)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self.items: OrderedDict[int, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, snap: Snapshot, key: int) -> bytes:
        with self.lock:
            data = self.items.get(key)
            if data is not None:
                self.items.move_to_end(key)
                return data
        data = snap.content(key) or b""
        with self.lock:
            if key not in self.items and len(data) < self.budget // 4:
                self.items[key] = data
                self.size += len(data)
                while self.size > self.budget:
                    _, old = self.items.popitem(last=False)
                    self.size -= len(old)
        return data


def blob(snap: Snapshot, key: int) -> bytes:
    """The bytes of blob `key` ("" when the index lacks it). The cache belongs to the
    unrestricted view of the generation, so every permission set of it shares one, and it
    goes with the generation."""
    cache = snap.view_full.derived("content", lambda: ContentCache(CONTENT_CACHE_BYTES))
    return cache.get(snap, key)


def line_text(data: bytes, starts, line: int) -> tuple[int, int, str]:
    """Start, end and text of a line; `starts` maps line numbers (a list: from 1) to starts."""
    if isinstance(starts, dict):
        ls = starts.get(line, len(data))
    elif line - 1 >= len(starts):  # git grep's empty line after a final newline
        return len(data), len(data), ""
    else:
        ls = starts[line - 1]
    le = data.find(b"\n", ls)
    if le < 0:
        le = len(data)
    return ls, le, data[ls:le].decode("utf-8", "replace")


def lines(snap: Snapshot, key: int, numbers: list[int]) -> dict[int, str]:
    """The text of each existing line of `numbers` (1-based) in blob `key`."""
    data = blob(snap, key)
    starts = line_bounds(data)
    return {n: line_text(data, starts, n)[2] for n in numbers if 1 <= n <= len(starts)}
