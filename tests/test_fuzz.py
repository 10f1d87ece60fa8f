"""Property-based fuzzing: any query text and any parameters get an answer, never a 500.

The parser either parses or raises QueryError; every API route answers 200 or a 4xx with a
JSON error, within the time budget.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from innersearch.search.plan import compile_plan
from innersearch.search.query import QueryError, parse
from tests.helpers import build_index, client_for, make_repo

# Query syntax is where the edge cases are: weight the alphabet towards it.
SYNTAX = st.sampled_from(
    [
        '"',
        "/",
        "(",
        ")",
        "-",
        ":",
        "\\",
        " ",
        "or",
        "and",
        "repo:",
        "lang:",
        "sym:",
        "type:",
        "file:",
        "case:",
        "branch:",
        "*",
        "+",
        "?",
        "{",
        "}",
        "[",
        "]",
        "|",
        "^",
        "$",
        "(?:",
        "\\b",
        "\\w",
        ".",
        "\r",
        "\x00",
        "\ud800",
        "é",
        "retry",
        "def",
    ]
)
QUERY = st.lists(st.one_of(SYNTAX, st.text(max_size=4)), max_size=40).map("".join)
# What HTTP can carry: a lone surrogate cannot be sent in a URL (the parser test has them).
_SENDABLE = st.characters(blacklist_categories=("Cs",))
HTTP_QUERY = QUERY.filter(lambda q: "\ud800" not in q).map(
    lambda q: q.encode("utf-8", "replace").decode("utf-8")
)
PARAM = st.one_of(st.integers(-5, 10**7).map(str), st.text(_SENDABLE, max_size=6))
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(QUERY)
def test_the_parser_answers_or_raises_query_error(text):
    try:
        compile_plan(parse(text))
    except QueryError as err:
        assert isinstance(err.position, int | None)


@pytest.fixture(scope="module")
def client(tmp_path_factory, open_store):
    root = tmp_path_factory.mktemp("fuzz")
    make_repo(
        root / "repos",
        "svc",
        {"retry.py": "def retry(fn):\n    return fn()\n", "README.md": "# svc\n"},
    )
    return client_for(open_store(build_index(root, root / "repos").root))


def _check(resp, started: float) -> None:
    assert resp.status_code == 200 or 400 <= resp.status_code < 500, resp.data[:300]
    if resp.status_code != 200 and resp.is_json:
        assert isinstance(resp.get_json()["error"], str)
    assert time.monotonic() - started < 15  # the 10 s budget plus rendering


@FUZZ
@given(q=HTTP_QUERY, limit=PARAM, offset=PARAM, context=PARAM)
def test_search_api_never_fails(client, q, limit, offset, context):
    started = time.monotonic()
    params = {"q": q, "limit": limit, "offset": offset, "context": context}
    _check(client.get("/api/v1/search", query_string=params), started)


@FUZZ
@given(
    route=st.sampled_from(
        [
            "/api/v1/symbols",
            "/api/v1/refs",
            "/api/v1/file",
            "/api/v1/outline",
            "/api/v1/definition",
            "/api/v1/compare",
            "/api/v1/duplicates",
            "/",
            "/file",
            "/symbol",
            "/repos/svc",
            "/duplicates/compare",
        ]
    ),
    values=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "name",
                "repo",
                "path",
                "line",
                "column",
                "limit",
                "kind",
                "lang",
                "branch",
                "a",
                "b",
                "a_repo",
                "a_path",
                "offset",
            ]
        ),
        st.one_of(HTTP_QUERY, PARAM),
        max_size=6,
    ),
)
def test_other_routes_never_fail(client, route, values):
    started = time.monotonic()
    _check(client.get(route, query_string=values), started)


@FUZZ
@given(body=st.one_of(st.text(max_size=50), st.dictionaries(st.text(max_size=8), QUERY)))
def test_similar_never_fails(client, body):
    started = time.monotonic()
    if isinstance(body, dict):
        resp = client.post("/api/v1/similar", json=body)
    else:
        resp = client.post("/api/v1/similar", data=body, content_type="application/json")
    _check(resp, started)
