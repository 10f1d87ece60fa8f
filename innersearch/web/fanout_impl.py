"""`serve --ray`: GET /api/v1/implementations equal to one machine's, from one org-wide
implementations index at the gateway.

BM25 scores a document by statistics of the whole index (documents, each term's document
frequency, each field's mean length), so per-shard answers cannot be merged into one
machine's. Each gateway worker therefore holds a new in-memory index of every shard's
implementation documents (one per repo, module and definition, made again on their shards by
the indexer's own functions: implindex.described_again), rebuilt when a shard's generation
moves (only the repo states it has not seen are described again), and queries it with one
machine's implementations.find_in. The reader narrows which repos' documents may answer, as
one machine's snapshot does, never the statistics; each repo's portal entry comes from its
shard. A shard that does not answer makes the route a 503: without its documents the
statistics are not the organization's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, jsonify

from innersearch.indexer import implindex
from innersearch.search import implementations, portal
from innersearch.search.sharded import coverage

from . import errors, params
from .fanout_calls import BUDGET, backend, on_all, raise_failure, readable

bp = Blueprint("api_impl", __name__, url_prefix="/api/v1")
ORG_INDEX = "innersearch.fanout.implementations"
# Describing a shard's repos again for the first build reads their source files (the
# describe step of indexing): it may take longer than a query's budget.
BUILD_BUDGET_MS = 120_000


# -- what a shard runs (module-level: Ray sends it by name) ---------------------------------


def _keys(_store, snap) -> dict[int, str]:
    """State key -> repo of the shard's own repos (called with merged=False)."""
    return implementations.live_keys(snap)


def _documents(store, snap, keys: list[int]) -> dict[int, list[dict]]:
    """The documents' fields of the shard's repos whose live state key is in `keys`."""
    wanted = set(keys)
    out = {}
    for key, repo in implementations.live_keys(snap).items():
        if key in wanted:
            row = snap.repos[repo]
            commit = snap.branch_commits[(repo, row.default_branch)]
            out[key] = implindex.described_again(store.data, store.catalog, row, commit)
    return out


def _portals(store, snap, repos: list[str], now: float) -> dict[str, portal.Portal]:
    """The portal entries of the shard's own repos among `repos`, on its snapshot with the
    other shards' rows (used by, uses), restricted to the reader as one machine's."""
    own = store.snapshot().repos
    return {r: portal.portal(snap, r, now) for r in repos if r in own and r in snap.repos}


# -- the org-wide index ---------------------------------------------------------------------


@dataclass(frozen=True)
class OrgIndex:
    """Every shard's implementation documents in one index, at the shards' generations."""

    generations: tuple
    searcher: object
    keys: dict[int, str]  # every live state key -> its repo
    documents: int
    seconds: float  # the build's


class OrgIndexCache:
    """The org-wide index of this worker and the documents it was built from (kept per
    state key: a rebuild asks the shards only for the repo states it lacks)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: OrgIndex | None = None
        self.fields: dict[int, list[dict]] = {}

    def get(self, fan) -> OrgIndex:
        generations = fan.generations()
        with self.lock:
            if self.current is not None and self.current.generations == generations:
                return self.current
            started = time.perf_counter()
            keys = {k: r for part in _whole(fan, _keys, ()).values() for k, r in part.items()}
            need = sorted(k for k in keys if k not in self.fields)
            if need:
                for part in _whole(fan, _documents, (need,), BUILD_BUDGET_MS).values():
                    self.fields.update(part)
            self.fields = {k: self.fields[k] for k in keys if k in self.fields}
            # By repo, then key: the same documents in the same order whichever shard
            # answered first.
            ordered = [f for k in sorted(keys, key=lambda k: (keys[k], k)) for f in self.fields[k]]
            index = implindex.in_memory(ordered)
            found = OrgIndex(
                generations, index.searcher(), keys, len(ordered), time.perf_counter() - started
            )
            if fan.generations() == generations:  # not moved meanwhile: kept
                self.current = found
            return found


def _whole(fan, fn, args: tuple, budget_ms: int | None = None) -> dict:
    """fn's answers from every shard, for every repo (no reader: the statistics are the
    organization's); a shard's error, or its silence, is the route's error."""
    budget_ms = budget_ms or current_app.config[BUDGET]
    found = fan.call(fn, args, None, budget_ms, repo=None, merged=False)
    raise_failure(found)
    _every_shard(found, ": the implementations need every shard's documents")
    return found.answers


def _every_shard(found, why: str = "") -> None:
    """A 503 naming the shards that did not answer in time, when some did not."""
    if found.missing:
        raise errors.ApiError(
            503, f"shards {', '.join(sorted(found.missing))} did not answer in time{why}"
        )


# -- the route ------------------------------------------------------------------------------


@bp.get("/implementations")
def implementations_route():
    answer = implementations_document(
        params.text("q", required=True), params.integer("limit", 10, 1, 100)
    )
    # One machine's JSON, then the coverage fields of every route over shards (whole: a
    # silent shard is a 503).
    return jsonify({**answer.to_json(), **coverage([], backend().shard_count())})


def implementations_document(q: str, limit: int) -> implementations.ImplementationsResponse:
    """One machine's answer for this request's reader, from the org-wide index (the route's
    and the search page's)."""
    who = readable()
    org = current_app.extensions[ORG_INDEX].get(backend())
    keys = org.keys if who is None else {k: r for k, r in org.keys.items() if r in who}
    now = time.time()

    def portals(repos: list[str]) -> dict[str, portal.Portal]:
        if not repos:
            return {}
        found = on_all(_portals, (repos, now), merged=True)
        _every_shard(found)
        entries = {r: p for part in found.answers.values() for r, p in part.items()}
        if set(repos) - entries.keys():  # removed or moved since the org-wide index was made
            raise errors.ApiError(503, "the shards changed during this request: ask again")
        return entries

    return implementations.find_in(org.searcher, keys, q, limit, portals)


def install(app: Flask) -> None:
    app.extensions[ORG_INDEX] = OrgIndexCache()
    app.register_blueprint(bp)


def warm_up(app: Flask) -> threading.Thread:
    """Build the org-wide index in the background now, so the first "does anyone have"
    query after a start does not wait for it (the first build describes every repo again:
    up to BUILD_BUDGET_MS). A failure (a silent shard) only leaves it to the first query."""

    def build() -> None:
        with app.app_context():
            try:
                app.extensions[ORG_INDEX].get(backend())
            except Exception as err:  # noqa: BLE001 - a silent or dead shard: the query builds it
                app.logger.warning("implementations index not built at start: %s", err)

    thread = threading.Thread(target=build, name="org-implementations-warm-up", daemon=True)
    thread.start()
    return thread
