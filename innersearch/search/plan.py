"""Query AST -> an executable plan: compiled matchers, the branch scope, candidate blobs.

Candidate blobs come from the trigram index (a superset of the matching blobs); file filters
are evaluated on catalog rows; content atoms are verified later by match.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import re2
import tantivy

from ..indexer import schema
from ..indexer.catalog import FileRow
from ..indexer.hosts import HostInfo
from ..indexer.store import Snapshot
from . import literals
from .match import OPTIONS, Matcher, check_regex, has_upper
from .query import And, Filter, Literal, Node, Not, Or, Query, QueryError, Regex, walk


@dataclass
class Atom:
    node: Node
    kind: str  # "content" (literal or regex), "sym", or a filter name
    matcher: Matcher | None = None  # content and sym atoms
    rx: re2._Regexp | None = None  # repo and file filters
    value: str = ""
    fold: bool = False  # content atoms matched case-insensitively
    # sym atoms: the symbol documents that can match, by blob (set by candidates(); None:
    # not looked up, each verified blob's definitions are read instead)
    sym_docs: dict[int, list] | None = None


@dataclass
class Plan:
    query: Query
    atoms: dict[int, Atom] = field(default_factory=dict)  # id(node) -> atom
    branches: set[str] | None = None  # None: each repo's default branch; "*": all
    positive: list[Atom] = field(default_factory=list)  # content/sym atoms not negated

    def atom(self, node: Node) -> Atom:
        return self.atoms[id(node)]


def _case_sensitive(mode: str, text: str, is_regex: bool) -> bool:
    if mode == "yes":
        return True
    if mode == "no":
        return False
    return has_upper(text, is_regex)


def _filter_regex(node: Filter, mode: str) -> re2._Regexp:
    check_regex(node.value, node.value_pos)
    flags = "" if _case_sensitive(mode, node.value, True) else "(?i)"
    return re2.compile(flags + node.value, OPTIONS)


def compile_plan(query: Query) -> Plan:
    """Compile every leaf; raises QueryError for a pattern RE2 rejects."""
    plan = Plan(query)
    for node, negated in walk(query.expr):
        if isinstance(node, Literal):
            sensitive = _case_sensitive(query.case, node.text, False)
            atom = Atom(node, "content", Matcher.for_literal(node.text, sensitive))
            atom.fold = not sensitive
        elif isinstance(node, Regex):
            sensitive = _case_sensitive(query.case, node.pattern, True)
            atom = Atom(node, "content", Matcher.for_regex(node.pattern, sensitive, node.pos + 1))
            atom.fold = not sensitive
        elif isinstance(node, Filter):
            atom = Atom(node, node.name, value=node.value)
            if node.name in ("repo", "file"):
                atom.rx = _filter_regex(node, query.case)
            elif node.name == "lang":
                atom.value = node.value.lower()
            elif node.name == "sym":
                sensitive = _case_sensitive(query.case, node.value, False)
                atom.matcher = Matcher.for_literal(node.value, sensitive)
            elif node.name == "branch" and not negated:
                plan.branches = (plan.branches or set()) | {node.value}
        else:  # pragma: no cover - the parser makes no other leaves
            raise QueryError("unsupported query term", node.pos)
        plan.atoms[id(node)] = atom
        if atom.kind in ("content", "sym") and not negated:
            plan.positive.append(atom)
    return plan


def _host_ok(host: HostInfo | None, query: Query) -> bool:
    """fork:/archived:/visibility: on one repo; a repo not from a code host is a source
    repo, not archived, and has no visibility (so visibility: leaves it out)."""
    fork = bool(host and host.fork)
    archived = bool(host and host.archived)
    for flag, mode in ((fork, query.fork), (archived, query.archived)):
        if (mode == "no" and flag) or (mode == "only" and not flag):
            return False
    return query.visibility is None or (host is not None and host.visibility == query.visibility)


def repo_scope(plan: Plan, snap: Snapshot) -> set[str] | None:
    """The repos fork:/archived:/visibility: let through, or None for all of them (once per
    generation and setting: every repo's host info is read)."""
    q = plan.query
    key = f"repo_scope:{q.fork}:{q.archived}:{q.visibility}"

    def compute() -> set[str] | None:
        kept = {name for name, r in snap.repos.items() if _host_ok(HostInfo.from_info(r.info), q)}
        return None if len(kept) == len(snap.repos) else kept

    return snap.view.derived(key, compute)


def in_branch_scope(plan: Plan, f: FileRow, snap: Snapshot) -> bool:
    if plan.branches is None:
        return snap.on_default_branch(f)
    return "*" in plan.branches or f.branch in plan.branches


def eval_filter(atom: Atom, f: FileRow) -> bool:
    if atom.kind == "repo":
        return atom.rx.search(f.repo) is not None
    if atom.kind == "file":
        return atom.rx.search(f.path) is not None
    if atom.kind == "lang":
        return (f.lang or "").lower() == atom.value
    if atom.kind == "branch":
        return atom.value == "*" or f.branch == atom.value
    raise AssertionError(atom.kind)


def evaluate(plan: Plan, node: Node | None, f: FileRow, content) -> bool | None:
    """Whether file `f` matches `node`. `content(atom)` answers content and sym atoms: True,
    False, or None when not known yet (the pre-filter passes a function returning None)."""
    if node is None:
        return True
    if isinstance(node, And):
        # Filters first: they are cheap and often decide without reading the blob.
        ordered = sorted(node.children, key=lambda c: not isinstance(c, Filter))
        unknown = False
        for child in ordered:
            value = evaluate(plan, child, f, content)
            if value is False:
                return False
            unknown = unknown or value is None
        return None if unknown else True
    if isinstance(node, Or):
        unknown = False
        for child in node.children:
            value = evaluate(plan, child, f, content)
            if value is True:
                return True
            unknown = unknown or value is None
        return None if unknown else False
    if isinstance(node, Not):
        value = evaluate(plan, node.child, f, content)
        return None if value is None else not value
    atom = plan.atom(node)
    if atom.kind in ("content", "sym"):
        return content(atom)
    return eval_filter(atom, f)


# ---------------------------------------------------------------- candidates


def atom_query(plan: Plan, node: Node) -> tantivy.Query | None:
    """The tantivy query whose hits include every blob a content/sym atom can match."""
    atom = plan.atom(node)
    if isinstance(node, Literal):
        return schema.trigram_query(node.text)
    if isinstance(node, Regex):
        return schema.required_query(literals.required(node.pattern, atom.fold))
    if atom.kind == "sym":
        return schema.symbol_substring_query(atom.value)
    return None


def candidates(plan: Plan, snap: Snapshot, node: Node | None = None) -> set[int] | None:
    """Blob keys that can match the expression, or None when any blob can."""
    node = plan.query.expr if node is None else node
    if node is None:
        return None
    if isinstance(node, And):
        result: set[int] | None = None
        for child in node.children:
            keys = candidates(plan, snap, child)
            if keys is not None:
                result = keys if result is None else result & keys
        return result
    if isinstance(node, Or):
        union: set[int] = set()
        for child in node.children:
            keys = candidates(plan, snap, child)
            if keys is None:
                return None
            union |= keys
        return union
    if isinstance(node, Not) or isinstance(node, Filter) and node.name != "sym":
        return None
    query = atom_query(plan, node)
    if query is None:
        return None
    atom = plan.atom(node)
    if atom.kind == "sym":
        atom.sym_docs = snap.symbol_docs(query)
        return set(atom.sym_docs)
    return set(snap.blob_keys(query))


# ---------------------------------------------------------------- estimates


def _grams_estimate(snap: Snapshot, text: str) -> int | None:
    grams = schema.query_trigrams(text)
    if not grams:
        return None
    return min(snap.searcher.doc_freq(schema.F_TRIGRAMS, g) for g in grams)


def _req_estimate(snap: Snapshot, req: literals.Req) -> int | None:
    if req is None:
        return None
    kind, value = req
    if kind == "str":
        return _grams_estimate(snap, value)
    parts = [_req_estimate(snap, r) for r in value]
    if kind == "and":
        known = [p for p in parts if p is not None]
        return min(known) if known else None
    return None if any(p is None for p in parts) else sum(parts)


def estimate(plan: Plan, snap: Snapshot, node: Node | None = None) -> int | None:
    """An upper bound of the candidate blobs of content atoms from the trigrams' document
    frequencies, which cost a dictionary lookup each (None: no bound, any blob can match)."""
    node = plan.query.expr if node is None else node
    if node is None or isinstance(node, Not | Filter):
        return None
    if isinstance(node, And | Or):
        parts = [estimate(plan, snap, c) for c in node.children]
        if isinstance(node, And):
            known = [p for p in parts if p is not None]
            return min(known) if known else None
        return None if any(p is None for p in parts) else sum(parts)
    if isinstance(node, Literal):
        return _grams_estimate(snap, node.text)
    return _req_estimate(snap, literals.required(node.pattern, plan.atom(node).fold))
