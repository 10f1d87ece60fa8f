"""What is indexed, when, and what failed: the numbers behind `innersearch status` and
GET /api/v1/status, as one typed StatusReport.

The index part (repos, branches, files, skips, totals) is the snapshot's: read in the
catalog transaction that found its generation. Errors, and the code-host part (sources,
sync: the sync process's live state), are read in one transaction that checks it is still
at the snapshot's generation; the size on disk is measured when asked.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from . import catalog
from .jsonresult import JsonResult
from .store import Snapshot, Store
from .syncstate import NoSyncState, SyncState


@dataclass(slots=True)
class BranchStatus(JsonResult):
    name: str
    commit: str
    committed_at: int | None  # unix time of the indexed commit
    indexed_at: int | None


@dataclass(slots=True)
class RepoStatus(JsonResult):
    name: str
    source: str
    status: str  # ok, error, empty, ...
    error: str | None
    default_branch: str | None
    branches: list[BranchStatus]
    files: int  # on every indexed branch
    skipped: dict[str, int]  # reason -> files not indexed
    last_commit_at: int | None
    indexed_at: int | None


@dataclass(slots=True)
class StatusTotals(JsonResult):
    repos: int
    repos_failed: int
    commits: int  # indexed branches
    files: int
    unique_blobs: int
    source_bytes: int
    symbols: int
    skipped: dict[str, int]
    parse_errors: int


@dataclass(slots=True)
class StatusError(JsonResult):
    repo: str | None  # None: an error of no repo (a source)
    path: str
    stage: str
    message: str
    at: int


@dataclass(slots=True)
class SourceStatus(JsonResult):
    """A code-host source: its last listing and webhooks, and the lag from a webhook's
    arrival to its change being searchable."""

    source: str
    api_url: str
    repos: int
    status: str
    error: str | None
    last_sync_at: int | None
    last_ok_at: int | None
    next_sync_at: float | None
    last_webhook_at: float | None
    webhook_lag_seconds: float | None
    pending_webhooks: int


@dataclass(slots=True)
class StatusReport(JsonResult):
    """With a restricted snapshot only its repos count: index_bytes (a size of everything)
    is then null, and errors that name no repo and the code-host sources (their repo counts
    and webhooks span every repo) are left out."""

    generation: int
    repos: list[RepoStatus]
    totals: StatusTotals
    errors: list[StatusError]
    sources: list[SourceStatus]
    sync: SyncState | NoSyncState  # the sync process's state (sync.py writes it)
    index_bytes: int | None


def _dir_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            # A segment can be merged away while we walk.
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def _catalog_bytes(path: Path) -> int:
    sides = [path, Path(f"{path}-wal")]
    return sum(p.stat().st_size for p in sides if p.exists())


def _sources(r: catalog.Reads, sync: SyncState | None) -> list[SourceStatus]:
    """Per code-host source: last listing, its error, next poll, last webhook and the lag
    from a webhook's arrival to its change being searchable."""
    hooks = r.recent_hooks()
    out = []
    for row in r.host_sources():
        last, lag, pending = webhook_fields(row.label, hooks)
        out.append(
            SourceStatus(
                source=row.label,
                api_url=row.api_url,
                repos=row.repos,
                status="error" if row.error else "ok",
                error=row.error,
                last_sync_at=row.listed_at,
                last_ok_at=row.last_ok_at,
                next_sync_at=sync.next_sync_at if sync else None,
                last_webhook_at=last,
                webhook_lag_seconds=lag,
                pending_webhooks=pending,
            )
        )
    return out


def webhook_fields(
    label: str, hooks: list[catalog.HookRow]
) -> tuple[float | None, float | None, int]:
    """(last webhook, lag of the newest done one, pending) of source `label` (github:acme)
    from the newest-first rows of recent_hooks: one machine's, and `serve --ray`'s from
    the cluster queue's own catalog (web/fanout_status.py)."""
    kind, _, org = label.partition(":")
    prefix = org.lower().rstrip("/") + "/"
    mine = [h for h in hooks if h.kind == kind and h.repo.lower().startswith(prefix)]
    done = [h for h in mine if h.done_at is not None]
    lag = round(done[0].done_at - done[0].received_at, 2) if done else None
    return max((h.received_at for h in mine), default=None), lag, len(mine) - len(done)


def _blob_totals(store: Store, snap: Snapshot) -> tuple[int, ...]:
    """(unique blobs, bytes, symbols, parse errors) of the blobs the snapshot's files name
    (not of every blob in the catalog: an indexing run adds blobs before its files are
    visible); once per permission set and generation. A blob's row never changes."""

    def compute() -> tuple[int, ...]:
        with store.catalog.read() as r:
            return r.blob_totals({f.blob_key for f in snap.files})

    return snap.view.derived("blob_totals", compute)


def status_report(store: Store, snapshot: Snapshot | None = None) -> StatusReport:
    """The status of the index at `snapshot` (default: the store's current state)."""
    snap = snapshot or store.snapshot()
    shown = snap.view.status  # read with the snapshot, filtered with it
    per_repo_files: dict[str, int] = {}
    for f in snap.files:
        per_repo_files[f.repo] = per_repo_files.get(f.repo, 0) + 1
    branches: dict[str, list[BranchStatus]] = {}
    for b in shown.branches:
        branches.setdefault(b.repo, []).append(
            BranchStatus(b.name, b.commit, b.committed_at, b.indexed_at)
        )
    sources: list[SourceStatus] = []
    errors = shown.errors
    with store.catalog.read() as r:
        # Errors are recorded without a new generation (a failed fetch changes nothing
        # indexed): while the catalog is still at the snapshot's generation, the newest are
        # this state's; once it moved on, the snapshot's own are shown.
        if r.generation() == snap.generation:
            errors = [e for e in r.recent_errors() if snap.scope is None or e.repo in snap.repos]
        sync = r.sync_state()
        if snap.scope is None:
            sources = _sources(r, sync)
    index_bytes = None
    if snap.scope is None:
        index_bytes = _dir_bytes(store.data.index_dir) + _catalog_bytes(store.data.catalog_path)
    blobs, source_bytes, symbols, parse_errors = _blob_totals(store, snap)
    repos = [
        RepoStatus(
            name=r.name,
            source=r.source,
            status=r.status,
            error=r.error,
            default_branch=r.default_branch,
            branches=branches.get(r.name, []),
            files=per_repo_files.get(r.name, 0),
            skipped=shown.skipped.get(r.name, {}),
            last_commit_at=r.last_commit_at,
            indexed_at=r.indexed_at,
        )
        for r in snap.repos.values()
    ]
    skipped_total: dict[str, int] = {}
    for counts in shown.skipped.values():
        for reason, n in counts.items():
            skipped_total[reason] = skipped_total.get(reason, 0) + n
    return StatusReport(
        generation=snap.generation,
        repos=repos,
        totals=StatusTotals(
            repos=len(repos),
            repos_failed=sum(1 for r in repos if r.status == "error"),
            commits=sum(len(b) for b in branches.values()),
            files=len(snap.files),
            unique_blobs=blobs,
            source_bytes=source_bytes,
            symbols=symbols,
            skipped=skipped_total,
            parse_errors=parse_errors,
        ),
        errors=[StatusError(e.repo, e.path, e.stage, e.message, e.at) for e in errors],
        sources=sources,
        sync=sync or NoSyncState(),
        index_bytes=index_bytes,
    )
