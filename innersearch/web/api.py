"""The versioned JSON API under /api/v1: search, symbols, references, files, repos, duplicates.

Handlers only read parameters and call search/, answers.py or data.py; errors become JSON
(errors.py).
The OpenAPI document describing every route is served at /api/v1/openapi.json.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from innersearch.indexer.status import status_report
from innersearch.search import api as search
from innersearch.search import implementations

from . import answers, data, params, state
from .errors import lookup_message, not_found
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_LIMIT = 10_000
MAX_CONTEXT = 20


@bp.get("/search")
def search_route():
    q = params.text("q", required=True)
    limit = params.integer("limit", 20, 0, MAX_LIMIT)
    offset = params.integer("offset", 0, 0, MAX_LIMIT * 100)
    context = params.integer("context", 0, 0, MAX_CONTEXT)
    return jsonify(answers.run_search(q, limit, offset, context).to_json())


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
        raise not_found(lookup_message(err)) from None
    return jsonify(found.to_json())


@bp.get("/outline")
def outline_route():
    repo, path = params.text("repo", required=True), params.text("path", required=True)
    try:
        found = search.outline(state.snapshot(), repo, path, branch=params.text("branch"))
    except LookupError as err:
        raise not_found(lookup_message(err)) from None
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
    return jsonify(data.repos_document(state.snapshot()).to_json())


@bp.get("/repos/<path:name>")
def repo_route(name: str):
    return jsonify(data.repo_document(state.snapshot(), name).to_json())


@bp.get("/duplicates")
def duplicates_route():
    return jsonify(answers.latest_duplicates().involving(params.text("repo")).to_json())


@bp.get("/compare")
def compare_route():
    a, b = answers.compare_sides()
    return jsonify(data.compare_document(state.snapshot(), a, b).to_json())


@bp.post("/similar")
def similar_route():
    return jsonify(answers.similar(*answers.similar_body()).to_json())


@bp.get("/status")
def status_route():
    return jsonify(status_report(state.store(), snapshot=state.snapshot()).to_json())


@bp.get("/openapi.json")
def openapi_route():
    return jsonify(openapi_document())
