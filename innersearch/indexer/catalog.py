"""The SQLite catalog: repos, branches, indexed commits, files, skipped files, errors, fragments.

Every SQL statement of innersearch is here: a Catalog owns the connection and its lock, and
callers use named methods inside `with cat.read() as r:` or `with cat.write() as tx:`.
Files are versioned by generation so a reader sees one consistent state (see snapshot()).
Every commit of the indexer bumps `generation`; a file row is visible at generation G when
gen_added <= G and (gen_removed IS NULL or gen_removed > G). Rows and blobs no longer
visible at the current generation are dropped by collect_garbage() at the next run.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .credentials import redact
from .jsonresult import from_json
from .repoinfo import RepoInfo, info_object
from .syncstate import SyncState

if TYPE_CHECKING:
    from .fingerprints import FragmentRecord

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
        info=info_object(info),
    )


_REPO_COLUMNS = "id, name, source, default_branch, status, error, last_commit_at, indexed_at, info"
# The info column where SQL reads into it: a damaged one (not JSON) reads as {} there too,
# as in repoinfo.info_object, instead of failing the whole statement.
_INFO = "(CASE WHEN json_valid(info) THEN info ELSE '{}' END)"


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


@dataclass(frozen=True)
class BranchRow:
    repo: str
    name: str
    commit: str
    committed_at: int | None
    indexed_at: int


@dataclass(frozen=True)
class ErrorRow:
    repo: str | None
    path: str
    stage: str
    message: str
    at: int


@dataclass(frozen=True)
class BlobRow:
    """What the catalog keeps of one indexed blob (its documents are in tantivy)."""

    key: int
    oid: str
    size: int
    lang: str
    lines: int
    symbols: int
    generated: bool
    parse_error: str


# A file row as the indexer writes it: path -> (blob_key, lang, flags).
FileEntry = tuple[int, str, int]
# A file the indexer skipped: (path, reason, size).
SkipEntry = tuple[str, str, int]

_CHUNK = 500  # values per `IN (...)`: under SQLite's limit on bound parameters


def _chunks(values: Iterable[int]) -> Iterator[list[int]]:
    batch = list(values)
    for i in range(0, len(batch), _CHUNK):
        yield batch[i : i + _CHUNK]


def _marks(chunk: list) -> str:
    return ",".join("?" * len(chunk))


def _connect(path: Path, ddl: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(ddl)
    return conn


class Reads:
    """The named reads of the catalog, inside one transaction (Catalog.read/write)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _value(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    # -- generations, meta -----------------------------------------------------------

    def generation(self) -> int:
        value = self._value("generation")
        return int(value) if value else 0

    def meta_value(self, key: str) -> str | None:
        return self._value(key)

    def remembered_sources(self) -> list[str] | None:
        """The sources of the last run that named some (meta key `sources`)."""
        value = self._value("sources")
        return json.loads(value) if value else None

    def access_rules(self) -> str | None:
        """The [access] table of the config, as JSON (meta key `access`)."""
        return self._value("access")

    def state_version(self) -> int:
        """Bumped by a repo state change that commits no generation (a failed mirror or
        index run): snapshots are cached per (generation, state_version)."""
        value = self._value("state_version")
        return int(value) if value else 0

    def sync_state(self) -> SyncState | None:
        """What the sync process last wrote (meta key `sync`); None before it first ran."""
        value = self._value("sync")
        if not value:
            return None
        try:
            return from_json(SyncState, json.loads(value))
        except ValueError:  # written by another version: as if not yet written
            return None

    # -- repos, branches, files ------------------------------------------------------

    def repos(self) -> list[RepoRow]:
        rows = self._conn.execute(f"SELECT {_REPO_COLUMNS} FROM repos ORDER BY name").fetchall()
        return [repo_from_row(r) for r in rows]

    def repo_info(self, repo_id: int) -> RepoInfo:
        """The stored info of one repo (nothing in it for a new one)."""
        row = self._conn.execute("SELECT info FROM repos WHERE id=?", (repo_id,)).fetchone()
        return RepoInfo.from_column(row[0] if row else None)

    def repo_branch_commits(self, repo_id: int) -> dict[str, str]:
        """branch -> indexed commit, of one repo."""
        rows = self._conn.execute(
            "SELECT name, commit_id FROM branches WHERE repo_id=?", (repo_id,)
        )
        return dict(rows.fetchall())

    def branches(self) -> list[BranchRow]:
        """Every indexed branch, in (repo, branch) order."""
        rows = self._conn.execute(
            "SELECT r.name, b.name, b.commit_id, b.committed_at, b.indexed_at FROM branches b "
            "JOIN repos r ON r.id = b.repo_id ORDER BY r.name, b.name"
        )
        return [BranchRow(*r) for r in rows]

    def default_branch_commits(self) -> dict[str, str]:
        """repo name -> the indexed commit of its default branch."""
        rows = self._conn.execute(
            "SELECT r.name, b.commit_id FROM repos r JOIN branches b "
            "ON b.repo_id = r.id AND b.name = r.default_branch"
        )
        return dict(rows.fetchall())

    def live_files(self, gen: int) -> Iterator[FileRow]:
        """Every file visible at generation `gen`, in (repo, branch, path) order."""
        cur = self._conn.execute(
            "SELECT r.name, f.branch, f.path, f.blob_key, f.lang, f.flags FROM files f "
            "JOIN repos r ON r.id = f.repo_id "
            "WHERE f.gen_added <= ? AND (f.gen_removed IS NULL OR f.gen_removed > ?) "
            "ORDER BY r.name, f.branch, f.path",
            (gen, gen),
        )
        for row in cur:
            yield FileRow(*row)

    def branch_files(self, repo_id: int, branch: str) -> dict[str, int]:
        """path -> blob_key of the live files of one branch."""
        rows = self._conn.execute(
            "SELECT path, blob_key FROM files WHERE repo_id=? AND branch=? AND gen_removed IS NULL",
            (repo_id, branch),
        )
        return dict(rows.fetchall())

    def branch_file_rows(
        self, repo_id: int, branch: str, paths: Iterable[str] | None = None
    ) -> dict[str, tuple[int, str, int, int]]:
        """path -> (blob_key, lang, flags, size) of the live files of one branch; with
        `paths`, of those paths only (a diff's: no pass over the whole branch)."""
        select = (
            "SELECT f.path, f.blob_key, f.lang, f.flags, COALESCE(b.size, 0) FROM files f "
            "LEFT JOIN blobs b ON b.key = f.blob_key "
            "WHERE f.repo_id=? AND f.branch=? AND f.gen_removed IS NULL"
        )
        if paths is None:
            rows = self._conn.execute(select, (repo_id, branch)).fetchall()
        else:
            rows = []
            for chunk in _chunks(paths):
                rows += self._conn.execute(
                    f"{select} AND f.path IN ({_marks(chunk)})", (repo_id, branch, *chunk)
                ).fetchall()
        return {path: (key, lang, flags, size) for path, key, lang, flags, size in rows}

    def branch_skipped(self, repo_id: int, branch: str) -> list[SkipEntry]:
        """(path, reason, size) of the files of one branch that were not indexed."""
        rows = self._conn.execute(
            "SELECT path, reason, size FROM skipped WHERE repo_id=? AND branch=?",
            (repo_id, branch),
        )
        return rows.fetchall()

    def skipped_counts(self) -> dict[str, dict[str, int]]:
        """repo -> reason -> files skipped for it."""
        out: dict[str, dict[str, int]] = {}
        for repo, reason, n in self._conn.execute(
            "SELECT r.name, s.reason, COUNT(*) FROM skipped s JOIN repos r ON r.id = s.repo_id "
            "GROUP BY r.name, s.reason"
        ):
            out.setdefault(repo, {})[reason] = n
        return out

    def recent_errors(self, limit: int = 200) -> list[ErrorRow]:
        """The newest errors first; `repo` is None for errors of no repo (a source)."""
        rows = self._conn.execute(
            "SELECT r.name, e.path, e.stage, e.message, e.at FROM errors e "
            "LEFT JOIN repos r ON r.id = e.repo_id ORDER BY e.at DESC LIMIT ?",
            (limit,),
        )
        return [ErrorRow(*r) for r in rows]

    def repo_blob_keys(self, repo_id: int) -> set[int]:
        """Blob keys the live files of one repo name."""
        rows = self._conn.execute(
            "SELECT DISTINCT blob_key FROM files WHERE repo_id=? AND gen_removed IS NULL",
            (repo_id,),
        )
        return {k for (k,) in rows}

    # -- blobs and fragments ---------------------------------------------------------

    def known_blobs(self, keys: Iterable[int]) -> dict[int, tuple[str, bool]]:
        """key -> (lang, generated) for the keys the catalog (and so the index) already holds."""
        found: dict[int, tuple[str, bool]] = {}
        for chunk in _chunks(keys):
            rows = self._conn.execute(
                f"SELECT key, lang, generated FROM blobs WHERE key IN ({_marks(chunk)})", chunk
            )
            found.update((k, (lang, bool(gen))) for k, lang, gen in rows)
        return found

    def blob_keys(self) -> set[int]:
        """Every blob the catalog holds."""
        return {k for (k,) in self._conn.execute("SELECT key FROM blobs")}

    def blob_lines(self) -> dict[int, int]:
        """blob_key -> lines, of every blob."""
        return dict(self._conn.execute("SELECT key, lines FROM blobs").fetchall())

    def blob_totals(self, keys: Iterable[int] | None = None) -> tuple[int, ...]:
        """(blobs, bytes, symbols, blobs with a parse error) of `keys`, or of every blob."""
        columns = (
            "COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(symbols), 0), "
            "COALESCE(SUM(parse_error != ''), 0)"
        )
        if keys is None:
            return tuple(self._conn.execute(f"SELECT {columns} FROM blobs").fetchone())
        totals = [0, 0, 0, 0]
        for chunk in _chunks(sorted(set(keys))):
            row = self._conn.execute(
                f"SELECT {columns} FROM blobs WHERE key IN ({_marks(chunk)})", chunk
            )
            totals = [t + v for t, v in zip(totals, row.fetchone(), strict=True)]
        return tuple(totals)

    def blob_rows(self, keys: Iterable[int]) -> list[tuple[int, int, int, bool]]:
        """(key, bytes, symbols, has a parse error) of each of `keys`: what blob_totals sums,
        per blob, for totals over several catalogs (a blob two shards hold counts once)."""
        out: list[tuple[int, int, int, bool]] = []
        for chunk in _chunks(sorted(set(keys))):
            out += self._conn.execute(
                "SELECT key, COALESCE(size, 0), COALESCE(symbols, 0), "
                "COALESCE(parse_error != '', 0) FROM blobs "
                f"WHERE key IN ({_marks(chunk)})",
                chunk,
            ).fetchall()
        return out

    def fragment_signature_batches(
        self, prefix_bytes: int, min_tokens: int, min_lines: int, batch: int = 5000
    ) -> Iterator[list[tuple]]:
        """Batches of (rowid, blob_key, kind, symbol, start_line, end_line, tokens, head) of
        the fragments of non-generated blobs at or above a size, in (blob, kind, lines)
        order; `head` is the first `prefix_bytes` of the record (its signatures: the token
        streams stay on disk). Batches, not one list: the kernel has ~1M fragments."""
        cursor = self._conn.execute(
            "SELECT f.rowid, f.blob_key, f.kind, f.symbol, f.start_line, f.end_line, f.tokens, "
            "substr(f.data, 1, ?) FROM fragments f JOIN blobs b ON b.key = f.blob_key "
            "WHERE b.generated = 0 AND f.tokens >= ? AND f.end_line - f.start_line + 1 >= ? "
            "ORDER BY f.blob_key, f.kind, f.start_line, f.end_line, f.rowid",
            (prefix_bytes, min_tokens, min_lines),
        )
        while rows := cursor.fetchmany(batch):
            yield rows

    def fragment_records(self, rowids: Iterable[int]) -> list[tuple[int, int, bytes]]:
        """(rowid, blob_key, whole record) of these fragments."""
        out: list[tuple[int, int, bytes]] = []
        for chunk in _chunks(rowids):
            out.extend(
                self._conn.execute(
                    f"SELECT rowid, blob_key, data FROM fragments WHERE rowid IN ({_marks(chunk)})",
                    chunk,
                )
            )
        return out

    def file_records(self, blob_keys: Iterable[int] | None = None) -> list[tuple[int, bytes]]:
        """(blob_key, record) of the file-level fragments of these blobs (None: all)."""
        select = "SELECT blob_key, data FROM fragments WHERE kind = 'file'"
        if blob_keys is None:
            return self._conn.execute(select).fetchall()
        out: list[tuple[int, bytes]] = []
        for chunk in _chunks(blob_keys):
            out.extend(self._conn.execute(f"{select} AND blob_key IN ({_marks(chunk)})", chunk))
        return out

    # -- code hosts and sync ---------------------------------------------------------

    def host_detail_times(self) -> dict[str, int | None]:
        """name -> when the host was last asked for the repo's readers and parent."""
        rows = self._conn.execute(
            f"SELECT name, json_extract({_INFO}, '$.host.detail_at') FROM repos "
            f"WHERE json_extract({_INFO}, '$.host.kind') IS NOT NULL"
        )
        return dict(rows.fetchall())

    def host_pushes(self) -> dict[str, int | None]:
        """name -> the host's last push time, for repos indexed without error from a host."""
        rows = self._conn.execute(
            f"SELECT name, json_extract({_INFO}, '$.host.pushed_at') FROM repos "
            f"WHERE status='ok' AND json_extract({_INFO}, '$.host.kind') IS NOT NULL"
        )
        return dict(rows.fetchall())

    def host_sources(self) -> list[HostSourceRow]:
        rows = self._conn.execute(
            "SELECT label, api_url, repos, error, seconds, listed_at, last_ok_at "
            "FROM host_sources ORDER BY label"
        )
        return [HostSourceRow(*r) for r in rows]

    def pending_hooks(self) -> list[HookRow]:
        rows = self._conn.execute(
            "SELECT id, kind, repo, action, received_at, done_at FROM hook_events "
            "WHERE done_at IS NULL ORDER BY id"
        )
        return [HookRow(*r) for r in rows]

    def recent_hooks(self, limit: int = 1000) -> list[HookRow]:
        rows = self._conn.execute(
            "SELECT id, kind, repo, action, received_at, done_at FROM hook_events "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [HookRow(*r) for r in rows]


class Writes(Reads):
    """The named writes of the catalog, inside one write transaction (Catalog.write)."""

    def _set(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def bump_generation(self) -> int:
        gen = self.generation() + 1
        self._set("generation", str(gen))
        return gen

    def set_meta(self, key: str, value: str) -> None:
        self._set(key, value)

    def remember_sources(self, sources: list[str]) -> None:
        self._set("sources", json.dumps(sources))

    def set_sync_state(self, state: SyncState) -> None:
        """The sync loop's interval, last and next poll (meta key `sync`)."""
        self._set("sync", json.dumps(state.to_json()))

    def set_access_rules(self, value: str, default: str) -> bool:
        """Store the access rules; a change is a new generation, so every cached snapshot
        (and every permission set derived from it) is dropped at once. True if changed."""
        if (self.access_rules() or default) == value:
            return False
        self._set("access", value)
        self.bump_generation()
        return True

    # -- repos -----------------------------------------------------------------------

    def ensure_repo(self, name: str, source: str) -> int:
        self._conn.execute(
            "INSERT INTO repos(name, source) VALUES(?, ?) "
            "ON CONFLICT(name) DO UPDATE SET source=excluded.source",
            (name, source),
        )
        return self._conn.execute("SELECT id FROM repos WHERE name=?", (name,)).fetchone()[0]

    def set_repo_state(self, repo_id: int, status: str, error: str) -> None:
        """The repo's status and error (a failure: the rest of what it had stays). Nothing
        indexed changes, so no generation; a change bumps state_version instead, which a
        server's cached snapshot checks (else it would show "ok" until the next commit)."""
        self._bump_state_version_on_change(repo_id, status, error)
        self._conn.execute(
            "UPDATE repos SET status=?, error=? WHERE id=?", (status, error, repo_id)
        )

    def set_repo_head(
        self, repo_id: int, status: str, error: str, default_branch: str | None
    ) -> None:
        """The repo's status and error, and its default branch as the mirror says (None:
        the mirror has no HEAD branch). A repo fixed with no new commit goes back to "ok"
        here, with no generation either: state_version again."""
        self._bump_state_version_on_change(repo_id, status, error)
        self._conn.execute(
            "UPDATE repos SET status=?, error=?, default_branch=? WHERE id=?",
            (status, error, default_branch, repo_id),
        )

    def _bump_state_version_on_change(self, repo_id: int, status: str, error: str) -> None:
        row = self._conn.execute(
            "SELECT status, error FROM repos WHERE id=?", (repo_id,)
        ).fetchone()
        if row is not None and tuple(row) == (status, error or ""):
            return  # a repo failing the same way every poll: the cached snapshots stay
        self._set("state_version", str(self.state_version() + 1))

    def set_repo_indexed(
        self, repo_id: int, indexed_at: int, last_commit_at: int | None = None
    ) -> None:
        """When the repo was indexed; the time of its newest commit when that changed."""
        self._conn.execute("UPDATE repos SET indexed_at=? WHERE id=?", (indexed_at, repo_id))
        if last_commit_at is not None:
            self._conn.execute(
                "UPDATE repos SET last_commit_at=? WHERE id=?", (last_commit_at, repo_id)
            )

    def set_repo_info(self, repo_id: int, info: RepoInfo) -> None:
        """Replace what indexing found (owners, languages...); what the host said is kept."""
        host = self.repo_info(repo_id).host
        if host is not None:
            info = dataclasses.replace(info, host=host)
        self._conn.execute("UPDATE repos SET info=? WHERE id=?", (info.to_column(), repo_id))

    def set_host_info(self, repo_id: int, host: dict, keep_detail: bool) -> None:
        """Store what the code host says; `keep_detail`: the listing did not ask for readers
        and parent (the repo did not change), so the stored ones stay."""
        info = self.repo_info(repo_id)
        old = info.host or {}
        if keep_detail:
            host = {**host, "readers": old.get("readers", host["readers"])}
            host["parent"] = old.get("parent", host["parent"]) if host["fork"] else None
            host["detail_at"] = old.get("detail_at")
        info.host = host
        self._conn.execute("UPDATE repos SET info=? WHERE id=?", (info.to_column(), repo_id))

        def said(h: dict) -> dict:
            return {k: v for k, v in h.items() if k != "detail_at"}

        if said(host) != said(old):
            # Readers and visibility decide who sees the repo: a change must reach every
            # server process now, not with the next commit, so it is a new generation
            # (snapshots and permission views are cached per generation).
            self.bump_generation()

    def record_error(self, repo_id: int | None, stage: str, message: str, path: str = "") -> None:
        self._conn.execute(
            "INSERT INTO errors(repo_id, path, stage, message, at) VALUES(?,?,?,?,?)",
            (repo_id, path, stage, message, int(time.time())),
        )

    def remove_repo(self, repo_id: int, gen: int) -> set[int]:
        """The repo and its rows leave the catalog; its files stop at `gen`. Returns the blob
        keys its files named (garbage candidates)."""
        dropped = self.repo_blob_keys(repo_id)
        self._conn.execute(
            "UPDATE files SET gen_removed=? WHERE repo_id=? AND gen_removed IS NULL",
            (gen, repo_id),
        )
        self._conn.execute("DELETE FROM skipped WHERE repo_id=?", (repo_id,))
        self._conn.execute("DELETE FROM errors WHERE repo_id=?", (repo_id,))
        self._conn.execute("DELETE FROM repos WHERE id=?", (repo_id,))
        return dropped

    # -- branches and files ----------------------------------------------------------

    def switch_branch_files(
        self, repo_id: int, branch: str, files: dict[str, FileEntry], gen: int
    ) -> set[int]:
        """The branch's files become `files` from generation `gen` on: changed and removed
        rows end at `gen`, new ones start there. Returns the blob keys rows stopped naming."""
        old = self.branch_files(repo_id, branch)
        dropped: set[int] = set()
        for path, key in old.items():
            if path not in files or files[path][0] != key:
                dropped.add(key)
                self._conn.execute(
                    "UPDATE files SET gen_removed=? WHERE repo_id=? AND branch=? AND"
                    " path=? AND gen_removed IS NULL",
                    (gen, repo_id, branch, path),
                )
        self._conn.executemany(
            "INSERT INTO files(repo_id, branch, path, blob_key, lang, flags, gen_added)"
            " VALUES(?,?,?,?,?,?,?)",
            [
                (repo_id, branch, path, key, lang, flags, gen)
                for path, (key, lang, flags) in files.items()
                if old.get(path) != key
            ],
        )
        return dropped

    def update_branch_files(
        self,
        repo_id: int,
        branch: str,
        files: dict[str, FileEntry],
        removed: Iterable[str],
        gen: int,
    ) -> set[int]:
        """A diff applied from generation `gen` on: the rows of `removed` paths end (unless
        `files` names the same blob), `files` (the new and changed ones) start. O(changed
        files), not of the branch. Returns the blob keys rows stopped naming."""
        old: dict[str, int] = {}
        for chunk in _chunks(sorted(set(removed) | set(files))):
            old.update(
                self._conn.execute(
                    "SELECT path, blob_key FROM files WHERE repo_id=? AND branch=? AND "
                    f"gen_removed IS NULL AND path IN ({_marks(chunk)})",
                    (repo_id, branch, *chunk),
                ).fetchall()
            )
        dropped: set[int] = set()
        for path, key in old.items():
            if path not in files or files[path][0] != key:
                dropped.add(key)
                self._conn.execute(
                    "UPDATE files SET gen_removed=? WHERE repo_id=? AND branch=? AND"
                    " path=? AND gen_removed IS NULL",
                    (gen, repo_id, branch, path),
                )
        self._conn.executemany(
            "INSERT INTO files(repo_id, branch, path, blob_key, lang, flags, gen_added)"
            " VALUES(?,?,?,?,?,?,?)",
            [
                (repo_id, branch, path, key, lang, flags, gen)
                for path, (key, lang, flags) in files.items()
                if old.get(path) != key
            ],
        )
        return dropped

    def update_skipped(
        self, repo_id: int, branch: str, removed: Iterable[str], skips: Iterable[SkipEntry]
    ) -> None:
        """A diff applied to the skipped files: the rows of `removed` paths go, `skips` (of
        the new and changed paths) come."""
        for chunk in _chunks(sorted(set(removed))):
            self._conn.execute(
                f"DELETE FROM skipped WHERE repo_id=? AND branch=? AND path IN ({_marks(chunk)})",
                (repo_id, branch, *chunk),
            )
        self._conn.executemany(
            "INSERT INTO skipped(repo_id, branch, path, reason, size) VALUES(?,?,?,?,?)",
            [(repo_id, branch, p, r, s) for p, r, s in skips],
        )

    def replace_skipped(self, repo_id: int, branch: str, skips: Iterable[SkipEntry]) -> None:
        self._conn.execute("DELETE FROM skipped WHERE repo_id=? AND branch=?", (repo_id, branch))
        self._conn.executemany(
            "INSERT INTO skipped(repo_id, branch, path, reason, size) VALUES(?,?,?,?,?)",
            [(repo_id, branch, p, r, s) for p, r, s in skips],
        )

    def set_branch_commit(
        self, repo_id: int, branch: str, commit: str, committed_at: int | None, indexed_at: int
    ) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO branches(repo_id, name, commit_id, committed_at, indexed_at)"
            " VALUES(?,?,?,?,?)",
            (repo_id, branch, commit, committed_at, indexed_at),
        )

    def drop_branch(self, repo_id: int, branch: str, gen: int) -> set[int]:
        """The branch's files end at `gen`; returns the blob keys they named."""
        dropped = set(self.branch_files(repo_id, branch).values())
        self._conn.execute(
            "UPDATE files SET gen_removed=? WHERE repo_id=? AND branch=? AND gen_removed IS NULL",
            (gen, repo_id, branch),
        )
        self._conn.execute("DELETE FROM skipped WHERE repo_id=? AND branch=?", (repo_id, branch))
        self._conn.execute("DELETE FROM branches WHERE repo_id=? AND name=?", (repo_id, branch))
        return dropped

    # -- blobs, fragments, garbage ---------------------------------------------------

    def add_blob(self, blob: BlobRow, fragments: Iterable[FragmentRecord]) -> None:
        """A blob tantivy has committed, with its fingerprinted fragments (replaced)."""
        self._conn.execute(
            "INSERT OR REPLACE INTO blobs(key, oid, size, lang, lines, symbols, generated,"
            " parse_error) VALUES(?,?,?,?,?,?,?,?)",
            (
                blob.key,
                blob.oid,
                blob.size,
                blob.lang,
                blob.lines,
                blob.symbols,
                int(blob.generated),
                blob.parse_error,
            ),
        )
        self._conn.execute("DELETE FROM fragments WHERE blob_key=?", (blob.key,))
        self._conn.executemany(
            "INSERT INTO fragments(blob_key, kind, symbol, start_line, end_line, tokens, data)"
            " VALUES(?,?,?,?,?,?,?)",
            [
                (blob.key, f.kind, f.symbol, f.start_line, f.end_line, f.tokens, f.data)
                for f in fragments
            ],
        )

    def drop_removed_files(self, gen: int) -> None:
        """File rows no reader at generation `gen` or later can see."""
        self._conn.execute(
            "DELETE FROM files WHERE gen_removed IS NOT NULL AND gen_removed <= ?", (gen,)
        )

    def drop_unreferenced_blobs(self, keys: Iterable[int]) -> list[int]:
        """Of `keys`, the blobs no file row names any more: their blob and fragment rows are
        deleted and their keys returned (for the index)."""
        dead = []
        for key in sorted(set(keys)):
            if self._conn.execute(
                "SELECT 1 FROM files WHERE blob_key=? LIMIT 1", (key,)
            ).fetchone():
                continue
            self._conn.execute("DELETE FROM fragments WHERE blob_key=?", (key,))
            self._conn.execute("DELETE FROM blobs WHERE key=?", (key,))
            dead.append(key)
        return dead

    def drop_all_unreferenced_blobs(self) -> None:
        """Every blob and fragment no file row names (the sweep after an unfinished run)."""
        self._conn.execute(
            "DELETE FROM fragments WHERE blob_key NOT IN (SELECT blob_key FROM files)"
        )
        self._conn.execute("DELETE FROM blobs WHERE key NOT IN (SELECT blob_key FROM files)")

    # -- code hosts and sync ---------------------------------------------------------

    def record_host_listing(
        self, label: str, api_url: str, repos: int | None, error: str, seconds: float
    ) -> None:
        """The last listing of a source; `repos` None: a partial one (webhook pushes only),
        which keeps the count of the last full listing (0 before any)."""
        now = int(time.time())
        counted = repos is not None and not error
        self._conn.execute(
            "INSERT INTO host_sources(label, api_url, repos, error, seconds, listed_at,"
            " last_ok_at) VALUES(?,?,?,?,?,?,?) ON CONFLICT(label) DO UPDATE SET"
            " api_url=excluded.api_url,"
            " repos=CASE WHEN ? THEN excluded.repos ELSE host_sources.repos END,"
            " error=excluded.error, seconds=excluded.seconds, listed_at=excluded.listed_at,"
            " last_ok_at=COALESCE(excluded.last_ok_at, host_sources.last_ok_at)",
            (label, api_url, repos or 0, error, seconds, now, None if error else now, counted),
        )

    def enqueue_hook(self, kind: str, repo: str, action: str) -> None:
        self._conn.execute(
            "INSERT INTO hook_events(kind, repo, action, received_at) VALUES(?,?,?,?)",
            (kind, repo, action, time.time()),
        )

    def finish_hooks(self, ids: list[int], done_at: float) -> None:
        """Mark deliveries done; keep the last 1,000 for status (lag, last webhook)."""
        self._conn.executemany(
            "UPDATE hook_events SET done_at=? WHERE id=?", [(done_at, i) for i in ids]
        )
        self._conn.execute(
            "DELETE FROM hook_events WHERE done_at IS NOT NULL AND id <= "
            "(SELECT MAX(id) FROM hook_events) - 1000"
        )


class Catalog:
    """The catalog file: one connection and its lock; every statement goes through read()
    or write(), so the connection is never shared half-way through a transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = _connect(path, _DDL)
        self._lock = threading.Lock()
        self._owner: int | None = None  # the thread inside a transaction

    @contextmanager
    def _held(self) -> Iterator[None]:
        # A transaction opened inside another of the same thread would wait for itself
        # forever (the lock is not reentrant, and SQLite has no nested BEGIN): say so.
        if self._owner == threading.get_ident():
            raise RuntimeError("a catalog transaction is already open in this thread")
        with self._lock:
            self._owner = threading.get_ident()
            try:
                yield
            finally:
                self._owner = None

    @contextmanager
    def read(self) -> Iterator[Reads]:
        """A read transaction: every query inside sees the same committed state."""
        with self._held():
            self._conn.execute("BEGIN")
            try:
                yield Reads(self._conn)
            finally:
                self._conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[Writes]:
        """A write transaction (BEGIN IMMEDIATE: one writer at a time across processes),
        rolled back when the block raises."""
        with self._held():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Writes(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


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


class TokenFile:
    """tokens.sqlite: one connection behind a lock, each method one statement."""

    def __init__(self, path: Path) -> None:
        self._conn = _connect(path, _TOKENS_DDL)
        self._lock = threading.Lock()

    def add(self, row: TokenRow) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO tokens(id, hash, user, groups, created_at) VALUES(?,?,?,?,?)",
                (row.id, row.hash, row.user, json.dumps(list(row.groups)), row.created_at),
            )

    def find(self, token_id: str) -> TokenRow | None:
        with self._lock:
            found = self._conn.execute(
                "SELECT id, hash, user, groups, created_at FROM tokens WHERE id=?", (token_id,)
            ).fetchone()
        if found is None:
            return None
        return TokenRow(found[0], found[1], found[2], tuple(json.loads(found[3])), found[4])

    def all(self) -> list[TokenRow]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, hash, user, groups, created_at FROM tokens ORDER BY created_at, id"
            ).fetchall()
        return [TokenRow(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4]) for r in rows]

    def delete(self, token_id: str) -> bool:
        with self._lock:
            return self._conn.execute("DELETE FROM tokens WHERE id=?", (token_id,)).rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()
