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
CREATE TABLE IF NOT EXISTS host_sources (  -- the last listing of each code-host source
    label TEXT PRIMARY KEY,                  -- github:acme
    api_url TEXT NOT NULL,
    repos INTEGER NOT NULL,
    error TEXT NOT NULL,
    seconds REAL NOT NULL,
    listed_at INTEGER NOT NULL,
    last_ok_at INTEGER
);
CREATE TABLE IF NOT EXISTS hook_events (     -- webhook deliveries queued for the sync loop
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                      -- github | gitlab | gitea | bitbucket
    repo TEXT NOT NULL,                      -- full name on the host
    action TEXT NOT NULL,                    -- push | list
    received_at REAL NOT NULL,
    done_at REAL                             -- when the change became searchable
);
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


# ---------------------------------------------------------------- code hosts and sync


@dataclass(frozen=True)
class HostSourceRow:
    label: str
    api_url: str
    repos: int
    error: str
    seconds: float
    listed_at: int
    last_ok_at: int | None


@dataclass(frozen=True)
class HookRow:
    id: int
    kind: str
    repo: str
    action: str
    received_at: float
    done_at: float | None


def repo_info(conn: sqlite3.Connection, repo_id: int) -> dict:
    """The stored info JSON of one repo ({} for a new one)."""
    row = conn.execute("SELECT info FROM repos WHERE id=?", (repo_id,)).fetchone()
    return json.loads(row[0] or "{}") if row else {}


def set_repo_info(conn: sqlite3.Connection, repo_id: int, info: dict) -> None:
    """Replace what indexing found (owners, languages...); what the host said is kept."""
    host = repo_info(conn, repo_id).get("host")
    info = {**info, "host": host} if host is not None else info
    conn.execute("UPDATE repos SET info=? WHERE id=?", (json.dumps(info), repo_id))


def set_host_info(conn: sqlite3.Connection, repo_id: int, host: dict, keep_detail: bool) -> None:
    """Store what the code host says; `keep_detail`: the listing did not ask for readers
    and parent (the repo did not change), so the stored ones stay."""
    info = repo_info(conn, repo_id)
    old = info.get("host") or {}
    if keep_detail:
        host = {**host, "readers": old.get("readers", host["readers"])}
        host["parent"] = old.get("parent", host["parent"]) if host["fork"] else None
        host["detail_at"] = old.get("detail_at")
    info["host"] = host
    conn.execute("UPDATE repos SET info=? WHERE id=?", (json.dumps(info), repo_id))

    def said(h: dict) -> dict:
        return {k: v for k, v in h.items() if k != "detail_at"}

    if said(host) != said(old):
        # Readers and visibility decide who sees the repo: a change must reach every server
        # process now, not with the next commit, so it is a new generation (snapshots and
        # permission views are cached per generation).
        bump_generation(conn)


def default_branch_commits(conn: sqlite3.Connection) -> dict[str, str]:
    """repo name -> the indexed commit of its default branch."""
    rows = conn.execute(
        "SELECT r.name, b.commit_id FROM repos r JOIN branches b "
        "ON b.repo_id = r.id AND b.name = r.default_branch"
    )
    return dict(rows.fetchall())


def host_detail_times(conn: sqlite3.Connection) -> dict[str, int | None]:
    """name -> when the host was last asked for the repo's readers and parent."""
    rows = conn.execute(
        "SELECT name, json_extract(info, '$.host.detail_at') FROM repos "
        "WHERE json_extract(info, '$.host.kind') IS NOT NULL"
    )
    return dict(rows.fetchall())


def host_pushes(conn: sqlite3.Connection) -> dict[str, int | None]:
    """name -> the host's last push time, for repos indexed without error from a host."""
    rows = conn.execute(
        "SELECT name, json_extract(info, '$.host.pushed_at') FROM repos "
        "WHERE status='ok' AND json_extract(info, '$.host.kind') IS NOT NULL"
    )
    return dict(rows.fetchall())


def record_host_listing(
    conn: sqlite3.Connection, label: str, api_url: str, repos: int, error: str, seconds: float
) -> None:
    now = int(time.time())
    conn.execute(
        "INSERT INTO host_sources(label, api_url, repos, error, seconds, listed_at, last_ok_at) "
        "VALUES(?,?,?,?,?,?,?) ON CONFLICT(label) DO UPDATE SET api_url=excluded.api_url, "
        "repos=CASE WHEN excluded.error='' THEN excluded.repos ELSE host_sources.repos END, "
        "error=excluded.error, seconds=excluded.seconds, listed_at=excluded.listed_at, "
        "last_ok_at=COALESCE(excluded.last_ok_at, host_sources.last_ok_at)",
        (label, api_url, repos, error, seconds, now, None if error else now),
    )


def host_sources(conn: sqlite3.Connection) -> list[HostSourceRow]:
    rows = conn.execute(
        "SELECT label, api_url, repos, error, seconds, listed_at, last_ok_at FROM host_sources "
        "ORDER BY label"
    )
    return [HostSourceRow(*r) for r in rows]


def enqueue_hook(conn: sqlite3.Connection, kind: str, repo: str, action: str) -> None:
    conn.execute(
        "INSERT INTO hook_events(kind, repo, action, received_at) VALUES(?,?,?,?)",
        (kind, repo, action, time.time()),
    )


def pending_hooks(conn: sqlite3.Connection) -> list[HookRow]:
    rows = conn.execute(
        "SELECT id, kind, repo, action, received_at, done_at FROM hook_events "
        "WHERE done_at IS NULL ORDER BY id"
    )
    return [HookRow(*r) for r in rows]


def finish_hooks(conn: sqlite3.Connection, ids: list[int], done_at: float) -> None:
    """Mark deliveries done; keep the last 1,000 for status (lag, last webhook)."""
    conn.executemany("UPDATE hook_events SET done_at=? WHERE id=?", [(done_at, i) for i in ids])
    conn.execute(
        "DELETE FROM hook_events WHERE done_at IS NOT NULL AND id <= "
        "(SELECT MAX(id) FROM hook_events) - 1000"
    )


def recent_hooks(conn: sqlite3.Connection, limit: int = 1000) -> list[HookRow]:
    rows = conn.execute(
        "SELECT id, kind, repo, action, received_at, done_at FROM hook_events "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [HookRow(*r) for r in rows]


def set_sync_state(conn: sqlite3.Connection, state: dict) -> None:
    """The sync loop's interval, last and next poll (meta key `sync`)."""
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('sync', ?)", (json.dumps(state),))


def sync_state(conn: sqlite3.Connection) -> dict:
    row = conn.execute("SELECT value FROM meta WHERE key='sync'").fetchone()
    return json.loads(row[0]) if row else {}


# --- access rules (meta "access": the [access] table of the config, as JSON) ---------------


def access_rules(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key='access'").fetchone()
    return row[0] if row else None


def set_access_rules(conn: sqlite3.Connection, value: str, default: str) -> bool:
    """Store the access rules; a change is a new generation, so every cached snapshot (and
    every permission set derived from it) is dropped at once. True when they changed."""
    with transaction(conn):
        if (access_rules(conn) or default) == value:
            return False
        conn.execute(
            "INSERT INTO meta(key, value) VALUES('access', ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (value,),
        )
        bump_generation(conn)
    return True


# --- API tokens (their own file, tokens.sqlite: an index rebuild must not drop them) -------

_TOKENS_DDL = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,                     -- the public part of the token
    hash TEXT NOT NULL,                      -- sha256 of the whole token, hex
    user TEXT NOT NULL,
    groups TEXT NOT NULL DEFAULT '[]',       -- JSON list
    created_at INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class TokenRow:
    id: str
    hash: str
    user: str
    groups: tuple[str, ...]
    created_at: int


def connect_tokens(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_TOKENS_DDL)
    return conn


def add_token(conn: sqlite3.Connection, row: TokenRow) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO tokens(id, hash, user, groups, created_at) VALUES(?,?,?,?,?)",
            (row.id, row.hash, row.user, json.dumps(list(row.groups)), row.created_at),
        )


def find_token(conn: sqlite3.Connection, token_id: str) -> TokenRow | None:
    found = conn.execute(
        "SELECT id, hash, user, groups, created_at FROM tokens WHERE id=?", (token_id,)
    ).fetchone()
    if found is None:
        return None
    return TokenRow(found[0], found[1], found[2], tuple(json.loads(found[3])), found[4])


def list_tokens(conn: sqlite3.Connection) -> list[TokenRow]:
    rows = conn.execute("SELECT id FROM tokens ORDER BY created_at, id").fetchall()
    return [t for (token_id,) in rows if (t := find_token(conn, token_id))]


def delete_token(conn: sqlite3.Connection, token_id: str) -> bool:
    with transaction(conn):
        return conn.execute("DELETE FROM tokens WHERE id=?", (token_id,)).rowcount > 0


def blob_totals(conn: sqlite3.Connection, keys: Iterable[int] | None = None) -> tuple[int, ...]:
    """(blobs, bytes, symbols, blobs with a parse error) of `keys`, or of every blob."""
    columns = (
        "COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(symbols), 0), "
        "COALESCE(SUM(parse_error != ''), 0)"
    )
    if keys is None:
        return tuple(conn.execute(f"SELECT {columns} FROM blobs").fetchone())
    totals = [0, 0, 0, 0]
    batch = sorted(set(keys))
    for i in range(0, len(batch), 500):
        chunk = batch[i : i + 500]
        marks = ",".join("?" * len(chunk))
        row = conn.execute(f"SELECT {columns} FROM blobs WHERE key IN ({marks})", chunk)
        totals = [t + v for t, v in zip(totals, row.fetchone(), strict=True)]
    return tuple(totals)


# --- dedup reads -------------------------------------------------------------------------
# The dedup job's reads of the fingerprint records, in batches: the kernel has ~1M
# fragments, and one list of every row (or every file record) took gigabytes.

DEDUP_BATCH = 5000


def dedup_signature_rows(
    conn: sqlite3.Connection, sig_bytes: int, min_tokens: int, min_lines: int
) -> Iterator[list[tuple]]:
    """Batches of (rowid, blob_key, kind, symbol, start_line, end_line, tokens, head) of
    fragments of non-generated blobs at or above the minimum size, in (blob, kind, lines)
    order (the blob index gives it with a sort per blob only); `head` is the first
    `sig_bytes` bytes of the record (its signatures)."""
    cursor = conn.execute(
        "SELECT f.rowid, f.blob_key, f.kind, f.symbol, f.start_line, f.end_line, f.tokens, "
        "substr(f.data, 1, ?) FROM fragments f JOIN blobs b ON b.key = f.blob_key "
        "WHERE b.generated = 0 AND f.tokens >= ? AND f.end_line - f.start_line + 1 >= ? "
        "ORDER BY f.blob_key, f.kind, f.start_line, f.end_line, f.rowid",
        (sig_bytes, min_tokens, min_lines),
    )
    while batch := cursor.fetchmany(DEDUP_BATCH):
        yield batch


def dedup_records(conn: sqlite3.Connection, rowids: list[int]) -> list[tuple]:
    """(rowid, blob_key, data) of the fragment records `rowids` (at most 500)."""
    marks = ",".join("?" * len(rowids))
    return conn.execute(
        f"SELECT rowid, blob_key, data FROM fragments WHERE rowid IN ({marks})", rowids
    ).fetchall()


def dedup_file_records(conn: sqlite3.Connection, blob_keys: list[int]) -> list[tuple]:
    """(blob_key, data) of the file records of `blob_keys` (at most 500)."""
    marks = ",".join("?" * len(blob_keys))
    return conn.execute(
        f"SELECT blob_key, data FROM fragments WHERE kind = 'file' AND blob_key IN ({marks})",
        blob_keys,
    ).fetchall()


def dedup_blob_lines(conn: sqlite3.Connection) -> Iterator[tuple[int, int]]:
    """(blob_key, lines) of every blob."""
    yield from conn.execute("SELECT key, lines FROM blobs")
