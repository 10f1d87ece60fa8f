"""Webhooks and the sync loop: signatures per host, the queue, and a push made searchable.

Deliveries go through the real Flask app; the sync loop indexes from the real catalog queue.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from innersearch.indexer import catalog, sync
from innersearch.indexer.hosts import HostInfo, file_url, webhooks
from innersearch.indexer.status import status_report
from innersearch.search import api
from tests.fakehosts import GIT_USER, TOKEN, FakeHost, FakeRepo
from tests.gitserver import GitHttpServer, publish, serve_repos
from tests.helpers import client_for, commit_files, config, data_dir, run_index
from tests.schemas import closed_registry, schema_errors

SECRET = "hook-secret-3b9"


def _sig(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(kind: str, body: bytes, event: str, secret: str = SECRET) -> dict[str, str]:
    """The headers each host sends with a delivery (per its webhook documentation)."""
    if kind == "github":
        return {"X-GitHub-Event": event, "X-Hub-Signature-256": f"sha256={_sig(body, secret)}"}
    if kind == "gitlab":
        return {"X-Gitlab-Event": event, "X-Gitlab-Token": secret}
    if kind == "gitea":
        return {"X-Gitea-Event": event, "X-Gitea-Signature": _sig(body, secret)}
    return {"X-Event-Key": event, "X-Hub-Signature": f"sha256={_sig(body, secret)}"}


PUSH = {
    "github": ("push", {"ref": "refs/heads/main", "repository": {"full_name": "acme/app"}}),
    "gitlab": (
        "Push Hook",
        {"object_kind": "push", "project": {"path_with_namespace": "acme/app"}},
    ),
    "gitea": ("push", {"ref": "refs/heads/main", "repository": {"full_name": "acme/app"}}),
    "bitbucket": ("repo:push", {"push": {}, "repository": {"full_name": "acme/app"}}),
}


@pytest.mark.parametrize("kind", sorted(PUSH))
def test_each_hosts_signature_is_checked(kind):
    event, payload = PUSH[kind]
    body = json.dumps(payload).encode()
    good = signed(kind, body, event)
    assert webhooks.verify(kind, SECRET, good, body)
    assert not webhooks.verify(kind, SECRET, signed(kind, body, event, "other"), body)
    if kind != "gitlab":  # GitLab sends the secret itself, not a signature of the body
        assert not webhooks.verify(kind, SECRET, good, body + b" ")
    assert not webhooks.verify(kind, SECRET, {}, body)
    assert not webhooks.verify(kind, "", good, body)
    assert webhooks.parse(kind, good, body) == webhooks.HookEvent(kind, "acme/app", "push")


def test_repository_events_ask_for_a_listing_and_others_are_ignored():
    body = json.dumps({"action": "renamed", "repository": {"full_name": "acme/new"}}).encode()
    assert webhooks.parse("github", {"X-GitHub-Event": "repository"}, body).action == "list"
    assert webhooks.parse("github", {"X-GitHub-Event": "issues"}, body) is None
    assert webhooks.parse("github", {"X-GitHub-Event": "push"}, b"not json") is None
    sys_hook = json.dumps({"event_name": "project_destroy", "path_with_namespace": "a/b"})
    assert webhooks.parse("gitlab", {}, sys_hook.encode()).action == "list"


@pytest.fixture()
def org(tmp_path, monkeypatch):
    """acme/app and acme/lib on a fake GitHub, indexed once."""
    works = serve_repos(tmp_path, ["acme/app", "acme/lib"])
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("INNERSEARCH_WEBHOOK_SECRET", SECRET)
    repos = [FakeRepo("acme/app"), FakeRepo("acme/lib")]
    with (
        GitHttpServer(tmp_path / "served", GIT_USER["github"], TOKEN) as git,
        FakeHost("github", repos, TOKEN, git.url) as host,
    ):
        cfg = config(tmp_path, f'[[sources]]\ngithub = "acme"\napi_url = "{host.api_url}"\n')
        data = data_dir(tmp_path)
        run_index(data, cfg)
        yield data, works, host, git


def test_a_wrong_signature_is_a_401_and_changes_nothing(org, open_test_store):
    data, _works, _host, _git = org
    store = open_test_store(data.root)
    client = client_for(store)
    event, payload = PUSH["github"]
    body = json.dumps(payload).encode()
    for headers in ({}, signed("github", body, event, "guess")):
        r = client.post("/api/v1/hooks/github", data=body, headers=headers)
        assert r.status_code == 401
        assert "acme" not in r.get_data(as_text=True)
    with store.catalog.read() as r:
        assert r.pending_hooks() == []
    assert client.post("/api/v1/hooks/gitlab", data=body).status_code == 401
    assert client.post("/api/v1/hooks/svn", data=body).status_code == 404


def test_a_push_through_a_webhook_is_searchable_after_one_sync_cycle(
    org, tmp_path, open_test_store
):
    data, works, host, git = org
    store = open_test_store(data.root)
    client = client_for(store)
    [listed] = status_report(store).to_json()["sources"]  # the org's full listing
    assert listed["repos"] > 1
    commit_files(works["acme/app"], {"src/hooked.py": "pushed_through_hook = 1\n"})
    publish(tmp_path, "acme/app", works["acme/app"])
    event, payload = PUSH["github"]
    body = json.dumps(payload).encode()
    r = client.post("/api/v1/hooks/github", data=body, headers=signed("github", body, event))
    assert r.status_code == 202 and r.get_json() == {"status": "accepted"}
    ping = json.dumps({"zen": "Keep it logically awesome."}).encode()
    r = client.post("/api/v1/hooks/github", data=ping, headers=signed("github", ping, "ping"))
    assert r.get_json() == {"status": "ignored"}
    assert api.search(store.snapshot(), "pushed_through_hook").to_json()["total_files"] == 0
    loop = sync.SyncLoop(data, interval=0)
    fetched_before = len(git.requests)
    listed_before = len(host.requests)
    assert loop.cycle(now=time.time()).kind == "idle"  # debounced: not yet
    result = loop.cycle(now=time.time() + sync.DEBOUNCE_S)
    assert result.kind == "hooks" and result.repos == 1
    assert api.search(store.snapshot(), "pushed_through_hook").to_json()["total_files"] == 1
    # Only the pushed repo was asked for and fetched; the org was not listed again.
    assert all("/acme/app" in r for r in host.requests[listed_before:]), host.requests
    assert all("/acme/app.git" in r for r in git.requests[fetched_before:])
    with store.catalog.read() as r:
        assert r.pending_hooks() == []
    status = status_report(store).to_json()
    assert not schema_errors(closed_registry(), "StatusReport", status)  # sources typed too
    [src] = status["sources"]
    assert src["source"] == "github:acme" and src["last_webhook_at"] is not None
    assert src["webhook_lag_seconds"] is not None and src["pending_webhooks"] == 0
    assert src["repos"] == listed["repos"]  # the push asked for one repo, not the source's
    page = client.get("/status").get_data(as_text=True)
    assert "github:acme" in page


def test_a_poll_cycle_indexes_what_was_pushed_and_records_the_next_sync(org, tmp_path):
    data, works, host, git = org
    loop = sync.SyncLoop(data, interval=60)
    assert loop.cycle(now=0.0).kind == "idle"
    before = len(git.requests)
    quiet = loop.cycle(now=loop.next_poll + 1)
    assert quiet.kind == "poll" and quiet.repos == 0 and len(git.requests) == before
    commit_files(works["acme/lib"], {"lib.py": "polled_in = 1\n"})
    publish(tmp_path, "acme/lib", works["acme/lib"])
    host.repo("acme/lib").pushed_at += 10
    busy = loop.cycle(now=loop.next_poll + 1)
    assert busy.kind == "poll" and busy.repos == 1
    cat = catalog.Catalog(data.catalog_path)
    with cat.read() as r:
        state = r.sync_state()
        assert state is not None and state.next_sync_at > state.last_sync_at
    cat.close()


def test_file_urls_per_host_and_host_info_round_trip():
    def info(kind: str, web: str) -> HostInfo:
        return HostInfo(kind=kind, full_name="a/b", web_url=web)

    c = "0123abcd"
    assert file_url(info("github", "https://gh/a/b"), c, "x y/z.py", 3) == (
        "https://gh/a/b/blob/0123abcd/x%20y/z.py#L3"
    )
    assert file_url(info("gitlab", "https://gl/a/b"), c, "z.py") == (
        "https://gl/a/b/-/blob/0123abcd/z.py"
    )
    assert file_url(info("gitea", "https://gt/a/b"), c, "z.py", 1).endswith(
        "/src/commit/0123abcd/z.py#L1"
    )
    assert file_url(info("bitbucket", "https://bb/a/b"), c, "z.py", 9).endswith(
        "/src/0123abcd/z.py#lines-9"
    )
    assert file_url(None, c, "z.py") is None
    host = HostInfo(kind="gitlab", full_name="p/q", topics=["t"], fork=True, parent="p/r")
    assert HostInfo.from_info({"host": host.to_dict()}) == host
    assert HostInfo.from_info({"owners": {}}) is None
    assert HostInfo.from_info({"host": {"kind": "svn"}}) is None


def test_serve_runs_one_sync_process_that_indexes_webhook_pushes(org, tmp_path):
    import os
    import subprocess
    import sys
    import urllib.parse
    import urllib.request

    from tests.helpers import free_port, wait_until_serving

    data, works, _host, _git = org
    port = free_port()
    cmd = [sys.executable, "-m", "innersearch.cli", "--data", str(data.root), "serve"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--sync-interval", "3600"],
        env={**os.environ, "INNERSEARCH_WEBHOOK_SECRET": SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, base)
        commit_files(works["acme/lib"], {"served.py": "through_the_server = 1\n"})
        publish(tmp_path, "acme/lib", works["acme/lib"])
        event, payload = PUSH["github"]
        payload = {**payload, "repository": {"full_name": "acme/lib"}}
        body = json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{base}/api/v1/hooks/github", data=body, headers=signed("github", body, event)
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert resp.status == 202
        query = urllib.parse.urlencode({"q": "through_the_server"})
        deadline = time.monotonic() + 60
        while True:  # a bound, not a timing assertion: the bench measures the latency
            with urllib.request.urlopen(f"{base}/api/v1/search?{query}", timeout=5) as resp:
                if json.loads(resp.read())["total_files"] == 1:
                    break
            assert time.monotonic() < deadline, "the push never became searchable"
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
