"""Hostile and oversized requests get a clear 4xx or a bounded answer, never a 500 or gigabytes."""

from __future__ import annotations

import json
import re
import time

import pytest

from innersearch.dedup.state import dedup_dir
from innersearch.search import api, execute
from innersearch.search.budget import Budget
from innersearch.search.plan import compile_plan
from innersearch.search.query import MAX_NESTING, QueryError, parse
from innersearch.web import answers as web_answers
from innersearch.web import create_app
from innersearch.web.cache import ResultCache, approx_bytes
from innersearch.web.highlight import highlight_lines
from innersearch.web.ui import facet_query
from tests.helpers import build_index, client_for, make_repo

MANY = "".join(f"the line {i}\n" for i in range(3000))
LONG = "the " + "x" * 50_000 + "\n"
CR_FILE = "x = 1  # ok\rcomment\nimport os; os.system('id')\nz = 2\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory, open_store):
    root = tmp_path_factory.mktemp("harden")
    files = {f"pkg/mod{i}.py": f"def handler_{i}():\n    return {i}\n" for i in range(150)}
    files.update({"big.txt": MANY, "min.js": LONG, "cr.py": CR_FILE})
    make_repo(root / "repos", "app", files)
    return open_store(build_index(root, root / "repos").root)


@pytest.fixture(scope="module")
def client(store):
    return client_for(store, allowed_hosts={"127.0.0.1", "localhost", "::1"})


HOSTILE = [
    ("nested parentheses", "(" * 400 + "a" + ")" * 400, "nests deeper"),
    ("leading minus signs", "-" * 1000 + "a", "nests deeper"),
    ("nested regex groups", "/" + "(" * 300 + "a" + ")" * 300 + "/", "regex nests"),
    ("non-capturing groups", "/" + "(?:" * 999 + "a" + ")" * 999 + "/", "regex nests"),
    ("a long sym:", "sym:" + "a" * 1200, "symbol name"),
    ("a long query", " or ".join(f"/a{i}b.*c/" for i in range(3000)), "longer than"),
    ("many terms", " or ".join(f"w{i}" for i in range(300)), "more than 200 terms"),
]


@pytest.mark.parametrize("query,needle", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_queries_are_400_with_a_position(client, query, needle):
    start = time.monotonic()
    resp = client.get("/api/v1/search", query_string={"q": query})
    assert resp.status_code == 400
    body = resp.get_json()
    assert needle in body["error"] and isinstance(body["position"], int)
    assert time.monotonic() - start < 5


def test_nesting_just_below_the_bound_still_works():
    parse("(" * (MAX_NESTING - 1) + "a" + ")" * (MAX_NESTING - 1))
    parse("/" + "(" * MAX_NESTING + "a" + ")" * MAX_NESTING + "/")
    with pytest.raises(QueryError):
        parse("/" + "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1) + "/")


def test_long_symbol_names_are_400_on_every_route(client):
    for route, param in (("/api/v1/symbols", "q"), ("/api/v1/refs", "name")):
        resp = client.get(route, query_string={param: "a" * 1200})
        assert resp.status_code == 400, route
        assert "symbol name" in resp.get_json()["error"]


def test_a_lone_surrogate_in_a_json_body_is_400(client):
    body = '{"snippet": "def f():\\n    return \\ud800 1\\n"}'
    resp = client.post("/api/v1/similar", data=body, content_type="application/json")
    assert resp.status_code == 400 and "surrogate" in resp.get_json()["error"]


def test_invalid_utf8_in_parameters_is_400(client):
    for url in ("/api/v1/search?q=%FF%FE", "/?q=%C3%28"):
        resp = client.get(url)
        assert resp.status_code == 400, url
    assert client.get("/api/v1/search?q=%C3%A9t%C3%A9").status_code == 200


def test_foreign_host_headers_are_refused(client, store):
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/healthz", headers={"Host": "evil.example:8080"}).status_code == 400
    for host in ("localhost:8080", "127.0.0.1", "[::1]:8080"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
    open_app = create_app(store).test_client()  # no list: behind a proxy, any name
    assert open_app.get("/healthz", headers={"Host": "search.example"}).status_code == 200


def test_remote_images_are_not_allowed(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    img_src = next(p for p in policy.split(";") if p.strip().startswith("img-src"))
    assert "https:" not in img_src and "*" not in img_src


def test_responses_are_bounded_whatever_limit_and_context_ask(client):
    resp = client.get("/api/v1/search", query_string={"q": "the", "limit": 0, "context": 20})
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["truncated"] is True and doc["limit_hit"] is True
    rendered = sum(
        1 + len(m.get("before", [])) + len(m.get("after", []))
        for r in doc["results"]
        for m in r["line_matches"]
    )
    assert web_answers.MAX_RESPONSE_LINES // 2 < rendered <= web_answers.MAX_RESPONSE_LINES
    assert len(resp.data) < 2 * web_answers.MAX_RESPONSE_LINES * web_answers.MAX_LINE_CHARS
    minified = client.get("/api/v1/search", query_string={"q": "xxxxxxxxxx"}).get_json()
    [match] = minified["results"][0]["line_matches"]
    assert len(match["text"]) == web_answers.MAX_LINE_CHARS  # cut, with its ranges
    assert match["ranges"] and all(
        0 <= a < b <= web_answers.MAX_LINE_CHARS for a, b in match["ranges"]
    )


def test_the_cli_api_keeps_whole_lines(store):
    found = api.search(store.snapshot(), "xxxxxxxxxx", limit=0).to_json()
    assert [len(m["text"]) for r in found["results"] for m in r["line_matches"]] == [50_004]
    assert found.get("truncated") is False


@pytest.mark.parametrize("kind", ["path", "symbol", "file"])
def test_every_search_kind_stops_at_its_deadline(store, kind):
    query = {"path": "type:path mod", "symbol": "type:symbol handler", "file": "return"}[kind]
    parsed = parse(query)
    plan = compile_plan(parsed)
    snap = store.snapshot()
    expired = Budget(time.monotonic() - 1)
    if kind == "path":
        out = execute.search_paths(snap, plan, 20, 0, expired)
    elif kind == "symbol":
        out = api._symbol_results(snap, plan, 20, 0, expired)
    else:
        out = execute.search_files(snap, plan, 20, 0, 0, expired)
    assert out.limit_hit is True and out.results == []
    live = api.search(store.snapshot(), query).to_json()
    assert live["limit_hit"] is False or kind == "file"
    assert live["results"]


def test_the_result_cache_is_bounded_in_bytes():
    doc = {"results": [{"text": "x" * 1000}]}
    size = approx_bytes(doc)
    cache = ResultCache(entries=1000, max_bytes=size * 8 * 3)
    for i in range(100):
        cache.get_or_compute(i, lambda: json.loads(json.dumps(doc)))
        assert cache.bytes <= cache.max_bytes
    assert len(cache._items) == 24
    big = {"results": [{"text": "x" * (size * 4)}]}
    value, cached = cache.get_or_compute("big", lambda: big)
    assert value is big and not cached and "big" not in cache._items


def test_a_lone_carriage_return_hides_nothing_on_the_file_page(client):
    page = client.get("/file", query_string={"repo": "app", "path": "cr.py"}).get_data(True)
    text = re.sub(r"<[^>]+>", "", page)
    assert "x = 1  # ok&#13;comment" in text
    assert "import os; os.system(&#39;id&#39;)" in text
    assert "z = 2" in text


def test_long_lines_are_shown_plain_and_whole():
    line = "var a=1;" * 2_000  # 16,000 characters, thousands of tokens
    [html] = highlight_lines(line + "\n", "javascript", "min.js")
    assert "<span" not in html and html == line
    [short] = highlight_lines("var a=1;\n", "javascript", "a.js")
    assert "<span" in short


def test_repo_facet_links_work_for_any_repo_name(tmp_path, open_test_store):
    org = tmp_path / "org"
    for name in ("my repo", "my", 'odd"name'):
        make_repo(org, name, {"a.py": "shared_token = 1\n"})
    store = open_test_store(build_index(tmp_path, org).root)
    for name in ("my repo", "my", 'odd"name'):
        query = facet_query("shared_token lang:python", "repo", name)
        found = api.search(store.snapshot(), query).to_json()["results"]
        assert [r["repo"] for r in found] == [name], query
        again = facet_query(query, "repo", "my")  # replaces the earlier repo filter
        assert [r["repo"] for r in api.search(store.snapshot(), again).to_json()["results"]] == [
            "my"
        ]


ONE_STATE_ROUTES = [
    ("get", "/api/v1/search?q=handler_1"),
    ("get", "/api/v1/search?q=type:symbol%20handler_1"),
    ("get", "/api/v1/symbols?q=handler_1"),
    ("get", "/api/v1/refs?name=handler_1"),
    ("get", "/api/v1/definition?repo=app&path=pkg/mod1.py&line=1&column=5"),
    ("get", "/api/v1/outline?repo=app&path=pkg/mod1.py"),
    ("get", "/api/v1/file?repo=app&path=pkg/mod1.py"),
    ("get", "/api/v1/repos"),
    ("get", "/api/v1/repos/app"),
    ("get", "/api/v1/status"),
    ("get", "/api/v1/implementations?q=handler"),
    ("post", "/api/v1/similar"),
    ("get", "/api/v1/duplicates"),
    ("get", "/api/v1/compare?a_repo=app&a_path=pkg/mod1.py&b_repo=app&b_path=pkg/mod2.py"),
    ("get", "/"),
    ("get", "/?q=handler_1"),
    ("get", "/symbol?name=handler_1"),
    ("get", "/repos/app"),
    ("get", "/duplicates"),
    ("get", "/status"),
]


@pytest.mark.parametrize(("method", "url"), ONE_STATE_ROUTES)
def test_a_request_reads_one_snapshot(store, monkeypatch, method, url):
    """Everything a request shows comes from one state: the cache key and the results of
    a search (else results of generation G+1 could be cached under G), a snippet's
    candidates and the files they are shown in, a duplicate report recomputed because
    none is persisted for this generation."""
    client = create_app(store).test_client()
    client.get("/api/v1/search?q=warm")  # first-use work of the generation is not counted
    (dedup_dir(store.data) / "report.json").unlink(missing_ok=True)
    calls = []
    real = store.snapshot
    monkeypatch.setattr(store, "snapshot", lambda: calls.append(1) or real())
    body = {"snippet": "def handler_1():\n    return 1\n"} if method == "post" else None
    assert getattr(client, method)(url, json=body).status_code == 200
    assert len(calls) == 1


def test_the_rank_order_is_computed_once_per_generation(store):
    first, second = store.snapshot(), store.snapshot()
    assert first is not second and first.view is second.view
    assert first.searcher is second.searcher  # no tantivy reload per request
    assert execute._default_order(first) is execute._default_order(second)


@pytest.fixture(scope="module")
def limiters(tmp_path_factory, open_store):
    """A repo with RateLimiter and LegacyRateLimiter in old.py, RateLimiter alone in new.py."""
    root = tmp_path_factory.mktemp("limiters")
    old = "class RateLimiter:\n    pass\n\n\nclass LegacyRateLimiter:\n    pass\n"
    make_repo(root / "org", "lim", {"old.py": old, "new.py": "class RateLimiter:\n    pass\n"})
    return open_store(build_index(root, root / "org").root)


def test_type_symbol_with_a_negated_word(limiters):
    found = api.search(limiters.snapshot(), "type:symbol RateLimiter").to_json()["results"]
    names = [(r["symbol"]["name"], r["path"]) for r in found]
    assert sorted(names) == [
        ("LegacyRateLimiter", "old.py"),
        ("RateLimiter", "new.py"),
        ("RateLimiter", "old.py"),
    ]


# A negated term must exclude only what it names: were it evaluated like a positive word
# (every symbol "contains" it), the whole result would be empty.
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type:symbol RateLimiter -legacy", [("RateLimiter", "new.py"), ("RateLimiter", "old.py")]),
        (
            "type:symbol rate_limiter -Legacy",
            [("RateLimiter", "new.py"), ("RateLimiter", "old.py")],
        ),
        ("type:symbol RateLimiter -file:old", [("RateLimiter", "new.py")]),
        ("type:symbol RateLimiter -(legacy or file:new)", [("RateLimiter", "old.py")]),
        (
            "type:symbol sym:RateLimiter -sym:Legacy",
            [("RateLimiter", "new.py"), ("RateLimiter", "old.py")],
        ),
    ],
)
def test_type_symbol_excludes_only_what_a_negated_term_names(limiters, query, expected):
    found = api.search(limiters.snapshot(), query).to_json()["results"]
    assert sorted((r["symbol"]["name"], r["path"]) for r in found) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sym:RateLimiter", ["new.py", "old.py"]),
        ("sym:RateLimiter -legacy", ["new.py"]),  # old.py's text holds "Legacy"
        ("sym:RateLimiter -sym:Legacy", ["new.py"]),
        ("sym:RateLimiter -file:new", ["old.py"]),
        ("RateLimiter -sym:Legacy", ["new.py"]),
    ],
)
def test_sym_with_a_negated_term(limiters, query, expected):
    found = api.search(limiters.snapshot(), query).to_json()["results"]
    assert sorted(r["path"] for r in found) == expected


@pytest.mark.parametrize("query", ["return", "type:path mod", "type:symbol handler"])
def test_a_search_stops_when_its_client_has_gone(store, query):
    asked = []

    def gone() -> bool:
        asked.append(1)
        return True

    out = api.search(store.snapshot(), query, client_gone=gone).to_json()
    assert asked and out["limit_hit"] is True and out["results"] == []
    assert api.search(store.snapshot(), query, client_gone=lambda: False).to_json()["results"]


def test_raw_utf8_bytes_in_a_query_string_are_read_as_utf8(client):
    # WSGI hands the raw bytes over as latin-1 characters.
    raw = "q=h\xc3\xa9llo"  # "héllo" sent unescaped
    resp = client.get("/api/v1/search", environ_overrides={"QUERY_STRING": raw})
    assert resp.status_code == 200 and resp.get_json()["results"] == []


def test_default_branch_files_are_a_view_of_the_generation(store):
    first, second = store.snapshot(), store.snapshot()
    assert first.default_files() is second.default_files()
    assert [f.path for f in first.default_files()] == sorted(
        f.path for f in first.files if f.branch == first.repos["app"].default_branch
    )
    assert first.default_files_by_repo()["app"] == first.default_files()
