"""The versioned JSON API under /api/v1: search, symbols, references, files, repos, duplicates.

Handlers only read parameters and call search/, dedup/ or data.py; errors become JSON (errors.py).
The OpenAPI document describing every route is served at /api/v1/openapi.json.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from innersearch.dedup import api as dedup
from innersearch.indexer.status import status_report
from innersearch.search import api as search
from innersearch.search import implementations

from . import data, params, state
from .errors import bad_request, not_found
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_LIMIT = 10_000
MAX_CONTEXT = 20
MAX_SNIPPET_CHARS = 200_000
# What one search response may hold, whatever limit and context ask for (limit=0 too):
# lines rendered (matches and context) and characters per line; about 5 MB at most.
MAX_RESPONSE_LINES = 5_000
MAX_LINE_CHARS = 1_000


def run_search(q: str, limit: int, offset: int, context: int) -> dict:
    """search.search's JSON document through the result cache; the answer is shared, do
    not modify it."""
    snap = state.snapshot()  # one state for the cache key and the results
    # The permission set is part of the key: two users share an answer only when they may
    # read the same repos.
    key = (snap.generation, snap.scope, q, limit, offset, context)
    found, cached = state.cache().get_or_compute(
        key,
        lambda: search.search(
            snap,
            q,
            client_gone=request.environ.get("waitress.client_disconnected"),
            limit=limit,
            offset=offset,
            context=context,
            max_lines=MAX_RESPONSE_LINES,
            max_line_chars=MAX_LINE_CHARS,
        ).to_json(),
    )
    return {**found, "cached": True} if cached else found


@bp.get("/search")
def search_route():
    q = params.text("q", required=True)
    limit = params.integer("limit", 20, 0, MAX_LIMIT)
    offset = params.integer("offset", 0, 0, MAX_LIMIT * 100)
    context = params.integer("context", 0, 0, MAX_CONTEXT)
    return jsonify(run_search(q, limit, offset, context))


@bp.get("/symbols")
def symbols_route():
    q = params.text("q", required=True)
    limit = params.integer("limit", 50, 1, MAX_LIMIT)
    return jsonify(
        search.symbols(
            state.snapshot(), q, kind=params.text("kind"), lang=params.text("lang"), limit=limit
        ).to_json()
    )


@bp.get("/refs")
def refs_route():
    name = params.text("name", required=True)
    limit = params.integer("limit", 1000, 1, MAX_LIMIT)
    return jsonify(search.references(state.snapshot(), name, limit=limit).to_json())


@bp.get("/definition")
def definition_route():
    repo, path = params.text("repo", required=True), params.text("path", required=True)
    line = params.integer("line", None, 1, 10_000_000, required=True)
    column = params.integer("column", None, 0, 10_000_000, required=True)
    try:
        found = search.definition_at(
            state.snapshot(), repo, path, line, column, branch=params.text("branch")
        )
    except LookupError as err:
        raise not_found(_message(err)) from None
    return jsonify(found.to_json())


@bp.get("/outline")
def outline_route():
    repo, path = params.text("repo", required=True), params.text("path", required=True)
    try:
        found = search.outline(state.snapshot(), repo, path, branch=params.text("branch"))
    except LookupError as err:
        raise not_found(_message(err)) from None
    return jsonify(found.to_json())


@bp.get("/file")
def file_route():
    repo, path = params.text("repo", required=True), params.text("path", required=True)
    found = data.file_document(state.snapshot(), repo, path, params.text("branch"))
    return jsonify(found.to_json())


@bp.get("/implementations")
def implementations_route():
    q = params.text("q", required=True)
    limit = params.integer("limit", 10, 1, 100)
    return jsonify(implementations.find(state.snapshot(), q, limit=limit).to_json())


@bp.get("/repos")
def repos_route():
    return jsonify(data.repos_document(state.snapshot()))


@bp.get("/repos/<path:name>")
def repo_route(name: str):
    return jsonify(data.repo_document(state.snapshot(), name))


@bp.get("/duplicates")
def duplicates_route():
    return jsonify(duplicates_involving(latest_duplicates(), params.text("repo")))


def duplicates_involving(report: dict, repo: str | None) -> dict:
    """The report narrowed to library pairs and clone classes that involve `repo`."""
    if not repo:
        return report
    return {
        **report,
        "libraries": [
            lib for lib in report["libraries"] if repo in (lib["a"]["repo"], lib["b"]["repo"])
        ],
        "clone_classes": [
            c for c in report["clone_classes"] if any(m["repo"] == repo for m in c["members"])
        ],
    }


def latest_duplicates() -> dict:
    """The last persisted dedup report, computed over the whole organization and narrowed
    to what this request's principal may read; an empty one (with a note) before the first
    run."""
    snap = state.snapshot()
    try:
        report = dedup.restrict_report(dedup.latest_report(state.store(), snap), snap)
    except LookupError as err:
        report = None
        note = _message(err)
    else:
        note = None
    if not report:
        return {
            "clone_classes": [],
            "libraries": [],
            "note": note or "no duplicate report yet: run `innersearch dedup`",
        }
    return report


def compare_sides() -> tuple[dict, dict]:
    sides = []
    for prefix in ("a", "b"):
        sides.append(
            {
                "repo": params.text(f"{prefix}_repo", required=True),
                "path": params.text(f"{prefix}_path", required=True),
                "branch": params.text(f"{prefix}_branch"),
                "start": params.integer(f"{prefix}_start", None, 1, 10_000_000),
                "end": params.integer(f"{prefix}_end", None, 1, 10_000_000),
            }
        )
    return sides[0], sides[1]


@bp.get("/compare")
def compare_route():
    a, b = compare_sides()
    return jsonify(data.compare_document(state.snapshot(), a, b))


def similar(snippet: object, lang: object, limit: object) -> dict:
    if not isinstance(snippet, str) or not snippet.strip():
        raise bad_request("'snippet' must be a non-empty string")
    if len(snippet) > MAX_SNIPPET_CHARS:
        raise bad_request(f"'snippet' is longer than {MAX_SNIPPET_CHARS} characters")
    try:
        snippet.encode("utf-8")
    except UnicodeEncodeError as err:  # JSON allows "\ud800"; no text holds it
        raise bad_request(f"'snippet' has a lone surrogate at character {err.start}") from None
    if lang is not None and not isinstance(lang, str):
        raise bad_request("'lang' must be a string")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
        raise bad_request("'limit' must be an integer between 1 and 100")
    return dedup.similar_to(
        state.store(), snippet, lang=lang or None, limit=limit, snapshot=state.snapshot()
    )


@bp.post("/similar")
def similar_route():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request('expected a JSON object body: {"snippet": "...", "lang": "python"}')
    return jsonify(similar(body.get("snippet"), body.get("lang"), body.get("limit", 10)))


@bp.get("/status")
def status_route():
    return jsonify(status_report(state.store(), snapshot=state.snapshot()))


@bp.get("/openapi.json")
def openapi_route():
    return jsonify(openapi_document())


def _message(err: BaseException) -> str:
    # KeyError and LookupError wrap their message in quotes; show the message itself.
    return str(err.args[0]) if err.args else str(err) or "not found"
