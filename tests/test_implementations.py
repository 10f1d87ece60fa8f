""" "Does anyone have a ...?": the implementations index and search on real repos and indexes,
the portal entry of each result, the API route, the search and repo pages, and the CLI."""

from __future__ import annotations

import json

import pytest

from innersearch.cli import main
from innersearch.indexer import implindex
from innersearch.search import implementations as impl
from innersearch.search import portal
from tests.helpers import build_index, client_for, commit_files, make_repo, run_index

LIMITER = '''"""Rate limiting for services."""


class RateLimiter:
    """A token bucket: allow a burst, then a steady rate of calls."""

    def acquire(self, key):
        return True


def parse_rate(text):
    # Parse "10/s" into calls per second.
    return 10
'''
ORG = {
    "ratelimit": {
        "ratelimit/__init__.py": "from .limiter import RateLimiter\n",
        "ratelimit/limiter.py": LIMITER,
        "CONTRIBUTING.md": "# Contributing\nSend a pull request.\n",
        "CODEOWNERS": "* @acme/platform\n",
        "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata:\n  name: ratelimit\n  description: Token bucket rate limiting\n"
        "spec:\n  owner: team-traffic\n  lifecycle: deprecated\n",
    },
    "throttle-js": {
        "package.json": json.dumps(
            {
                "name": "throttle-js",
                "description": "Limit how often a function is called",
                "keywords": ["throttle", "rate-limit"],
            }
        ),
        "index.js": "// Throttle calls to fn.\nfunction throttle(fn, ms) {\n  return fn;\n}\n",
    },
    "app": {
        "app/main.py": "import ratelimit\n\n\ndef serve():\n    return ratelimit.RateLimiter()\n",
        "README.md": "# App\nThe checkout web service.\n",
    },
    "jsonkit": {
        "jsonkit/__init__.py": '"""Fast JSON encoder and decoder."""\n\n\ndef dumps(obj):\n'
        "    return str(obj)\n",
        # Broken metadata is skipped; the repo is indexed all the same.
        "pyproject.toml": "[project\nname = ",
        "package.json": "{not json",
        "catalog-info.yaml": "spec: [unclosed\n",
        "innersource.json": "[]",
    },
    "wheelpkg": {  # a wheel's tree: core metadata in *.dist-info/METADATA, no README
        "wheelpkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: wheelpkg\n"
        "Summary: Paint terminal text\nKeywords: ansi,colour\n\nWrites escape sequences.\n",
        "wheelpkg/__init__.py": "",
    },
    "gopkg": {
        "go.mod": "module example.com/gopkg\n",
        "pkg.go": "// Copyright 2020.\n\n/*\nPackage gopkg slugifies titles.\n\nMore.\n*/\n"
        "package gopkg\n\n// Slug lower-cases a title.\nfunc Slug(t string) string { return t }\n",
    },
}


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    root = tmp_path_factory.mktemp("impl")
    for name, files in ORG.items():
        make_repo(root / "org", name, files)
    return root


@pytest.fixture(scope="module")
def store(org, open_store):
    return open_store(build_index(org, org / "org").root)


def _repos(snap, text: str) -> list[str]:
    return [i.repo for i in impl.find(snap, text).implementations]


def test_words_of_the_code_find_the_repo_that_implements_them(store):
    snap = store.snapshot()
    found = impl.find(snap, "rate limiter")
    assert found.implementations[0].repo == "ratelimit"
    top = found.implementations[0]
    assert top.modules[0].path == "ratelimit/limiter.py"
    assert "RateLimiter" in [f.name for m in top.modules for f in m.functions]
    assert "jsonkit" not in [i.repo for i in found.implementations]
    assert _repos(snap, "json encoder")[0] == "jsonkit"
    assert _repos(snap, "throttle function calls")[0] == "throttle-js"


@pytest.mark.parametrize(
    "query", ["RateLimiter", "rate_limiter", "limiting rates", "token buckets"]
)
def test_identifier_styles_and_stems_meet(store, query):
    assert _repos(store.snapshot(), query)[0] == "ratelimit"


def test_each_implementation_says_whom_to_ask_and_whether_it_is_alive(store):
    top = impl.find(store.snapshot(), "rate limiter", now=2_000_000_000).implementations[0]
    doc = top.to_json()
    owners = {(o["name"], o["source"]) for o in doc["owners"]}
    assert {("@acme/platform", "CODEOWNERS"), ("team-traffic", "catalog-info.yaml")} <= owners
    assert doc["accepts_contributions"] and doc["contributing"] == "CONTRIBUTING.md"
    assert doc["deprecated"] and doc["lifecycle"] == "deprecated" and not doc["archived"]
    assert doc["description"] == "Token bucket rate limiting"
    assert doc["used_by_count"] == 1 and doc["used_by"] == [{"repo": "app", "names": ["ratelimit"]}]
    assert doc["activity"]["commits"] == 1 and doc["activity"]["authors"] == 1
    assert doc["activity"]["window"] == "the 90 days before the newest commit"


def test_broken_metadata_is_skipped_not_fatal(store):
    snap = store.snapshot()
    assert snap.repos["jsonkit"].status == "ok"
    about = snap.repos["jsonkit"].info["about"]
    # Nothing declared: the package's own docstring says what it is.
    assert about["description"] == "Fast JSON encoder and decoder." and about["owners"] == []


def test_core_metadata_and_package_comments_describe_a_repo(store):
    snap = store.snapshot()
    wheel = snap.repos["wheelpkg"].info["about"]
    assert wheel["description"] == "Paint terminal text" and wheel["keywords"] == ["ansi", "colour"]
    assert _repos(snap, "escape sequences")[0] == "wheelpkg"  # the long description
    assert snap.repos["gopkg"].info["about"]["description"] == "Package gopkg slugifies titles."
    hit = impl.find(snap, "slug").implementations[0]
    assert hit.repo == "gopkg" and hit.modules[0].functions[0].doc == "Slug lower-cases a title."


def test_a_filtered_snapshot_filters_implementations(store):
    snap = store.snapshot()
    snap.repos = {n: r for n, r in snap.repos.items() if n != "ratelimit"}
    assert "ratelimit" not in _repos(snap, "rate limiter")
    assert portal.portal(snap, "app").uses == []


def test_an_old_snapshot_keeps_its_state_and_stale_documents_go(tmp_path, open_test_store):
    make_repo(tmp_path / "org", "ratelimit", ORG["ratelimit"])
    other = make_repo(tmp_path / "org", "other", {"other.py": "def noop():\n    pass\n"})
    data = build_index(tmp_path, tmp_path / "org")
    s = open_test_store(data.root)
    before = s.snapshot()
    commit_files(other, {"other.py": '"""A sliding window rate limiter."""\n'})
    run_index(data, tmp_path / "org")
    assert "other" not in _repos(before, "sliding window")
    after = s.snapshot()
    assert _repos(after, "sliding window") == ["other"]
    index = implindex.open_index(data.implementations_dir)
    searcher = index.searcher()
    hits = searcher.search(implindex_term("other"), limit=100).hits
    kinds = [searcher.doc(a).to_dict()[implindex.F_KIND][0] for _, a in hits]
    assert kinds.count(implindex.KIND_REPO) == 1  # the old commit's documents were deleted


def implindex_term(repo: str):
    import tantivy

    return tantivy.Query.term_query(implindex.SCHEMA, implindex.F_REPO, repo)


@pytest.mark.parametrize(
    ("query", "plain"),
    [
        ("rate limiter", True),
        ("retry", True),
        ('"rate limiter"', False),
        ("rate lang:python", False),
        ("/rate.*/", False),
        ("rate or limit", False),
        ("rate -limit", False),
        ("((", False),
        ("-", False),
    ],
)
def test_plain_words(query, plain):
    assert impl.plain_words(query) is plain


def test_activity_score_follows_the_innersource_pattern():
    now = 1_800_000_000
    fresh = portal.activity_score({}, now, now, 0, "", False, now)
    assert fresh == 957  # (50 * 1.01 / 7 + 1000 boost) - 50
    assert portal.activity_score({}, now, now, 0, "x" * 31, True, now) == fresh + 150
    old = now - 400 * 86400
    assert portal.activity_score({}, old, old, 0, "", False, now) == -50  # 0.07 - 50
    busy = portal.activity_score({"forks_count": 10}, old, old, 13 * 10, "", False, now)
    assert busy > portal.activity_score({"forks_count": 10}, old, old, 0, "", False, now)


def test_api_route_and_pages(store):
    client = client_for(store)
    r = client.get("/api/v1/implementations?q=rate+limiter&limit=2")
    assert r.status_code == 200
    body = r.get_json()
    assert body["implementations"][0]["repo"] == "ratelimit"
    assert len(body["implementations"]) <= 2
    assert client.get("/api/v1/implementations").status_code == 400
    assert client.get("/api/v1/implementations?q=x&limit=0").status_code == 400
    assert client.get("/api/v1/implementations?q=%21%21").get_json()["implementations"] == []
    page = client.get("/?q=rate+limiter").get_data(as_text=True)
    assert 'class="implementations"' in page and "accepts contributions" in page
    assert page.index('class="implementations"') < page.index('class="results-layout"')
    assert 'class="implementations"' not in client.get("/?q=rate+lang:python").get_data(
        as_text=True
    )
    repo_page = client.get("/repos/ratelimit").get_data(as_text=True)
    assert "Used by 1 repo<" in repo_page and "team-traffic" in repo_page
    assert "deprecated" in repo_page
    assert client.get("/api/v1/repos/ratelimit").get_json()["portal"]["used_by_count"] == 1


def test_cli_find(store, capsys):
    data = str(store.data.root)
    assert main(["--data", data, "find", "rate", "limiter"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ratelimit [deprecated] — Token bucket rate limiting")
    assert (
        "used by 1 repo: app" in out
        and "1 commit by 1 author in" in out
        and "accepted (CONTRIBUTING.md)" in out
    )
    assert main(["--data", data, "find", "--json", "json", "encoder"]) == 0
    assert json.loads(capsys.readouterr().out)["implementations"][0]["repo"] == "jsonkit"
    assert main(["--data", data, "find", "--limit", "0", "x"]) == 2


def test_the_code_hosts_description_topics_and_archived_mark_count(store, tmp_path):
    """What the `hosts` helper stores under repos.info["host"] (read defensively)."""
    import dataclasses

    from innersearch.indexer import describe

    snap = store.snapshot()
    row = snap.repos["app"]
    host = {"kind": "github", "archived": True, "description": "Checkout", "topics": ["shop"]}
    snap.repos = {**snap.repos, "app": dataclasses.replace(row, info={**row.info, "host": host})}
    entry = portal.portal(snap, "app")
    assert entry.archived and entry.topics == ["shop"] and entry.description == "Checkout"
    bad = {**row.info, "host": {"topics": "not-a-list", "archived": "yes"}}
    snap.repos = {**snap.repos, "app": dataclasses.replace(row, info=bad)}
    assert portal.portal(snap, "app").topics == []
    described = describe.RepoDescription({"description": ""}, {}, {}, "", [])
    docs = implindex.repo_documents("r", "c" * 40, described, host)
    written = implindex.ImplWriter.open(tmp_path / "impl")
    for d in docs:
        written.writer.add_document(d)
    written.commit()
    written.index.reload()
    searcher = written.index.searcher()
    for word in ("checkout", "shop"):
        query = implindex_term_in(implindex.F_ABOUT, word)
        assert searcher.search(query, limit=1).hits, word
    written.close()


def implindex_term_in(field: str, word: str):
    import tantivy

    return tantivy.Query.term_query(implindex.SCHEMA, field, implindex.query_terms(word)[0])
