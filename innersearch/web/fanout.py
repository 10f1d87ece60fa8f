"""`serve --ray`: the JSON API and the HTML pages over a fan-out backend (a cluster's shard
actors) instead of one Store: search and symbols answered per shard and merged, a repo's
routes on its shard (fanout_repo.py), similar code ranked over every shard's candidates
(fanout_similar.py), the status summed over the shards (fanout_status.py), the report of
`dedup --ray` (fanout_duplicates.py), implementations from an org-wide index
(fanout_impl.py), the webhooks to the cluster's queue (fanout_hooks.py), the pages from
those documents (fanout_ui.py). Every route of one machine is served.

The backend is any object with ClusterSearch's `search`, `symbols`, `call`, `shard_count`,
`generations` and `readable_names`; this module does not import the cluster package (the
CLI hands the backend in).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from flask import Blueprint, Flask, current_app, jsonify

from innersearch.indexer import layout
from innersearch.indexer.access import Principal
from innersearch.indexer.catalog import HookRow
from innersearch.indexer.tokens import open_tokens
from innersearch.search.sharded import ShardedSearchResponse, ShardedSymbolsResponse

from . import errors, params
from .answers import MAX_LINE_CHARS, MAX_RESPONSE_LINES
from .api import MAX_CONTEXT, MAX_LIMIT
from .auth import AuthSettings
from .auth import install as install_auth
from .bodies import Health
from .fanout_calls import BACKEND, BUDGET, backend, readable
from .openapi import openapi_document

# What each shard may take for one request (the search's own default budget).
TIME_BUDGET_MS = 10_000


class FanOutBackend(Protocol):
    def search(self, query: str, **options) -> ShardedSearchResponse: ...

    def symbols(self, query: str, **options) -> ShardedSymbolsResponse: ...

    def readable_names(self, principal: Principal) -> frozenset[str] | None: ...

    def call(self, fn, args: tuple, readable, time_budget_ms: int, repo=None, merged=True): ...

    def shard_count(self) -> int: ...

    def generations(self) -> tuple: ...

    def hooks(self): ...

    def recent_hooks(self) -> list[HookRow]: ...


bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/search")
def search_route():
    q = params.text("q", required=True)
    limit = params.integer("limit", 20, 0, MAX_LIMIT)
    offset = params.integer("offset", 0, 0, MAX_LIMIT * 100)
    context = params.integer("context", 0, 0, MAX_CONTEXT)
    return jsonify(search_document(q, limit, offset, context).to_json())


def search_document(q: str, limit: int, offset: int, context: int) -> ShardedSearchResponse:
    """The search merged over the shards for this request's reader (the route's and the
    search page's), within the app's time budget and one machine's response bounds."""
    return backend().search(
        q,
        limit=limit,
        offset=offset,
        context=context,
        time_budget_ms=current_app.config[BUDGET],
        max_lines=MAX_RESPONSE_LINES,
        max_line_chars=MAX_LINE_CHARS,
        readable=readable(),
    )


@bp.get("/symbols")
def symbols_route():
    q = params.text("q", required=True)
    limit = params.integer("limit", 50, 1, MAX_LIMIT)
    found = backend().symbols(
        q,
        kind=params.text("kind"),
        lang=params.text("lang"),
        limit=limit,
        readable=readable(),
        time_budget_ms=current_app.config[BUDGET],
    )
    return jsonify(found.to_json())


@bp.get("/openapi.json")
def openapi_route():
    return jsonify(openapi_document())


def create_fanout_app(
    backend: FanOutBackend,
    data_root: str | Path,
    allowed_hosts: set[str] | None = None,
    auth: AuthSettings | None = None,
    time_budget_ms: int = TIME_BUDGET_MS,
    warm: bool = False,
) -> Flask:
    """The app answering from `backend`; `data_root` holds the token file (--auth token);
    a shard that has not answered within `time_budget_ms` is named in `partial_shards`.
    `warm`: build the org-wide implementations index in the background now (`serve`)."""
    from . import (
        fanout_duplicates,
        fanout_hooks,
        fanout_impl,
        fanout_repo,
        fanout_similar,
        fanout_status,
        fanout_ui,
        install_guards,
        jsonprovider,
    )

    app = Flask(__name__)
    jsonprovider.install(app)
    app.config[BUDGET] = time_budget_ms
    auth = auth or AuthSettings()
    app.extensions[BACKEND] = backend
    app.extensions["innersearch.auth"] = auth
    errors.register(app)
    app.register_blueprint(bp)
    app.register_blueprint(fanout_repo.bp)
    app.register_blueprint(fanout_similar.bp)
    fanout_status.install(app)
    fanout_duplicates.install(app, data_root)
    fanout_hooks.install(app)
    fanout_impl.install(app)
    if warm:
        fanout_impl.warm_up(app)
    fanout_ui.install(app)
    install_guards(app, allowed_hosts)
    tokens = open_tokens(layout.DataDir(Path(data_root))) if "token" in auth.modes else None
    install_auth(app, auth, tokens)

    @app.get("/healthz")
    def healthz():
        return jsonify(Health("ok").to_json())

    return app
