"""SARIF 2.1.0 output: one result per clone-class member (related locations: the other
members) and one per library pair, for code-review tools."""

from __future__ import annotations

import json
from typing import TextIO

from innersearch import __version__

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_RULES = [
    ("IS-DUP-T1", "ExactClone", "Code duplicated verbatim (other layout or comments)."),
    ("IS-DUP-T2", "RenamedClone", "Code duplicated with identifiers or literals renamed."),
    ("IS-DUP-T3", "NearMissClone", "Code duplicated with statements added, removed or changed."),
    ("IS-LIB-COPY", "LibraryCopy", "A directory is a copy (vendored or copied module) of another."),
    ("IS-LIB-FORK", "LibraryFork", "A repository is a fork of another."),
    ("IS-LIB-PARALLEL", "ParallelImplementation", "Two libraries implement the same job."),
]


def _location(repo: str, path: str, start: int | None = None, end: int | None = None) -> dict:
    physical: dict = {"artifactLocation": {"uri": path or ".", "uriBaseId": "REPOROOT"}}
    if start:
        physical["region"] = {"startLine": start, "endLine": max(end or start, start)}
    return {"physicalLocation": physical, "properties": {"repo": repo}}


def _where(m: dict) -> str:
    return f"{m['repo']}/{m['path']}:{m['start_line']}-{m['end_line']}"


def _clone_result(c: dict, level: str, text: str, at: dict, others: list[dict]) -> dict:
    """One result on clone-class member `at`, the other members as related locations."""
    return {
        "ruleId": f"IS-DUP-{c.get('type', 'T3')}",
        "level": level,
        "message": {"text": text},
        "locations": [_location(at["repo"], at["path"], at["start_line"], at["end_line"])],
        "relatedLocations": [
            {"id": k, **_location(o["repo"], o["path"], o["start_line"], o["end_line"])}
            for k, o in enumerate(others[:50])
        ],
        "partialFingerprints": {"innersearchCloneClass/v1": str(c["id"])},
        "properties": {"cloneClass": c["id"], "level": c["level"]},
    }


def _introduced(c: dict) -> dict:
    """PR mode: one result on the new code, naming where it already exists and its owners."""
    new, existing = c["members"][0], c["members"][1:]
    what = f"function {new['symbol']}" if new.get("symbol") else "this file"
    first = existing[0]
    owners = first.get("owners_text") or ""
    text = (
        f"{what} already exists in {first['repo']}/{first['path']}:{first['start_line']}"
        f"{', owned by ' + owners if owners else ''} ({first.get('type', c.get('type'))}, "
        f"similarity {first.get('similarity', c['similarity']):.2f})"
        + ("; also in " + ", ".join(_where(o) for o in existing[1:5]) if len(existing) > 1 else "")
        + ". Consider calling the existing code instead of copying it."
    )
    result = _clone_result(c, "warning", text, new, existing)
    result["properties"]["introduced"] = True
    return result


def sarif_document(report: dict) -> dict:
    results = []
    if report.get("changed"):
        results = [_introduced(c) for c in report.get("clone_classes", []) if c["members"][1:]]
    for c in [] if report.get("changed") else report.get("clone_classes", []):
        members = c["members"]
        for idx, m in enumerate(members):
            others = [o for k, o in enumerate(members) if k != idx]
            what = f"function {m['symbol']}" if m.get("symbol") else "this file"
            text = (
                f"{what} is duplicated ({c.get('type', 'T3')}, similarity "
                f"{c['similarity']:.2f}) in {len(others)} other place(s): "
                + ", ".join(_where(o) for o in others[:5])
                + (" ..." if len(others) > 5 else "")
            )
            results.append(_clone_result(c, "note", text, m, others))
    for pair in report.get("libraries", []):
        a, b = pair["a"], pair["b"]
        summary = pair.get("evidence", {}).get("summary") or (
            f"{a['repo']}:{a['path'] or '/'} and {b['repo']}:{b['path'] or '/'} are "
            f"{pair['relation']} implementations (score {pair['score']})"
        )
        results.append(
            {
                "ruleId": f"IS-LIB-{pair['relation'].upper()}",
                "level": "note",
                "message": {"text": summary},
                "locations": [_location(a["repo"], a["path"])],
                "relatedLocations": [{"id": 0, **_location(b["repo"], b["path"])}],
                "properties": {"score": pair["score"], "relation": pair["relation"]},
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "innersearch-dedup",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rid,
                                "name": name,
                                "shortDescription": {"text": text},
                                "defaultConfiguration": {"level": "note"},
                            }
                            for rid, name, text in _RULES
                        ],
                    }
                },
                "originalUriBaseIds": {
                    "REPOROOT": {
                        "description": {
                            "text": "the root of the repository "
                            "named in each location's properties.repo"
                        }
                    }
                },
                "results": results,
            }
        ],
    }


def write_sarif(report: dict, out: TextIO) -> None:
    json.dump(sarif_document(report), out, indent=1)
    out.write("\n")
