"""The dedup package's public Python API (used by the CLI and the web app).

find_duplicates computes and persists a report; latest_report serves the persisted one;
report_for is what one reader sees of it, typed (results.DuplicateReport).
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import TextIO

from innersearch.indexer.layout import DataDir
from innersearch.indexer.store import Snapshot, Store

from .report import REPORT_FORMAT, build_report
from .report_csv import write_csv
from .report_html import write_html
from .report_sarif import write_sarif
from .restrict import restrict_report
from .results import DuplicateReport, SimilarResponse
from .similar import SnippetCandidates, ranked, similar_to, similar_to_file, snippet_candidates
from .state import dedup_dir, read_json, write_json_atomic

__all__ = [
    "FORMATS",
    "DuplicateReport",
    "SimilarResponse",
    "find_duplicates",
    "latest_report",
    "report_for",
    "file_key",
    "report_path",
    "restrict_report",
    "similar_to",
    "similar_to_file",
    "snippet_candidates",
    "ranked",
    "SnippetCandidates",
    "write_report",
]

FORMATS = ("json", "sarif", "csv", "html")
_recompute_lock = threading.Lock()


def report_path(data: DataDir) -> Path:
    """Where the last report of the index in `data` is kept (the cluster's: in the
    coordinator's DATA)."""
    return dedup_dir(data) / "report.json"


def find_duplicates(
    store: Store, min_tokens: int = 50, min_lines: int = 6, snap: Snapshot | None = None
) -> dict:
    """Clone classes, library pairs and per-repo duplicated lines of the index at `snap`
    (default: the current state; always every repo, default branches); the report is also
    persisted for latest_report()."""
    for name, value in (("min_tokens", min_tokens), ("min_lines", min_lines)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    full = snap.unrestricted() if snap is not None else None
    report = build_report(store, min_tokens, min_lines, snap=full)
    with contextlib.suppress(OSError):  # a read-only data dir still gets its answer
        write_json_atomic(report_path(store.data), report)
    return report


def latest_report(store: Store, snap: Snapshot | None = None) -> dict:
    """The last persisted report; recomputed (with its settings) when missing, unreadable
    or older than the index (at `snap`'s generation; default: the store's current one).
    Concurrent callers (web threads) share one recomputation, which reads the index at
    `snap` too: a request sees one state."""
    snap = snap if snap is not None else store.snapshot()
    found = _fresh(store, snap)
    if found is not None:
        return found
    with _recompute_lock:
        found = _fresh(store, snap)  # another thread may have just written it
        if found is not None:
            return found
        return _recompute(store, read_json(report_path(store.data)), snap)


def _fresh(store: Store, snap: Snapshot) -> dict | None:
    """The persisted report if it is of this format and of `snap`'s generation."""
    found = read_json(report_path(store.data))
    fresh = bool(
        found
        and found.get("format") == REPORT_FORMAT
        and found.get("generation") == snap.generation
        and isinstance(found.get("clone_classes"), list)
    )
    return found if fresh else None


def _recompute(store: Store, found: dict | None, snap: Snapshot) -> dict:
    settings = (found or {}).get("settings") or {}
    min_tokens = settings.get("min_tokens", 50)
    min_lines = settings.get("min_lines", 6)
    if not isinstance(min_tokens, int) or not isinstance(min_lines, int):
        min_tokens, min_lines = 50, 6
    return find_duplicates(store, max(1, min_tokens), max(1, min_lines), snap)


NO_REPORT = "no duplicate report yet: run `innersearch dedup`"


def file_key(path: Path) -> tuple[int, int, int] | None:
    """What changes when the report file is written again (it is replaced, not edited)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def report_for(store: Store, snap: Snapshot) -> DuplicateReport:
    """The last report (latest_report at `snap`'s generation) as the reader of `snap` may
    see it; before the first run, or when it cannot be read, an empty one with a note.

    A fresh persisted report is read, narrowed and typed once per permission set and
    version of the file (kept with the snapshot's generation, shared by its requests:
    do not modify it); reading it was most of a request."""
    key = file_key(report_path(store.data))
    if key is not None:

        def typed() -> DuplicateReport | None:
            found = _fresh(store, snap)
            if found is None:
                return None  # for this generation and this file: recomputed below
            with contextlib.suppress(ValueError):  # another version's: recomputed below
                return DuplicateReport.from_json(restrict_report(found, snap))
            return None

        cached = snap.view.derived(("duplicate_report", key), typed)
        if cached is not None:
            return cached
    try:
        report = restrict_report(latest_report(store, snap), snap)
    except LookupError as err:
        report, note = None, (str(err.args[0]) if err.args else str(err)) or NO_REPORT
    else:
        note = NO_REPORT
    if not report:
        return DuplicateReport(clone_classes=[], libraries=[], note=note)
    try:
        return DuplicateReport.from_json(report)
    except ValueError:
        # Persisted by another version of the job (a field more or less): computed again
        # at this snapshot, like a report older than the index.
        with _recompute_lock:
            fresh = _recompute(store, report, snap)
        return DuplicateReport.from_json(restrict_report(fresh, snap))


def write_report(report: dict, fmt: str, out: TextIO) -> None:
    """Write `report` as json (the contract), sarif (2.1.0), csv or html (self-contained)."""
    if fmt == "json":
        json.dump(report, out, indent=1)
        out.write("\n")
    elif fmt == "sarif":
        write_sarif(report, out)
    elif fmt == "csv":
        write_csv(report, out)
    elif fmt == "html":
        write_html(report, out)
    else:
        raise ValueError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
