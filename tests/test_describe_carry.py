"""A repo's description carries over a commit that touches no file describe.py reads, and is
read again when one does: checked through the implementations API and the catalog's info."""

from __future__ import annotations

import json
import subprocess

import pytest

from innersearch.indexer import implindex
from innersearch.indexer.describe import reads_path
from tests.helpers import (
    GIT_ENV,
    build_index,
    client_for,
    commit_files,
    git,
    make_repo,
    run_index,
)

FILES = {
    "ratelimit/__init__.py": '"""Rate limiting for services."""\n',
    "ratelimit/limiter.py": 'class RateLimiter:\n    """A token bucket of calls."""\n',
    "catalog-info.yaml": "metadata:\n  description: Token bucket rate limiting\n",
    "assets/notes.txt": "nothing the description reads\n",
    "native/ring.c": "int ring_size(void) { return 4; }\n",
}


def _implementations(client, words: str) -> list[dict]:
    r = client.get(f"/api/v1/implementations?q={words.replace(' ', '+')}")
    assert r.status_code == 200
    return r.get_json()["implementations"]


def _repo_documents(data, repo: str) -> int:
    import tantivy

    searcher = implindex.open_index(data.implementations_dir).searcher()
    query = tantivy.Query.term_query(implindex.SCHEMA, implindex.F_KIND, implindex.KIND_REPO)
    hits = searcher.search(query, limit=100).hits
    return sum(searcher.doc(a).to_dict()[implindex.F_REPO] == [repo] for _, a in hits)


@pytest.fixture
def indexed(tmp_path):
    repo = make_repo(tmp_path / "org", "ratelimit", FILES)
    first = git(repo, "rev-parse", "HEAD").strip()
    return repo, first, build_index(tmp_path, tmp_path / "org")


def test_a_commit_touching_no_described_file_keeps_the_description(
    indexed, tmp_path, open_test_store
):
    repo, first, data = indexed
    head = commit_files(repo, {"assets/notes.txt": "still nothing\n", "native/ring.c": "int x;\n"})
    run_index(data, tmp_path / "org")
    store = open_test_store(data.root)
    snap = store.snapshot()
    info = snap.repos["ratelimit"].info
    # Carried: the documents of the first commit stand for the new one, the activity is new.
    assert info["described"]["commit"] == first and info["at"] == head
    assert info["about"]["description"] == "Token bucket rate limiting"
    assert info["activity"]["commits"] == 2
    found = _implementations(client_for(store), "rate limiter")
    assert found[0]["repo"] == "ratelimit"
    assert found[0]["description"] == "Token bucket rate limiting"
    assert "RateLimiter" in [f["name"] for m in found[0]["modules"] for f in m["functions"]]
    assert _repo_documents(data, "ratelimit") == 1  # kept by the collection, not doubled


def test_a_commit_changing_a_manifest_describes_again(indexed, tmp_path, open_test_store):
    repo, first, data = indexed
    commit_files(repo, {"assets/notes.txt": "x\n"})  # carried first, then a manifest changes
    run_index(data, tmp_path / "org")
    head = commit_files(
        repo, {"catalog-info.yaml": "metadata:\n  description: Sliding window throttling\n"}
    )
    run_index(data, tmp_path / "org")
    store = open_test_store(data.root)
    info = store.snapshot().repos["ratelimit"].info
    assert info["described"]["commit"] == head and info["at"] == head
    client = client_for(store)
    found = _implementations(client, "sliding window")
    assert [i["repo"] for i in found] == ["ratelimit"]
    assert found[0]["description"] == "Sliding window throttling"
    assert _repo_documents(data, "ratelimit") == 1  # the first commit's documents went


def test_a_commit_changing_source_code_describes_again(indexed, tmp_path, open_test_store):
    repo, _, data = indexed
    head = commit_files(repo, {"ratelimit/window.py": 'def slide():\n    """Leaky bucket."""\n'})
    run_index(data, tmp_path / "org")
    store = open_test_store(data.root)
    assert store.snapshot().repos["ratelimit"].info["described"]["commit"] == head
    found = _implementations(client_for(store), "leaky bucket")
    assert found and found[0]["repo"] == "ratelimit"


@pytest.mark.parametrize(
    ("path", "lang", "read"),
    [
        ("pyproject.toml", "toml", True),  # a root file: manifests, README, portal files
        ("LICENSE", "", True),
        ("docs/README.md", "markdown", True),
        (".github/CONTRIBUTING.md", "markdown", True),
        ("pkg-1.0.dist-info/METADATA", "", True),
        ("pkg.egg-info/top_level.txt", "text", True),
        ("tools/gen", "python", True),  # a script found to be Python by its shebang
        ("web/app.tsx", "tsx", True),
        ("src/x/__init__.py", "python", True),
        ("kernel/sched/core.c", "c", False),
        ("docs/guide/README.md", "markdown", False),
        ("a/b.dist-info/METADATA", "", False),
        ("assets/logo.png", "", False),
    ],
)
def test_which_paths_the_description_reads(path, lang, read):
    assert reads_path(path, lang) is read


def _info_rows(data) -> tuple:
    import sqlite3

    with sqlite3.connect(data.catalog_path) as conn:
        files = set(
            conn.execute(
                "SELECT branch, path, blob_key, lang, flags FROM files WHERE gen_removed IS NULL"
            )
        )
        (info,) = conn.execute("SELECT info FROM repos").fetchone()
    info = json.loads(info)
    info.pop("described")  # carried: the first commit's; fresh: this one's
    return files, info


def test_what_carries_over_equals_a_fresh_index_of_the_commit(indexed, tmp_path):
    """A diff touching no looked-at path: files, owners, README, languages and their bytes,
    description and deps as a fresh index of the same commit has them."""
    repo, _, data = indexed
    commit_files(
        repo,
        {
            "native/ring.c": "int ring_size(void) { return 4; }\n" * 40,  # more C bytes
            "native/ring.h": "int ring_size(void);\n",
            "assets/notes.txt": None,
            "assets/more/deep.md": "# deep\n",
        },
    )
    run_index(data, tmp_path / "org")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    fresh_data = build_index(fresh, tmp_path / "org")
    carried, again = _info_rows(data), _info_rows(fresh_data)
    assert carried == again
    assert set(carried[1]["language_bytes"]) >= {"c", "python"}


def test_a_removed_repo_leaves_the_implementations_index(indexed, tmp_path):
    """The collection looks at the documents of the repos a run touched: a removed one's go,
    a carried one's stay."""
    import shutil

    repo, _, data = indexed
    other = make_repo(tmp_path / "org", "other", {"other.py": '"""Sliding windows."""\n'})
    run_index(data, tmp_path / "org")
    assert _repo_documents(data, "other") == 1
    shutil.rmtree(other)
    commit_files(repo, {"assets/notes.txt": "carried\n"})
    summary = run_index(data, tmp_path / "org")
    assert {o.name: o.status for o in summary.outcomes} == {
        "other": "removed",
        "ratelimit": "indexed",
    }
    assert _repo_documents(data, "other") == 0
    assert _repo_documents(data, "ratelimit") == 1


def _dated_commit(repo, files: dict[str, str], when: str) -> str:
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    run = {**GIT_ENV, **env}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], env=run, check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "c"], env=run, check=True)
    return git(repo, "rev-parse", "HEAD").strip()


def test_the_first_commit_is_found_from_the_new_commits_only_and_stays_exact(
    tmp_path, open_test_store
):
    """The repo's age (activity.first_commit_at) after a commit: the commits since the last
    indexed one are walked for roots; a merged older history moves it back, a force push to
    an unrelated history is walked whole."""
    repo = make_repo(tmp_path / "org", "aged", {})
    _dated_commit(repo, {"a.txt": "1\n"}, "2020-01-01T00:00:00Z")
    data = build_index(tmp_path, tmp_path / "org")

    def first_commit_at() -> int:
        store = open_test_store(data.root)
        return store.snapshot().repos["aged"].info["activity"]["first_commit_at"]

    assert first_commit_at() == 1577836800
    _dated_commit(repo, {"b.txt": "2\n"}, "2021-01-01T00:00:00Z")
    run_index(data, tmp_path / "org")
    assert first_commit_at() == 1577836800
    old = make_repo(tmp_path / "elsewhere", "old", {})
    _dated_commit(old, {"z.txt": "old\n"}, "2015-01-01T00:00:00Z")
    git(repo, "fetch", "-q", str(old), "main:older")
    git(repo, "merge", "-q", "--allow-unrelated-histories", "-m", "merge", "older")
    run_index(data, tmp_path / "org")
    assert first_commit_at() == 1420070400  # the merged history's root, 2015
    git(repo, "checkout", "-q", "--orphan", "fresh")
    git(repo, "rm", "-rqf", ".")
    _dated_commit(repo, {"a.txt": "1\n", "c.txt": "new\n"}, "2022-01-01T00:00:00Z")
    git(repo, "branch", "-M", "fresh", "main")  # main force-pushed to an unrelated history
    run_index(data, tmp_path / "org")
    assert first_commit_at() == 1640995200
