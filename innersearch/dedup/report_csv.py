"""CSV output: one row per clone-class member, for spreadsheets.

Library pairs are not rows here: they have another shape (see the JSON or HTML report)."""

from __future__ import annotations

import csv
from typing import TextIO

HEADER = [
    "class_id",
    "level",
    "type",
    "similarity",
    "members",
    "repo",
    "branch",
    "path",
    "start_line",
    "end_line",
    "symbol",
    "vendored",
    "test",
]


def write_csv(report: dict, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for c in report.get("clone_classes", []):
        for m in c["members"]:
            writer.writerow(
                [
                    c["id"],
                    c["level"],
                    c.get("type", ""),
                    c["similarity"],
                    len(c["members"]),
                    m["repo"],
                    m.get("branch", ""),
                    m["path"],
                    m["start_line"],
                    m["end_line"],
                    m.get("symbol", ""),
                    int(bool(m.get("vendored"))),
                    int(bool(m.get("test"))),
                ]
            )
