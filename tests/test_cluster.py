"""Scale-out on a real Ray cluster on loopback (a head and a second node on this machine):
sharded indexing, search, the web API (`serve --ray`) and dedup equal one machine's; a node
killed mid-run.

The org is the exactness fixtures' repos plus a few more (with copied code for dedup).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import pytest

from innersearch.cluster import placement, shards
from innersearch.cluster.dedup import find_duplicates_cluster
from innersearch.cluster.index import index_cluster
from innersearch.cluster.search import ClusterSearch, actor_name
from innersearch.cluster.shardconfig import fnmatch_escape
from innersearch.dedup.api import find_duplicates
from innersearch.indexer import layout
from innersearch.indexer.sources import resolve
from innersearch.indexer.store import Store
from innersearch.search import api
from innersearch.search.results import FileResult, SearchResponse, SymbolHit, SymbolsResponse
from innersearch.web import create_app, fanout
from innersearch.web.auth import AuthSettings
from innersearch.web.fanout import create_fanout_app
from tests.helpers import (
    build_index,
    commit_files,
    free_port,
    git,
    http_status,
    make_repo,
    wait_until_serving,
)
from tests.test_dedup_consolidate import _js_lib
from tests.test_exactness import FEATURE_ONLY, FILES_A, FILES_B, LITERALS, REGEXES_E, _quote

# -- rendezvous hashing (no cluster) -------------------------------------------------------


def test_adding_a_shard_moves_only_its_share():
    names = [f"team-{i}/service-{i * 7 % 13}" for i in range(3000)]
    before = shards.assign(names, shards.shard_ids(4))
    after = shards.assign(names, shards.shard_ids(5))
    old_owner = {n: s for s, ns in before.items() for n in ns}
    moved = [n for s, ns in after.items() for n in ns if old_owner[n] != s]
    # Every moved repo went to the new shard, none between old shards; about 1/5 moved.
    assert set(moved) == set(after["s04"])
    assert 0.16 < len(moved) / len(names) < 0.24
    assert all(0.2 < len(ns) / len(names) < 0.3 for ns in before.values())


def test_owner_is_the_same_whatever_the_order_of_shards():
    ids = shards.shard_ids(7)
    for name in ("a", "acme/payments", "x" * 200, "日本"):
        assert shards.owner(name, ids) == shards.owner(name, list(reversed(ids)))


def test_shards_spread_evenly_over_nodes_and_few_move_when_a_node_comes():
    ids = shards.shard_ids(8)
    two = placement.place(ids, ["node-a", "node-b"])
    assert Counter(two.values()) == {"node-a": 4, "node-b": 4}
    four = placement.place(ids, ["node-a", "node-b", "node-c", "node-d"])
    assert set(Counter(four.values()).values()) == {2}
    # Half of the shards must go to the new nodes; a full node may push one more aside.
    assert 4 <= sum(two[s] != four[s] for s in ids) <= 5


def test_escaped_names_match_only_themselves():
    import fnmatch

    for name in ("a*b", "x?y", "[z]", "plain"):
        assert fnmatch.fnmatchcase(name, fnmatch_escape(name))
    assert not fnmatch.fnmatchcase("aXb", fnmatch_escape("a*b"))


# -- the cluster ---------------------------------------------------------------------------

DUP = "".join(
    f"def step_{i}(values, limit):\n    total = 0\n    for v in values:\n"
    f"        if v > limit * {i}:\n            total += v * {i}\n    return total\n\n"
    for i in range(12)
)
MORE = {
    "gamma": {"lib/core.py": DUP, "notes.txt": "hello gamma\nrate limiter here\n"},
    "delta": {"vendor/core.py": DUP, "main.go": "package main\n// hello delta\n"},
    "epsilon": {"app.js": "function hello() { return 'hello'; }\n", "x.txt": "foo bar\n"},
    "zeta": {"z.py": "class RateLimiter:\n    pass\n", "deep/a/b/c.txt": "hello deep\n"},
    "eta": {"e.md": "# eta\nSay hello.\n", "src/util.go": "package util\n"},
    # More matches of one word than a shard's first share of a page: it is asked again.
    "theta": {f"n/{i:02d}.txt": "needle\n" * (1 + i % 4) for i in range(30)},
}

# Two logging libraries written apart (parallel implementations, one capability) and a user
# of one of them (its dependency, never its parallel): what dedup relates beyond copies.
WORDS = ["logging", "logger", "log", "levels", "transport", "json"]
PARALLEL = {
    "js-logwell": _js_lib(
        "logwell", WORDS, ["createLogger", "childLogger", "logLevel", "addTransport", "formatRec"]
    ),
    "js-lumber": _js_lib(
        "lumber", WORDS, ["makeLogger", "childLogger", "setLevel", "addTransport", "formatLine"]
    ),
    "js-logwell-express": _js_lib(
        "logwell-express",
        WORDS,
        ["expressLogger", "childLogger", "logLevel", "addTransport", "formatRecord"],
        {"logwell": "^1.0.0"},
    ),
}


@pytest.fixture(scope="module")
def org(tmp_path_factory, ray_cluster):
    tmp = tmp_path_factory.mktemp("cluster")
    src = tmp / "src"
    make_repo(src, "alpha", FILES_A)
    b = make_repo(src, "beta", FILES_B)
    commit_files(b, FEATURE_ONLY, "feature work", branch="feature")
    git(b, "checkout", "-q", "main")
    for name, files in MORE.items():
        make_repo(src, name, files)
    for name, files in PARALLEL.items():
        make_repo(src, name, files)
    config = tmp / "sources.toml"
    config.write_text(
        '[[sources]]\npath = "src"\n\n[repos.beta]\nbranches = ["feature"]\n\n'
        '[access]\ndefault = "everyone"\n\n[[access.rules]]\nrepos = ["gamma", "delta"]\n'
        'groups = ["core"]\n'
    )
    one = build_index(tmp / "one", config)
    cluster, _ray = ray_cluster
    data = layout.DataDir(tmp / "many")
    lines: list[str] = []
    summary = index_cluster(cluster.address, data, [str(config)], shards=4, say=lines.append)
    searcher = ClusterSearch.open(cluster.address, data.root)
    store = Store.open(one.root)
    yield {
        "tmp": tmp,
        "config": config,
        "one": store,
        "data": data,
        "summary": summary,
        "lines": lines,
        "search": searcher,
    }
    searcher.close()
    store.close()


def test_every_repo_is_indexed_in_exactly_its_shard(org):
    summary = org["summary"]
    assert not summary.failed and not summary.failed_shards
    assert len({run.node for run in summary.shards}) == 2  # both nodes did work
    names = {r.name for r in resolve([str(org["config"])])[0]}
    held: dict[str, str] = {}
    ids = [run.shard for run in summary.shards]
    for run in summary.shards:
        store = Store.open(layout.DataDir(org["data"].root / "shards" / run.shard).root)
        for name in store.snapshot().repos:
            assert name not in held
            held[name] = run.shard
        store.close()
    assert set(held) == names
    assert all(shards.owner(n, ids) == s for n, s in held.items())
    # Progress lines came from the shard tasks on both nodes, tagged with their shard.
    assert {line.split("]")[0][1:] for line in org["lines"] if line.startswith("[")} == set(ids)


def _page(out: dict) -> list:
    return [
        (r["repo"], r["branch"], r["path"], r["score"], r["line_matches"], r.get("symbols"))
        for r in out["results"]
    ]


QUERIES = (
    [f"case:yes {_quote(literal)}" for literal in LITERALS[:24]]
    + [f"case:yes /{p}/" for p in REGEXES_E[:16]]
    + ["hello lang:python", "repo:alpha hello", "-hello foo", "hello or rate", "branch:feature foo"]
    + ["type:path core", "type:symbol RateLimiter", "type:repo hello", "sym:Hello", "RateLimiter"]
)


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_search_equals_one_machine(org, limit):
    for query in QUERIES:
        want = api.search(org["one"].snapshot(), query, limit=limit).to_json()
        got = org["search"].search(query, limit=limit).to_json()
        assert not got["partial"] and got["partial_shards"] == []
        assert _page(got) == _page(want), query
        if not want["limit_hit"]:
            assert got["total_files"] == want["total_files"], query
            assert got["total_matches"] == want["total_matches"], query
            assert got["facets"] == want["facets"], query


def test_the_answers_are_typed_like_one_machines(org):
    got = org["search"].search("hello", limit=3, context=1)
    assert isinstance(got, SearchResponse) and got.results
    assert all(isinstance(r, FileResult) for r in got.results)
    assert (got.partial, got.partial_shards, got.shards) == (False, [], 4)
    # One machine's JSON, field for field in its order, then the shard fields.
    want = api.search(org["one"].snapshot(), "hello", limit=3, context=1).to_json()
    assert list(got.to_json()) == [*want, "partial", "partial_shards", "shards"]
    found = org["search"].symbols("RateLimiter", limit=3)
    assert isinstance(found, SymbolsResponse)
    assert all(isinstance(s, SymbolHit) for s in found.symbols) and found.symbols
    one = api.symbols(org["one"].snapshot(), "RateLimiter", limit=3).to_json()
    assert found.to_json() == {**one, "took_ms": found.took_ms, **_whole(4)}


def _whole(shards: int) -> dict:
    return {"partial": False, "partial_shards": [], "shards": shards}


def test_a_page_larger_than_a_shards_share_equals_one_machine(org):
    # 12 or 25 results: each shard is first asked for 10 (or 13), then again for the whole
    # page when its share did not settle it.
    before = org["search"].asked_again
    org["search"].share_first = True
    try:
        for limit in (12, 25):
            queries = ("needle", "needle or hello", "/o+/", "hello", "-hello e", "type:path e")
            for query in (*queries, "type:symbol step", "type:repo e", "sym:step"):
                want = api.search(org["one"].snapshot(), query, limit=limit).to_json()
                got = org["search"].search(query, limit=limit).to_json()
                assert _page(got) == _page(want), (query, limit)
                if not want["limit_hit"]:
                    assert got["total_files"] == want["total_files"], query
                    assert got["facets"] == want["facets"], query
    finally:
        org["search"].share_first = False
    assert org["search"].asked_again > before  # the second round was taken


def test_offset_and_rendered_line_cut_equal_one_machine(org):
    for query in ("hello", "/o+/", "e"):
        want = api.search(
            org["one"].snapshot(), query, limit=3, offset=2, max_lines=4, context=1
        ).to_json()
        got = org["search"].search(query, limit=3, offset=2, max_lines=4, context=1).to_json()
        assert _page(got) == _page(want)
        assert got["truncated"] == want["truncated"]


def test_a_restricted_reader_sees_one_machines_restricted_results(org):
    readable = frozenset({"alpha", "gamma", "zeta"})
    snap = org["one"].snapshot().restricted_to(readable)
    for query in ("hello", "rate", "type:repo a"):
        want = api.search(snap, query, limit=5).to_json()
        got = org["search"].search(query, limit=5, readable=readable).to_json()
        assert _page(got) == _page(want)


def test_a_malformed_query_fails_like_one_machine(org):
    with pytest.raises(api.QueryError):
        org["search"].search("(unclosed")
    with pytest.raises(TypeError):  # api.search's signature: a misspelt argument is refused
        org["search"].search("hello", limt=3)


def test_an_unreadable_source_removes_no_repo(org, ray_cluster, tmp_path):
    cluster, _ray = ray_cluster
    before = _held(org["data"])
    gone = str(tmp_path / "not-there")
    summary = index_cluster(
        cluster.address, org["data"], [str(org["config"]), gone], say=lambda _m: None
    )
    assert [p.source for p in summary.problems] == [gone]
    assert not [o for o in summary.outcomes if o.status == "removed"]
    assert _held(org["data"]) == before
    index_cluster(cluster.address, org["data"], [str(org["config"])], say=lambda _m: None)


def test_a_new_shard_reindexes_only_the_repos_it_wins(org, ray_cluster):
    cluster, _ray = ray_cluster
    before = {n: s for s, ns in _held(org["data"]).items() for n in ns}
    summary = index_cluster(cluster.address, org["data"], None, shards=5, say=lambda _m: None)
    after = {n: s for s, ns in _held(org["data"]).items() for n in ns}
    moved = {n for n in after if after[n] != before[n]}
    assert moved == {n for n, s in after.items() if s == "s04"}
    reindexed = {o.name for o in summary.outcomes if o.status == "indexed" and o.files}
    removed = {o.name for o in summary.outcomes if o.status == "removed"}
    assert reindexed == moved and removed == moved
    assert set(after) == set(before)
    # A running searcher picks the new shard up: results still equal one machine's.
    got = org["search"].search("hello", limit=0).to_json()
    assert got["shards"] == 5
    assert _page(got) == _page(api.search(org["one"].snapshot(), "hello", limit=0).to_json())


def test_dedup_equals_one_machine(org, ray_cluster):
    cluster, _ray = ray_cluster
    want = find_duplicates(org["one"])
    got = find_duplicates_cluster(cluster.address, org["data"].root)
    # The org has copied code, parallel libraries and a user of one: not two empty reports.
    assert want["clone_classes"] and want["capabilities"] and want["uses"]
    assert any(p["relation"] == "parallel" for p in want["libraries"])
    assert got["shards"] == list(shards.ShardLayout.load(org["data"].root).ids)
    # The whole report, but when and how long it took and whose generation it was.
    volatile = ("generated_at", "generation", "shards", "stats")
    for key in set(want) | set(got):
        if key not in volatile:
            assert got.get(key) == want.get(key), key
    assert got["stats"]["clone_pairs"] == want["stats"]["clone_pairs"]
    assert got["stats"]["fragments"] == want["stats"]["fragments"]


def test_cli_index_and_dedup_with_the_address_in_the_environment(org, ray_cluster, tmp_path):
    cluster, _ray = ray_cluster
    env = {**os.environ, "INNERSEARCH_RAY_ADDRESS": cluster.address}
    data = tmp_path / "data"
    cli = [sys.executable, "-m", "innersearch.cli", "--data", str(data)]
    out = subprocess.run([*cli, "index", str(org["tmp"] / "src")], env=env, capture_output=True)
    assert out.returncode == 0, out.stderr.decode()
    text = out.stdout.decode()
    assert "11 repos (0 failed) over 4 shards" in text
    assert text.count("shard s0") == 4 and "FAILED" not in text
    out = subprocess.run([*cli, "dedup", "--out", str(tmp_path / "d.json")], env=env)
    assert out.returncode == 0
    report = json.loads((tmp_path / "d.json").read_text())
    assert report["clone_classes"] and report["shards"] == ["s00", "s01", "s02", "s03"]


def test_without_an_address_ray_is_never_imported(org, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "INNERSEARCH_RAY_ADDRESS"}
    code = (
        "import sys; from innersearch.cli import main; "
        f"rc = main(['--data', {str(tmp_path / 'd')!r}, 'index', {str(org['tmp'] / 'src')!r}]);"
        f"rc = rc or main(['--data', {str(tmp_path / 'd')!r}, 'search', 'hello']);"
        "assert rc == 0 and 'ray' not in sys.modules, sorted(sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert out.returncode == 0, out.stderr.decode()[-2000:]


def test_a_code_host_org_over_the_cluster(ray_cluster, tmp_path, monkeypatch):
    from innersearch.indexer.hosts import HostInfo
    from tests.fakehosts import FakeHost, FakeRepo
    from tests.gitserver import GitHttpServer
    from tests.test_hosts import ACME, GIT_USER, TOKEN, github_config, serve_repos

    cluster, _ray = ray_cluster
    serve_repos(tmp_path, [r.full_name for r in ACME])
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)  # sent to the shard tasks' environment
    with (
        GitHttpServer(tmp_path / "served", GIT_USER["github"], TOKEN) as git_server,
        FakeHost("github", [FakeRepo(**vars(r)) for r in ACME], TOKEN, git_server.url) as host,
    ):
        cfg = github_config(tmp_path, host)
        data = layout.DataDir(tmp_path / "data")
        summary = index_cluster(cluster.address, data, [str(cfg)], shards=3, say=lambda _m: None)
    assert not summary.failed and not summary.problems
    held = _held(data)
    names = [n for ns in held.values() for n in ns]
    assert sorted(names) == ["acme/payments", "acme/vault"]  # each once, in its own shard
    for sid, ns in held.items():
        store = Store.open(data.root / "shards" / sid)
        for name in ns:
            info = HostInfo.from_info(store.snapshot().repos[name].info)
            assert info.full_name == name  # listed from the host, with its details
            if name == "acme/vault":
                groups = ["github:acme/platform"]
                assert info.readers == {"users": ["alice", "bob"], "groups": groups}
        store.close()


# -- serve --ray: the web API over the shards -----------------------------------------------

PROXY = AuthSettings.parse("proxy")


def _apps(org, budget_ms: int = fanout.TIME_BUDGET_MS) -> tuple:
    """(one machine's app, the fan-out app over the shards), both behind proxy auth."""
    one = create_app(org["one"], cache_entries=0, auth=PROXY)
    many = create_fanout_app(org["search"], org["data"].root, auth=PROXY, time_budget_ms=budget_ms)
    return one.test_client(), many.test_client()


def _as(user: str, groups: str = "") -> dict:
    return {"X-Forwarded-User": user, "X-Forwarded-Groups": groups}


@pytest.mark.parametrize("user,groups", [("carol", "core"), ("bob", "")])
def test_the_web_search_over_shards_equals_one_machine_for_each_reader(org, user, groups):
    one, many = _apps(org)
    for query in QUERIES[::3] + ["hello", "type:repo a", "repo:gamma hello"]:
        url = f"/api/v1/search?q={urllib.parse.quote(query)}&limit=5&context=1"
        who = _as(user, groups)
        want, got = one.get(url, headers=who), many.get(url, headers=who)
        assert got.status_code == want.status_code == 200, (query, got.json)
        assert _page(got.json) == _page(want.json), query
        assert got.json["partial"] is False
        assert got.json["shards"] == len(shards.ShardLayout.load(org["data"].root).ids)
        if not want.json["limit_hit"]:
            assert got.json["facets"] == want.json["facets"], query
    # bob is not in `core`: gamma's and delta's files are nowhere in what he gets.
    hello = many.get("/api/v1/search?q=hello&limit=0", headers=_as(user, groups)).json
    repos = {r["repo"] for r in hello["results"]}
    assert ("gamma" in repos) == (groups == "core")
    assert "delta" not in repos or groups == "core"


def test_the_web_symbols_over_shards_equal_one_machine(org):
    one, many = _apps(org)
    for name in ("RateLimiter", "hello", "step_3", "Hello", "rate_limiter", "util"):
        for who in (_as("carol", "core"), _as("bob")):
            url = f"/api/v1/symbols?q={name}&limit=4"
            want, got = one.get(url, headers=who).json, many.get(url, headers=who).json
            assert got["symbols"] == want["symbols"] and got["total"] == want["total"], name
    bad = many.get("/api/v1/symbols?q=%20", headers=_as("bob"))
    assert bad.status_code == 400 and "error" in bad.json


READERS = [("carol", "core"), ("bob", "")]  # carol reads gamma and delta, bob does not
# indexed_at: when each index was written (the two were built seconds apart).
_VOLATILE = ("took_ms", "partial", "partial_shards", "shards", "indexed_at")


def _same(one, many, url: str, who: dict) -> dict:
    """The fan-out app's answer to `url` equals one machine's (status and body, but the time
    taken and the shard fields), which it returns."""
    want, got = one.get(url, headers=who), many.get(url, headers=who)
    assert got.status_code == want.status_code, (url, who, got.json, want.json)
    body = {k: v for k, v in got.json.items() if k not in _VOLATILE}
    assert body == {k: v for k, v in want.json.items() if k not in _VOLATILE}, (url, who)
    if "partial" in got.json:
        assert got.json["partial"] is False and got.json["partial_shards"] == []
    return got.json


def _per_repo_urls(snap) -> list[str]:
    """/file, /outline, /definition (at each use a file records, and at no identifier) and
    /repos/NAME for every repo and default-branch file, plus unknown ones."""
    q = urllib.parse.quote
    urls = ["/api/v1/repos/nope", "/api/v1/file?repo=nope&path=a", "/api/v1/outline?repo=alpha"]
    urls += ["/api/v1/file?repo=beta&path=feature.txt&branch=feature"]
    urls += ["/api/v1/file?repo=alpha&path=missing.txt", "/api/v1/definition?repo=nope&path=a"]
    for name in sorted(snap.repos):
        urls.append(f"/api/v1/repos/{q(name)}")
        for f in snap.default_files_by_repo().get(name, [])[:6]:
            where = f"repo={q(name)}&path={q(f.path)}"
            urls += [f"/api/v1/file?{where}", f"/api/v1/outline?{where}"]
            urls.append(f"/api/v1/definition?{where}&line=1&column=0")
            text = (snap.content(f.blob_key) or b"").decode("utf-8", "replace").split("\n")
            for used, lines in sorted(snap.references(f.blob_key).items())[:3]:
                column = max(0, text[lines[0] - 1].find(used))
                urls.append(f"/api/v1/definition?{where}&line={lines[0]}&column={column}")
    return urls


@pytest.mark.parametrize("user,groups", READERS)
def test_a_repos_routes_over_shards_equal_one_machine(org, user, groups):
    one, many = _apps(org)
    who = _as(user, groups)
    answered = Counter()
    for url in _per_repo_urls(org["one"].snapshot()):
        got = _same(one, many, url, who)
        answered[("error" in got, url.split("?")[0].rsplit("/", 1)[-1])] += 1
    assert answered[(False, "definition")] > 10 and answered[(False, "file")] > 10
    # Nothing of a repo bob may not read: the same 404 as for a repo that does not exist.
    for path in ("/api/v1/repos/gamma", "/api/v1/file?repo=gamma&path=lib/core.py"):
        got = many.get(path, headers=who)
        assert (got.status_code == 200) == (groups == "core"), path
        if groups != "core":
            nope = many.get(path.replace("gamma", "nope"), headers=who).json["error"]
            assert got.json["error"] == nope.replace("nope", "gamma")


@pytest.mark.parametrize("user,groups", READERS)
def test_compare_over_shards_equals_one_machine(org, user, groups):
    # The two sides of a comparison are read on their own repos' shards, often two.
    one, many = _apps(org)
    who = _as(user, groups)
    snap = org["one"].snapshot()
    files = [(name, f.path) for name in sorted(snap.repos)
             for f in snap.default_files_by_repo().get(name, [])[:2]]  # fmt: skip
    ids = [run.shard for run in org["summary"].shards]
    assert len({shards.owner(r, ids) for r, _p in files}) > 1
    q = urllib.parse.quote
    urls = ["/api/v1/compare", "/api/v1/compare?a_repo=nope&a_path=x&b_repo=alpha&b_path=y"]
    for (ra, pa), (rb, pb) in itertools.combinations(files, 2):
        urls.append(f"/api/v1/compare?a_repo={ra}&a_path={q(pa)}&b_repo={rb}&b_path={q(pb)}")
    ra, pa = files[0]
    side_b = f"b_repo={ra}&b_path={q(pa)}"
    urls.append(f"/api/v1/compare?a_repo={ra}&a_path={q(pa)}&a_start=2&a_end=1&{side_b}")
    answered = Counter(_same(one, many, url, who).get("error") is None for url in urls)
    assert answered[True] > 10 and answered[False] >= 3
    # bob: a side in gamma is the 404 of a repo that does not exist
    gamma = next(p for r, p in files if r == "gamma")
    got = many.get(f"/api/v1/compare?a_repo=gamma&a_path={q(gamma)}&{side_b}", headers=who)
    assert (got.status_code == 200) == (groups == "core")


@pytest.mark.parametrize("user,groups", READERS)
def test_similar_code_over_shards_equals_one_machine(org, user, groups):
    # DUP is one blob in gamma and delta: a fragment two shards may both hold.
    one, many = _apps(org)
    who = _as(user, groups)
    ids = shards.ShardLayout.load(org["data"].root).ids
    assert shards.owner("gamma", ids) != shards.owner("delta", ids)
    step = DUP.split("\n\n")[3] + "\n"
    logger = PARALLEL["js-lumber"]["src/makeLogger.js"]
    bodies = [
        {"snippet": DUP, "lang": "python"},
        {"snippet": step, "limit": 3},
        {"snippet": step.replace("total", "acc"), "lang": "python", "limit": 20},
        {"snippet": logger},
        {"snippet": logger, "lang": "javascript", "limit": 1},
        {"snippet": "x = 1\n"},
        {"snippet": "   "},
        {"snippet": step, "lang": "cobol"},
        {"snippet": step, "limit": 0},
        {"lang": "python"},
    ]
    found = Counter()
    for body in bodies:
        want = one.post("/api/v1/similar", json=body, headers=who)
        got = many.post("/api/v1/similar", json=body, headers=who)
        assert got.status_code == want.status_code, (body, got.json, want.json)
        mine = {k: v for k, v in got.json.items() if k not in _VOLATILE}
        assert mine == {k: v for k, v in want.json.items() if k not in _VOLATILE}, body
        if got.status_code == 200:
            assert got.json["partial"] is False and got.json["shards"] == len(ids)
        repos = {m["repo"] for m in got.json.get("matches", [])}
        found.update(repos)
        # bob may read neither copy: no match, and no name of them, anywhere in the answer
        assert groups == "core" or not {"gamma", "delta"} & repos, body
        assert groups == "core" or "gamma" not in got.get_data(as_text=True)
    assert found["js-lumber"] and found["js-logwell"]
    assert (found["gamma"] > 0 and found["delta"] > 0) == (groups == "core")
    no_body = many.post("/api/v1/similar", data="nonsense", headers=who)
    assert no_body.status_code == 400 and "JSON object" in no_body.json["error"]


@pytest.mark.parametrize("user,groups", READERS)
def test_the_repo_list_over_shards_equals_one_machine(org, user, groups):
    one, many = _apps(org)
    who = _as(user, groups)
    want, got = one.get("/api/v1/repos", headers=who), many.get("/api/v1/repos", headers=who)
    assert got.status_code == want.status_code == 200
    assert got.json["partial"] is False and got.json["partial_shards"] == []

    def listed(body: dict) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "indexed_at"} for r in body["repos"]]

    assert listed(got.json) == listed(want.json)
    names = [r["name"] for r in got.json["repos"]]
    assert ("gamma" in names) == (groups == "core") and len(names) >= 3


@pytest.mark.parametrize("user,groups", READERS)
def test_references_over_shards_equal_one_machine(org, user, groups):
    one, many = _apps(org)
    who = _as(user, groups)
    snap = org["one"].snapshot()
    used_in: dict[str, set[str]] = {}
    for f in snap.files:
        for used in snap.references(f.blob_key):
            used_in.setdefault(used, set()).add(f.repo)
    # The names used in the most repos (on several shards), and some others.
    widest = sorted(used_in, key=lambda n: (-len(used_in[n]), n))[:4]
    assert len(used_in[widest[0]]) >= 3
    for name in [*widest, "printf", "step_3", "nothing"]:
        for limit in (1, 2, 5, 1000):
            _same(one, many, f"/api/v1/refs?name={name}&limit={limit}", who)
    got = _same(one, many, f"/api/v1/refs?name={widest[0]}", who)
    assert len(got["repos"]) >= 2  # uses from repos on several shards, merged
    assert many.get("/api/v1/refs?name=%20", headers=who).status_code == 400


def _status(body: dict) -> dict:
    """A status without what differs between two indexes of the same repos: when each was
    written, its generation and its size on disk (one data dir against five)."""

    def repo(r: dict) -> dict:
        branches = [{k: v for k, v in b.items() if k != "indexed_at"} for b in r["branches"]]
        return {**{k: v for k, v in r.items() if k != "indexed_at"}, "branches": branches}

    out = {k: v for k, v in body.items() if k not in (*_VOLATILE, "generation", "index_bytes")}
    return {**out, "repos": [repo(r) for r in body["repos"]]}


@pytest.mark.parametrize("user,groups", [*READERS, (None, None)])
def test_the_status_over_shards_equals_one_machine(org, user, groups):
    from innersearch.web.fanout_status import _status_part

    if user is None:  # --auth none: every repo, with the sizes on disk
        one = create_app(org["one"], cache_entries=0).test_client()
        many = create_fanout_app(org["search"], org["data"].root).test_client()
        who = {}
    else:
        (one, many), who = _apps(org), _as(user, groups)
    want = one.get("/api/v1/status", headers=who)
    for _twice in range(2):  # the second from the blob totals kept for these generations
        got = many.get("/api/v1/status", headers=who)
        assert got.status_code == want.status_code == 200, got.json
        assert _status(got.json) == _status(want.json)
        assert got.json["partial"] is False and got.json["partial_shards"] == []
    # A size of everything, only for a reader of everything (bob is not one).
    assert (got.json["index_bytes"] is None) == (want.json["index_bytes"] is None)
    assert (got.json["index_bytes"] is None) == (user == "bob")
    names = [r["name"] for r in got.json["repos"]]
    assert ("gamma" in names) == (groups in ("core", None))
    # Some blob is held by repos on two shards (the copied code): counted once, as one
    # machine counts it, not once per shard.
    parts = org["search"].call(_status_part, (False,), merged=False).answers.values()
    per_shard = sum(p.report.totals.unique_blobs for p in parts)
    assert per_shard > got.json["totals"]["unique_blobs"]


@pytest.mark.parametrize("user,groups", READERS)
def test_the_duplicates_over_shards_equal_one_machines(org, user, groups):
    # The report `dedup --ray` saved (test_dedup_equals_one_machine ran it on these shards).
    one, many = _apps(org)
    who = _as(user, groups)
    # carol reads every repo: the job's own counts, as one machine shows her (the gateway
    # narrows only for a reader of fewer than every shard's repos); the jobs' own run times
    # differ.
    volatile = ["generated_at", "generation"]

    def timeless(body: dict) -> dict:
        stats = {k: v for k, v in (body.get("stats") or {}).items() if k != "seconds"}
        return {**{k: v for k, v in body.items() if k not in volatile}, "stats": stats}

    for repo in ("", "gamma", "js-lumber", "nope"):
        url = f"/api/v1/duplicates?repo={repo}"
        want, got = one.get(url, headers=who), many.get(url, headers=who)
        assert got.status_code == want.status_code == 200, got.json
        assert "note" not in got.json and "shards" not in got.json  # fresh, one machine's
        assert timeless(got.json) == timeless(want.json), (repo, who)
        assert ("fragments" in got.json["stats"]) == (groups == "core")  # the job's counts
    whole = many.get("/api/v1/duplicates", headers=who).json
    assert whole["clone_classes"] and whole["libraries"]
    held = {m["repo"] for c in whole["clone_classes"] for m in c["members"]}
    assert ("gamma" in held) == (groups == "core")


def test_a_missing_or_older_duplicate_report_over_shards_says_so(org, tmp_path):
    from innersearch.dedup.api import report_path

    many = create_fanout_app(org["search"], tmp_path).test_client()
    got = many.get("/api/v1/duplicates").json
    assert got["clone_classes"] == [] and "dedup --ray" in got["note"]
    # A report of an older state of the shards: served, saying so.
    saved = json.loads(report_path(org["data"]).read_text())
    report_path(layout.DataDir(tmp_path)).parent.mkdir(parents=True)
    report_path(layout.DataDir(tmp_path)).write_text(
        json.dumps({**saved, "generation": saved["generation"] - 1})
    )
    got = many.get("/api/v1/duplicates").json
    assert got["clone_classes"] and "older state" in got["note"]


def test_a_repo_whose_shard_is_silent_answers_503(org):
    from innersearch.web import fanout_calls
    from innersearch.web.errors import ApiError

    searcher = org["search"]
    # A call that sleeps on the shard past the budget (1 ms, plus the grace): no answer.
    got = searcher.call(_sleepy, (1.0,), repo="alpha", time_budget_ms=1)
    assert got.missing == [searcher.owner("alpha")] and not got.answers
    app = create_fanout_app(searcher, org["data"].root, time_budget_ms=1)
    with app.test_request_context(), pytest.raises(ApiError) as err:
        fanout_calls.on_owner("alpha", _sleepy, (1.0,))
    assert err.value.status == 503 and searcher.owner("alpha") in err.value.message
    assert searcher.call(_sleepy, (0.0,), repo="alpha").answers == {searcher.owner("alpha"): "late"}


def _sleepy(_store, _snap, seconds: float) -> str:
    time.sleep(seconds)
    return "late"


def test_every_route_of_one_machine_is_served_and_nothing_else(org):
    # Every JSON route is served over shards; what one machine does not have is its 404 or
    # 405, never a cluster-only answer.
    one, many = _apps(org)
    bob = _as("bob")
    for path in ("/api/v1/nope", "/api/v1/similar", "/api/v1/hooks/github", "/nope"):
        want, got = one.get(path, headers=bob), many.get(path, headers=bob)
        assert got.status_code == want.status_code and got.status_code in (404, 405), path
        assert got.get_data() == want.get_data(), path
    assert many.get("/api/v1/search?q=hello").status_code == 401  # no identity, no results
    assert many.get("/healthz").status_code == 200


def test_rows_pushed_again_under_the_same_epoch_are_read(org, ray_cluster):
    # Every web worker pushes the other shards' rows with its own epoch count: two pushes of
    # different rows can carry the same number, and the second must not be ignored.
    _cluster, ray = ray_cluster
    searcher = org["search"]
    searcher.search("hello", limit=0)  # rows fresh everywhere
    h = searcher.handles[0]
    rows = [r for s, found in searcher.rows.items() if s != h.shard for r in found]
    other = searcher.epoch + 1000  # another worker's count
    ray.get(h.actor.set_others.remote(rows[:1], other))  # most rows missing
    ray.get(h.actor.search.remote("hello", 0, {}, None))  # its view made with them
    ray.get(h.actor.set_others.remote(rows, other))  # whole again, under the same epoch
    got = searcher.search("hello", limit=0).to_json()
    assert _page(got) == _page(api.search(org["one"].snapshot(), "hello", limit=0).to_json())


def _get(url: str) -> tuple[int, dict]:
    """(status, JSON body) of a GET over HTTP (an HTTP error is a status and its body)."""
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def _kill_actor(ray, searcher: ClusterSearch, shard: str) -> None:
    """Kill the actor serving `shard` (the one every process of this data dir shares) and
    wait until it is gone."""
    h = next(h for h in searcher.handles if h.shard == shard)
    kill_named_actor(ray, f"{actor_name(searcher.layout.root, shard)}-{h.node[:12]}", "node")


def kill_named_actor(ray, name: str, ping: str) -> None:
    """Kill the actor `name` (namespace innersearch) for good and wait until its method
    `ping` no longer answers: ray.kill only asks, and on a loaded machine the next request
    could still reach it."""
    actor = ray.get_actor(name, namespace="innersearch")
    ray.kill(actor, no_restart=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            ray.get(getattr(actor, ping).remote(), timeout=5)
        except Exception:  # noqa: BLE001 - RayActorError (or a timeout): it is gone
            return
        time.sleep(0.05)
    raise AssertionError(f"the actor {name} is still answering")


def test_serve_over_http_with_a_shards_actor_killed(org, ray_cluster):
    """What a user of `serve --ray` sees over HTTP when a shard's actor dies: a 503 naming
    the shard for a route on its repo, partial answers naming it from the routes that ask
    every shard; whole again at the next request, the actor started again."""
    cluster, ray = ray_cluster
    port = free_port()
    env = {**os.environ, "INNERSEARCH_RAY_ADDRESS": cluster.address}
    cmd = [sys.executable, "-m", "innersearch.cli", "--data", str(org["data"].root), "serve"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    searcher = org["search"]
    shard = searcher.owner("alpha")
    one = create_app(org["one"], cache_entries=0).test_client()
    whole_status = one.get("/api/v1/status").json

    def whole_search() -> list:
        return _page(one.get("/api/v1/search?q=hello&limit=0").json)

    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(proc, base, seconds=180)
        status, got = _get(f"{base}/api/v1/search?q=hello&limit=0")
        assert status == 200 and _page(got) == whole_search() and got["partial"] is False
        assert http_status(f"{base}/api/v1/similar") == 405  # POST only, as one machine
        # serve builds the org-wide implementations index in the background as it starts,
        # asking every shard (and starting a dead shard's actor again): a query waits for
        # that build, so nothing heals the actor killed below before the requests do.
        status, _got = _get(f"{base}/api/v1/implementations?q=hello")
        assert status == 200

        _kill_actor(ray, searcher, shard)
        status, got = _get(f"{base}/api/v1/repos/alpha")
        assert status == 503 and shard in got["error"], got
        status, got = _get(f"{base}/api/v1/search?q=hello&limit=0")  # the actor started again
        assert status == 200 and got["partial"] is False and _page(got) == whole_search()

        _kill_actor(ray, searcher, shard)
        status, got = _get(f"{base}/api/v1/status")
        assert status == 200 and got["partial"] is True and got["partial_shards"] == [shard]
        names = {r["name"] for r in got["repos"]}
        assert "alpha" not in names and names < {r["name"] for r in whole_status["repos"]}
        status, got = _get(f"{base}/api/v1/status")
        assert status == 200 and got["partial"] is False
        assert _status(got) == _status(whole_status)

        _kill_actor(ray, searcher, shard)
        status, got = _get(f"{base}/api/v1/search?q=hello&limit=0")
        assert status == 200 and got["partial"] is True and got["partial_shards"] == [shard]
        assert 0 < len(got["results"]) < len(whole_search())
        assert "alpha" not in {r["repo"] for r in got["results"]}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # This process's searcher shares the actors: it sees the one that died.
    assert searcher.search("hello", limit=0).to_json()["partial_shards"] == [shard]
    # A new actor whose generation is known but which has not had the other shards' rows
    # yet (set_others still queued): it answers UNSET, is asked again after a refresh, and
    # the page is one machine's, not one scored without the other shards' repos.
    h = next(h for h in searcher.handles if h.shard == shard)
    h.actor, h.dead = searcher._actor(shard, h.node), False
    h.generation = ray.get(h.actor.repos.remote())[0]
    searcher.stale = False
    got = searcher.search("hello", limit=0).to_json()
    want = api.search(org["one"].snapshot(), "hello", limit=0).to_json()
    assert got["partial"] is False and _page(got) == _page(want)


def _held(data: layout.DataDir) -> dict[str, list[str]]:
    found = shards.ShardLayout.load(data.root)
    out = {}
    for sid in found.ids:
        store = Store.open(found.data(sid).root)
        out[sid] = sorted(store.snapshot().repos)
        store.close()
    return out


# -- a node dies (last: the second node does not come back) ---------------------------------


def test_a_node_killed_mid_run(org, ray_cluster, tmp_path):
    cluster, ray = ray_cluster
    searcher = org["search"]
    answered = api.search(org["one"].snapshot(), "hello", limit=0).to_json()
    assert _page(searcher.search("hello", limit=0).to_json()) == _page(answered)
    for h in searcher.handles:  # each shard's actor runs on the node placed for it
        assert ray.get(h.actor.node.remote()) == h.node
    worker = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and not _is_head(n))
    src = tmp_path / "big"
    for i in range(8):
        files = {f"f{j}.py": f"def f_{i}_{j}(x):\n    return x + {j}\n" * 20 for j in range(150)}
        make_repo(src, f"svc{i}", files)
    ids = shards.shard_ids(4)
    where = placement.place(ids, placement.nodes(ray))
    on_worker = sorted(s for s, node in where.items() if node == worker)
    assert on_worker
    seen: list = []
    _one, web = _apps(org, budget_ms=2000)  # the dead node's shards: waited for 2 s, not 10

    def say(line: str) -> None:
        if not seen and any(line.startswith(f"[{s}] indexing") for s in on_worker):
            cluster.kill_node(1)
            # A search right then, while the index run goes on, as the web API answers it.
            seen.append(web.get("/api/v1/search?q=hello&limit=0", headers=_as("carol", "core")))

    data = layout.DataDir(tmp_path / "data")
    summary = index_cluster(cluster.address, data, [str(src)], shards=4, say=say)
    assert seen
    # What the user sees of the index run: the worker's shards failed with the reason,
    # every other repo is indexed.
    assert set(summary.failed_shards) and set(summary.failed_shards) <= set(on_worker)
    failed = {o.name for o in summary.failed}
    owned = shards.assign([f"svc{i}" for i in range(8)], ids)
    assert failed == {n for s in summary.failed_shards for n in owned[s]}
    assert all(o.message.startswith("shard s0") for o in summary.failed)
    indexed = {o.name for o in summary.outcomes if o.status == "indexed"}
    assert indexed == {f"svc{i}" for i in range(8)} - failed

    # Of the search: partial, naming the shards whose actors lived on the dead node; the
    # other shards' results are there.
    assert seen[0].status_code == 200
    got = seen[0].json
    lost = sorted(h.shard for h in searcher.handles if h.node == worker)
    assert got["partial"] is True and got["partial_shards"] == lost
    assert 0 < len(got["results"]) < len(answered["results"])
    # Once Ray has seen the node go, its shards' actors start again on the live node (the
    # data dirs are shared here): whole again.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        got = searcher.search("hello", limit=0, time_budget_ms=3000).to_json()
        if not got["partial"]:
            break
        time.sleep(1)
    assert not got["partial"] and _page(got) == _page(answered)


def _is_head(node: dict) -> bool:
    return "node:__internal_head__" in node.get("Resources", {})


def _head(ray) -> str:
    return next(n["NodeID"] for n in ray.nodes() if _is_head(n))
