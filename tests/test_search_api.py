"""The public search API and CLI on a small real organization: shapes, ranking, pagination,
type:path / type:symbol, context, facets and bad input."""

from __future__ import annotations

import argparse
import json

import pytest

from innersearch.search import api
from innersearch.search import cli as search_cli
from tests.helpers import build_index, make_repo

LIMITER = (
    "class RateLimiter:\n"
    '    """Token bucket."""\n'
    "\n"
    "    def acquire(self):\n"
    "        return compute_tokens(self)\n"
    "\n"
    "\n"
    "def compute_tokens(limiter):\n"
    "    return 1\n"
)


@pytest.fixture(scope="module")
def store(tmp_path_factory, open_store):
    tmp = tmp_path_factory.mktemp("org")
    src = tmp / "src"
    make_repo(
        src,
        "svc-a",
        {
            "limiter.py": LIMITER,
            "tests/test_limiter.py": "from limiter import RateLimiter\n\nRateLimiter().acquire()\n",
            "vendor/lib/ratelimiter.py": "class Other:\n    pass  # RateLimiter copy\n",
            "docs/deep/nested/dir/notes.md": "RateLimiter notes\n",
            **{f"pages/p{i}.txt": f"common token {i}\n" for i in range(7)},
        },
    )
    make_repo(
        src,
        "svc-b",
        {
            "limit.go": "package limit\n\nfunc rateLimit() int {\n\treturn computeTokens()\n}\n",
            "lib/limiter.js": "function rate_limiter() {\n  return compute_tokens(1);\n}\n",
            "common.txt": "common token here\n",
        },
    )
    return open_store(build_index(tmp, src).root)


def test_result_shape_is_json(store):
    out = api.search(store.snapshot(), "RateLimiter", limit=5).to_json()
    json.dumps(out)
    for key in (
        "results",
        "total_files",
        "total_matches",
        "took_ms",
        "limit_hit",
        "offset",
        "limit",
        "facets",
    ):
        assert key in out
    r = out["results"][0]
    for key in (
        "repo",
        "path",
        "lang",
        "branch",
        "commit",
        "score",
        "line_matches",
        "vendored",
        "generated",
        "test",
        "symbols",
    ):
        assert key in r
    assert len(r["commit"]) == 40
    m = r["line_matches"][0]
    assert m["text"][m["ranges"][0][0] : m["ranges"][0][1]] == "RateLimiter"


def test_ranking_definition_first_then_code_tests_vendored(store):
    paths = [
        r["path"]
        for r in api.search(store.snapshot(), "case:yes RateLimiter", limit=0).to_json()["results"]
    ]
    assert paths[0] == "limiter.py"
    assert paths.index("tests/test_limiter.py") > paths.index("docs/deep/nested/dir/notes.md")
    assert paths[-1] == "vendor/lib/ratelimiter.py"
    first = api.search(store.snapshot(), "case:yes RateLimiter", limit=1).to_json()["results"][0]
    assert [s["name"] for s in first["symbols"]] == ["RateLimiter"]
    vendored = [
        r
        for r in api.search(store.snapshot(), "RateLimiter", limit=0).to_json()["results"]
        if r["path"].startswith("vendor/")
    ]
    assert vendored[0]["vendored"] is True


def test_pagination_is_deterministic_and_consistent(store):
    full = api.search(store.snapshot(), "common token", limit=0).to_json()
    order = [(r["repo"], r["path"]) for r in full["results"]]
    assert len(order) == 8
    pages = []
    for offset in range(0, 8, 3):
        page = api.search(store.snapshot(), "common token", limit=3, offset=offset).to_json()
        pages += [(r["repo"], r["path"]) for r in page["results"]]
    assert pages == order
    again = api.search(store.snapshot(), "common token", limit=0).to_json()
    assert [(r["repo"], r["path"]) for r in again["results"]] == order


def test_limit_cut_is_flagged(store):
    out = api.search(store.snapshot(), "common", limit=1).to_json()
    assert len(out["results"]) == 1
    assert out["total_files"] >= 1
    if out["total_files"] < 8:
        assert out["limit_hit"] is True


def test_facets_count_files(store):
    out = api.search(store.snapshot(), "common token", limit=0).to_json()
    assert out["facets"]["repo"] == {"svc-a": 7, "svc-b": 1}
    assert out["facets"]["lang"]["text"] == 8


def test_filters(store):
    got = {
        (r["repo"], r["path"])
        for r in api.search(store.snapshot(), "compute_tokens repo:svc-b", limit=0).to_json()[
            "results"
        ]
    }
    assert got == {("svc-b", "lib/limiter.js")}
    got = {
        r["path"]
        for r in api.search(store.snapshot(), "compute -repo:svc-b", limit=0).to_json()["results"]
    }
    assert got == {"limiter.py"}
    got = {
        r["path"]
        for r in api.search(store.snapshot(), r"token file:\.go$", limit=0).to_json()["results"]
    }
    assert got == {"limit.go"}
    got = {
        r["path"]
        for r in api.search(store.snapshot(), "return lang:javascript", limit=0).to_json()[
            "results"
        ]
    }
    assert got == {"lib/limiter.js"}
    got = {
        r["path"]
        for r in api.search(
            store.snapshot(), "(acquire or rateLimit) -file:test", limit=0
        ).to_json()["results"]
    }
    assert got == {"limiter.py", "limit.go"}


def test_sym_filter_matches_definitions(store):
    out = api.search(store.snapshot(), "sym:compute_tokens", limit=0).to_json()
    assert {(r["path"], m["line"]) for r in out["results"] for m in r["line_matches"]} == {
        ("limiter.py", 8)
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sym:limiter", {("limiter.py", 1)}),  # inside a name, any case (case:auto)
        ("sym:Limiter", {("limiter.py", 1)}),
        ("sym:LIMITER", set()),  # an upper-case letter: case-sensitive
        ("sym:te_to", {("limiter.py", 8)}),  # trigrams across the underscore
        ("sym:cq", {("limiter.py", 4)}),  # too short for a trigram: the name-term regex
        ("sym:zq", set()),
    ],
)
def test_sym_filter_matches_a_part_of_a_name(store, query, expected):
    out = api.search(store.snapshot(), f"{query} file:^limiter", limit=0).to_json()
    assert {(r["path"], m["line"]) for r in out["results"] for m in r["line_matches"]} == expected


def test_type_path(store):
    out = api.search(store.snapshot(), "type:path limiter", limit=0).to_json()
    paths = {r["path"]: r["path_ranges"] for r in out["results"]}
    assert set(paths) == {
        "limiter.py",
        "tests/test_limiter.py",
        "vendor/lib/ratelimiter.py",
        "lib/limiter.js",
    }
    assert paths["lib/limiter.js"] == [[4, 11]]
    assert all(r["line_matches"] == [] for r in out["results"])


def test_type_symbol(store):
    out = api.search(store.snapshot(), "type:symbol rate limiter", limit=0).to_json()
    names = [r["symbol"]["name"] for r in out["results"]]
    assert {"RateLimiter", "rate_limiter", "rateLimit"} <= set(names)
    only_go = api.search(store.snapshot(), "type:symbol rate limiter lang:go", limit=0).to_json()
    assert [r["symbol"]["name"] for r in only_go["results"]] == ["rateLimit"]


def test_context_lines(store):
    out = api.search(store.snapshot(), "case:yes Token bucket", limit=1, context=1).to_json()
    m = out["results"][0]["line_matches"][0]
    assert m["line"] == 2
    assert m["before"] == [{"line": 1, "text": "class RateLimiter:"}]
    assert m["after"] == [{"line": 3, "text": ""}]


@pytest.mark.parametrize(
    "query", ["return compute", "case:no Return TOKENS limiter", "tokens or def"]
)
def test_every_term_is_marked_on_every_rendered_line(store, query):
    """The ranges of a line are every occurrence of each term on it (any case), on each
    rendered line of a file, not just the first."""
    terms = [t.lower().encode() for t in query.split() if t != "or" and ":" not in t]
    out = api.search(store.snapshot(), query, limit=0).to_json()
    rendered = [m for r in out["results"] for m in r["line_matches"]]
    assert len(rendered) >= 3
    for m in rendered:
        line = m["text"].lower().encode()
        want = sorted(
            (i, i + len(t)) for t in terms for i in range(len(line)) if line.startswith(t, i)
        )
        assert m["ranges"] == [list(r) for r in want], (query, m)


def test_bad_input(store):
    with pytest.raises(api.QueryError) as info:
        api.search(store.snapshot(), "foo (bar").to_json()
    assert info.value.position == 4
    with pytest.raises(api.QueryError) as info:
        api.search(store.snapshot(), "x /[z-a]/").to_json()
    assert info.value.position is not None and info.value.position >= 3
    with pytest.raises(api.QueryError):
        api.search(store.snapshot(), "x", limit=-1).to_json()
    assert api.search(store.snapshot(), "nothing_matches_this_xyz").to_json()["results"] == []


def _run_cli(store, argv, capsys):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data")
    search_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--data", str(store.data.root), *argv])
    code = args.handler(args)
    return code, capsys.readouterr()


def test_cli_search_output(store, capsys):
    code, out = _run_cli(store, ["search", "compute_tokens", "repo:svc-a"], capsys)
    assert code == 0
    assert "svc-a/limiter.py:5:        return compute_tokens(self)" in out.out
    assert "matching lines in" in out.err
    code, out = _run_cli(store, ["search", "--json", "--limit", "1", "token"], capsys)
    assert code == 0 and len(json.loads(out.out)["results"]) == 1


def test_cli_bad_query_shows_caret(store, capsys):
    code, out = _run_cli(store, ["search", "foo", "/a(b/"], capsys)
    assert code == 2
    lines = out.err.splitlines()
    assert "missing )" in lines[0]
    assert lines[1] == "  foo /a(b/"
    assert lines[2] == "  " + " " * 5 + "^"


def test_cli_symbols_and_refs(store, capsys):
    code, out = _run_cli(store, ["symbols", "--json", "--kind", "class", "rate limiter"], capsys)
    assert code == 0
    assert [s["name"] for s in json.loads(out.out)["symbols"]] == ["RateLimiter"]
    code, out = _run_cli(store, ["refs", "compute_tokens"], capsys)
    assert code == 0
    assert "svc-a" in out.out


def test_cli_missing_index(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data")
    search_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--data", str(tmp_path / "none"), "search", "x"])
    assert args.handler(args) == 1
    assert "no index" in capsys.readouterr().err


def test_cli_query_words_may_start_with_dash(store, capsys):
    code, out = _run_cli(store, ["search", "compute_tokens", "-repo:svc-b", "--json"], capsys)
    assert code == 0
    assert {r["repo"] for r in json.loads(out.out)["results"]} == {"svc-a"}
    code, out = _run_cli(store, ["search", "--limit", "1", "--", "-repo:svc-b", "token"], capsys)
    assert code == 0
    assert "svc-a/" in out.out
    code, out = _run_cli(store, ["search"], capsys)
    assert code == 2
