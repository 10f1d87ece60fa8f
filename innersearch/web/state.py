"""The one Store an app serves, opened once and shared by all request threads, and the
snapshot each request sees: taken once per request and filtered for its principal.

state.snapshot() is where permissions are enforced: every route reads the index through it.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from innersearch.indexer.store import Snapshot, Store

from .auth import AuthSettings
from .cache import ResultCache
from .errors import ApiError

_KEY = "innersearch.store"
_CACHE = "innersearch.cache"
_AUTH = "innersearch.auth"


def attach(app: Flask, store: Store, cache_entries: int, auth: AuthSettings) -> None:
    app.extensions[_KEY] = store
    app.extensions[_CACHE] = ResultCache(cache_entries)
    app.extensions[_AUTH] = auth


def cache() -> ResultCache:
    return current_app.extensions[_CACHE]


def store() -> Store:
    """The whole index, unfiltered: for what is not per repo (the dedup job's files, the
    data dir). Reading repos, files or counts goes through snapshot()."""
    return current_app.extensions[_KEY]


def auth() -> AuthSettings:
    return current_app.extensions[_AUTH]


def snapshot() -> Snapshot:
    """This request's state: one per request, holding only the repos its principal may read
    (everything with --auth none). Without an identity under auth: 401, never everything."""
    found = g.get("snapshot")
    if found is None:
        full = store().snapshot()
        if not auth().enabled:
            found = full
        elif g.get("principal") is None:
            raise ApiError(401, "sign in: this server needs an identity (see docs/web.md)")
        else:
            found = full.for_principal(g.principal)
        g.snapshot = found
    return found


def signed_in() -> bool:
    """Whether the request may see repository data at all (always, with --auth none)."""
    return not auth().enabled or g.get("principal") is not None
