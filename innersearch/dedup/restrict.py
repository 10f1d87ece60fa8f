"""The org-wide dedup report as one reader may see it: only what a snapshot's repos hold.

A clone class keeps its readable members (and is dropped with fewer than two); a library
pair is kept only when both sides are readable; a capability cluster only when all its members
are; the first page, the in-repo section and org-wide counts are rebuilt from what is kept.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from innersearch.indexer.store import Snapshot

from . import clusters, impact
from . import report as report_module

# Fields of a report that hold nothing of any repo; every other field is rebuilt or dropped
# (fail closed: a field added later is not shown to a restricted reader until filtered here).
_PLAIN = ("format", "generation", "generated_at", "settings", "note")


def _duplicated_lines(rows: list[dict], classes: list[dict]) -> list[dict]:
    """The per-repo duplicated lines counting only clones among the kept members."""
    covered: dict[tuple[str, str], set[int]] = defaultdict(set)
    for c in classes:
        for m in c["members"]:
            covered[(m["repo"], m["path"])].update(range(m["start_line"], m["end_line"] + 1))
    per_repo: Counter = Counter()
    for (repo, _path), lines in covered.items():
        per_repo[repo] += len(lines)
    out = []
    for row in rows:
        dup = min(per_repo.get(row["repo"], 0), row.get("lines", 0))
        total = row.get("lines", 0)
        out.append(
            {
                **row,
                "duplicated_lines": dup,
                "duplicated_lines_percent": round(100.0 * dup / total, 2) if total else 0.0,
            }
        )
    return out


def restrict_report(report: dict | None, snap: Snapshot) -> dict | None:
    """`report` narrowed to `snap.repos` (the report itself when the snapshot shows all)."""
    return restrict_to(report, None if snap.scope is None else frozenset(snap.repos))


def restrict_to(report: dict | None, readable: frozenset[str] | None) -> dict | None:
    """`report` narrowed to the `readable` repos (None: all of them, the report itself);
    without a snapshot, for a report served where no Store is (`serve --ray`)."""
    if report is None or readable is None:
        return report
    classes = []
    for c in report.get("clone_classes") or []:
        members = [m for m in c.get("members") or [] if m.get("repo") in readable]
        if len(members) >= 2:
            kept = impact.annotate_class({**c, "members": members})
            home = kept.get("library") or {}
            if home and not all(home[side]["repo"] in readable for side in ("a", "b")):
                del kept["library"]  # the copy it sits in is not readable: nor is its name
            classes.append(kept)
    libraries = [
        p
        for p in report.get("libraries") or []
        if p.get("a", {}).get("repo") in readable and p.get("b", {}).get("repo") in readable
    ]
    caps = [clusters.narrowed(c, readable) for c in report.get("capabilities") or []]
    caps = [c for c in caps if c is not None]
    uses = [u for u in report.get("uses") or [] if u["repo"] in readable and u["uses"] in readable]
    repos = [r for r in report.get("repos") or [] if r.get("repo") in readable]
    types = Counter((c.get("level"), c.get("type")) for c in classes)
    out = {k: report[k] for k in _PLAIN if k in report}
    out.update(
        {
            "findings": report_module.findings(libraries, caps, classes),
            "capabilities": caps,
            "in_repo": report_module.in_repo(libraries, classes),
            "clone_classes": classes,
            "libraries": libraries,
            "uses": uses,
            "repos": _duplicated_lines(repos, classes),
            "stats": {
                "clone_classes": len(classes),
                "by_type": {f"{level}/{t}": n for (level, t), n in sorted(types.items())},
            },
        }
    )
    return out
