"""What the JSON API and the HTML pages both answer: a search through the result cache, the
duplicate report narrowed for this request, the sides of a comparison, a similar-code search.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from innersearch.dedup import api as dedup
from innersearch.dedup.results import DuplicateReport, SimilarResponse
from innersearch.search import api as search
from innersearch.search.results import SearchResponse

from . import params, state
from .data import FragmentRef
from .errors import bad_request

MAX_SNIPPET_CHARS = 200_000
# What one search response may hold, whatever limit and context ask for (limit=0 too):
# lines rendered (matches and context) and characters per line; about 5 MB at most.
MAX_RESPONSE_LINES = 5_000
MAX_LINE_CHARS = 1_000


def run_search(q: str, limit: int, offset: int, context: int) -> SearchResponse:
    """search.search's answer through the result cache (`cached` set on a hit); the
    answer and its JSON are shared, do not modify them."""
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
        ),
    )
    return found.as_cached() if cached else found


def latest_duplicates() -> DuplicateReport:
    """The last persisted dedup report, computed over the whole organization and narrowed
    to what this request's principal may read (recomputed at this request's snapshot when
    it is older than the index); an empty one (with a note) before the first run."""
    return dedup.report_for(state.store(), state.snapshot())


def compare_sides() -> tuple[FragmentRef, FragmentRef]:
    sides = []
    for prefix in ("a", "b"):
        sides.append(
            FragmentRef(
                repo=params.text(f"{prefix}_repo", required=True),
                path=params.text(f"{prefix}_path", required=True),
                branch=params.text(f"{prefix}_branch"),
                start=params.integer(f"{prefix}_start", None, 1, 10_000_000),
                end=params.integer(f"{prefix}_end", None, 1, 10_000_000),
            )
        )
    return sides[0], sides[1]


@dataclass(frozen=True, slots=True)
class SimilarRequest:
    """A checked "does this already exist?" request."""

    snippet: str
    lang: str | None
    limit: int


def similar_body() -> tuple[object, object, object]:
    """(snippet, lang, limit) of POST /api/v1/similar's JSON body, not checked yet."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request('expected a JSON object body: {"snippet": "...", "lang": "python"}')
    return body.get("snippet"), body.get("lang"), body.get("limit", 10)


def similar_request(snippet: object, lang: object, limit: object) -> SimilarRequest:
    """The request's values checked (400 with what is wrong)."""
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
    return SimilarRequest(snippet, lang or None, limit)


def similar(snippet: object, lang: object, limit: object) -> SimilarResponse:
    asked = similar_request(snippet, lang, limit)
    return dedup.similar_to(
        state.store(), asked.snippet, lang=asked.lang, limit=asked.limit, snapshot=state.snapshot()
    )
