"""Symbol search (exact, prefix, fuzzy; identifier-style aware), file outlines, go-to-definition.

`rate limiter` finds RateLimiter and rate_limiter (same squashed name), rateLimit (fuzzy) and
RateLimiterFactory (prefix); see docs/query-language.md, "Symbols".
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy

from ..indexer import schema
from ..indexer.catalog import FileRow
from ..indexer.identifiers import identifier_words
from ..indexer.records import Symbol
from ..indexer.store import Snapshot, symbol_from_doc
from . import rank
from .results import SymbolHit

# Score of each way a name can match the query (the best one counts).
EXACT = 100.0
EXACT_ANY_CASE = 90.0
SAME_WORDS = 80.0  # same identifier words in another style: rate_limiter ~ RateLimiter
PREFIX = 60.0
ALL_WORDS = 50.0
FUZZY = 40.0
MAX_HITS_PER_WAY = 5000
_KIND_BONUS = {
    "class": 6.0,
    "interface": 6.0,
    "struct": 6.0,
    "function": 5.0,
    "method": 4.0,
    "type": 4.0,
    "enum": 3.0,
    "module": 3.0,
    "constant": 2.0,
}


@dataclass
class Hit:
    score: float
    doc: dict


def _ways(name: str) -> list[tuple[float, tantivy.Query]]:
    raw = name.strip()
    words = identifier_words(raw)
    squashed = "".join(words)
    ways: list[tuple[float, tantivy.Query]] = []
    if raw:
        ways.append((EXACT, schema.symbol_name_query(raw)))
        ways.append((EXACT_ANY_CASE, schema.symbol_lower_query(raw)))
    if squashed:
        ways.append((SAME_WORDS, schema.symbol_squashed_query(squashed)))
        prefix = schema.symbol_squashed_prefix_query(squashed)
        if prefix is not None:
            ways.append((PREFIX, prefix))
        distance = 2 if len(squashed) >= 8 else 1 if len(squashed) >= 4 else 0
        if distance:
            ways.append((FUZZY, schema.symbol_squashed_fuzzy_query(squashed, distance)))
    if len(words) > 1:
        ways.append((ALL_WORDS, schema.symbol_words_query(words)))
    return ways


def find(snap: Snapshot, name: str, kind: str | None = None, lang: str | None = None) -> list[Hit]:
    """Symbol docs matching `name` in any way, best way first per doc."""
    best: dict[tuple, Hit] = {}
    searcher = snap.searcher
    for score, query in _ways(name):
        hits = searcher.search(
            schema.symbols_restricted(query, kind, lang), limit=MAX_HITS_PER_WAY, count=False
        ).hits
        for _, addr in hits:
            key = (addr.segment_ord, addr.doc)
            if key in best and best[key].score >= score:
                continue
            doc = best[key].doc if key in best else searcher.doc(addr).to_dict()
            best[key] = Hit(score, doc)
    return list(best.values())


def locations(snap: Snapshot, blob_key: int, branch: str | None = None) -> list[FileRow]:
    """Where a blob lives: its default-branch copies, else every copy (or one branch's)."""
    rows = snap.files_by_blob.get(blob_key, [])
    if branch is not None:
        return [f for f in rows if f.branch == branch]
    return [f for f in rows if snap.on_default_branch(f)] or rows


def symbol_hit(doc: dict, f: FileRow, score: float) -> SymbolHit:
    """The definition stored in symbol document `doc`, at file `f`."""
    sym = symbol_from_doc(doc)
    return SymbolHit(
        name=sym.name,
        kind=sym.kind,
        lang=(doc.get(schema.F_LANG) or [f.lang])[0],
        repo=f.repo,
        path=f.path,
        branch=f.branch,
        line=sym.line,
        end_line=sym.end_line,
        container=sym.container,
        signature=sym.signature,
        score=round(score, 3),
    )


def search_symbols(
    snap: Snapshot, name: str, kind: str | None = None, lang: str | None = None
) -> list[SymbolHit]:
    """Every matching definition at every (default-branch) location, best first."""
    activity = rank.repo_activity({n: r.last_commit_at for n, r in snap.repos.items()})
    out = []
    for hit in find(snap, name, kind, lang):
        key = int(hit.doc[schema.F_BLOB_KEY][0])
        kind_name = (hit.doc.get(schema.F_SYM_KIND) or [""])[0]
        for f in locations(snap, key):
            # The match way dominates; file category, path and activity order within it.
            score = (
                hit.score
                + _KIND_BONUS.get(kind_name, 0.0)
                + rank.prior(f, False, activity.get(f.repo, 0.0)) / 100.0
            )
            out.append(symbol_hit(hit.doc, f, score))
    out.sort(key=lambda s: (-s.score, s.name, s.repo, s.path, s.branch, s.line))
    return out


def outline(snap: Snapshot, repo: str, path: str, branch: str | None = None) -> list[Symbol]:
    """The definitions of one file in line order; LookupError for an unknown repo or path."""
    f = snap.require_file(repo, path, branch)
    return snap.symbols(f.blob_key)


def identifier_at(text: str, column: int) -> str:
    """The identifier covering `column` (0-based) of a line, or "" when none does."""

    def is_ident(c: str) -> bool:
        return c.isalnum() or c in "_$"

    if column < 0 or column > len(text):
        return ""
    if column == len(text) or not is_ident(text[column]):
        if column > 0 and is_ident(text[column - 1]):
            column -= 1  # a cursor just after the name
        else:
            return ""
    start = column
    while start > 0 and is_ident(text[start - 1]):
        start -= 1
    end = column
    while end < len(text) and is_ident(text[end]):
        end += 1
    return text[start:end]
