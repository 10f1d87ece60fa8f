"""Building real git repositories and real indexes for tests.

Every test makes its own repos with `git init` and commits; nothing needs the network.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import re2
from hypothesis import strategies as st

from innersearch.indexer import layout
from innersearch.indexer.run import RunSummary, index_sources
from innersearch.search.match import OPTIONS

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], env=GIT_ENV, check=True, capture_output=True
    )
    return out.stdout.decode("utf-8", "replace")


def _write(repo: Path, files: dict[str, str | bytes | None]) -> None:
    for rel, content in files.items():
        target = repo / rel
        if content is None:
            git(repo, "rm", "-q", "-r", "--cached", "--ignore-unmatch", rel)
            if target.exists():
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        target.write_bytes(content)


def make_repo(root: Path, name: str, files: dict[str, str | bytes], branch: str = "main") -> Path:
    """A real repository at root/name with one commit of `files` on `branch`."""
    repo = root / name
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", branch)
    if files:
        commit_files(repo, files, "initial commit")
    return repo


def commit_files(
    repo: Path,
    files: dict[str, str | bytes | None],
    message: str = "change",
    branch: str | None = None,
) -> str:
    """Commit `files` (None deletes a path), on `branch` (created from HEAD when new)."""
    if branch is not None:
        existing = git(repo, "branch", "--list", branch).strip()
        git(repo, "checkout", "-q", *([] if existing else ["-b"]), branch)
    _write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def config(tmp_path: Path, body: str) -> Path:
    """A sources config file holding `body`."""
    path = tmp_path / "sources.toml"
    path.write_text(body)
    return path


def data_dir(tmp_path: Path) -> layout.DataDir:
    return layout.DataDir(tmp_path / "data")


def build_index(tmp_path: Path, *sources: str | Path) -> layout.DataDir:
    """Run the real indexer over `sources` into tmp_path/data."""
    data = data_dir(tmp_path)
    run_index(data, *sources)
    return data


def run_index(data: layout.DataDir, *sources: str | Path) -> RunSummary:
    return index_sources(data, [str(s) for s in sources], say=lambda _msg: None)


def client_for(store, **options):
    """A Flask test client of the app serving `store` (options go to create_app)."""
    from innersearch.web import create_app  # tests of the indexer alone need no web

    app = create_app(store, **options)
    app.testing = True
    return app.test_client()


def free_port() -> int:
    """A loopback port nothing listens on (for a server process a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str, host: str | None = None, timeout: float = 5.0) -> int:
    """The status of a GET (an HTTP error is a status, not an exception)."""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def wait_until_serving(proc: subprocess.Popen, base: str, seconds: float = 30) -> None:
    """Wait for a server process to answer /healthz; fail if it dies or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if http_status(f"{base}/healthz", timeout=1) == 200:
                return
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)


def per_line(pattern: str, data: bytes) -> list[int]:
    """The lines an RE2 pattern matches, straight from the definition: each line on its own,
    then git grep's empty line after a final newline when the rest of the blob's first hit
    is there."""
    rx = re2.compile("(?m)(?:" + pattern + ")", OPTIONS)
    if not data:
        return []  # git: an empty file has no lines
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    found = [i + 1 for i, line in enumerate(lines) if rx.search(line) is not None]
    if data.endswith(b"\n") and (not found or found[-1] != len(lines)):
        first = rx.search(data, (sum(len(x) + 1 for x in lines[: found[-1]]) if found else 0))
        if first is not None and first.start() == len(data) and rx.search(b"") is not None:
            found.append(len(lines) + 1)
    return found


# Generated RE2 patterns for property tests: the syntax the parser, the trigram requirement
# and the matcher must all get right (classes, escapes, flags, anchors, repetition, groups).
_REGEX_ATOMS = st.sampled_from(
    [
        "a", "b", "e", "l", "o", "h", "H", "k", "s", "S", "1", " ", "_", "é", "日",
        "\\.", "\\d", "\\w", "\\W", "\\s", "\\b", "\\B", ".", "^", "$", "\\A", "\\z",
        "[ab]", "[^a]", "[a-z]", "[]a]", "[a-]", "[[:alpha:]]", "[\\d_]", "\\pL", "\\p{Greek}",
        "\\x41", "\\x{e9}", "\\101", "\\Qa.b\\E", "\\r", "\\t", "(?i)", "(?i:he)", "(?s:.)",
        "(?P<n>lo)", "x{,2}", "hel", "llo", "abc", "Kis",
    ]
)  # fmt: skip


def _regex_forms(inner):
    repeated = st.tuples(inner, st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "{0,}", "*?"]))
    return st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map("|".join),
        inner.map(lambda r: f"({r})"),
        repeated.map(lambda t: f"(?:{t[0]}){t[1]}"),
        st.tuples(inner, repeated).map(lambda t: f"{t[0]}(?:{t[1][0]}){t[1][1]}"),
    )


REGEX = st.recursive(_REGEX_ATOMS, _regex_forms, max_leaves=8)
