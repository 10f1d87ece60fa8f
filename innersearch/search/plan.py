"""Query AST -> an executable plan: a compiled match tree, the branch scope, candidate blobs.

The tree's leaves are atoms with their compiled matchers; one evaluator answers the tree for
any target (a file row, a blob, a path, a repo, a symbol) in three-valued logic. Candidate
blobs come from the trigram index (a superset of the matching blobs); file filters are
evaluated on catalog rows; content atoms are verified later by match.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import re2
import tantivy

from ..indexer import schema
from ..indexer.catalog import FileRow
from ..indexer.hosts import HostInfo
from ..indexer.store import Snapshot
from . import literals, regex_syntax
from .match import OPTIONS, Matcher, check_regex, has_upper
from .query import And, Filter, Literal, Node, Not, Or, Query, QueryError, Regex

CONTENT_KINDS = ("content", "sym")  # atoms answered by the target, not by the file row


@dataclass(eq=False)
class Atom:
    """A leaf of the match tree: one query term with what it is matched with."""

    node: Node
    kind: str  # "content" (literal or regex), "sym", or a filter name
    matcher: Matcher | None = None  # content and sym atoms
    rx: re2._Regexp | None = None  # repo and file filters
    value: str = ""
    fold: bool = False  # content atoms matched case-insensitively
    negated: bool = False  # under an odd number of negations
    # sym atoms: the symbol documents that can match, by blob (set by candidates(); None:
    # not looked up, each verified blob's definitions are read instead)
    sym_docs: dict[int, list] | None = None

    @property
    def is_filter(self) -> bool:
        return self.kind not in CONTENT_KINDS

    def test_row(self, f: FileRow) -> bool:
        """A filter atom on a file's catalog row."""
        if self.kind == "repo":
            return self.rx.search(f.repo) is not None
        if self.kind == "file":
            return self.rx.search(f.path) is not None
        if self.kind == "lang":
            return (f.lang or "").lower() == self.value
        if self.kind == "branch":
            return self.value == "*" or f.branch == self.value
        raise AssertionError(self.kind)


@dataclass(eq=False)
class AllOf:
    children: list[MatchNode]  # filters first: cheap, and often decide without the blob


@dataclass(eq=False)
class AnyOf:
    children: list[MatchNode]


@dataclass(eq=False)
class NoneOf:
    child: MatchNode


MatchNode = AllOf | AnyOf | NoneOf | Atom


class Target(Protocol):
    """What a match tree is evaluated on: a file row for the filters, and an answer for
    content and sym atoms (True, False, or None when not known yet)."""

    row: FileRow

    def content(self, atom: Atom) -> bool | None: ...


@dataclass
class RowTarget:
    """A file before its blob is read: filters decide, content is unknown."""

    row: FileRow

    def content(self, atom: Atom) -> bool | None:
        return None


def matches(node: MatchNode | None, target: Target) -> bool | None:
    """Whether `target` matches the tree: True, False, or None when it depends on content
    the target does not know."""
    if node is None:
        return True
    if isinstance(node, Atom):
        return node.test_row(target.row) if node.is_filter else target.content(node)
    if isinstance(node, AllOf | AnyOf):
        decisive = isinstance(node, AnyOf)  # the child value that decides: True for AnyOf
        unknown = False
        for child in node.children:
            value = matches(child, target)
            if value is decisive:
                return decisive
            unknown = unknown or value is None
        return None if unknown else not decisive
    value = matches(node.child, target)
    return None if value is None else not value


@dataclass
class Plan:
    query: Query
    tree: MatchNode | None = None  # the compiled expression (None: match everything)
    atoms: list[Atom] = field(default_factory=list)  # every leaf, in query order
    branches: set[str] | None = None  # None: each repo's default branch; "*": all
    positive: list[Atom] = field(default_factory=list)  # content/sym atoms not negated

    def matches(self, target: Target) -> bool | None:
        return matches(self.tree, target)

    @property
    def has_filters(self) -> bool:
        return any(a.is_filter for a in self.atoms)


def _case_sensitive(
    mode: str, text: str, is_regex: bool, syntax: regex_syntax.Regexp | None = None
) -> bool:
    if mode == "yes":
        return True
    if mode == "no":
        return False
    return has_upper(text, is_regex, syntax)


def _filter_regex(node: Filter, mode: str) -> re2._Regexp:
    check_regex(node.value, node.value_pos)
    flags = "" if _case_sensitive(mode, node.value, True) else "(?i)"
    return re2.compile(flags + node.value, OPTIONS)


def _atom(node: Node, query: Query) -> Atom:
    """Compile one leaf; raises QueryError for a pattern RE2 rejects."""
    if isinstance(node, Literal):
        sensitive = _case_sensitive(query.case, node.text, False)
        matcher = Matcher.for_literal(node.text, sensitive)
        return Atom(node, "content", matcher, value=node.text, fold=not sensitive)
    if isinstance(node, Regex):
        sensitive = _case_sensitive(query.case, node.pattern, True, node.syntax)
        matcher = Matcher.for_regex(node.pattern, sensitive, node.pos + 1, node.syntax)
        return Atom(node, "content", matcher, value=node.pattern, fold=not sensitive)
    if isinstance(node, Filter):
        atom = Atom(node, node.name, value=node.value)
        if node.name in ("repo", "file"):
            atom.rx = _filter_regex(node, query.case)
        elif node.name == "lang":
            atom.value = node.value.lower()
        elif node.name == "sym":
            atom.matcher = Matcher.for_literal(
                node.value, _case_sensitive(query.case, node.value, False)
            )
        return atom
    raise QueryError("unsupported query term", node.pos)  # pragma: no cover - no other leaves


def _compile(node: Node, plan: Plan, negated: bool) -> MatchNode:
    if isinstance(node, And):
        children = [_compile(c, plan, negated) for c in node.children]
        return AllOf(sorted(children, key=lambda c: not (isinstance(c, Atom) and c.is_filter)))
    if isinstance(node, Or):
        return AnyOf([_compile(c, plan, negated) for c in node.children])
    if isinstance(node, Not):
        return NoneOf(_compile(node.child, plan, not negated))
    atom = _atom(node, plan.query)
    atom.negated = negated
    plan.atoms.append(atom)
    if atom.kind == "branch" and not negated:
        plan.branches = (plan.branches or set()) | {atom.value}
    if not atom.is_filter and not negated:
        plan.positive.append(atom)
    return atom


def compile_plan(query: Query) -> Plan:
    """Compile the query into its match tree; raises QueryError for a pattern RE2 rejects."""
    plan = Plan(query)
    if query.expr is not None:
        plan.tree = _compile(query.expr, plan, False)
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


# ---------------------------------------------------------------- candidates


def _requirement(atom: Atom) -> literals.Req:
    """What every match of a content atom contains."""
    if isinstance(atom.node, Literal):
        return ("str", atom.value)
    return literals.required(atom.node.syntax, atom.fold)


def atom_query(atom: Atom) -> tantivy.Query | None:
    """The tantivy query whose hits include every blob a content/sym atom can match."""
    if atom.kind == "content":
        return schema.required_query(_requirement(atom))
    if atom.kind == "sym":
        return schema.symbol_substring_query(atom.value)
    return None


def candidates(plan: Plan, snap: Snapshot, node: MatchNode | None = None) -> set[int] | None:
    """Blob keys that can match the tree, or None when any blob can."""
    node = plan.tree if node is None else node
    if node is None or isinstance(node, NoneOf):
        return None
    if isinstance(node, AllOf):
        result: set[int] | None = None
        for child in node.children:
            keys = candidates(plan, snap, child)
            if keys is not None:
                result = keys if result is None else result & keys
        return result
    if isinstance(node, AnyOf):
        union: set[int] = set()
        for child in node.children:
            keys = candidates(plan, snap, child)
            if keys is None:
                return None
            union |= keys
        return union
    query = atom_query(node)
    if query is None:
        return None
    if node.kind == "sym":
        node.sym_docs = snap.symbol_docs(query)
        return set(node.sym_docs)
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


def estimate(plan: Plan, snap: Snapshot, node: MatchNode | None = None) -> int | None:
    """An upper bound of the candidate blobs of content atoms from the trigrams' document
    frequencies, which cost a dictionary lookup each (None: no bound, any blob can match)."""
    node = plan.tree if node is None else node
    if node is None or isinstance(node, NoneOf):
        return None
    if isinstance(node, AllOf | AnyOf):
        parts = [estimate(plan, snap, c) for c in node.children]
        if isinstance(node, AllOf):
            known = [p for p in parts if p is not None]
            return min(known) if known else None
        return None if any(p is None for p in parts) else sum(parts)
    if node.kind != "content":
        return None
    return _req_estimate(snap, _requirement(node))
