"""`serve --ray`: GET /api/v1/status over the shards, equal to one machine's status of the
same repos, with `partial`, `partial_shards` and `shards`.

Each shard reports its own repos (status_report on its snapshot, restricted to the reader);
the gateway adds them up. Blob totals cannot be added: a blob held by repos on two shards
is one blob, so each shard also sends its blobs' rows (keys and sizes) and the gateway
counts their union, kept per the shards' generations and the reader's repos (docs/scale.md).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

import numpy as np
from flask import Blueprint, current_app, jsonify

from innersearch.indexer.catalog import HookRow
from innersearch.indexer.status import (
    SourceStatus,
    StatusReport,
    StatusTotals,
    status_report,
    webhook_fields,
)
from innersearch.indexer.store import Snapshot, Store
from innersearch.indexer.syncstate import NoSyncState, SyncState
from innersearch.search.sharded import covered, sharded

from .fanout_calls import answers, backend, on_all, readable

bp = Blueprint("api_status", __name__, url_prefix="/api/v1")

MAX_ERRORS = 200  # catalog.recent_errors' limit: one machine shows its newest 200
MAX_TOTALS = 64  # blob totals kept (per shard generations and reader's repos)
TOTALS = "innersearch.fanout.blob_totals"


ShardedStatusReport = sharded(
    StatusReport,
    "The status of every shard's repos as one machine's, and the shards it covers; "
    "`generation` is the sum of the shards' (it moves whenever one does).",
    __name__,
)


@dataclass(frozen=True)
class BlobRows:
    """A shard's blobs (of its snapshot's files): key, bytes, symbols, parse error."""

    keys: np.ndarray
    size: np.ndarray
    symbols: np.ndarray
    parse_error: np.ndarray


@dataclass(frozen=True)
class StatusPart:
    """What a shard sends: its own status, and its blobs' rows when asked for."""

    report: StatusReport
    blobs: BlobRows | None


# -- what a shard runs (module-level: Ray sends it by name) ---------------------------------


def _status_part(store: Store, snap: Snapshot, with_blobs: bool) -> StatusPart:
    return StatusPart(status_report(store, snap), _blob_rows(store, snap) if with_blobs else None)


def _blob_rows(store: Store, snap: Snapshot) -> BlobRows:
    def compute() -> BlobRows:
        with store.catalog.read() as r:
            rows = r.blob_rows({f.blob_key for f in snap.files})
        cols = np.array(rows, dtype=np.int64).reshape(-1, 4)
        return BlobRows(cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3].astype(bool))

    # Once per generation and permission set, like the shard's own blob totals.
    return snap.view.derived("blob_rows", compute)


# -- the route ------------------------------------------------------------------------------


@bp.get("/status")
def status_route():
    return jsonify(status_document().to_json())


def status_document() -> ShardedStatusReport:
    """The status of every shard's repos the reader may read, added up (the route's and the
    status page's ShardedStatusReport)."""
    who, fan = readable(), backend()
    key = (fan.generations(), who)
    cache, lock = current_app.extensions[TOTALS]
    with lock:
        totals = cache.get(key)
    found = on_all(_status_part, (totals is None,), merged=False)
    parts = [p for p in answers(found).values()]
    if totals is None:
        totals = blob_totals([p.blobs for p in parts])
        # Kept only when whole and of the generations asked (a refresh may have moved them).
        if not found.missing and fan.generations() == key[0]:
            with lock:
                if len(cache) >= MAX_TOTALS:
                    cache.clear()
                cache[key] = totals
    merged = merge_status([p.report for p in parts], totals, fan.recent_hooks())
    return covered(merged, ShardedStatusReport, found.partial())


def install(app) -> None:
    app.extensions[TOTALS] = ({}, threading.Lock())
    app.register_blueprint(bp)


# -- merges ---------------------------------------------------------------------------------


def blob_totals(parts: list[BlobRows]) -> tuple[int, int, int, int]:
    """(unique blobs, bytes, symbols, parse errors) of the union of the shards' blobs."""
    if not parts:
        return 0, 0, 0, 0
    keys = np.concatenate([p.keys for p in parts])
    _keys, first = np.unique(keys, return_index=True)

    def total(name: str) -> int:
        return int(np.concatenate([getattr(p, name) for p in parts])[first].sum())

    return len(first), total("size"), total("symbols"), total("parse_error")


def merge_status(
    parts: list[StatusReport], blobs: tuple[int, int, int, int], hooks: list[HookRow]
) -> StatusReport:
    """One machine's status from the shards' (each of its own repos): repos by name, counts
    summed, the newest errors first, a code-host source's listings merged (merge_sources),
    its webhook fields from `hooks` (the cluster queue's catalog)."""
    repos = sorted((r for p in parts for r in p.repos), key=lambda r: r.name)
    skipped: dict[str, int] = {}
    for p in parts:
        for reason, n in p.totals.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
    unique_blobs, source_bytes, symbols, parse_errors = blobs
    totals = StatusTotals(
        repos=len(repos),
        repos_failed=sum(p.totals.repos_failed for p in parts),
        commits=sum(p.totals.commits for p in parts),
        files=sum(p.totals.files for p in parts),
        unique_blobs=unique_blobs,
        source_bytes=source_bytes,
        symbols=symbols,
        skipped=skipped,
        parse_errors=parse_errors,
    )
    errors = sorted((e for p in parts for e in p.errors), key=lambda e: -e.at)[:MAX_ERRORS]
    sizes = [p.index_bytes for p in parts]
    return StatusReport(
        generation=sum(p.generation for p in parts),
        repos=repos,
        totals=totals,
        errors=errors,
        sources=merge_sources([s for p in parts for s in p.sources], hooks),
        # No sync process runs over shards (index --ray); a shard's own, if one ever ran.
        sync=next((p.sync for p in parts if isinstance(p.sync, SyncState)), NoSyncState()),
        index_bytes=sum(sizes) if sizes and None not in sizes else None,
    )


def merge_sources(found: list[SourceStatus], hooks: list[HookRow]) -> list[SourceStatus]:
    """Per label: the repos of the newest complete listing (each shard lists the whole
    source and keeps its own repos, so every shard counts all of them), an error if any
    shard's listing failed, the oldest listing's times; the webhook fields are one
    machine's rule over the queue's rows (no shard's catalog holds a delivery)."""
    by_label: dict[str, list[SourceStatus]] = {}
    for s in found:
        by_label.setdefault(s.source, []).append(s)
    out = []
    for label in sorted(by_label):
        same = by_label[label]
        failed = [s for s in same if s.error]
        last, lag, pending = webhook_fields(label, hooks)
        out.append(
            dataclasses.replace(
                same[0],
                repos=max(same, key=lambda s: (s.last_ok_at or 0, s.repos)).repos,
                status="error" if failed else "ok",
                error=(failed or same)[0].error,  # one machine's "" when none failed
                last_sync_at=_oldest(s.last_sync_at for s in same),
                last_ok_at=_oldest(s.last_ok_at for s in same),
                last_webhook_at=last,
                webhook_lag_seconds=lag,
                pending_webhooks=pending,
            )
        )
    return out


def _oldest(values) -> int | None:
    found = list(values)
    return None if None in found or not found else min(found)
