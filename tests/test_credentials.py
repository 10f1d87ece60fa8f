"""Credentials in git URLs never reach disk, output or pages (repos served over smart HTTP)."""

from __future__ import annotations

import base64
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from innersearch.cli import main
from innersearch.indexer import layout
from innersearch.indexer.credentials import redact, split_url
from innersearch.indexer.run import index_sources
from innersearch.indexer.sources import repo_name_from_url
from innersearch.search import api
from innersearch.web import create_app
from tests.gitserver import GitHttpServer
from tests.helpers import make_repo, run_index

TOKEN = "tok-Canary-7f3a9e"
USER = "alice"


def _every_byte_of(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


@pytest.fixture()
def served(tmp_path):
    work = make_repo(tmp_path / "work", "secret", {"vault.py": "def open_vault():\n    pass\n"})
    bare = tmp_path / "served" / "org" / "secret.git"
    bare.parent.mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    with GitHttpServer(tmp_path / "served", USER, TOKEN) as server:
        yield server


def test_a_token_in_the_url_is_used_and_never_stored_or_shown(
    served, tmp_path, capsys, open_test_store
):
    url = f"{served.url.replace('http://', f'http://{USER}:{TOKEN}@')}/org/secret.git"
    data = layout.DataDir(tmp_path / "data")
    said: list[str] = []
    summary = index_sources(data, [url], say=said.append)
    assert not summary.failed, summary.outcomes
    assert any(r.endswith("200") for r in served.requests)  # git went through the auth
    secret_forms = [TOKEN.encode(), base64.b64encode(f"{USER}:{TOKEN}".encode())]
    on_disk = _every_byte_of(data.root)
    assert not any(form in on_disk for form in secret_forms)
    assert TOKEN not in "\n".join(said)

    assert main(["--data", str(data.root), "status"]) == 0
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err

    store = open_test_store(data.root)
    hits = api.search(store.snapshot(), "open_vault").to_json()["results"]
    assert [(h["repo"], h["path"]) for h in hits] == [("secret", "vault.py")]
    client = create_app(store).test_client()
    for route in (
        "/api/v1/repos",
        "/api/v1/repos/secret",
        "/api/v1/status",
        "/status",
        "/repos/secret",
        "/repos",
    ):
        resp = client.get(route)
        assert resp.status_code == 200, route
        assert TOKEN.encode() not in resp.data, route
    assert client.get("/api/v1/repos/secret").get_json()["source"] == (
        f"{served.url}/org/secret.git"
    )

    assert stat.S_IMODE(data.root.stat().st_mode) == 0o700
    for private in (data.catalog_path, data.mirror_path("secret") / "config"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private


def test_a_wrong_token_is_an_error_that_does_not_show_it(served, tmp_path):
    wrong = "Wrong-Canary-51c0"
    url = f"{served.url.replace('http://', f'http://{USER}:{wrong}@')}/org/secret.git"
    data = layout.DataDir(tmp_path / "data")
    summary = run_index(data, url)
    [failed] = summary.failed
    assert "401" in failed.message or "Authentication failed" in failed.message
    assert wrong not in failed.message
    assert wrong.encode() not in _every_byte_of(data.root)


def test_a_catalog_written_with_a_token_is_redacted_when_read(served, tmp_path, open_test_store):
    url = f"{served.url.replace('http://', f'http://{USER}:{TOKEN}@')}/org/secret.git"
    data = layout.DataDir(tmp_path / "data")
    run_index(data, url)
    conn = sqlite3.connect(data.catalog_path)
    conn.execute("UPDATE repos SET source=?, error=?", (url, f"cannot read {url}: gone"))
    conn.commit()
    conn.close()
    store = open_test_store(data.root)
    body = create_app(store).test_client().get("/api/v1/repos/secret").data
    assert TOKEN.encode() not in body and served.url.encode() in body


def test_url_helpers():
    assert repo_name_from_url(f"https://{USER}:{TOKEN}@git.example.com") == "git.example.com"
    assert repo_name_from_url(f"https://{TOKEN}@git.example.com/team/tool.git") == "tool"
    assert redact(f"see https://{USER}:{TOKEN}@h/x and ssh://git:{TOKEN}@h/y") == (
        "see https://h/x and ssh://git@h/y"
    )
    assert (
        redact("git@github.com:acme/x.git ssh://git@h/y")
        == "git@github.com:acme/x.git ssh://git@h/y"
    )
    assert split_url("https://h/x.git") == ("https://h/x.git", None)
    clean, header = split_url(f"https://{USER}:{TOKEN}@h/x.git")
    assert clean == "https://h/x.git"
    assert header == "Authorization: Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
