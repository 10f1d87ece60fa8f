"""Symbol search in any identifier style, references grouped by repo, go-to-definition, outline."""

from __future__ import annotations

import json

import pytest

from innersearch.search import api
from innersearch.search.symbols import identifier_at
from tests.helpers import build_index, make_repo


@pytest.fixture(scope="module")
def store(tmp_path_factory, open_store):
    tmp = tmp_path_factory.mktemp("org")
    src = tmp / "src"
    make_repo(
        src,
        "py-lib",
        {
            "limits.py": (
                "class RateLimiter:\n"
                "    def acquire(self, n):\n"
                "        return parse_header(n)\n"
                "\n"
                "\n"
                "def parse_header(value):\n"
                "    return value\n"
            ),
            "app.py": "from limits import parse_header\n\nprint(parse_header('x'))\n",
        },
    )
    make_repo(
        src,
        "go-svc",
        {
            "limit.go": (
                "package limit\n\n"
                "type RateLimiterConfig struct{}\n\n"
                "func rateLimit() int {\n\treturn parseHeader()\n}\n\n"
                "func parseHeader() int { return 0 }\n"
            ),
        },
    )
    make_repo(
        src,
        "js-app",
        {
            "index.js": "function rate_limiter() {\n  return parse_header(1);\n}\n",
        },
    )
    return open_store(build_index(tmp, src).root)


def names(out):
    return [s["name"] for s in out["symbols"]]


def test_identifier_styles(store):
    out = api.symbols(store.snapshot(), "rate limiter").to_json()
    json.dumps(out)
    found = names(out)
    assert {"RateLimiter", "rate_limiter", "rateLimit", "RateLimiterConfig"} <= set(found)
    # Same words in another style rank above a fuzzy or prefix match.
    assert found.index("rate_limiter") < found.index("rateLimit")
    assert found.index("RateLimiter") < found.index("RateLimiterConfig")
    hit = out["symbols"][found.index("RateLimiter")]
    assert (hit["repo"], hit["path"], hit["line"], hit["kind"]) == (
        "py-lib",
        "limits.py",
        1,
        "class",
    )
    assert hit["signature"] == "class RateLimiter:"


def test_exact_name_ranks_first(store):
    assert names(api.symbols(store.snapshot(), "RateLimiter").to_json())[0] == "RateLimiter"
    assert names(api.symbols(store.snapshot(), "acquire").to_json()) == ["acquire"]
    method = api.symbols(store.snapshot(), "acquire").to_json()["symbols"][0]
    assert method["container"] == "RateLimiter"


def test_prefix(store):
    assert "RateLimiterConfig" in names(api.symbols(store.snapshot(), "RateLimiterCon").to_json())


def test_kind_and_lang_filters(store):
    assert names(api.symbols(store.snapshot(), "rate limiter", kind="class").to_json()) == [
        "RateLimiter"
    ]
    assert set(names(api.symbols(store.snapshot(), "rate limiter", lang="go").to_json())) == {
        "RateLimiterConfig",
        "rateLimit",
    }
    assert api.symbols(store.snapshot(), "rate limiter", limit=1).to_json()["total"] >= 4


def test_references_grouped_by_repo(store):
    out = api.references(store.snapshot(), "parse_header").to_json()
    json.dumps(out)
    by_repo = {r["repo"]: r for r in out["repos"]}
    assert set(by_repo) == {"py-lib", "js-app"}
    py = by_repo["py-lib"]
    lines = {(f["path"], ln["line"]) for f in py["files"] for ln in f["lines"]}
    assert ("limits.py", 3) in lines and ("app.py", 3) in lines
    assert [d["path"] for d in out["definitions"]] == ["limits.py"]
    assert out["total"] == sum(r["count"] for r in out["repos"])


def test_definition_at_prefers_same_repo(store):
    out = api.definition_at(store.snapshot(), "py-lib", "app.py", 3, 8).to_json()
    assert out["name"] == "parse_header"
    assert [(d["repo"], d["path"], d["line"]) for d in out["definitions"]] == [
        ("py-lib", "limits.py", 6)
    ]
    go = api.definition_at(store.snapshot(), "go-svc", "limit.go", 6, 9).to_json()
    assert go["name"] == "parseHeader"
    assert go["definitions"][0]["path"] == "limit.go"
    assert (
        api.definition_at(store.snapshot(), "py-lib", "app.py", 2, 0).to_json()["definitions"] == []
    )


def test_outline(store):
    out = api.outline(store.snapshot(), "py-lib", "limits.py").to_json()
    assert [(s["name"], s["kind"], s["line"]) for s in out["symbols"]] == [
        ("RateLimiter", "class", 1),
        ("acquire", "method", 2),
        ("parse_header", "function", 6),
    ]
    assert set(out["symbols"][0]) == {"name", "kind", "line", "end_line", "container", "signature"}
    with pytest.raises(LookupError):
        api.outline(store.snapshot(), "nope", "limits.py").to_json()
    with pytest.raises(LookupError):
        api.outline(store.snapshot(), "py-lib", "missing.py").to_json()
    with pytest.raises(LookupError):
        api.definition_at(store.snapshot(), "py-lib", "missing.py", 1, 0).to_json()


def test_identifier_at():
    assert identifier_at("print(parse_header('x'))", 8) == "parse_header"
    assert identifier_at("foo bar", 3) == "foo"
    assert identifier_at("foo  bar", 4) == ""
    assert identifier_at("", 0) == ""


def test_empty_names_are_errors(store):
    with pytest.raises(api.QueryError):
        api.symbols(store.snapshot(), "  ").to_json()
    with pytest.raises(api.QueryError):
        api.references(store.snapshot(), "").to_json()
