"""Webhooks under `serve --ray`, on a real Ray cluster on loopback: a signed push re-indexes
the pushed repo on its shard and the gateway serves the new commit; a wrong signature or an
unknown repo is answered as one machine answers it and indexes nothing; a push accepted
just before the queue actor died is indexed by the queue started again (its catalog kept
it), and the status's webhook fields are one machine's.

The org is a fake GitHub (tests/fakehosts.py) whose git is served over real smart HTTP;
one machine indexes the same org for the replies and pages to equal.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.parse

import pytest

from innersearch.cluster.hooks import ClusterHooks, queue_name
from innersearch.cluster.index import index_cluster, remembered_token_env
from innersearch.cluster.search import ClusterSearch
from innersearch.cluster.shards import owner
from innersearch.indexer import layout, sync
from innersearch.indexer.store import Store
from innersearch.web import create_app
from innersearch.web.fanout import create_fanout_app
from tests.fakehosts import GIT_USER, TOKEN, FakeHost, FakeRepo
from tests.gitserver import GitHttpServer, publish, serve_repos
from tests.helpers import commit_files, config, run_index
from tests.test_cluster import kill_named_actor
from tests.test_hosts_sync import PUSH, SECRET, signed

NAMES = ["acme/app", "acme/lib", "acme/tools", "acme/web"]
THROTTLE = (
    'def throttle_requests():\n    """A token bucket rate limiter for outgoing requests."""\n'
)


@pytest.fixture(scope="module")
def org(tmp_path_factory, ray_cluster):
    """The org indexed by one machine and over 3 shards; both apps and the searcher."""
    tmp = tmp_path_factory.mktemp("cluster-hooks")
    cluster, _ray = ray_cluster
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GITHUB_TOKEN", TOKEN)  # sent to the queue's and shard tasks' environment
        mp.setenv("INNERSEARCH_WEBHOOK_SECRET", SECRET)
        works = serve_repos(tmp, NAMES)
        with (
            GitHttpServer(tmp / "served", GIT_USER["github"], TOKEN) as git_server,
            FakeHost("github", [FakeRepo(n) for n in NAMES], TOKEN, git_server.url) as host,
        ):
            cfg = config(tmp, f'[[sources]]\ngithub = "acme"\napi_url = "{host.api_url}"\n')
            one_data = layout.DataDir(tmp / "one")
            run_index(one_data, cfg)
            many = layout.DataDir(tmp / "many")
            summary = index_cluster(cluster.address, many, [str(cfg)], shards=3, say=print)
            assert not summary.failed and not summary.problems
            searcher = ClusterSearch.open(cluster.address, many.root)
            store = Store.open(one_data.root)
            one = create_app(store, cache_entries=0).test_client()
            gateway = create_fanout_app(searcher, many.root).test_client()
            yield {
                "tmp": tmp,
                "works": works,
                "git": git_server,
                "one": one,
                "one_data": one_data,
                "gateway": gateway,
                "search": searcher,
            }
            searcher.close()
            store.close()


def _deliver(client, kind: str, payload: dict, event: str, headers: dict | None = None):
    body = json.dumps(payload).encode()
    sent = signed(kind, body, event) if headers is None else headers
    return client.post(f"/api/v1/hooks/{kind}", data=body, headers=sent)


def _both(org, kind: str, payload: dict, event: str, headers: dict | None = None):
    """The same delivery to one machine and to the gateway: (status, JSON) of each."""
    want = _deliver(org["one"], kind, payload, event, headers)
    got = _deliver(org["gateway"], kind, payload, event, headers)
    return (want.status_code, want.get_json()), (got.status_code, got.get_json())


def _push(repo: str) -> dict:
    return {"ref": "refs/heads/main", "repository": {"full_name": repo}}


def _queue(org):
    return org["search"].hooks().state()


def _wait_runs(org, count: int, seconds: float = 180):
    """The queue's state once it has made `count` runs and holds nothing pending."""
    deadline = time.monotonic() + seconds
    while True:
        state = _queue(org)
        if len(state.runs) >= count and state.pending == 0:
            return state
        assert time.monotonic() < deadline, f"the queue never ran: {state}"
        time.sleep(0.2)


def _generations(searcher) -> dict:
    """Each shard's generation, asked of its actor now."""
    searcher.refresh()
    return dict(searcher.generations())


def _one_machine_sync(org) -> None:
    loop = sync.SyncLoop(org["one_data"], interval=0)
    assert loop.cycle(now=time.time() + sync.DEBOUNCE_S).kind == "hooks"


def _search(client, q: str) -> dict:
    return client.get(f"/api/v1/search?q={urllib.parse.quote(q)}&limit=0").get_json()


def _implementations(client, q: str) -> list[str]:
    out = client.get(f"/api/v1/implementations?q={urllib.parse.quote(q)}").get_json()
    return [i["repo"] for i in out["implementations"]]


def _page(out: dict) -> list:
    return [(r["repo"], r["path"], r["score"], r["line_matches"]) for r in out["results"]]


def test_signed_pushes_reindex_each_repo_on_its_shard_in_one_run(org):
    """Three pushes (one repo twice) within the debounce: one run, each repo re-indexed by
    the task of the shard that owns it; the gateway then finds the new content, as one
    machine does after its sync."""
    searcher = org["search"]
    before = _generations(searcher)
    runs_before = len(_queue(org).runs)
    for name, marker in (("acme/app", "pushed_over_ray_app"), ("acme/lib", "pushed_over_ray_lib")):
        commit_files(org["works"][name], {"src/hooked.py": f"{marker} = 1\n{THROTTLE}"})
        publish(org["tmp"], name, org["works"][name])
    assert _search(org["gateway"], "pushed_over_ray")["total_files"] == 0
    assert _implementations(org["gateway"], "token bucket") == []  # the org index is built
    fetched = len(org["git"].requests)
    for name in ("acme/app", "acme/lib", "acme/app"):
        want, got = _both(org, "github", _push(name), "push")
        assert got == want == (202, {"status": "accepted"})
    state = _wait_runs(org, runs_before + 1)
    [run] = state.runs[runs_before:]
    assert run.kind == "hooks" and run.repos == ["acme/app", "acme/lib"]
    assert {o.name: o.status for o in run.outcomes} == {
        "acme/app": "indexed",
        "acme/lib": "indexed",
    }
    assert not run.failed_shards
    # Only the pushed repos were fetched; only their shards have a new generation.
    assert all("/acme/app.git" in r or "/acme/lib.git" in r for r in org["git"].requests[fetched:])
    owners = {owner(n, searcher.layout.ids) for n in ("acme/app", "acme/lib")}
    after = _generations(searcher)
    assert {s for s in after if after[s] != before[s]} == owners
    _one_machine_sync(org)
    for q in ("pushed_over_ray", "pushed_over_ray_app", "marker", "handler"):
        want, got = _search(org["one"], q), _search(org["gateway"], q)
        assert got["partial"] is False
        assert _page(got) == _page(want), q
    # The org-wide implementations index was built again from the shards' new documents.
    for q in ("token bucket rate limiter", "throttle requests", "handler"):
        want = org["one"].get(f"/api/v1/implementations?q={urllib.parse.quote(q)}").get_json()
        got = org["gateway"].get(f"/api/v1/implementations?q={urllib.parse.quote(q)}").get_json()
        assert got["implementations"] == want["implementations"] and got["terms"] == want["terms"]
    assert {i["repo"] for i in want["implementations"]} >= {"acme/app", "acme/lib"}
    assert set(_implementations(org["gateway"], "token bucket")) == {"acme/app", "acme/lib"}
    assert {r["repo"] for r in _search(org["gateway"], "pushed_over_ray")["results"]} == {
        "acme/app",
        "acme/lib",
    }


def test_a_wrong_signature_is_one_machines_401_and_indexes_nothing(org, monkeypatch):
    commit_files(org["works"]["acme/tools"], {"src/sneaky.py": "never_indexed_here = 1\n"})
    publish(org["tmp"], "acme/tools", org["works"]["acme/tools"])
    searcher = org["search"]
    before = _generations(searcher)
    received = _queue(org).received
    body = json.dumps(_push("acme/tools")).encode()
    for headers in ({}, signed("github", body, "push", "guess"), {"X-GitHub-Event": "push"}):
        want, got = _both(org, "github", _push("acme/tools"), "push", headers)
        assert got == want and got[0] == 401, headers
        assert "acme" not in json.dumps(got[1])
    for kind in ("gitlab", "gitea", "bitbucket"):
        assert _both(org, kind, PUSH[kind][1], PUSH[kind][0], {})[1][0] == 401
    want, got = _both(org, "svn", _push("acme/tools"), "push")
    assert got == want and got[0] == 404
    monkeypatch.delenv("INNERSEARCH_WEBHOOK_SECRET")
    want, got = _both(org, "github", _push("acme/tools"), "push")
    assert got == want and got[0] == 403
    time.sleep(sync.DEBOUNCE_S + 1)  # past the debounce: a queued event would be running
    state = _queue(org)
    assert state.received == received and state.pending == 0
    assert _generations(searcher) == before
    assert _search(org["gateway"], "never_indexed_here")["total_files"] == 0


def test_unknown_repos_and_other_events_are_answered_as_one_machine(org):
    searcher = org["search"]
    before = _generations(searcher)
    runs_before = len(_queue(org).runs)
    ping = {"zen": "Keep it logically awesome."}
    want, got = _both(org, "github", ping, "ping")
    assert got == want == (202, {"status": "ignored"})
    assert _queue(org).pending == 0  # nothing queued for an ignored event
    want, got = _both(org, "github", _push("acme/ghost"), "push")
    assert got == want == (202, {"status": "accepted"})
    state = _wait_runs(org, runs_before + 1)
    [run] = state.runs[runs_before:]
    assert run.repos == ["acme/ghost"] and not run.failed_shards
    assert [o for o in run.outcomes if o.status == "indexed"] == []
    assert _generations(searcher) == before
    assert _page(_search(org["gateway"], "marker")) == _page(_search(org["one"], "marker"))


def test_a_push_to_serve_over_http_becomes_searchable(org, ray_cluster):
    """The deployment's path: `serve --ray` (a prefork worker opening the backend after the
    fork) takes a signed push over HTTP; the pushed line is then found through it."""
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.helpers import free_port, wait_until_serving

    cluster, _ray = ray_cluster
    work = org["works"]["acme/web"]
    commit_files(work, {"src/served.py": "through_serve_over_ray = 1\n"})
    publish(org["tmp"], "acme/web", work)
    port = free_port()
    env = {
        **os.environ,
        "INNERSEARCH_RAY_ADDRESS": cluster.address,
        "INNERSEARCH_WEBHOOK_SECRET": SECRET,
        "GITHUB_TOKEN": TOKEN,
    }
    root = str(org["search"].layout.root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "innersearch.cli", "--data", root, "serve", "--port", str(port)]
        + ["--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, base, seconds=180)
        body = json.dumps(_push("acme/web")).encode()
        bad = urllib.request.Request(
            f"{base}/api/v1/hooks/github", data=body, headers=signed("github", body, "push", "x")
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=30)
        assert err.value.code == 401
        request = urllib.request.Request(
            f"{base}/api/v1/hooks/github", data=body, headers=signed("github", body, "push")
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert resp.status == 202 and json.load(resp) == {"status": "accepted"}
        query = f"{base}/api/v1/search?q=through_serve_over_ray"
        deadline = time.monotonic() + 180
        while True:  # a bound, not a timing assertion
            with urllib.request.urlopen(query, timeout=30) as resp:
                found = json.load(resp)
            if found["total_files"] == 1:
                break
            assert time.monotonic() < deadline, "the push never became searchable"
            time.sleep(0.5)
        assert found["results"][0]["repo"] == "acme/web" and found["partial"] is False
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _kill_queue(ray, searcher) -> None:
    with contextlib.suppress(ValueError):  # ValueError: no queue actor of this DATA dir
        kill_named_actor(ray, queue_name(searcher.layout.root), "state")


def _sources(client) -> list[dict]:
    return client.get("/api/v1/status").get_json()["sources"]


def test_a_push_pending_when_the_queue_dies_is_indexed_by_the_queue_started_again(org, ray_cluster):
    """A queue that would wait an hour takes a signed push (202) and is killed before it
    indexes anything; the gateway's next call starts the queue again, which indexes the
    push its catalog kept: the pushed line becomes searchable, as on one machine."""
    cluster, ray = ray_cluster
    searcher = org["search"]
    root = searcher.layout.root
    _wait_runs(org, 0)  # an earlier test's push done (its search may see it first)
    _kill_queue(ray, searcher)
    ClusterHooks.open(
        cluster.address, root, lambda: remembered_token_env(root), debounce_s=3600
    )  # the one the gateway finds by name at its next delivery
    work = org["works"]["acme/tools"]
    commit_files(work, {"src/survived.py": "survived_the_queue = 1\n"})
    publish(org["tmp"], "acme/tools", work)
    want, got = _both(org, "github", _push("acme/tools"), "push")
    assert got == want == (202, {"status": "accepted"})
    assert _queue(org).pending == 1
    [source] = _sources(org["gateway"])
    assert source["pending_webhooks"] == 1 and source["last_webhook_at"] is not None
    kill_named_actor(ray, queue_name(root), "state")
    state = _wait_runs(org, 1)  # asks the dead queue: started again with the usual debounce
    [run] = state.runs
    assert run.repos == ["acme/tools"] and not run.failed_shards
    assert [(o.name, o.status) for o in run.outcomes] == [("acme/tools", "indexed")]
    _one_machine_sync(org)
    want, got = (
        _search(org["one"], "survived_the_queue"),
        _search(org["gateway"], "survived_the_queue"),
    )
    assert got["total_files"] == 1 and got["partial"] is False
    assert _page(got) == _page(want)
    assert _sources(org["gateway"])[0]["pending_webhooks"] == 0


def test_status_webhook_fields_over_shards_are_one_machines(org):
    """After a push both indexed, /api/v1/status's sources over the shards have one
    machine's fields, types and values (status, error, pending) with the last webhook and
    its lag filled from the queue's catalog; the status page shows them."""
    runs_before = len(_queue(org).runs)
    work = org["works"]["acme/lib"]
    commit_files(work, {"src/status_hook.py": "status_hook = 1\n"})
    publish(org["tmp"], "acme/lib", work)
    want, got = _both(org, "github", _push("acme/lib"), "push")
    assert got == want == (202, {"status": "accepted"})
    _wait_runs(org, runs_before + 1)
    _one_machine_sync(org)
    one, many = _sources(org["one"]), _sources(org["gateway"])
    assert [s["source"] for s in many] == [s["source"] for s in one] == ["github:acme"]
    for w, g in zip(one, many, strict=True):
        assert g.keys() == w.keys()
        assert {k: type(v) for k, v in g.items()} == {k: type(v) for k, v in w.items()}
        for key in ("api_url", "repos", "status", "error", "pending_webhooks"):
            assert g[key] == w[key], key
        assert g["pending_webhooks"] == 0 and g["repos"] > 1  # the listing's, not the push's
        assert abs(g["last_webhook_at"] - w["last_webhook_at"]) < 60
        assert g["webhook_lag_seconds"] > 0
    page = org["gateway"].get("/status").get_data(as_text=True)
    assert f"{many[0]['webhook_lag_seconds']} s" in page


def test_a_push_to_a_busy_shard_stays_pending_until_its_shard_indexed_it(org):
    """While an indexer holds the lock of acme/app's shard, the queue's runs find the shard
    busy and the push stays pending in the queue's catalog (the status says so); once the
    lock is released it is indexed and marked done."""
    searcher = org["search"]
    shard = owner("acme/app", searcher.layout.ids)
    work = org["works"]["acme/app"]
    commit_files(work, {"src/after_busy.py": "after_the_busy_shard = 1\n"})
    publish(org["tmp"], "acme/app", work)
    _wait_runs(org, 0)
    with layout.index_lock(searcher.layout.data(shard)):
        assert _deliver(org["gateway"], "github", _push("acme/app"), "push").status_code == 202
        deadline = time.monotonic() + 180
        while not any(r.failed_shards == [shard] for r in _queue(org).runs):
            assert time.monotonic() < deadline, "the queue never tried the busy shard"
            time.sleep(0.2)
        assert _queue(org).pending == 1
        assert _sources(org["gateway"])[0]["pending_webhooks"] == 1
        assert _search(org["gateway"], "after_the_busy_shard")["total_files"] == 0
    _wait_runs(org, 0)
    assert _sources(org["gateway"])[0]["pending_webhooks"] == 0
    assert _search(org["gateway"], "after_the_busy_shard")["total_files"] == 1
