"""A small LRU cache of search results, keyed by the index generation and the parameters.

A new index generation changes every key, so a cached answer is never older than the index.
Cached documents are shared between requests: callers must not modify them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


class ResultCache:
    def __init__(self, entries: int) -> None:
        self.entries = max(0, entries)
        self._items: OrderedDict[Hashable, dict] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], dict]) -> tuple[dict, bool]:
        """(document, was_cached); errors from compute() propagate and are not cached."""
        if self.entries == 0:
            return compute(), False
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found, True
            self.misses += 1
        # Computed outside the lock: two requests for the same new key may both compute it,
        # which is cheaper than making every other query wait.
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
        return value, False
