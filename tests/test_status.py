"""The status report shows the state of the snapshot it is given: branches, skipped files,
totals and errors of that generation, even after the catalog has moved on.
"""

from __future__ import annotations

from innersearch.indexer.status import status_report
from tests.helpers import build_index, commit_files, make_repo, run_index

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
