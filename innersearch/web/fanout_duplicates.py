"""`serve --ray`: GET /api/v1/duplicates from the report `dedup --ray` persisted in the
coordinator's DATA (where one machine keeps its own), narrowed to the reader's repos.

One machine recomputes a report older than its index on the request; over shards that is
a cluster job, so an older report is served with a note saying so (run `dedup --ray`).
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Blueprint, current_app, jsonify

from innersearch.dedup.api import file_key, report_path
from innersearch.dedup.report import REPORT_FORMAT
from innersearch.dedup.restrict import restrict_to
from innersearch.dedup.results import DuplicateReport
from innersearch.dedup.state import read_json
from innersearch.indexer.layout import DataDir

from . import params
from .fanout_calls import backend, readable

bp = Blueprint("api_duplicates", __name__, url_prefix="/api/v1")

REPORTS = "innersearch.fanout.duplicates"
MAX_REPORTS = 64  # narrowed reports kept (per report file and reader's repos)
NO_REPORT = "no duplicate report yet: run `innersearch dedup --ray`"
OLDER = (
    "this report is of an older state of the index (generation {was}; the shards are at "
    "{now}): run `innersearch dedup --ray` again"
)
OTHER_VERSION = "the report was written by another version: run `innersearch dedup --ray` again"


@bp.get("/duplicates")
def duplicates_route():
    return jsonify(served_report().involving(params.text("repo")).to_json())


def install(app, data_root: str | Path) -> None:
    app.extensions[REPORTS] = (report_path(DataDir(Path(data_root))), {}, threading.Lock())
    app.register_blueprint(bp)


def served_report() -> DuplicateReport:
    """The persisted cluster report as this request's reader may see it, typed; read and
    narrowed once per version of the file, reader's repos and shard generations (shared
    by their requests: do not modify it)."""
    path, kept, lock = current_app.extensions[REPORTS]
    who = readable()
    now = sum(g or 0 for _shard, g in backend().generations())
    key = (file_key(path), who, now)
    with lock:
        found = kept.get(key)
    if found is None:
        found = _typed(read_json(path), who, now)
        with lock:
            if len(kept) >= MAX_REPORTS:
                kept.clear()
            kept[key] = found
    return found


def _typed(report: dict | None, who: frozenset[str] | None, now: int) -> DuplicateReport:
    if not report or not isinstance(report.get("clone_classes"), list):
        return DuplicateReport(clone_classes=[], libraries=[], note=NO_REPORT)
    if report.get("format") != REPORT_FORMAT:
        return DuplicateReport(clone_classes=[], libraries=[], note=OTHER_VERSION)
    # `shards` is the cluster run's own field: the served report is one machine's shape.
    found = restrict_to({k: v for k, v in report.items() if k != "shards"}, who)
    try:
        typed = DuplicateReport.from_json(found)
    except ValueError:
        return DuplicateReport(clone_classes=[], libraries=[], note=OTHER_VERSION)
    if report.get("generation") != now:
        typed.note = OLDER.format(was=report.get("generation"), now=now)
    return typed
