"""Who uses this: references to a name across the organization, grouped by repository, and
the definitions of the identifier under a cursor (go-to-definition).
"""

from __future__ import annotations

from ..indexer import schema
from ..indexer.store import Snapshot
from . import content
from .results import ContextLine, RefFile, RefRepo, RefsResponse, SymbolHit
from .symbols import locations, search_symbols, symbol_hit


def exact_definitions(snap: Snapshot, name: str) -> list[SymbolHit]:
    """Definitions named exactly `name`, best first."""
    hits = snap.searcher.search(schema.definitions_named(name), limit=10_000, count=False).hits
    out = []
    for _, addr in hits:
        doc = snap.searcher.doc(addr).to_dict()
        for f in locations(snap, int(doc[schema.F_BLOB_KEY][0])):
            out.append(symbol_hit(doc, f, 100.0))
    out.sort(key=lambda s: (s.repo, s.path, s.branch, s.line))
    return out


def references(snap: Snapshot, name: str, limit: int) -> RefsResponse:
    """Uses of `name` (calls and other identifier uses the parser recorded), per repo."""
    keys = sorted(set(snap.blob_keys(schema.blobs_referencing(name))))
    by_repo: dict[str, list[RefFile]] = {}
    total = 0
    truncated = False
    rows = sorted(
        (f for k in keys for f in locations(snap, k)), key=lambda f: (f.repo, f.path, f.branch)
    )
    for f in rows:
        lines = sorted(set(snap.references(f.blob_key).get(name, [])))
        if not lines:
            continue
        if limit and total >= limit:
            truncated = True
            break
        lines = lines[: max(0, limit - total)] if limit else lines
        items = [ContextLine(n, text) for n, text in content.lines(snap, f.blob_key, lines).items()]
        total += len(items)
        by_repo.setdefault(f.repo, []).append(RefFile(f.path, f.branch, items))
    repos = [
        RefRepo(repo, sum(len(x.lines) for x in files), files) for repo, files in by_repo.items()
    ]
    repos.sort(key=lambda r: (-r.count, r.repo))
    return RefsResponse(name, exact_definitions(snap, name), repos, total, truncated)


def definitions_for(snap: Snapshot, name: str, repo: str, path: str) -> list[SymbolHit]:
    """Definitions of `name`: same file first, then same repo, then the rest of the org."""
    found = exact_definitions(snap, name) or named_alike(snap, name)
    return nearest_first(found, repo, path)


def named_alike(snap: Snapshot, name: str) -> list[SymbolHit]:
    """Definitions whose name is `name` but for case (when none is exactly it), best first."""
    return [s for s in search_symbols(snap, name) if s.name.lower() == name.lower()]


def nearest_first(found: list[SymbolHit], repo: str, path: str) -> list[SymbolHit]:
    """`found` ordered same file first, then same repo, then by repo, path and line (a
    stable sort: ties keep the order given)."""

    def nearness(s: SymbolHit) -> tuple:
        same_repo = s.repo == repo
        return (not (same_repo and s.path == path), not same_repo, s.repo, s.path, s.line)

    return sorted(found, key=nearness)
