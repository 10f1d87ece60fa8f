"""Code-host sources end to end: fake host APIs, real git over smart HTTP, real indexes.

Each host's listing (pagination, details of private repos and forks), the token reaching git
only through its environment, the host info in the catalog, and the query terms over it.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from innersearch.indexer import catalog, sources
from innersearch.indexer.hosts import HostInfo
from innersearch.search import api
from tests.fakehosts import GIT_USER, TOKEN, FakeHost, FakeRepo
from tests.gitserver import GitHttpServer, publish, serve_repos
from tests.helpers import commit_files, config, data_dir, make_repo, run_index


def every_byte_of(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


ACME = [
    FakeRepo("acme/payments", "Card payments and a rate limiter", ["payments", "billing"]),
    FakeRepo(
        "acme/vault",
        "Secrets",
        visibility="private",
        collaborators=["alice", "bob"],
        teams=["platform"],
    ),
    FakeRepo("acme/payments-fork", "A fork", parent="acme/payments"),
    FakeRepo("acme/legacy", "Old code", archived=True),
    FakeRepo("acme/play-sandbox", "Not wanted"),
]


@pytest.fixture()
def github(tmp_path, monkeypatch):
    serve_repos(tmp_path, [r.full_name for r in ACME])
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with (
        GitHttpServer(tmp_path / "served", GIT_USER["github"], TOKEN) as git,
        FakeHost("github", [FakeRepo(**vars(r)) for r in ACME], TOKEN, git.url) as host,
    ):
        yield host, git


def github_config(tmp_path, host, **extra) -> Path:
    lines = ['github = "acme"', f'api_url = "{host.api_url}"', 'exclude = ["*-sandbox"]']
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return config(tmp_path, "[[sources]]\n" + "\n".join(lines) + "\n")


def test_github_org_is_listed_over_pages_and_indexed_with_its_host_info(
    github, tmp_path, open_test_store
):
    host, git = github
    cfg = github_config(tmp_path, host, include_forks="true", include_archived="true")
    data = data_dir(tmp_path)
    summary = run_index(data, cfg)
    assert not summary.failed and not summary.problems, summary
    names = sorted(o.name for o in summary.outcomes)
    assert names == ["acme/legacy", "acme/payments", "acme/payments-fork", "acme/vault"]
    pages = [r for r in host.requests if r.startswith("GET /orgs/acme/repos")]
    assert len(pages) == 3  # five repos, two per page: Link rel="next" followed
    store = open_test_store(data.root)
    repos = store.snapshot().repos
    vault = HostInfo.from_info(repos["acme/vault"].info)
    assert vault.visibility == "private"
    assert vault.readers == {"users": ["alice", "bob"], "groups": ["github:acme/platform"]}
    fork = HostInfo.from_info(repos["acme/payments-fork"].info)
    assert fork.fork and fork.parent == "acme/payments"
    pay = HostInfo.from_info(repos["acme/payments"].info)
    assert pay.topics == ["payments", "billing"] and pay.pushed_at == 1_700_000_000
    assert pay.web_url == "https://github.example/acme/payments" and not pay.fork
    assert repos["acme/payments"].info["owners"]  # indexing's own info is kept beside
    # The token went to git (its requests were authorised) and is nowhere on disk.
    assert any(r.endswith(" 200") for r in git.requests)
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode())
    on_disk = every_byte_of(data.root)
    assert TOKEN.encode() not in on_disk and basic not in on_disk


def test_forks_and_archived_repos_are_left_out_of_results_unless_asked_for(
    github, tmp_path, open_test_store
):
    host, _git = github
    cfg = github_config(tmp_path, host, include_forks="true", include_archived="true")
    data = data_dir(tmp_path)
    run_index(data, cfg)
    store = open_test_store(data.root)

    def repos(q: str) -> set[str]:
        return {r["repo"] for r in api.search(store.snapshot(), q, limit=0).to_json()["results"]}

    everything = {"acme/payments", "acme/vault", "acme/payments-fork", "acme/legacy"}
    assert repos("def handler") == {"acme/payments", "acme/vault"}
    assert repos("def handler fork:yes") == {"acme/payments", "acme/vault", "acme/payments-fork"}
    assert repos("def handler fork:only") == {"acme/payments-fork"}
    assert repos("def handler archived:only") == {"acme/legacy"}
    assert repos("def handler fork:yes archived:yes") == everything
    assert repos("def handler visibility:private") == {"acme/vault"}
    assert repos("content:handler_acme_vault") == {"acme/vault"}
    assert repos("type:path content:main.py repo:payments") == {"acme/payments"}
    found = api.search(store.snapshot(), "type:repo limiter").to_json()["results"]
    assert [r["repo"] for r in found] == ["acme/payments"]
    assert found[0]["topics"] == ["payments", "billing"]
    assert {
        r["repo"]
        for r in api.search(store.snapshot(), "type:repo (billing or secrets)").to_json()["results"]
    } == {
        "acme/payments",
        "acme/vault",
    }
    hit = api.search(store.snapshot(), "marker-acme_payments").to_json()["results"][0]
    commit = hit["commit"]
    assert hit["url"] == f"https://github.example/acme/payments/blob/{commit}/src/main.py#L2"
    with pytest.raises(api.QueryError):
        api.search(store.snapshot(), "handler fork:maybe").to_json()


def test_defaults_leave_forks_archived_and_excluded_repos_out_of_the_index(github, tmp_path):
    host, _git = github
    data = data_dir(tmp_path)
    summary = run_index(data, github_config(tmp_path, host))
    assert sorted(o.name for o in summary.outcomes) == ["acme/payments", "acme/vault"]


def test_a_poll_with_nothing_pushed_fetches_nothing_and_a_push_fetches_one_repo(
    github, tmp_path, open_test_store
):
    host, git = github
    works = {r.full_name: tmp_path / "work" / r.full_name.replace("/", "_") for r in ACME}
    data = data_dir(tmp_path)
    cfg = github_config(tmp_path, host)
    run_index(data, cfg)
    before = len(git.requests)
    again = run_index(data)  # the remembered sources, as the sync loop polls them
    assert {o.status for o in again.outcomes} == {"unchanged"}
    assert len(git.requests) == before  # no git fetch at all
    commit_files(works["acme/payments"], {"src/new.py": "fresh_marker = 1\n"})
    publish(tmp_path, "acme/payments", works["acme/payments"])
    host.repo("acme/payments").pushed_at += 60
    third = run_index(data)
    assert {o.name: o.status for o in third.outcomes} == {
        "acme/payments": "indexed",
        "acme/vault": "unchanged",
    }
    fetched = {r.split()[1] for r in git.requests[before:]}
    assert all(p.startswith("/acme/payments.git") for p in fetched), fetched
    store = open_test_store(data.root)
    assert api.search(store.snapshot(), "fresh_marker").to_json()["total_files"] == 1
    vault = HostInfo.from_info(store.snapshot().repos["acme/vault"].info)
    assert vault.readers["users"] == ["alice", "bob"]  # details kept from the first listing


def test_a_bad_token_is_an_error_of_that_source_and_nothing_of_it_is_removed(
    github, tmp_path, monkeypatch, capsys, open_test_store
):
    from innersearch.cli import main

    host, _git = github
    local = make_repo(tmp_path / "local", "tools", {"t.py": "local_marker = 1\n"})
    cfg = config(
        tmp_path,
        f'[[sources]]\ngithub = "acme"\napi_url = "{host.api_url}"\n'
        f'[[sources]]\npath = "{local}"\n',
    )
    data = data_dir(tmp_path)
    run_index(data, cfg)
    commit_files(local, {"t.py": "local_marker = 2\nsecond_marker = 1\n"})
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    summary = run_index(data, cfg)
    assert [p.source for p in summary.problems] == ["github:acme"]
    assert "401" in summary.problems[0].message
    assert {o.name: o.status for o in summary.outcomes} == {"tools": "indexed"}
    store = open_test_store(data.root)
    assert (
        api.search(store.snapshot(), "second_marker").to_json()["total_files"] == 1
    )  # the other source went on
    assert (
        api.search(store.snapshot(), "marker-acme_payments").to_json()["total_files"] == 1
    )  # nothing removed
    assert main(["--data", str(data.root), "status"]) == 0
    out = capsys.readouterr().out
    assert "source github:acme" in out and "ERROR" in out and "401" in out
    assert "wrong" not in out


def test_an_unreachable_host_is_an_error_of_that_source(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = data_dir(tmp_path)
    local = make_repo(tmp_path / "local", "tools", {"t.py": "x = 1\n"})
    cfg = config(
        tmp_path,
        f'[[sources]]\ngitea = "acme"\napi_url = "http://127.0.0.1:{port}"\n'
        f'[[sources]]\npath = "{local}"\n',
    )
    summary = run_index(data, cfg)
    assert [p.source for p in summary.problems] == ["gitea:acme"]
    assert "cannot reach" in summary.problems[0].message
    assert [o.name for o in summary.outcomes] == ["tools"]
    cat = catalog.Catalog(data.catalog_path)
    with cat.read() as r:
        [row] = r.host_sources()
    cat.close()
    assert row.label == "gitea:acme" and "cannot reach" in row.error


def test_a_short_rate_limit_is_waited_out_and_a_long_one_resumes_next_cycle(
    github, tmp_path, open_test_store
):
    host, _git = github
    data = data_dir(tmp_path)
    cfg = github_config(tmp_path, host)
    host.fail_once["/orgs/acme/repos"] = (
        429,
        {"Retry-After": "1"},
        {"message": "You have exceeded a secondary rate limit."},
    )
    summary = run_index(data, cfg)
    assert not summary.problems and len(summary.outcomes) == 2
    host.fail_once["/orgs/acme/repos"] = (
        403,
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800"},
        {"message": "API rate limit exceeded for user ID 1."},
    )
    summary = run_index(data)
    assert [p.source for p in summary.problems] == ["github:acme"]
    assert "rate limited" in summary.problems[0].message
    store = open_test_store(data.root)
    assert set(store.snapshot().repos) == {"acme/payments", "acme/vault"}  # kept


def test_gitlab_group_with_subgroups(tmp_path, monkeypatch, open_test_store):
    repos = [
        FakeRepo(
            "platform/backend/payments",
            "Payments",
            ["go"],
            visibility="internal",
            collaborators=["carol"],
            teams=["security"],
        ),
        FakeRepo("platform/web", "Web front"),
        FakeRepo("platform/backend/payments-copy", parent="platform/backend/payments"),
    ]
    serve_repos(tmp_path, [r.full_name for r in repos])
    monkeypatch.setenv("GL_TOKEN", TOKEN)
    with (
        GitHttpServer(tmp_path / "served", GIT_USER["gitlab"], TOKEN) as git,
        FakeHost("gitlab", repos, TOKEN, git.url) as host,
    ):
        cfg = config(
            tmp_path,
            f'[[sources]]\ngitlab = "platform"\napi_url = "{host.api_url}"\n'
            'token_env = "GL_TOKEN"\ninclude_forks = true\n',
        )
        data = data_dir(tmp_path)
        summary = run_index(data, cfg)
        assert not summary.problems and not summary.failed, summary
        assert sum(1 for r in host.requests if "/groups/1/projects" in r) == 2  # X-Next-Page
    store = open_test_store(data.root)
    info = HostInfo.from_info(store.snapshot().repos["platform/backend/payments"].info)
    assert info.kind == "gitlab" and info.visibility == "internal"
    assert info.readers == {
        "users": ["carol"],
        "groups": ["gitlab:platform/backend", "gitlab:security"],
    }
    copy = HostInfo.from_info(store.snapshot().repos["platform/backend/payments-copy"].info)
    assert copy.parent == "platform/backend/payments"
    hit = api.search(store.snapshot(), "marker-platform_web").to_json()["results"][0]
    assert hit["url"].startswith("https://gitlab.example/platform/web/-/blob/")


@pytest.mark.parametrize("kind", ["gitea", "bitbucket"])
def test_gitea_and_bitbucket_workspaces(kind, tmp_path, monkeypatch, open_test_store):
    repos = [
        FakeRepo(
            "team/api", "The API", visibility="private", collaborators=["dan"], teams=["devs"]
        ),
        FakeRepo("team/docs", "Docs"),
        FakeRepo("team/tools", "Tools"),
    ]
    serve_repos(tmp_path, [r.full_name for r in repos])
    monkeypatch.setenv(f"{kind.upper()}_TOKEN", TOKEN)
    with (
        GitHttpServer(tmp_path / "served", GIT_USER[kind], TOKEN) as git,
        FakeHost(kind, repos, TOKEN, git.url) as host,
    ):
        cfg = config(tmp_path, f'[[sources]]\n{kind} = "team"\napi_url = "{host.api_url}"\n')
        data = data_dir(tmp_path)
        summary = run_index(data, cfg)
        assert not summary.problems and not summary.failed, summary
    store = open_test_store(data.root)
    snap = store.snapshot()
    assert set(snap.repos) == {"team/api", "team/docs", "team/tools"}  # two pages
    info = HostInfo.from_info(snap.repos["team/api"].info)
    assert info.kind == kind and info.visibility == "private"
    assert info.readers == {"users": ["dan"], "groups": [f"{kind}:team/devs"]}
    assert "someone" not in snap.repos["team/api"].source  # user names in clone URLs dropped
    hit = api.search(store.snapshot(), "marker-team_docs").to_json()["results"][0]
    anchor = "#L2" if kind == "gitea" else "#lines-2"
    assert hit["url"].endswith(
        f"/src/{'commit/' if kind == 'gitea' else ''}{hit['commit']}/src/main.py{anchor}"
    )


def test_the_cli_shorthand_lists_the_org_with_the_defaults(monkeypatch, tmp_path):
    from innersearch.indexer import hosts, sources

    seen = []

    def fake_list(source, token, only, needs_detail):
        seen.append((source, token, only))
        return []

    monkeypatch.setattr(hosts, "list_repos", fake_list)
    monkeypatch.setenv("GITLAB_TOKEN", "t0k")
    monkeypatch.chdir(tmp_path)
    repos, problems = sources.resolve(["gitlab:platform/backend", "github:acme"])
    assert repos == [] and problems == []
    gitlab, github = seen[0][0], seen[1][0]
    assert (gitlab.kind, gitlab.org, gitlab.api_url) == (
        "gitlab",
        "platform/backend",
        "https://gitlab.com",
    )
    assert seen[0][1] == "t0k" and seen[1][1] is None  # GITHUB_TOKEN unset: anonymous
    assert (github.api_url, github.token_env, github.include_forks) == (
        "https://api.github.com",
        "GITHUB_TOKEN",
        False,
    )


def test_a_reader_the_host_removed_loses_access_without_a_push(
    github, tmp_path, monkeypatch, open_test_store
):
    host, git = github
    data = data_dir(tmp_path)
    run_index(data, github_config(tmp_path, host))
    host.repo("acme/vault").collaborators = ["alice"]  # bob removed on the host, no push
    before = len(git.requests)
    served = open_test_store(data.root)  # a server's store, open all along
    run_index(data)  # within the hour: the stored readers stand
    vault = HostInfo.from_info(served.snapshot().repos["acme/vault"].info)
    assert vault.readers["users"] == ["alice", "bob"]
    monkeypatch.setattr(sources, "DETAIL_MAX_AGE_S", 0)  # an hour later
    again = run_index(data)
    assert {o.status for o in again.outcomes} == {"unchanged"}
    assert len(git.requests) == before  # readers are asked of the API; git fetches nothing
    vault = HostInfo.from_info(served.snapshot().repos["acme/vault"].info)
    assert vault.readers["users"] == ["alice"] and vault.detail_at is not None
