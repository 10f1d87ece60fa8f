"""Ranking of search results: a per-file prior known before reading the blob, plus a bounded
term score from the verified matches (docs/query-language.md, "Ranking").

The bound lets the search stop early and still return the exact top N (threshold algorithm).
"""

from __future__ import annotations

import math

from ..indexer.catalog import FLAG_GENERATED, FLAG_TEST, FLAG_VENDORED, FileRow

SYMBOL_DEFINITION = 1000.0  # the file defines a symbol named like a query term
CATEGORY = {"code": 300.0, "test": 200.0, "generated": 100.0, "vendored": 0.0}
PATH_MAX = 100.0  # shorter paths score up to this
ACTIVITY_MAX = 30.0  # the most recently committed repo scores this, the oldest 0
TERM_MAX = 30.0  # upper bound of term_score


def category(flags: int) -> str:
    if flags & FLAG_VENDORED:
        return "vendored"
    if flags & FLAG_GENERATED:
        return "generated"
    if flags & FLAG_TEST:
        return "test"
    return "code"


def path_score(path: str) -> float:
    depth = path.count("/")
    return PATH_MAX / (1.0 + len(path) / 40.0 + depth / 2.0)


def repo_activity(last_commits: dict[str, int | None]) -> dict[str, float]:
    """repo -> activity score by rank of its last commit time (most recent first)."""
    order = sorted(last_commits, key=lambda r: (-(last_commits[r] or 0), r))
    if len(order) <= 1:
        return {r: ACTIVITY_MAX for r in order}
    step = ACTIVITY_MAX / (len(order) - 1)
    return {r: ACTIVITY_MAX - i * step for i, r in enumerate(order)}


def prior(f: FileRow, defines_symbol: bool, activity: float) -> float:
    score = SYMBOL_DEFINITION if defines_symbol else 0.0
    return score + CATEGORY[category(f.flags)] + path_score(f.path) + activity


def term_score(matched_lines: int, atoms_matched: int, atoms: int) -> float:
    """More matching lines, and more of the query's terms present, score higher (bounded)."""
    if matched_lines <= 0:
        return 0.0
    lines = min(20.0, 6.0 * math.log2(1 + matched_lines))
    coverage = 10.0 * atoms_matched / atoms if atoms else 0.0
    return min(TERM_MAX, lines + coverage)


def order_key(score: float, f: FileRow) -> tuple:
    """Descending score, then repo, path, branch: a total, deterministic order."""
    return (-round(score, 6), f.repo, f.path, f.branch)
