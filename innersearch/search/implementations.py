""" "Does anyone have a ...?": the repos, modules and functions whose own words (names,
docstrings, comments, README, package metadata, host description) describe a query, ranked.

BM25 over the implementations index (indexer/implindex.py), restricted to the documents of
the repos a Snapshot sees at their snapshot commits. A repo's rank combines its own
document's score with its best module's and best function's, each relative to the best of
its kind for the query; every implementation carries its portal entry (search/portal.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from innersearch.indexer import implindex as ix
from innersearch.indexer.jsonresult import FLATTEN

from . import portal as portal_mod
from .query import And, Literal, QueryError, parse

# Field weights (names say most; descriptions, docstrings and README text count alike), and
# how much of a repo's rank comes from its own document, its best module and its best
# function. The same for every query; chosen on a grid of 96 settings over the bench's
# queries, inside the plateau rather than at its peak (docs/benchmarks/implementations.md).
FIELD_BOOSTS = {ix.F_TITLE: 3.0, ix.F_ABOUT: 1.0, ix.F_BODY: 1.0}
KIND_WEIGHTS = {ix.KIND_REPO: 1.0, ix.KIND_MODULE: 0.5, ix.KIND_FUNCTION: 0.15}
CANDIDATES = {ix.KIND_REPO: 100, ix.KIND_MODULE: 400, ix.KIND_FUNCTION: 400}
MODULES_SHOWN = 3
FUNCTIONS_SHOWN = 3
MAX_QUERY_TERMS = 32


@dataclass
class FunctionHit:
    """A function or method whose name and docstring describe the query."""

    name: str
    kind: str
    path: str
    line: int
    doc: str
    score: float

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "path": self.path,
            "line": self.line,
            "doc": self.doc,
            "score": round(self.score, 4),
        }


@dataclass
class ModuleHit:
    """A module (file) whose docstring and comments describe the query, with its functions."""

    path: str
    doc: str
    score: float
    functions: list[FunctionHit] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "doc": self.doc,
            "score": round(self.score, 4),
            "functions": [f.to_json() for f in self.functions],
        }


@dataclass
class Implementation:
    """A repo that implements what the query describes, and its portal entry (whose fields
    sit beside the repo's own in the JSON)."""

    repo: str
    score: float
    portal: portal_mod.Portal = field(metadata=FLATTEN)
    modules: list[ModuleHit] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "repo": self.repo,
            "score": round(self.score, 4),
            "modules": [m.to_json() for m in self.modules],
            **{k: v for k, v in self.portal.to_json().items() if k != "repo"},
        }


@dataclass
class ImplementationsResponse:
    """GET /api/v1/implementations: "does anyone have a ...?", best repos first."""

    query: str
    terms: list[str]
    implementations: list[Implementation]
    took_ms: float

    def to_json(self) -> dict:
        return {
            "query": self.query,
            "terms": self.terms,
            "implementations": [i.to_json() for i in self.implementations],
            "took_ms": round(self.took_ms, 2),
        }


def plain_words(text: str) -> bool:
    """True when a search query is only bare words (no quotes, regex, filters, or/-/()):
    the search page then shows implementations above the file results."""
    try:
        query = parse(text)
    except QueryError:
        return False
    if query.type != "file" or query.case != "auto" or query.expr is None:
        return False
    nodes = query.expr.children if isinstance(query.expr, And) else [query.expr]
    return all(isinstance(n, Literal) and not n.quoted for n in nodes) and any(
        any(c.isalnum() for c in n.text) for n in nodes
    )


def live_keys(snap) -> dict[int, str]:
    """state key -> repo, for every repo of the snapshot at its default branch's commit (the
    documents of the commit it was last described at)."""
    keys = {}
    for name, row in snap.repos.items():
        commit = snap.branch_commits.get((name, row.default_branch))
        if commit:
            keys[ix.repo_key(name, row.info, commit)] = name
    return keys


def _hits(
    searcher, kind: str, terms: list[str], keys: dict[int, str]
) -> list[tuple[float, ix.DescribedDoc]]:
    """The best CANDIDATES[kind] documents of `kind`, by score then repo, path, line and
    name: equal scores are ordered by what the documents say, never by where the index
    happens to hold them, so two indexes of the same documents (one machine's, the org-wide
    one of `serve --ray`) answer alike. Asked again for more while the cut splits a tie."""
    query = ix.described_query(kind, terms, list(keys), FIELD_BOOSTS)
    want = CANDIDATES[kind]
    ask = want
    while True:
        found = searcher.search(query, limit=ask + 1).hits
        if len(found) <= ask or found[-1][0] < found[want - 1][0]:
            break
        ask *= 2
    out = []
    for score, addr in found:
        doc = ix.DescribedDoc.decode(searcher.doc(addr))
        if doc.state_key in keys:  # belt and braces: the filter did it
            out.append((score, doc))
    out.sort(key=lambda h: (-h[0], h[1].repo, h[1].path, h[1].line, h[1].name))
    return out[:want]


def find(snap, text: str, limit: int = 10, now: float | None = None) -> ImplementationsResponse:
    """The implementations of what `text` describes among the repos of `snap`, best first."""
    return find_in(
        snap.impl_searcher,
        live_keys(snap),
        text,
        limit,
        lambda repos: {r: portal_mod.portal(snap, r, now) for r in repos},
    )


def find_in(
    searcher,
    keys: dict[int, str],
    text: str,
    limit: int,
    portals: Callable[[list[str]], dict[str, portal_mod.Portal]],
) -> ImplementationsResponse:
    """find() over any implementations `searcher`, among the documents of the repo states
    `keys` (state key -> repo: what the reader may see), with `portals(repos)` giving the
    portal entries of the repos shown."""
    started = time.perf_counter()
    terms = ix.query_terms(text)[:MAX_QUERY_TERMS]
    if not terms or not keys or searcher is None or searcher.num_docs == 0:
        return ImplementationsResponse(text, terms, [], (time.perf_counter() - started) * 1000)
    per_kind = {kind: _hits(searcher, kind, terms, keys) for kind in CANDIDATES}
    scores: dict[str, float] = {}
    modules: dict[str, dict[str, ModuleHit]] = {}
    functions: dict[str, list[FunctionHit]] = {}
    for kind, hits in per_kind.items():
        if not hits:
            continue
        top = hits[0][0] or 1.0
        seen: set[str] = set()
        for score, doc in hits:
            repo = doc.repo
            if repo not in seen:  # the best document of this kind in the repo counts
                seen.add(repo)
                scores[repo] = scores.get(repo, 0.0) + KIND_WEIGHTS[kind] * score / top
            path = doc.path
            if kind == ix.KIND_MODULE:
                modules.setdefault(repo, {}).setdefault(path, ModuleHit(path, doc.doc, score))
            elif kind == ix.KIND_FUNCTION:
                functions.setdefault(repo, []).append(
                    FunctionHit(doc.name, doc.sym_kind, path, doc.line, doc.doc, score)
                )
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[: max(0, limit)]
    entries = portals([repo for repo, _score in ranked])
    found = []
    for repo, score in ranked:
        mods = modules.get(repo, {})
        for fn in functions.get(repo, []):
            # A function shows inside its module; its module is listed even if only the
            # function matched.
            mod = mods.setdefault(fn.path, ModuleHit(fn.path, "", 0.0))
            mod.score = max(mod.score, fn.score)
            if len(mod.functions) < FUNCTIONS_SHOWN:
                mod.functions.append(fn)
        shown = sorted(mods.values(), key=lambda m: (-m.score, m.path))[:MODULES_SHOWN]
        found.append(Implementation(repo, score, entries[repo], shown))
    return ImplementationsResponse(text, terms, found, (time.perf_counter() - started) * 1000)
