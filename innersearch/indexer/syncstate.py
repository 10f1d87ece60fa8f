"""The sync process's live state (meta key `sync` in the catalog): its poll interval, when it
last polled and when it will next; GET /api/v1/status serves it as `sync`.

NoSyncState is that field before any sync process wrote its state: an empty object.
"""

from __future__ import annotations

from dataclasses import dataclass

from .jsonresult import JsonResult


@dataclass(slots=True)
class SyncState(JsonResult):
    """The state `serve --sync-interval` writes after each cycle (sync.py)."""

    interval: float  # seconds between polls; 0: webhooks only
    last_sync_at: float | None  # unix time of the last poll (None: none yet)
    next_sync_at: float | None  # unix time of the next poll (None: never)


@dataclass(slots=True)
class NoSyncState(JsonResult):
    """No sync process has run on this data dir: nothing is polled."""
