"""The demo organization builder, from archives the tests make (no network).

Downloads go to a loopback server shaped like PyPI's Simple API (JSON) and the npm registry.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from innersearch.demo import packages
from innersearch.demo.__main__ import main as demo_main
from innersearch.demo.build import DEMO_AUTHOR, build_org
from innersearch.demo.fetch import archive_path, download_all
from innersearch.demo.packages import DemoPackage
from innersearch.indexer import layout
from innersearch.search import api
from tests.helpers import git, run_index

PY = DemoPackage("py-ratelimit", "pypi", "ratelimit", ("1.0", "1.1"), "rate-limit", team="infra")
JS = DemoPackage("js-throttle", "npm", "@acme/throttle", ("2.0.0",), "rate-limit")


def _tar_gz(top: str, files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{rel}" if top else rel)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _sdist(version: str) -> bytes:
    body = "class TokenBucket:\n    def take(self):\n        return True\n"
    if version == "1.1":
        body += "\n\ndef refill_rate(bucket):\n    return 10\n"
    return _tar_gz(f"ratelimit-{version}", {"ratelimit/__init__.py": body, ".gitignore": "*\n"})


def _npm_tgz() -> bytes:
    return _tar_gz("package", {"index.js": "function throttleCalls(fn) {\n  return fn;\n}\n"})


def _put(archives: Path, pkg: DemoPackage, version: str, suffix: str, data: bytes) -> None:
    target = archives / pkg.repo / f"{version}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


@pytest.fixture()
def archives(tmp_path: Path) -> Path:
    root = tmp_path / "archives"
    for version in PY.versions:
        _put(root, PY, version, ".tar.gz", _sdist(version))
    _put(root, JS, "2.0.0", ".tgz", _npm_tgz())
    return root


def _log(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%an|%s", "--reverse").splitlines()


def test_builds_one_commit_per_version_then_the_synthetic_team_files(archives, tmp_path):
    report = build_org([PY, JS], archives, tmp_path / "repos")
    assert sorted(report.built) == ["js-throttle", "py-ratelimit"] and not report.problems
    repo = tmp_path / "repos" / "py-ratelimit"
    assert _log(repo) == [
        f"{DEMO_AUTHOR[0]}|ratelimit 1.0 (release archive from pypi)",
        f"{DEMO_AUTHOR[0]}|ratelimit 1.1 (release archive from pypi)",
        f"{DEMO_AUTHOR[0]}|demo: synthetic CODEOWNERS and CONTRIBUTING"
        " (made up by innersearch, not upstream)",
    ]
    # The archive's top directory is stripped; its .gitignore does not hide released files.
    tracked = git(repo, "ls-files").split()
    assert tracked == [
        ".github/CODEOWNERS",
        ".gitignore",
        "CONTRIBUTING.md",
        "ratelimit/__init__.py",
    ]
    assert "refill_rate" in git(repo, "show", "HEAD:ratelimit/__init__.py")
    assert "refill_rate" not in git(repo, "show", "HEAD~2:ratelimit/__init__.py")
    assert "@acme/infra" in (repo / ".github" / "CODEOWNERS").read_text()
    assert len(_log(tmp_path / "repos" / "js-throttle")) == 1  # one version, no team


def test_built_org_indexes_and_searches_with_owners(archives, tmp_path, open_test_store):
    build_org([PY, JS], archives, tmp_path / "repos")
    data = layout.DataDir(tmp_path / "data")
    summary = run_index(data, tmp_path / "repos")
    assert not summary.failed and len(summary.outcomes) == 2
    store = open_test_store(data.root)
    found = api.search(store.snapshot(), "refill_rate").to_json()["results"]
    assert [(r["repo"], r["path"]) for r in found] == [("py-ratelimit", "ratelimit/__init__.py")]
    assert (
        api.search(store.snapshot(), "throttleCalls").to_json()["results"][0]["repo"]
        == "js-throttle"
    )
    repo = store.snapshot().repos["py-ratelimit"]
    assert "@acme/infra" in json.dumps(repo.info)
    assert repo.info.get("contributing") == "CONTRIBUTING.md"


def test_broken_and_missing_archives_are_reported_and_skipped(archives, tmp_path):
    (archives / PY.repo / "1.0.tar.gz").write_bytes(b"this is not a gzip file")
    missing = DemoPackage("py-gone", "pypi", "gone", ("0.1",), "misc")
    report = build_org([PY, JS, missing], archives, tmp_path / "repos")
    messages = [str(p) for p in report.problems]
    assert any(m.startswith("py-ratelimit 1.0: unreadable archive 1.0.tar.gz") for m in messages)
    assert "py-gone 0.1: no archive (not downloaded)" in messages
    assert "py-gone -: left out of the organization: no version built" in messages
    assert sorted(report.built) == ["js-throttle", "py-ratelimit"]
    assert [s.split("|")[1] for s in _log(tmp_path / "repos" / "py-ratelimit")][0] == (
        "ratelimit 1.1 (release archive from pypi)"
    )
    assert not (tmp_path / "repos" / "py-gone").exists()
    assert not list((tmp_path / "repos").glob("*.partial"))


def test_an_archive_escaping_its_directory_is_refused(tmp_path):
    evil = DemoPackage("py-evil", "pypi", "evil", ("1.0", "2.0"), "misc")
    root = tmp_path / "archives"
    _put(root, evil, "1.0", ".tar.gz", _tar_gz("", {"../../escaped.txt": "owned\n"}))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("evil-2.0/ok.py", "x = 1\n")
        zf.writestr("/abs.txt", "owned\n")
    _put(root, evil, "2.0", ".zip", zipped.getvalue())
    report = build_org([evil], root, tmp_path / "work" / "repos")
    assert [p.version for p in report.problems] == ["1.0", "2.0", "-"]
    assert not list(tmp_path.rglob("escaped.txt")) and not Path("/abs.txt").exists()


def test_a_second_build_reuses_repos_and_drops_unlisted_ones(archives, tmp_path):
    repos = tmp_path / "repos"
    build_org([PY, JS], archives, repos)
    head = git(repos / PY.repo, "rev-parse", "HEAD")
    (repos / "stale").mkdir()
    report = build_org([PY], archives, repos)
    assert report.cached == [PY.repo] and not report.built
    assert git(repos / PY.repo, "rev-parse", "HEAD") == head
    assert sorted(p.name for p in repos.iterdir()) == [PY.repo]


class _Registry(BaseHTTPRequestHandler):
    """PyPI's Simple API in its JSON form (PEP 691) and the npm registry's version document."""

    files: dict[str, bytes] = {}
    docs: dict[str, dict] = {}

    def do_GET(self):  # noqa: N802 (the http.server API)
        if self.path in self.docs:
            body, kind = json.dumps(self.docs[self.path]).encode(), "application/json"
        elif self.path in self.files:
            body, kind = self.files[self.path], "application/octet-stream"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture()
def registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    base = f"http://127.0.0.1:{server.server_port}"
    sdist, tgz = _sdist("1.1"), _npm_tgz()
    _Registry.files = {"/f/ratelimit-1.1.tar.gz": sdist, "/f/throttle-2.0.0.tgz": tgz}
    _Registry.docs = {
        "/simple/ratelimit/": {
            "files": [
                {
                    "filename": "ratelimit-1.1-py3-none-any.whl",
                    "url": f"{base}/f/x.whl",
                    "hashes": {"sha256": "00"},
                },
                {
                    "filename": "ratelimit-1.1.tar.gz",
                    "url": f"{base}/f/ratelimit-1.1.tar.gz",
                    "hashes": {"sha256": hashlib.sha256(sdist).hexdigest()},
                },
                {
                    "filename": "ratelimit-1.0.tar.gz",
                    "url": f"{base}/f/ratelimit-1.1.tar.gz",
                    "hashes": {"sha256": "ab" * 32},
                },  # a digest that does not match its file
            ]
        },
        "/@acme%2Fthrottle/2.0.0": {
            "dist": {
                "tarball": f"{base}/f/throttle-2.0.0.tgz",
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode(),
            }
        },
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def test_download_checks_digests_and_caches(registry, tmp_path):
    pkgs = [PY, JS, DemoPackage("js-none", "npm", "none", ("1.0.0",), "misc")]
    problems = download_all(pkgs, tmp_path, pypi_url=registry, npm_url=registry)
    by_version = {(p.repo, p.version): p.message for p in problems}
    assert "digest differs" in by_version[("py-ratelimit", "1.0")]
    assert "404" in by_version[("js-none", "1.0.0")]
    assert len(problems) == 2
    assert archive_path(tmp_path, PY, "1.0") is None  # nothing kept of a bad download
    served = _Registry.files["/f/ratelimit-1.1.tar.gz"]
    assert archive_path(tmp_path, PY, "1.1").read_bytes() == served
    assert archive_path(tmp_path, JS, "2.0.0").name == "2.0.0.tgz"
    # Cached archives are not fetched again: with the registry gone, nothing fails.
    assert (
        download_all([JS], tmp_path, pypi_url="http://127.0.0.1:9", npm_url="http://127.0.0.1:9")
        == []
    )


def test_offline_cli_reports_problems_and_fails_only_with_no_repo(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("innersearch.demo.__main__.PACKAGES", (PY,))
    assert demo_main(["--dest", str(tmp_path), "--offline"]) == 1
    err = capsys.readouterr().err
    assert "skipped: py-ratelimit 1.0: no archive (not downloaded)" in err
    _put(tmp_path / "archives", PY, "1.1", ".tar.gz", _sdist("1.1"))
    assert demo_main(["--dest", str(tmp_path), "--offline"]) == 0
    assert "1 repos built" in capsys.readouterr().out


def test_the_demo_package_list_shows_every_feature():
    """The list itself: unique names, pinned versions, both languages, a fork and a vendor."""
    names = [p.repo for p in packages.PACKAGES]
    assert len(names) == len(set(names))
    assert {p.registry for p in packages.PACKAGES} == {"pypi", "npm"}
    assert all(p.versions and all(v[0].isdigit() for v in p.versions) for p in packages.PACKAGES)
    assert sum(len(p.versions) == 2 for p in packages.PACKAGES) >= len(names) - 2
    categories = [p.category for p in packages.PACKAGES]
    assert categories.count("retry") >= 3 and categories.count("terminal-color") >= 2
    assert any(p.team for p in packages.PACKAGES)
    assert "../shared" not in Path(__file__).resolve().parents[1].joinpath("Makefile").read_text()
