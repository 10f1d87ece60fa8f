"""The one Store an app serves, opened once and shared by all request threads.

Each request takes its own snapshot (Store.snapshot() is thread-safe and cached).
"""

from __future__ import annotations

from flask import Flask, current_app

from innersearch.indexer.store import Snapshot, Store

_KEY = "innersearch.store"


def attach(app: Flask, store: Store) -> None:
    app.extensions[_KEY] = store


def store() -> Store:
    return current_app.extensions[_KEY]


def snapshot() -> Snapshot:
    return store().snapshot()
