"""Runs a compiled search plan on one snapshot: candidates, verification, ranking, results.

Files are verified in descending prior order and the search stops as soon as no unverified
file can enter the requested page (or a time/line budget runs out): totals are then flagged
as lower bounds with "limit_hit".
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..indexer import schema
from ..indexer.catalog import FLAG_GENERATED, FLAG_TEST, FLAG_VENDORED, FileRow
from ..indexer.hosts import HostInfo, file_url
from ..indexer.records import Symbol
from ..indexer.store import Snapshot, symbol_from_doc
from . import content, rank
from .budget import Budget
from .content import line_text
from .match import MAX_RANGES, line_bounds, to_char_ranges
from .plan import Atom, Plan, RowTarget, candidates, estimate, in_branch_scope, repo_scope
from .query import Literal
from .results import ContextLine, Facets, FileResult, LineMatch, SearchResponse

MAX_TOTAL_LINES = 100_000  # matched lines recorded per search before it is cut


class _Verifier:
    """Per-search memo of which lines of a blob each atom matches."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.memo: dict[tuple[int, int], list[int]] = {}
        self.symbols: dict[int, list] = {}
        self.starts: dict[int, dict[int, int]] = {}  # blob -> line -> offset of its start

    def data(self, key: int) -> bytes:
        return content.blob(self.snap, key)

    def blob_symbols(self, key: int) -> list:
        if key not in self.symbols:
            self.symbols[key] = self.snap.symbols(key)
        return self.symbols[key]

    def lines(self, atom: Atom, key: int) -> list[int]:
        memo_key = (key, id(atom))
        found = self.memo.get(memo_key)
        if found is None:
            if atom.kind == "sym":
                if atom.sym_docs is not None:  # only the definitions the index found
                    defs = self.snap.symbols_at(atom.sym_docs.get(key, []))
                else:
                    defs = self.blob_symbols(key)
                found = sorted({s.line for s in defs if atom.matcher.matches_text(s.name)})
            else:
                pairs = atom.matcher.scan(self.data(key), MAX_TOTAL_LINES + 1)
                self.starts.setdefault(key, {}).update(pairs)
                found = [line for line, _start in pairs]
            self.memo[memo_key] = found
        return found


@dataclass
class BlobTarget:
    """A file whose content atoms are answered by verifying its blob."""

    row: FileRow
    ver: _Verifier

    def content(self, atom: Atom) -> bool:
        return bool(self.ver.lines(atom, self.row.blob_key))


@dataclass
class PathTarget:
    """type:path: content atoms match the file's path, sym atoms its definitions."""

    row: FileRow
    ver: _Verifier

    def content(self, atom: Atom) -> bool:
        if atom.kind == "sym":
            return bool(self.ver.lines(atom, self.row.blob_key))
        return bool(atom.matcher.matches_text(self.row.path))


def _definition_names(plan: Plan) -> set[str]:
    return {
        (a.node.text if isinstance(a.node, Literal) else a.value).lower()
        for a in plan.positive
        if isinstance(a.node, Literal) or a.kind == "sym"
    }


def _definition_blobs(plan: Plan, snap: Snapshot) -> set[int]:
    """Blobs defining a symbol named exactly (any case) like a positive literal or sym: term."""
    names = _definition_names(plan)
    keys: set[int] = set()
    for name in names:
        keys.update(snap.blob_keys(schema.symbol_lower_query(name)))
    return keys


def _activity(snap: Snapshot) -> dict[str, float]:
    return rank.repo_activity({name: r.last_commit_at for name, r in snap.repos.items()})


def _default_order(snap: Snapshot) -> list[tuple[float, FileRow]]:
    """Default-branch files with their prior (no definition bonus), in rank order; computed
    once per index generation and shared by every snapshot of it."""

    def compute() -> list[tuple[float, FileRow]]:
        activity = _activity(snap)
        return sorted(
            ((rank.prior(f, False, activity.get(f.repo, 0.0)), f) for f in snap.default_files()),
            key=lambda pf: rank.order_key(pf[0], pf[1]),
        )

    return snap.view.derived("default_order", compute)


def _default_positions(snap: Snapshot) -> dict[int, list[int]]:
    """blob_key -> positions of its default-branch files in the rank order (per generation)."""

    def compute() -> dict[int, list[int]]:
        positions: dict[int, list[int]] = {}
        for i, (_prior, f) in enumerate(_default_order(snap)):
            positions.setdefault(f.blob_key, []).append(i)
        return positions

    return snap.view.derived("default_positions", compute)


def _in_default_order(
    snap: Snapshot, keys: set[int] | None, start: int = 0
) -> Iterator[tuple[float, FileRow]]:
    """The default-branch files of candidate blobs (None: of all) from position `start` of
    the rank order, lazily: the search reads only as far as its early stop. Few candidates
    are looked up by their positions, many are picked from the order as it is walked."""
    order = _default_order(snap)
    if keys is None:
        return itertools.islice(order, start, None)
    if len(keys) * 8 > len(order) - start:
        return (pf for pf in itertools.islice(order, start, None) if pf[1].blob_key in keys)
    positions = _default_positions(snap)
    return (order[i] for i in sorted(i for k in keys for i in positions.get(k, ()) if i >= start))


PROBE_MISSES = 64  # files verified in vain before a search that looked dense asks the index
# Files a filter (file:, lang:, repo:...) turned away before a search that looked dense asks
# the index: a term every file has, behind a filter few files pass, would otherwise walk
# the whole rank order testing the filter (every file of the corpus, per query).
PROBE_REJECTS = 512


class _Candidates:
    """The candidate blobs of a search (None: any blob), looked up when first needed. A term
    most files contain is verified file by file in rank order: its early stop comes long
    before the index could list its tens of thousands of blobs. Whether a term is that dense
    the trigrams' document frequencies tell; one that then misses too often asks the index."""

    def __init__(self, plan: Plan, snap: Snapshot, lazy: bool) -> None:
        self.plan, self.snap = plan, snap
        self.keys: set[int] | None = None
        self.known = False
        self.misses = 0
        self.rejects = 0
        bound = estimate(plan, snap) if lazy and plan.positive else None
        dense = bound is not None and all(a.kind == "content" for a in plan.positive)
        blobs = snap.searcher.doc_freq(schema.F_DOC_KIND, schema.DOC_BLOB) if dense else 0
        if not (dense and bound * 8 > blobs):
            self.look_up()

    def look_up(self) -> None:
        self.keys = candidates(self.plan, self.snap) if self.plan.positive else None
        self.known = True

    def missed(self) -> None:
        self.misses += 1
        if not self.known and self.misses > PROBE_MISSES:
            self.look_up()

    def rejected(self) -> None:
        self.rejects += 1
        if not self.known and self.rejects > PROBE_REJECTS:
            self.look_up()


def _ranked_defaults(
    snap: Snapshot, cand: _Candidates, defs: set[int], keep
) -> Iterator[tuple[float, FileRow]]:
    """Default-branch candidates in rank order: the files defining a query term first (with
    their bonus), then the rest; `keep` (or None) filters files."""
    order = _default_order(snap)
    positions = _default_positions(snap)
    defining = defs if cand.keys is None else defs & cand.keys
    for i in sorted(i for k in defining for i in positions.get(k, ())):
        prior, f = order[i]
        if keep is None or keep(f):
            yield prior + rank.SYMBOL_DEFINITION, f
    start = 0
    while not cand.known and start < len(order):  # every file, until the index is asked
        prior, f = order[start]
        start += 1
        if f.blob_key in defining:
            continue
        if keep is None or keep(f):
            yield prior, f
        else:
            cand.rejected()
    for prior, f in _in_default_order(snap, cand.keys, start):
        if f.blob_key not in defining and (keep is None or keep(f)):
            yield prior, f


def file_info(snap: Snapshot, f: FileRow, score: float, line: int | None = None) -> FileResult:
    """A result for file `f` without its matches; `line`: the first matched line."""
    commit = snap.branch_commits.get((f.repo, f.branch), "")
    repo = snap.repos.get(f.repo)
    host = HostInfo.from_info(repo.info) if repo else None
    return FileResult(
        repo=f.repo,
        path=f.path,
        lang=f.lang,
        branch=f.branch,
        commit=commit,
        score=round(score, 3),
        vendored=bool(f.flags & FLAG_VENDORED),
        generated=bool(f.flags & FLAG_GENERATED),
        test=bool(f.flags & FLAG_TEST),
        # The file at the indexed commit (and first matched line) on its code host, if any.
        url=file_url(host, commit, f.path, line),
    )


def _clip(text: str, max_chars: int | None) -> str:
    return text if max_chars is None or len(text) <= max_chars else text[:max_chars]


def _line_matches(
    ver: _Verifier,
    plan: Plan,
    f: FileRow,
    lines: list[int],
    context: int,
    max_line_chars: int | None = None,
) -> list[LineMatch]:
    """The rendered lines of one file; texts cut at `max_line_chars` (ranges past the cut
    are dropped), so one minified line cannot fill a response."""
    data = ver.data(f.blob_key)
    known = ver.starts.get(f.blob_key, {})
    # Offsets come from the scan; context lines and sym: lines need the full line table.
    starts = known if not context and all(n in known for n in lines) else line_bounds(data)
    content_atoms = [a for a in plan.positive if a.kind == "content"]
    # Each sym: atom's lines as a set: a membership test per rendered line.
    sym_atoms = [(a, set(ver.lines(a, f.blob_key))) for a in plan.positive if a.kind == "sym"]
    texts = [line_text(data, starts, line) for line in lines]
    # Each content term's ranges on every rendered line in one pass over the blob (a
    # literal's find loop), not a slice per line and term.
    bounds = [(ls, le) for ls, le, _ in texts]
    per_atom = [a.matcher.line_ranges(data, bounds) for a in content_atoms]
    one_term = len(content_atoms) == 1 and not sym_atoms  # the common case
    ascii_blob = data.isascii()  # byte offsets are character offsets: no per-line decode
    out = []
    for n, (line, (ls, le, text)) in enumerate(zip(lines, texts, strict=True)):
        if one_term:
            found = per_atom[0][n]
        else:
            spans: set[tuple[int, int]] = set()
            for per_line in per_atom:
                spans.update(per_line[n])
            for atom, sym_lines in sym_atoms:
                if line in sym_lines:
                    spans.update(atom.matcher.ranges(data, ls, le))
            found = sorted(spans)
        chars = found[:MAX_RANGES] if ascii_blob else to_char_ranges(data, ls, found[:MAX_RANGES])
        if max_line_chars is not None and len(text) > max_line_chars:
            chars = [(a, min(b, max_line_chars)) for a, b in chars if a < max_line_chars]
        text = _clip(text, max_line_chars)
        item = LineMatch(line, text, [list(r) for r in chars])
        if context > 0:
            item.before = [
                ContextLine(n, _clip(line_text(data, starts, n)[2], max_line_chars))
                for n in range(max(1, line - context), line)
            ]
            item.after = [
                ContextLine(n, _clip(line_text(data, starts, n)[2], max_line_chars))
                for n in range(line + 1, min(len(starts), line + context) + 1)
            ]
        out.append(item)
    return out


def _matched_symbols(snap: Snapshot, plan: Plan, keys: set[int]) -> dict[int, list[Symbol]]:
    """blob -> the definitions in it named (any case) like a positive literal or sym: term;
    one index query for the whole page."""
    if not keys:
        return {}
    query = schema.blobs_definitions_named(sorted(keys), sorted(_definition_names(plan)))
    hits = snap.searcher.search(query, limit=100_000, count=False).hits
    found: dict[int, list[Symbol]] = {}
    for _, addr in hits:
        doc = snap.searcher.doc(addr).to_dict()
        found.setdefault(int(doc[schema.F_BLOB_KEY][0]), []).append(symbol_from_doc(doc))
    return {k: sorted(syms, key=lambda s: (s.line, s.name)) for k, syms in found.items()}


def search_files(
    snap: Snapshot,
    plan: Plan,
    limit: int,
    offset: int,
    context: int,
    budget: Budget,
    max_lines: int | None = None,
    max_line_chars: int | None = None,
) -> SearchResponse:
    """Content search (type:file): the DESIGN result shape without took_ms. At most
    `max_lines` lines (matches and context) are rendered; the rest of the page is cut and
    "truncated" says so."""
    lazy = _Candidates(plan, snap, lazy=plan.branches is None)
    defs = _definition_blobs(plan, snap) if plan.positive else set()
    repos = repo_scope(plan, snap)
    has_filters = plan.has_filters or repos is not None

    def keep(f: FileRow) -> bool:
        if repos is not None and f.repo not in repos:
            return False
        return plan.matches(RowTarget(f)) is not False

    ordered: Iterable[tuple[float, FileRow]]
    if plan.branches is None:
        # Default branches: the per-generation prior order, definitions moved first.
        ordered = _ranked_defaults(snap, lazy, defs, keep if has_filters else None)
    else:
        cand = lazy.keys
        if cand is None:
            rows = iter(snap.files)
        else:
            rows = (f for k in cand for f in snap.files_by_blob.get(k, ()))
        scope = [f for f in rows if in_branch_scope(plan, f, snap) and (not has_filters or keep(f))]
        activity = _activity(snap)
        ordered = sorted(
            ((rank.prior(f, f.blob_key in defs, activity.get(f.repo, 0.0)), f) for f in scope),
            key=lambda pf: rank.order_key(pf[0], pf[1]),
        )
    ver = _Verifier(snap)
    want = offset + limit if limit > 0 else 0
    top: list[float] = []  # min-heap of the best `want` scores so far
    matched: list[tuple[float, FileRow, list[int]]] = []
    total_lines = 0
    limit_hit = False
    for i, (prior, f) in enumerate(ordered):
        if want and len(top) >= want and top[0] > prior + rank.TERM_MAX:
            limit_hit = True  # nothing left can reach the page
            break
        if i % 16 == 0 and budget.expired():
            limit_hit = True
            break
        if total_lines >= MAX_TOTAL_LINES:
            limit_hit = True
            break
        key = f.blob_key
        if not plan.matches(BlobTarget(f, ver)):
            lazy.missed()
            continue
        per_atom = [ver.lines(a, key) for a in plan.positive]
        lines = sorted(set().union(*per_atom)) if per_atom else []
        hit_atoms = sum(1 for lns in per_atom if lns)
        if total_lines + len(lines) > MAX_TOTAL_LINES:
            lines = lines[: MAX_TOTAL_LINES - total_lines]
            limit_hit = True
        score = prior + rank.term_score(len(lines), hit_atoms, len(plan.positive))
        matched.append((score, f, lines))
        total_lines += len(lines)
        if limit_hit:
            break
        if want:
            if len(top) < want:
                heapq.heappush(top, score)
            elif score > top[0]:
                heapq.heapreplace(top, score)
    matched.sort(key=lambda m: rank.order_key(m[0], m[1]))
    page = matched[offset : offset + limit] if limit > 0 else matched[offset:]
    results = []
    rendered, truncated = 0, False
    # Only blobs found defining a query term are read for symbols (it costs a lookup).
    defined = _matched_symbols(snap, plan, {f.blob_key for _s, f, _l in page} & defs)
    for score, f, lines in page:
        if max_lines is not None:
            room = (max_lines - rendered) // (1 + 2 * context)
            if room <= 0:
                truncated = True
                break
            if len(lines) > room:
                lines, truncated = lines[:room], True
            rendered += len(lines) * (1 + 2 * context)
        item = file_info(snap, f, score, lines[0] if lines else None)
        item.line_matches = _line_matches(ver, plan, f, lines, context, max_line_chars)
        item.symbols = list(defined.get(f.blob_key, ()))
        results.append(item)
    facets = Facets()
    for _, f, _lines in matched:
        facets.add(f.repo, f.lang)
    return SearchResponse(
        results=list(results),
        total_files=len(matched),
        total_matches=total_lines,
        limit_hit=limit_hit or truncated,
        truncated=truncated,
        facets=facets,
    )


def search_paths(
    snap: Snapshot, plan: Plan, limit: int, offset: int, budget: Budget
) -> SearchResponse:
    """type:path: content terms match the file path instead of the file's text."""
    activity = _activity(snap)
    ver = _Verifier(snap)
    repos = repo_scope(plan, snap)
    matched = []
    limit_hit = False
    for i, f in enumerate(snap.files):
        if i % 64 == 0 and budget.expired():
            limit_hit = True
            break
        if not in_branch_scope(plan, f, snap) or (repos is not None and f.repo not in repos):
            continue
        if not plan.matches(PathTarget(f, ver)):
            continue
        spans = sorted(
            {
                tuple(r)
                for a in plan.positive
                if a.kind == "content"
                for r in a.matcher.matches_text(f.path)
            }
        )
        score = rank.prior(f, False, activity.get(f.repo, 0.0))
        matched.append((score, f, spans))
    matched.sort(key=lambda m: rank.order_key(m[0], m[1]))
    page = matched[offset : offset + limit] if limit > 0 else matched[offset:]
    results = []
    for score, f, spans in page:
        item = file_info(snap, f, score)
        item.path_ranges = [list(s) for s in spans]
        results.append(item)
    facets = Facets()
    for _, f, _s in matched:
        facets.add(f.repo, f.lang)
    return SearchResponse(
        results=list(results),
        total_files=len(matched),
        total_matches=len(matched),
        limit_hit=limit_hit,
        facets=facets,
    )
