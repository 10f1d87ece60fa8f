"""`serve --ray`: "does this already exist?" (POST /api/v1/similar) over the shards.

Each shard sends its verified best candidates for the snippet (dedup's snippet_candidates);
they are ranked here as one machine ranks its own (dedup's ranked), so the answer equals one
machine's, and names the shards that did not answer in time.
"""

from __future__ import annotations

import time

from flask import Blueprint, jsonify

from innersearch.dedup import api as dedup
from innersearch.dedup.results import SimilarResponse
from innersearch.search.sharded import covered, sharded

from .answers import similar_body, similar_request
from .fanout_calls import answers, on_all

bp = Blueprint("api_similar", __name__, url_prefix="/api/v1")


def _candidates(store, snap, snippet: str, lang: str | None) -> dedup.SnippetCandidates:
    """What a shard runs: its candidates among the files this reader may read."""
    return dedup.snippet_candidates(store, snap, snippet, lang)


@bp.post("/similar")
def similar_route():
    return jsonify(similar_document(*similar_body()).to_json())


def similar_document(snippet: object, lang: object, limit: object) -> SimilarResponse:
    """The answer for this request's reader (the route's and the /similar page's); 400 on
    a bad request, as answers.similar."""
    started = time.monotonic()
    asked = similar_request(snippet, lang, limit)
    everywhere = on_all(_candidates, (asked.snippet, asked.lang))
    found = dedup.ranked(list(answers(everywhere).values()), asked.limit, started)
    return covered(found, ShardedSimilarResponse, everywhere.partial())


ShardedSimilarResponse = sharded(
    SimilarResponse,
    "The snippet's matches among every shard's candidates, and the shards that answered.",
    __name__,
)
