"""The SQLite catalog: repos, branches, indexed commits, files, skipped files, errors, fragments.

Files are versioned by generation so a reader sees one consistent state (see snapshot()).
Every commit of the indexer bumps `generation`; a file row is visible at generation G when
gen_added <= G and (gen_removed IS NULL or gen_removed > G). Rows and blobs no longer
visible at the current generation are dropped by collect_garbage() at the next run.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .credentials import redact

# File flags (bit set), also used by ranking and dedup.
FLAG_VENDORED = 1
FLAG_GENERATED = 2
FLAG_TEST = 4

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS repos (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    default_branch TEXT,
    status TEXT NOT NULL DEFAULT 'new',      -- new | ok | error | empty
    error TEXT NOT NULL DEFAULT '',
    last_commit_at INTEGER,                  -- unix time of the newest indexed commit
    indexed_at INTEGER,
    info TEXT NOT NULL DEFAULT '{}'          -- JSON: owners, readme, contributing, languages
);
CREATE TABLE IF NOT EXISTS branches (
    repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    commit_id TEXT NOT NULL,
    committed_at INTEGER,
    indexed_at INTEGER NOT NULL,
    PRIMARY KEY (repo_id, name)
);
CREATE TABLE IF NOT EXISTS blobs (
    key INTEGER PRIMARY KEY,                 -- = tantivy blob_key
    oid TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    lang TEXT NOT NULL,
    lines INTEGER NOT NULL,
    symbols INTEGER NOT NULL,
    generated INTEGER NOT NULL,              -- content says generated (path flags are per file)
    parse_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS files (
    repo_id INTEGER NOT NULL,
    branch TEXT NOT NULL,
    path TEXT NOT NULL,
    blob_key INTEGER NOT NULL,
    lang TEXT NOT NULL,
    flags INTEGER NOT NULL,
    gen_added INTEGER NOT NULL,
    gen_removed INTEGER
);
CREATE INDEX IF NOT EXISTS files_live ON files(repo_id, branch, path) WHERE gen_removed IS NULL;
CREATE INDEX IF NOT EXISTS files_blob ON files(blob_key);
CREATE TABLE IF NOT EXISTS skipped (
    repo_id INTEGER NOT NULL,
    branch TEXT NOT NULL,
    path TEXT NOT NULL,
    reason TEXT NOT NULL,                    -- binary | too-large | symlink | submodule
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS skipped_repo ON skipped(repo_id, branch);
CREATE TABLE IF NOT EXISTS errors (
    repo_id INTEGER,
    path TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL,                     -- mirror | snapshot | parse | index
    message TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS fragments (
    blob_key INTEGER NOT NULL,
    kind TEXT NOT NULL,                      -- function | file
    symbol TEXT NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    data BLOB NOT NULL                       -- dedup's fingerprint record (see dedup docs)
);
CREATE INDEX IF NOT EXISTS fragments_blob ON fragments(blob_key);
"""


@dataclass(frozen=True)
class FileRow:
    repo: str
    branch: str
    path: str
    blob_key: int
    lang: str
    flags: int


@dataclass(frozen=True)
class RepoRow:
    id: int
    name: str
    source: str
    default_branch: str | None
    status: str
    error: str
    last_commit_at: int | None
    indexed_at: int | None
    info: dict


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(_DDL)
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every query inside sees the same committed state."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def generation(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
    return int(row[0]) if row else 0


def bump_generation(conn: sqlite3.Connection) -> int:
    gen = generation(conn) + 1
    conn.execute(
        "INSERT INTO meta(key, value) VALUES('generation', ?) "
        "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
        (str(gen),),
    )
    return gen


def repo_from_row(row: tuple) -> RepoRow:
    # Redacted on the way out too: catalogs written before credentials were split off.
    rid, name, source, default_branch, status, error, last_commit_at, indexed_at, info = row
    return RepoRow(
        rid,
        name,
        redact(source),
        default_branch,
        status,
        redact(error or ""),
        last_commit_at,
        indexed_at,
        info=json.loads(info or "{}"),
    )


_REPO_COLUMNS = "id, name, source, default_branch, status, error, last_commit_at, indexed_at, info"


def repos(conn: sqlite3.Connection) -> list[RepoRow]:
    rows = conn.execute(f"SELECT {_REPO_COLUMNS} FROM repos ORDER BY name").fetchall()
    return [repo_from_row(r) for r in rows]


def ensure_repo(conn: sqlite3.Connection, name: str, source: str) -> int:
    conn.execute(
        "INSERT INTO repos(name, source) VALUES(?, ?) "
        "ON CONFLICT(name) DO UPDATE SET source=excluded.source",
        (name, source),
    )
    return conn.execute("SELECT id FROM repos WHERE name=?", (name,)).fetchone()[0]


def live_files(conn: sqlite3.Connection, gen: int) -> Iterator[FileRow]:
    """Every file visible at generation `gen`, in (repo, branch, path) order."""
    cur = conn.execute(
        "SELECT r.name, f.branch, f.path, f.blob_key, f.lang, f.flags FROM files f "
        "JOIN repos r ON r.id = f.repo_id "
        "WHERE f.gen_added <= ? AND (f.gen_removed IS NULL OR f.gen_removed > ?) "
        "ORDER BY r.name, f.branch, f.path",
        (gen, gen),
    )
    for row in cur:
        yield FileRow(*row)


def branch_files(conn: sqlite3.Connection, repo_id: int, branch: str) -> dict[str, int]:
    """path -> blob_key of the live files of one branch."""
    rows = conn.execute(
        "SELECT path, blob_key FROM files WHERE repo_id=? AND branch=? AND gen_removed IS NULL",
        (repo_id, branch),
    )
    return dict(rows.fetchall())


def branch_file_rows(
    conn: sqlite3.Connection, repo_id: int, branch: str
) -> dict[str, tuple[int, str, int, int]]:
    """path -> (blob_key, lang, flags, size) of the live files of one branch."""
    rows = conn.execute(
        "SELECT f.path, f.blob_key, f.lang, f.flags, COALESCE(b.size, 0) FROM files f "
        "LEFT JOIN blobs b ON b.key = f.blob_key "
        "WHERE f.repo_id=? AND f.branch=? AND f.gen_removed IS NULL",
        (repo_id, branch),
    )
    return {path: (key, lang, flags, size) for path, key, lang, flags, size in rows}


def branch_skipped(
    conn: sqlite3.Connection, repo_id: int, branch: str
) -> list[tuple[str, str, int]]:
    """(path, reason, size) of the files of one branch that were not indexed."""
    rows = conn.execute(
        "SELECT path, reason, size FROM skipped WHERE repo_id=? AND branch=?", (repo_id, branch)
    )
    return rows.fetchall()


def meta_value(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))


def repo_blob_keys(conn: sqlite3.Connection, repo_id: int) -> set[int]:
    """Blob keys the live files of one repo name."""
    rows = conn.execute(
        "SELECT DISTINCT blob_key FROM files WHERE repo_id=? AND gen_removed IS NULL", (repo_id,)
    )
    return {k for (k,) in rows}


def drop_unreferenced_blobs(conn: sqlite3.Connection, keys: Iterable[int]) -> list[int]:
    """Of `keys`, the blobs no file row names any more: their blob and fragment rows are
    deleted and their keys returned (for the index)."""
    dead = []
    for key in sorted(set(keys)):
        if conn.execute("SELECT 1 FROM files WHERE blob_key=? LIMIT 1", (key,)).fetchone():
            continue
        conn.execute("DELETE FROM fragments WHERE blob_key=?", (key,))
        conn.execute("DELETE FROM blobs WHERE key=?", (key,))
        dead.append(key)
    return dead


def known_blobs(conn: sqlite3.Connection, keys: Iterable[int]) -> dict[int, tuple[str, bool]]:
    """key -> (lang, generated) for the keys the catalog (and so the index) already holds."""
    found: dict[int, tuple[str, bool]] = {}
    batch = list(keys)
    for i in range(0, len(batch), 500):
        chunk = batch[i : i + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT key, lang, generated FROM blobs WHERE key IN ({marks})", chunk)
        found.update((k, (lang, bool(gen))) for k, lang, gen in rows)
    return found


def record_error(
    conn: sqlite3.Connection, repo_id: int | None, stage: str, message: str, path: str = ""
) -> None:
    conn.execute(
        "INSERT INTO errors(repo_id, path, stage, message, at) VALUES(?,?,?,?,?)",
        (repo_id, path, stage, message, int(time.time())),
    )
