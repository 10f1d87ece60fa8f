"""A small LRU cache of search results, keyed by the index generation and the parameters.

A new index generation changes every key, so a cached answer is never older than the index.
Bounded in entries and in (estimated) bytes, of a value's JSON (a typed answer's to_json).
Cached values are shared: do not modify them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_MAX_BYTES = 64 << 20


def approx_bytes(doc: object) -> int:
    """A cheap estimate of a JSON-like document's memory: string lengths plus a fixed cost
    per value (exact sizes do not matter, bounding them does)."""
    total, stack = 0, [doc]
    while stack:
        item = stack.pop()
        total += 16
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return total


class ResultCache:
    def __init__(self, entries: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.entries = max(0, entries)
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> tuple[T, bool]:
        """(value, was_cached); errors from compute() propagate and are not cached."""
        if self.entries == 0:
            return compute(), False
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found[0], True
            self.misses += 1
        # Computed outside the lock: two requests for the same new key may both compute it,
        # which is cheaper than making every other query wait.
        value = compute()
        size = approx_bytes(value.to_json() if hasattr(value, "to_json") else value)
        if size > self.max_bytes // 8:
            return value, False  # one large answer must not evict everything else
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._items[key] = (value, size)
            self.bytes += size
            while len(self._items) > self.entries or self.bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self.bytes -= dropped
        return value, False
