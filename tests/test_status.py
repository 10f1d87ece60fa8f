"""The status report shows the state of the snapshot it is given: branches, skipped files,
totals and errors of that generation, even after the catalog has moved on.
"""

from __future__ import annotations

import shutil

from innersearch.indexer.status import status_report
from tests.helpers import build_index, client_for, commit_files, make_repo, run_index

BIG = "x = 1\n" * 200_000  # 1.2 MB: over the indexer's file size limit, so skipped


def test_status_reads_the_snapshot_it_is_given(tmp_path, open_test_store):
    repo = make_repo(tmp_path / "org", "app", {"a.py": "def one():\n    return 1\n"})
    data = build_index(tmp_path, tmp_path / "org")
    store = open_test_store(data.root)
    old = store.snapshot()
    before = status_report(store, snapshot=old).to_json()
    [branch] = before["repos"][0]["branches"]
    assert before["totals"]["files"] == 1 and before["repos"][0]["skipped"] == {}

    # The next run: a new commit with a changed file, a new one and one too big to index;
    # then an error recorded without a new generation (as a failed fetch is).
    moved = commit_files(
        repo, {"a.py": "def one():\n    return 2\n", "b.py": "B = 2\n", "big.py": BIG}
    )
    run_index(data, tmp_path / "org")
    with store.catalog.write() as tx:
        tx.record_error(None, "mirror", "source gone for a while")

    again = status_report(store, snapshot=old).to_json()
    for part in ("generation", "repos", "totals", "errors"):
        assert again[part] == before[part], part
    assert again["repos"][0]["branches"] == [branch]

    now = status_report(store).to_json()
    assert now["generation"] > before["generation"]
    [new_branch] = now["repos"][0]["branches"]
    assert new_branch["commit"] == moved != branch["commit"]
    assert now["repos"][0]["skipped"] and now["totals"]["skipped"]
    assert now["totals"]["files"] == 2 and now["totals"]["unique_blobs"] == 2
    # At the catalog's own generation the newest errors are shown, of no repo too.
    assert [e["message"] for e in now["errors"]][:1] == ["source gone for a while"]


def test_a_repo_that_fails_to_mirror_shows_its_error_to_a_running_server(tmp_path, open_test_store):
    # A server started before the failing run: its snapshots are cached per catalog state,
    # so a failure that changes nothing indexed must still reach it.
    app_repo = make_repo(tmp_path / "org", "app", {"a.py": "def one():\n    return 1\n"})
    make_repo(tmp_path / "org", "lib", {"b.py": "B = 2\n"})
    sources = (tmp_path / "org" / "app", tmp_path / "org" / "lib")
    data = build_index(tmp_path, *sources)
    client = client_for(open_test_store(data.root))

    def shown() -> tuple[dict, dict]:
        status = client.get("/api/v1/status").get_json()
        repo = client.get("/api/v1/repos/app").get_json()
        return {r["name"]: r for r in status["repos"]}["app"], repo

    before, repo = shown()
    assert before["status"] == "ok" and repo["status"] == "ok"
    generation = client.get("/api/v1/status").get_json()["generation"]

    # The source breaks: its .git names a directory that is not there, so the fetch fails.
    shutil.rmtree(app_repo / ".git")
    (app_repo / ".git").write_text(f"gitdir: {tmp_path / 'gone'}\n")
    [failed] = [o for o in run_index(data, *sources).outcomes if o.name == "app"]
    assert failed.status == "error"

    after, repo = shown()
    assert after["status"] == "error" and after["error"] == failed.message
    assert repo["status"] == "error" and repo["error"] == failed.message
    # It keeps what it had indexed, and nothing indexed changed.
    assert after["files"] == before["files"] == 1
    status = client.get("/api/v1/status").get_json()
    assert status["totals"]["repos_failed"] == 1
    assert any(e["repo"] == "app" and e["stage"] == "mirror" for e in status["errors"])
    assert status["generation"] == generation

    # Fixed again: the next run indexes it and the server shows it ok.
    make_repo(tmp_path / "org2", "app", {"a.py": "def one():\n    return 1\n"})
    shutil.rmtree(app_repo)
    shutil.copytree(tmp_path / "org2" / "app", app_repo)
    run_index(data, *sources)
    again, repo = shown()
    assert again["status"] == "ok" and again["error"] in ("", None) and repo["status"] == "ok"
