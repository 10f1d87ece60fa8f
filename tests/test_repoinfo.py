"""The typed repos.info and sync state write what the dicts they replace wrote: the catalog's
column and the served JSON (GET /api/v1/repos/NAME owners, /api/v1/status sync) keep their
text, keys and order; a part of another shape is left out, not an error."""

from __future__ import annotations

import json
import sqlite3

import pytest

from innersearch.indexer.repoinfo import CodeownersRule, Committer, RepoInfo, RepoOwners
from innersearch.indexer.syncstate import SyncState
from tests.helpers import build_index, client_for, commit_files, make_repo, run_index


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = tmp_path_factory.mktemp("repoinfo")
    org = root / "org"
    make_repo(
        org,
        "owned",
        {
            "README.md": "# owned\n",
            ".github/CODEOWNERS": "* @core\n/docs/ @writers @core\n",
            "owned/main.py": "def main():\n    return 1\n",
        },
    )
    make_repo(org, "bare", {"x.py": "x = 1\n"})
    return build_index(root, org)


def _columns(data) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{data.catalog_path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT name, info FROM repos").fetchall())
    finally:
        conn.close()


def test_the_column_reads_back_typed_and_unchanged(indexed):
    columns = _columns(indexed)
    assert set(columns) == {"owned", "bare"}
    for text in columns.values():
        info = RepoInfo.from_column(text)
        assert info.to_column() == text  # the same text: values and the order of the keys
        assert info.owners is not None and info.at and info.activity is not None
    owned = RepoInfo.from_column(columns["owned"])
    assert owned.owners == RepoOwners(
        ["@core"],
        [CodeownersRule("*", ["@core"]), CodeownersRule("/docs/", ["@writers", "@core"])],
        [Committer("Test Author", "author@example.invalid", 1)],
    )
    assert owned.readme == "README.md" and owned.contributing is None
    assert '"contributing": null' in columns["owned"]  # written with the owners, as null


def test_what_no_field_holds_or_holds_otherwise():
    """A repo listed by its host but not indexed has only `host`; a part of another shape
    (another version's) is left out with what is written with it, so it is made again; a
    key no field names stays."""
    host_only = json.dumps({"host": {"kind": "gitea", "readers": []}})
    assert RepoInfo.from_column(host_only).to_column() == host_only
    assert RepoInfo.from_column(None).to_column() == "{}"
    odd = {
        "owners": {"codeowners": [], "codeowners_rules": [], "committers": [{"name": "x"}]},
        "readme": "README",
        "contributing": None,
        "languages": {"python": 100.0},
        "at": 3,
        "later": [1],
    }
    info = RepoInfo.from_column(json.dumps(odd))
    assert info.owners is None and info.at is None
    assert info.to_json() == {"languages": {"python": 100.0}, "later": [1]}
    assert RepoOwners.read(odd["owners"]) == RepoOwners([], [], [])
    assert RepoOwners.read(None) == RepoOwners([], [], [])


def test_served_owners_and_sync_are_the_stored_text(indexed, open_test_store):
    store = open_test_store(indexed.root)
    client = client_for(store)
    stored = json.loads(_columns(indexed)["owned"])["owners"]
    served = client.get("/api/v1/repos/owned").get_data(as_text=True)
    assert '"owners":' + json.dumps(stored, separators=(",", ":")) + "," in served
    assert '"sync":{},' in client.get("/api/v1/status").get_data(as_text=True)
    with store.catalog.write() as tx:
        tx.set_sync_state(SyncState(60, None, 1700000060.5))
    with store.catalog.read() as r:
        assert r.sync_state() == SyncState(60, None, 1700000060.5)
        raw = r.meta_value("sync")
    assert raw == '{"interval": 60, "last_sync_at": null, "next_sync_at": 1700000060.5}'
    status = client.get("/api/v1/status").get_data(as_text=True)
    assert '"sync":{"interval":60,"last_sync_at":null,"next_sync_at":1700000060.5},' in status
    with store.catalog.write() as tx:
        tx.set_meta("sync", '{"interval": "often"}')  # another version's: as if never written
    with store.catalog.read() as r:
        assert r.sync_state() is None


def test_a_damaged_info_column_costs_only_that_repos_info(tmp_path, open_test_store):
    org = tmp_path / "org"
    repo = make_repo(org, "owned", {".github/CODEOWNERS": "* @core\n", "a.py": "a = 1\n"})
    make_repo(org, "other", {"b.py": "b = 2\n"})
    data = build_index(tmp_path, org)
    conn = sqlite3.connect(data.catalog_path)
    with conn:
        conn.execute("UPDATE repos SET info = '{\"owners\": [' WHERE name = 'owned'")
    conn.close()
    store = open_test_store(data.root)
    client = client_for(store)
    assert client.get("/api/v1/repos/owned").status_code == 200  # shown, without its info
    assert client.get("/api/v1/repos/other").json["owners"]["codeowners"] == []
    assert client.get("/api/v1/search?q=a").status_code == 200
    commit_files(repo, {"a.py": "a = 3\n"})
    run_index(data, org)
    assert json.loads(_columns(data)["owned"])["owners"]["codeowners"] == ["@core"]
