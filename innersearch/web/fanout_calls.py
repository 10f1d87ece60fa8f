"""`serve --ray`: how a route asks the shards (every one, or the one holding a repo) for this
request's reader, and what a shard's error or silence becomes (an ApiError).

The backend's `call` runs a module-level fn(store, snap, *args) on the shards; this module
does not import the cluster package (the CLI hands the backend in).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g

from innersearch.search.sharded import coverage

from . import errors

BACKEND = "innersearch.fanout"
BUDGET = "INNERSEARCH_TIME_BUDGET_MS"


def backend():
    return current_app.extensions[BACKEND]


def readable() -> frozenset[str] | None:
    """The repos this request may read (None: every one, with --auth none or for a reader
    of every repo of every shard): access.py decides on each shard, and the set is passed to
    every shard's call. Without an identity under auth: 401, never everything."""
    if not current_app.extensions["innersearch.auth"].enabled:
        return None
    if g.get("principal") is None:
        raise errors.ApiError(401, "sign in: this server needs an identity (see docs/web.md)")
    return backend().readable_names(g.principal)


def on_all(fn: Callable, args: tuple = (), merged: bool = True):
    """fn on every shard (the backend's ShardAnswers); an error a shard raised is raised."""
    found = backend().call(
        fn, args, readable(), current_app.config[BUDGET], repo=None, merged=merged
    )
    raise_failure(found)
    return found


def on_owner(repo: str, fn: Callable, args: tuple = ()):
    """fn's value on the shard holding `repo`; 503 when that shard did not answer in time
    (the shard is known from the name alone: saying which tells nothing of the repo)."""
    found = backend().call(fn, args, readable(), current_app.config[BUDGET], repo=repo)
    raise_failure(found)
    if found.missing:
        raise errors.ApiError(
            503, f"shard {found.missing[0]} (where {repo!r} would be) did not answer in time"
        )
    return next(iter(found.answers.values()))


def answers(found) -> dict[str, object]:
    """shard -> value, in shard order (merges then sort in one machine's order)."""
    return dict(sorted(found.answers.items()))


def whole() -> dict:
    """The coverage fields of an answer no shard was asked for."""
    return coverage([], backend().shard_count())


def raise_failure(found) -> None:
    """The error a shard raised, as this request's ApiError (nothing when none did)."""
    # The same error on every shard (a bad parameter) or a repo's own shard's: the first
    # by shard id, so the answer does not depend on which shard was fastest.
    for _shard, err in sorted(found.failures.items()):
        raise errors.ApiError(err.status, err.message, err.position)
