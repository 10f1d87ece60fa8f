"""Assembling the dedup report (the JSON contract of DESIGN.md plus extra fields).

Order and ids are deterministic: the same index gives the same report, byte for byte,
apart from `generated_at` and `stats.seconds`.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

from innersearch.indexer.store import Store

from . import clones, libraries
from .detect import detect
from .fragments import blob_lines, load_vocabulary

REPORT_FORMAT = 1


def duplicated_lines(snap, classes: list[clones.CloneClass], lines: dict[int, int]) -> list[dict]:
    """Per repo, SonarQube-style: lines of code files inside any duplicated block, over all
    lines of those files, default branch only."""
    covered: dict[tuple[str, str], set[int]] = defaultdict(set)
    for c in classes:
        for m in c.members:
            covered[(m["repo"], m["path"])].update(range(m["start_line"], m["end_line"] + 1))
    out = []
    for repo, rows in sorted(libraries.code_files(snap).items()):
        total = sum(lines.get(f.blob_key, 0) for f in rows)
        dup = sum(
            len({n for n in covered.get((repo, f.path), ()) if n <= lines.get(f.blob_key, 0)})
            for f in rows
        )
        out.append(
            {
                "repo": repo,
                "duplicated_lines": dup,
                "lines": total,
                "duplicated_lines_percent": round(100.0 * dup / total, 2) if total else 0.0,
            }
        )
    return out


def build_report(
    store: Store, min_tokens: int = 50, min_lines: int = 6, use_cache: bool = True
) -> dict:
    started = time.monotonic()
    snap = store.snapshot()
    found = detect(store, snap, min_tokens, min_lines, use_cache=use_cache)
    listed, covered = clones.drop_covered(found.classes)
    blobs = {f.blob_key for rows in libraries.code_files(snap).values() for f in rows}
    copies = libraries.copies(snap, found.fragments, found.classes, found.edges)
    related = {frozenset((p["a"]["repo"], p["b"]["repo"])) for p in copies}
    parallel = libraries.parallels(
        snap,
        load_vocabulary(store, blobs),
        related,
        libraries.repo_function_links(found.classes),
    )
    pairs = sorted(
        copies + parallel,
        key=lambda p: (
            {"copy": 0, "fork": 1, "parallel": 2}[p["relation"]],
            -p["score"],
            p["a"]["repo"],
            p["a"]["path"],
            p["b"]["repo"],
            p["b"]["path"],
        ),
    )
    types = Counter((c.level, c.clone_type) for c in listed)
    return {
        "format": REPORT_FORMAT,
        "generation": snap.generation,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {"min_tokens": min_tokens, "min_lines": min_lines},
        "clone_classes": [c.to_json() for c in listed],
        "libraries": pairs,
        "repos": duplicated_lines(snap, found.classes, blob_lines(store, blobs)),
        "stats": {
            **found.stats,
            "clone_classes": len(listed),
            "function_classes_inside_file_classes": covered,
            "by_type": {f"{level}/{t}": n for (level, t), n in sorted(types.items())},
            "seconds": round(time.monotonic() - started, 3),
        },
    }
