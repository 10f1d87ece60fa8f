"""What is indexed, when, and what failed: the numbers behind `innersearch status`.

Read-only queries on the catalog plus the index size on disk.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from . import catalog
from .store import Snapshot, Store


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


def _sources(r: catalog.Reads) -> tuple[list[dict], dict]:
    """Per code-host source: last listing, its error, next poll, last webhook and the lag
    from a webhook's arrival to its change being searchable."""
    sync = r.sync_state()
    hooks = r.recent_hooks()
    out = []
    for row in r.host_sources():
        kind, _, org = row.label.partition(":")
        prefix = org.lower().rstrip("/") + "/"
        mine = [h for h in hooks if h.kind == kind and h.repo.lower().startswith(prefix)]
        done = [h for h in mine if h.done_at is not None]
        out.append(
            {
                "source": row.label,
                "api_url": row.api_url,
                "repos": row.repos,
                "status": "error" if row.error else "ok",
                "error": row.error,
                "last_sync_at": row.listed_at,
                "last_ok_at": row.last_ok_at,
                "next_sync_at": sync.get("next_sync_at"),
                "last_webhook_at": max((h.received_at for h in mine), default=None),
                "webhook_lag_seconds": round(done[0].done_at - done[0].received_at, 2)
                if done
                else None,
                "pending_webhooks": len(mine) - len(done),
            }
        )
    return out, sync


def _blob_totals(store: Store, snap: Snapshot) -> tuple[int, ...]:
    """(unique blobs, bytes, symbols, parse errors): of the catalog, or for a restricted
    snapshot of its files' blobs only (once per permission set and generation)."""

    def compute() -> tuple[int, ...]:
        keys = None if snap.scope is None else {f.blob_key for f in snap.files}
        with store.catalog.read() as r:
            return r.blob_totals(keys)

    return snap.view.derived("blob_totals", compute)


def status_report(store: Store, snapshot: Snapshot | None = None) -> dict:
    """{"repos": [...], "totals": {...}, "errors": [...], "sources": [...], "sync": {...},
    "index_bytes", "generation"}. With a restricted `snapshot`, only its repos count:
    index_bytes (a size of everything) is then null, and errors that name no repo and the
    code-host sources (their repo counts and webhooks span every repo) are left out."""
    snap = snapshot or store.snapshot()
    per_repo_files: dict[str, int] = {}
    for f in snap.files:
        per_repo_files[f.repo] = per_repo_files.get(f.repo, 0) + 1
    with store.catalog.read() as r:
        branch_rows = r.branches()
        skipped = r.skipped_counts()
        errors = [
            {"repo": e.repo, "path": e.path, "stage": e.stage, "message": e.message, "at": e.at}
            for e in r.recent_errors()
        ]
        sources, sync = _sources(r)
    branches: dict[str, list[dict]] = {}
    for b in branch_rows:
        branches.setdefault(b.repo, []).append(
            {
                "name": b.name,
                "commit": b.commit,
                "committed_at": b.committed_at,
                "indexed_at": b.indexed_at,
            }
        )
    blob_stats = _blob_totals(store, snap)
    parse_errors = blob_stats[3]
    index_bytes = None
    if snap.scope is None:
        index_bytes = _dir_bytes(store.data.index_dir) + _catalog_bytes(store.data.catalog_path)
    else:
        errors = [e for e in errors if e["repo"] in snap.repos]
        skipped = {r: n for r, n in skipped.items() if r in snap.repos}
        branches = {r: b for r, b in branches.items() if r in snap.repos}
        sources = []
    repos = [
        {
            "name": r.name,
            "source": r.source,
            "status": r.status,
            "error": r.error,
            "default_branch": r.default_branch,
            "branches": branches.get(r.name, []),
            "files": per_repo_files.get(r.name, 0),
            "skipped": skipped.get(r.name, {}),
            "last_commit_at": r.last_commit_at,
            "indexed_at": r.indexed_at,
        }
        for r in snap.repos.values()
    ]
    skipped_total: dict[str, int] = {}
    for counts in skipped.values():
        for reason, n in counts.items():
            skipped_total[reason] = skipped_total.get(reason, 0) + n
    return {
        "generation": snap.generation,
        "repos": repos,
        "totals": {
            "repos": len(repos),
            "repos_failed": sum(1 for r in repos if r["status"] == "error"),
            "commits": sum(len(b) for b in branches.values()),
            "files": len(snap.files),
            "unique_blobs": blob_stats[0],
            "source_bytes": blob_stats[1],
            "symbols": blob_stats[2],
            "skipped": skipped_total,
            "parse_errors": parse_errors,
        },
        "errors": errors,
        "sources": sources,
        "sync": sync,
        "index_bytes": index_bytes,
    }
