"""What is indexed, when, and what failed: the numbers behind `innersearch status`.

Read-only queries on the catalog plus the index size on disk.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from . import catalog
from .store import Store


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


def _sources(conn) -> tuple[list[dict], dict]:
    """Per code-host source: last listing, its error, next poll, last webhook and the lag
    from a webhook's arrival to its change being searchable."""
    sync = catalog.sync_state(conn)
    hooks = catalog.recent_hooks(conn)
    out = []
    for row in catalog.host_sources(conn):
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


def status_report(store: Store) -> dict:
    """{"repos": [...], "totals": {...}, "errors": [...], "sources": [...], "sync": {...},
    "index_bytes", "generation"}."""
    snap = store.snapshot()
    conn = store.catalog()
    with store.lock:
        per_repo_files: dict[str, int] = {}
        for f in snap.files:
            per_repo_files[f.repo] = per_repo_files.get(f.repo, 0) + 1
        branches: dict[str, list[dict]] = {}
        for repo, branch, commit, committed_at, indexed_at in conn.execute(
            "SELECT r.name, b.name, b.commit_id, b.committed_at, b.indexed_at FROM branches b "
            "JOIN repos r ON r.id = b.repo_id ORDER BY r.name, b.name"
        ):
            branches.setdefault(repo, []).append(
                {
                    "name": branch,
                    "commit": commit,
                    "committed_at": committed_at,
                    "indexed_at": indexed_at,
                }
            )
        skipped: dict[str, dict[str, int]] = {}
        for repo, reason, n in conn.execute(
            "SELECT r.name, s.reason, COUNT(*) FROM skipped s JOIN repos r ON r.id = s.repo_id "
            "GROUP BY r.name, s.reason"
        ):
            skipped.setdefault(repo, {})[reason] = n
        errors = [
            {"repo": repo, "path": path, "stage": stage, "message": message, "at": at}
            for repo, path, stage, message, at in conn.execute(
                "SELECT r.name, e.path, e.stage, e.message, e.at FROM errors e "
                "LEFT JOIN repos r ON r.id = e.repo_id ORDER BY e.at DESC LIMIT 200"
            )
        ]
        sources, sync = _sources(conn)
        parse_errors = conn.execute(
            "SELECT COUNT(*) FROM blobs WHERE parse_error != ''"
        ).fetchone()[0]
        blob_stats = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(symbols), 0) FROM blobs"
        ).fetchone()
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
        "index_bytes": _dir_bytes(store.data.index_dir) + _catalog_bytes(store.data.catalog_path),
    }
