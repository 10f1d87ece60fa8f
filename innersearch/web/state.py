"""The one Store an app serves, opened once and shared by all request threads.

Each request takes its own snapshot (Store.snapshot() is thread-safe and cached).
"""

from __future__ import annotations

from flask import Flask, current_app

from innersearch.indexer.store import Snapshot, Store

from .cache import ResultCache

_KEY = "innersearch.store"
_CACHE = "innersearch.cache"


def attach(app: Flask, store: Store, cache_entries: int) -> None:
    app.extensions[_KEY] = store
    app.extensions[_CACHE] = ResultCache(cache_entries)


def cache() -> ResultCache:
    return current_app.extensions[_CACHE]


def store() -> Store:
    return current_app.extensions[_KEY]


def snapshot() -> Snapshot:
    return store().snapshot()
