"""The public search API used by the CLI and the web layer; results are typed (results.py).

search, symbols, references, definition_at, outline; QueryError for malformed queries. Each
takes the snapshot to read: a caller (a web request, a CLI command) takes one and passes it
to every call, so everything it shows comes from one state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..indexer.catalog import FileRow
from ..indexer.store import Snapshot
from . import content, execute, refs, repos
from . import symbols as symbols_mod
from .budget import Budget
from .plan import Atom, compile_plan, in_branch_scope, repo_scope
from .query import Literal, QueryError, check_name, parse
from .results import (
    DefinitionResponse,
    Facets,
    FileResult,
    LineMatch,
    OutlineResponse,
    RefsResponse,
    SearchResponse,
    SymbolsResponse,
)

__all__ = ["QueryError", "search", "symbols", "references", "definition_at", "outline"]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 2)


def search(
    snap: Snapshot,
    query: str,
    limit: int = 20,
    offset: int = 0,
    context: int = 0,
    time_budget_ms: int = 10000,
    max_lines: int | None = None,
    max_line_chars: int | None = None,
    client_gone: Callable[[], bool] | None = None,
) -> SearchResponse:
    """Search file contents (or paths with type:path, symbols with type:symbol).

    `limit` is a number of files (0 = all); raises QueryError for a malformed query. The
    time budget covers the whole search (parse, plan, candidates, verification, rendering);
    `max_lines` and `max_line_chars` bound what is rendered (None: no bound);
    `client_gone`: the search stops when it says the client has gone."""
    start = time.perf_counter()
    budget = Budget.of(time_budget_ms, client_gone)
    if limit < 0 or offset < 0 or context < 0:
        raise QueryError("limit, offset and context must not be negative")
    parsed = parse(query)
    plan = compile_plan(parsed)
    if parsed.type == "path":
        out = execute.search_paths(snap, plan, limit, offset, budget)
    elif parsed.type == "symbol":
        out = _symbol_results(snap, plan, limit, offset, budget)
    elif parsed.type == "repo":
        out = repos.search_repos(snap, plan, limit, offset)
    else:
        out = execute.search_files(
            snap, plan, limit, offset, context, budget, max_lines, max_line_chars
        )
    out.offset, out.limit, out.type = offset, limit, parsed.type
    out.took_ms = _ms(start)
    return out


@dataclass
class SymbolTarget:
    """type:symbol: a definition found by the positive words (in any identifier style); a
    negated word excludes the symbols whose name contains it (`RateLimiter -legacy`)."""

    row: FileRow
    name: str

    def content(self, atom: Atom) -> bool:
        return not atom.negated or bool(atom.matcher.matches_text(self.name))


def _symbol_results(
    snap: Snapshot, plan, limit: int, offset: int, budget: Budget
) -> SearchResponse:
    """type:symbol: the query's words name a symbol; filters restrict where it is defined."""
    words = [a.node.text for a in plan.positive if isinstance(a.node, Literal)]
    words += [a.value for a in plan.positive if a.kind == "sym"]
    if not words or len(words) != len(plan.positive):
        raise QueryError("type:symbol needs words naming a symbol (no regex)", 0)
    found = symbols_mod.search_symbols(snap, " ".join(words))
    results = []
    limit_hit = False
    scope = repo_scope(plan, snap)
    for i, s in enumerate(found):
        if i % 64 == 0 and budget.expired():
            limit_hit = True
            break
        f = snap.file(s.repo, s.path, s.branch)
        if f is None or not in_branch_scope(plan, f, snap):
            continue
        if scope is not None and f.repo not in scope:
            continue
        if plan.matches(SymbolTarget(f, s.name)) is False:
            continue
        results.append((s, f))
    page = results[offset : offset + limit] if limit > 0 else results[offset:]
    out: list[FileResult] = []
    for s, f in page:
        item = execute.file_info(snap, f, s.score, s.line)
        text = content.lines(snap, f.blob_key, [s.line]).get(s.line, "")
        item.line_matches = [LineMatch(s.line, text, [])]
        item.symbol = s
        item.symbols = [s]
        out.append(item)
    facets = Facets()
    for _s, f in results:
        facets.add(f.repo, f.lang)
    return SearchResponse(
        results=list(out),
        total_files=len({(f.repo, f.branch, f.path) for _s, f in results}),
        total_matches=len(results),
        limit_hit=limit_hit,
        facets=facets,
    )


def symbols(
    snap: Snapshot,
    query: str,
    kind: str | None = None,
    lang: str | None = None,
    limit: int = 50,
) -> SymbolsResponse:
    """Symbol definitions by exact name, prefix or fuzzy, in any identifier style."""
    start = time.perf_counter()
    if not query.strip():
        raise QueryError("empty symbol name", 0)
    check_name(query)
    found = symbols_mod.search_symbols(snap, query, kind, lang)
    shown = found[:limit] if limit > 0 else found
    return SymbolsResponse(shown, len(found), _ms(start))


def references(snap: Snapshot, name: str, limit: int = 1000) -> RefsResponse:
    """Where `name` is used across the organization, grouped by repository."""
    start = time.perf_counter()
    if not name.strip():
        raise QueryError("empty name", 0)
    check_name(name)
    out = refs.references(snap, name.strip(), limit)
    out.took_ms = _ms(start)
    return out


def definition_at(
    snap: Snapshot, repo: str, path: str, line: int, column: int, branch: str | None = None
) -> DefinitionResponse:
    """Definitions of the identifier at 1-based `line`, 0-based `column` of a file."""
    start = time.perf_counter()
    f = snap.require_file(repo, path, branch)
    text = content.lines(snap, f.blob_key, [line]).get(line, "")
    name = symbols_mod.identifier_at(text, column)
    definitions = refs.definitions_for(snap, name, repo, path) if name else []
    return DefinitionResponse(name, definitions, _ms(start))


def outline(snap: Snapshot, repo: str, path: str, branch: str | None = None) -> OutlineResponse:
    """The symbols defined in one file (DESIGN's outline shape)."""
    return OutlineResponse(symbols_mod.outline(snap, repo, path, branch))
