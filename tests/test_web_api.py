"""The JSON API through Flask's test client, against a real index of real git repos
(tests/web_org.py's organization, shared with the OpenAPI and browser tests)."""

from __future__ import annotations

import json

import pytest

from innersearch.indexer.store import Store
from innersearch.web import create_app
from tests.helpers import build_index, client_for, commit_files, make_repo
from tests.web_org import RETRY


@pytest.fixture(scope="module")
def client(web_store):
    return client_for(web_store)


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json()["status"] == "ok"
    assert r.get_json()["repos"] == 2


def test_search_finds_lines_with_ranges_and_facets(client):
    r = client.get("/api/v1/search", query_string={"q": "RateLimiter", "context": 1})
    assert r.status_code == 200
    body = r.get_json()
    paths = {(x["repo"], x["path"]) for x in body["results"]}
    assert ("payments", "payments/limiter.py") in paths
    assert ("billing", "billing/charge.py") in paths
    assert body["facets"]["repo"] == {"payments": 1, "billing": 1}
    hit = next(x for x in body["results"] if x["path"] == "billing/charge.py")
    first = hit["line_matches"][0]
    s, e = first["ranges"][0]
    assert first["text"][s:e] == "RateLimiter"
    assert hit["commit"] and hit["branch"] == "main"


def test_search_limit_and_offset_page_through_files(client):
    all_files = client.get("/api/v1/search?q=import&limit=0").get_json()["results"]
    assert len(all_files) >= 3
    first = client.get("/api/v1/search?q=import&limit=1").get_json()
    second = client.get("/api/v1/search?q=import&limit=1&offset=1").get_json()
    assert len(first["results"]) == 1 and len(second["results"]) == 1
    assert first["results"][0]["path"] != second["results"][0]["path"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": ""},
        {"q": "x", "limit": "ten"},
        {"q": "x", "limit": "-1"},
        {"q": "x", "offset": "1.5"},
        {"q": "x", "context": "999"},
        {"q": "bad\x00byte"},
    ],
)
def test_search_bad_parameters_are_400_json(client, query):
    r = client.get("/api/v1/search", query_string=query)
    assert r.status_code == 400
    assert r.is_json and r.get_json()["error"]


def test_query_error_reports_position(client):
    r = client.get("/api/v1/search", query_string={"q": "limiter case:maybe"})
    assert r.status_code == 400
    body = r.get_json()
    assert "case" in body["error"]
    assert body["position"] == 13


def test_symbols_and_refs(client):
    body = client.get("/api/v1/symbols?q=RateLimiter").get_json()
    assert any(
        s["name"] == "RateLimiter" and s["repo"] == "payments" and s["kind"] == "class"
        for s in body["symbols"]
    )
    refs = client.get("/api/v1/refs?name=RateLimiter").get_json()
    assert refs["name"] == "RateLimiter"
    assert any(d["path"] == "payments/limiter.py" for d in refs["definitions"])
    users = {r["repo"] for r in refs["repos"]}
    assert "billing" in users
    assert client.get("/api/v1/refs").status_code == 400
    assert client.get("/api/v1/symbols").status_code == 400


def test_definition_at_a_use(client):
    text = client.get("/api/v1/file?repo=billing&path=billing/charge.py").get_json()["content"]
    lines = text.splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.startswith("LIMIT = "))
    column = lines[line - 1].index("RateLimiter")
    r = client.get(
        "/api/v1/definition",
        query_string={
            "repo": "billing",
            "path": "billing/charge.py",
            "line": line,
            "column": column,
        },
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["name"] == "RateLimiter"
    assert body["definitions"][0]["path"] == "payments/limiter.py"


def test_definition_bad_and_unknown(client):
    base = {"repo": "billing", "path": "billing/charge.py", "line": 1}
    assert client.get("/api/v1/definition", query_string=base).status_code == 400
    unknown = {**base, "repo": "nope", "column": 0}
    r = client.get("/api/v1/definition", query_string=unknown)
    assert r.status_code == 404 and r.get_json()["error"]


def test_outline(client):
    r = client.get("/api/v1/outline?repo=payments&path=payments/limiter.py")
    assert r.status_code == 200
    names = [s["name"] for s in r.get_json()["symbols"]]
    assert names[:2] == ["RateLimiter", "__init__"]
    assert "acquire" in names
    assert client.get("/api/v1/outline?repo=payments&path=nope.py").status_code == 404
    assert client.get("/api/v1/outline?repo=nope&path=a.py").status_code == 404


def test_file(client):
    r = client.get("/api/v1/file?repo=payments&path=payments/limiter.py")
    assert r.status_code == 200
    body = r.get_json()
    assert body["content"].endswith("# tuned\n")  # the newest commit is indexed
    assert body["lang"] == "python" and len(body["commit"]) == 40
    assert any(s["name"] == "acquire" and s["kind"] == "method" for s in body["symbols"])
    for bad, status in [
        ({"repo": "payments"}, 400),
        ({"repo": "nope", "path": "x"}, 404),
        ({"repo": "payments", "path": "missing.py"}, 404),
        ({"repo": "payments", "path": "payments/limiter.py", "branch": "nope"}, 404),
    ]:
        r = client.get("/api/v1/file", query_string=bad)
        assert r.status_code == status and r.get_json()["error"], bad


def test_file_that_is_not_utf8_is_served_with_replacement_characters(client):
    r = client.get("/api/v1/file?repo=billing&path=legacy.txt")
    assert r.status_code == 200
    assert r.get_json()["content"].startswith("caf\ufffd na\ufffdve")


def test_serve_refuses_a_missing_index_and_bad_options(tmp_path, capsys):
    from innersearch.cli import main

    assert main(["--data", str(tmp_path / "none"), "serve", "--port", "0"]) == 1
    assert "no index" in capsys.readouterr().err
    assert main(["--data", str(tmp_path / "none"), "serve", "--port", "70000"]) == 2
    assert main(["--data", str(tmp_path / "none"), "serve", "--threads", "0"]) == 2
    assert main(["--data", str(tmp_path / "none"), "serve", "--cache", "-1"]) == 2


def test_repos_and_repo(client):
    repos = client.get("/api/v1/repos").get_json()["repos"]
    assert [r["name"] for r in repos] == ["billing", "payments"]
    assert all(r["status"] == "ok" and r["files"] > 0 for r in repos)
    payments = client.get("/api/v1/repos/payments").get_json()
    assert payments["owners"]["codeowners"] == ["@payments-team"]
    assert payments["owners"]["committers"][0]["name"] == "Test Author"
    assert payments["readme"]["path"] == "README.md"
    assert payments["contributing"]["path"] == "CONTRIBUTING.md"
    assert payments["languages"]["python"] > 50
    assert client.get("/api/v1/repos/billing").get_json()["contributing"] is None
    r = client.get("/api/v1/repos/does-not-exist")
    assert r.status_code == 404 and "does-not-exist" in r.get_json()["error"]


def test_duplicates_report_lists_the_copied_function(client):
    body = client.get("/api/v1/duplicates").get_json()
    assert "clone_classes" in body and "libraries" in body
    members = {(m["repo"], m["path"]) for c in body["clone_classes"] for m in c["members"]}
    assert ("payments", "payments/retry.py") in members
    assert ("billing", "billing/util/retrying.py") in members
    assert client.get("/api/v1/duplicates?repo=payments").get_json()["clone_classes"]
    narrowed = client.get("/api/v1/duplicates?repo=nobody").get_json()
    assert narrowed["clone_classes"] == [] and narrowed["libraries"] == []


def test_compare_aligns_two_fragments(client):
    r = client.get(
        "/api/v1/compare",
        query_string={
            "a_repo": "payments",
            "a_path": "payments/retry.py",
            "b_repo": "billing",
            "b_path": "billing/util/retrying.py",
        },
    )
    assert r.status_code == 200
    body = r.get_json()
    ops = {row["op"] for row in body["rows"]}
    assert "equal" in ops and "replace" in ops
    assert 0.5 < body["similarity"] < 1
    bad = client.get("/api/v1/compare?a_repo=payments&a_path=payments/retry.py")
    assert bad.status_code == 400
    swapped = client.get(
        "/api/v1/compare?a_repo=payments&a_path=payments/retry.py&a_start=9&a_end=2"
        "&b_repo=billing&b_path=billing/charge.py"
    )
    assert swapped.status_code == 400


def test_similar_finds_existing_code(client):
    snippet = RETRY.split("\n\n\n", 1)[1].replace("retry_call", "try_hard")
    r = client.post("/api/v1/similar", json={"snippet": snippet, "lang": "python"})
    assert r.status_code == 200
    found = {(m["repo"], m["path"]) for m in r.get_json()["matches"]}
    assert ("payments", "payments/retry.py") in found


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"snippet": ""},
        {"snippet": 5},
        {"snippet": "x", "lang": 3},
        {"snippet": "x", "limit": 0},
        {"snippet": "x", "limit": True},
    ],
)
def test_similar_bad_bodies_are_400(client, body):
    if body is None:
        r = client.post("/api/v1/similar", data="not json", content_type="application/json")
    else:
        r = client.post("/api/v1/similar", json=body)
    assert r.status_code == 400 and r.get_json()["error"]


def test_oversized_bodies_are_refused_with_json(client):
    r = client.post("/api/v1/similar", json={"snippet": "x" * 300_000})
    assert r.status_code == 400 and "longer" in r.get_json()["error"]
    r = client.post(
        "/api/v1/similar", data="x" * (5 * 1024 * 1024), content_type="application/json"
    )
    assert r.status_code == 413 and r.get_json()["error"]


def test_status(client):
    body = client.get("/api/v1/status").get_json()
    assert body["totals"]["repos"] == 2
    assert {r["name"] for r in body["repos"]} == {"billing", "payments"}


def test_unknown_route_and_method_are_json(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and r.get_json()["error"]
    r = client.post("/api/v1/search?q=x")
    assert r.status_code == 405 and r.get_json()["error"]


def test_security_headers(client):
    r = client.get("/api/v1/repos")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_search_cache_never_serves_an_older_index(tmp_path):
    from tests.helpers import run_index

    org = tmp_path / "org"
    repo = make_repo(org, "solo", {"a.py": "needle = 1\n"})
    data = build_index(tmp_path, org)
    opened = Store.open(data.root)
    try:
        client = create_app(opened).test_client()
        first_body = client.get("/api/v1/search?q=needle").data
        again_body = client.get("/api/v1/search?q=needle").data
        first, again = json.loads(first_body), json.loads(again_body)
        assert again["cached"] is True and again["results"] == first["results"]
        # The same bytes with the mark last (the typed answer shares the cached JSON).
        assert again_body.rstrip() == first_body.rstrip()[:-1] + b',"cached":true}'
        commit_files(repo, {"b.py": "needle = 2\n"})
        run_index(data, org)
        fresh = client.get("/api/v1/search?q=needle").get_json()
        assert "cached" not in fresh
        assert sorted(r["path"] for r in fresh["results"]) == ["a.py", "b.py"]
        uncached = create_app(opened, cache_entries=0).test_client()
        assert "cached" not in uncached.get("/api/v1/search?q=needle").get_json()
    finally:
        opened.close()
