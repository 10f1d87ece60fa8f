"""The query parser: the AST it builds, positions, modifiers, and errors that point at input."""

from __future__ import annotations

import pytest

from innersearch.indexer.catalog import FileRow
from innersearch.search.match import check_regex
from innersearch.search.plan import AllOf, RowTarget, compile_plan
from innersearch.search.query import And, Filter, Literal, Not, Or, QueryError, Regex, parse


def test_bare_words_and_together():
    q = parse("rate limiter")
    assert isinstance(q.expr, And)
    assert [c.text for c in q.expr.children] == ["rate", "limiter"]
    assert [(c.pos, c.end) for c in q.expr.children] == [(0, 4), (5, 12)]


def test_quoted_string_with_spaces_and_escapes():
    q = parse(r'"foo bar" "say \"hi\"\n" "back\\slash"')
    texts = [c.text for c in q.expr.children]
    assert texts == ["foo bar", 'say "hi"\n', "back\\slash"]
    assert all(c.quoted for c in q.expr.children)


def test_regex_token():
    q = parse(r"/foo\/bar[0-9]+/ baz")
    first = q.expr.children[0]
    assert isinstance(first, Regex)
    assert first.pattern == r"foo\/bar[0-9]+"
    assert (first.pos, first.end) == (0, 16)


def test_slashes_inside_words_are_literals():
    q = parse("/usr/bin //")
    assert [c.text for c in q.expr.children] == ["/usr/bin", "//"]


def test_or_binds_looser_than_and():
    q = parse("a b or c")
    assert isinstance(q.expr, Or)
    left, right = q.expr.children
    assert isinstance(left, And) and isinstance(right, Literal)


def test_parentheses_and_negation():
    q = parse("foo -(bar or baz) -repo:legacy")
    foo, neg_group, neg_repo = q.expr.children
    assert isinstance(neg_group, Not) and isinstance(neg_group.child, Or)
    assert isinstance(neg_repo, Not) and isinstance(neg_repo.child, Filter)
    assert neg_repo.child.name == "repo" and neg_repo.child.value == "legacy"


def test_unmatched_closing_paren_stays_in_word():
    q = parse("print() f(x)")
    assert [c.text for c in q.expr.children] == ["print()", "f(x)"]


def test_group_closing_after_word():
    q = parse("(foo or bar) baz")
    assert isinstance(q.expr, And)
    assert isinstance(q.expr.children[0], Or)


def test_filters_and_aliases():
    q = parse('repo:^svc- file:\\.py$ path:src lang:Python branch:dev sym:Limiter r:"a b"')
    names = [(c.name, c.value) for c in q.expr.children]
    assert names == [
        ("repo", "^svc-"),
        ("file", "\\.py$"),
        ("file", "src"),
        ("lang", "Python"),
        ("branch", "dev"),
        ("sym", "Limiter"),
        ("repo", "a b"),
    ]


def test_unknown_prefix_is_a_literal():
    q = parse("std::vector http://x")
    assert [c.text for c in q.expr.children] == ["std::vector", "http://x"]


def test_modifiers():
    q = parse("type:path case:yes Foo")
    assert (q.type, q.case) == ("path", "yes")
    assert isinstance(q.expr, Literal)
    assert parse("case:no x").case == "no"
    assert parse("x").case == "auto" and parse("x").type == "file"


@pytest.mark.parametrize(
    ("query", "position", "words"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ('foo "bar', 4, "unterminated"),
        ("(foo bar", 0, "missing ')'"),
        ("foo ) bar", 4, "no group"),
        ("foo or", 4, "both sides"),
        ("or foo", 0, "expected a search term"),
        ("foo ()", 4, "empty parentheses"),
        ("type:blob x", 5, "must be one of"),
        ("case:maybe x", 5, "must be one of"),
        ("repo: x", 5, "needs a value"),
        ("a or type:path", 5, "whole query"),
        ("-type:path x", 1, "whole query"),
        ('"a\\qb"', 2, "unknown escape"),
        ('""', 0, "empty quoted"),
    ],
)
def test_errors_point_at_the_problem(query, position, words):
    with pytest.raises(QueryError) as info:
        parse(query)
    assert info.value.position == position
    assert words in info.value.message


def test_regex_rejected_by_re2_points_into_the_query():
    q = parse("foo /a(b/")
    with pytest.raises(QueryError) as info:
        compile_plan(q)
    assert "missing )" in info.value.message
    assert info.value.position == 5  # the pattern's text starts after the slash at 4


def test_backreference_is_rejected_not_matched_by_python():
    with pytest.raises(QueryError) as info:
        check_regex(r"(a)\1", 10)
    assert info.value.position >= 10


def test_bad_file_filter_regex():
    with pytest.raises(QueryError) as info:
        compile_plan(parse("x file:[a-"))
    assert info.value.position == 7


class _Known:
    """A target whose content atoms answer from a table by value (None: not known)."""

    def __init__(self, row: FileRow, content: dict[str, bool | None]) -> None:
        self.row, self.known = row, content

    def content(self, atom) -> bool | None:
        return self.known.get(atom.value)


def test_the_match_tree_is_three_valued_and_compiled_once():
    plan = compile_plan(parse("foo (bar or -baz) repo:^svc -file:_test lang:Python"))
    assert isinstance(plan.tree, AllOf)
    # Filters first: a row decides before any content is read.
    assert [type(c).__name__ for c in plan.tree.children][:3] == ["Atom", "Atom", "Atom"]
    assert [a.value for a in plan.positive] == ["foo", "bar"]
    assert [(a.value, a.negated) for a in plan.atoms if a.value == "baz"] == [("baz", True)]
    row = FileRow("svc-a", "main", "x.py", 1, "python", 0)
    assert plan.matches(RowTarget(row)) is None  # depends on content
    assert plan.matches(RowTarget(FileRow("web", "main", "x.py", 1, "python", 0))) is False
    assert plan.matches(RowTarget(FileRow("svc", "main", "x_test.py", 1, "python", 0))) is False
    assert plan.matches(_Known(row, {"foo": True, "bar": True})) is True
    assert plan.matches(_Known(row, {"foo": True, "bar": False, "baz": False})) is True
    assert plan.matches(_Known(row, {"foo": True, "bar": False, "baz": True})) is False
    assert plan.matches(_Known(row, {"foo": True, "bar": False})) is None
    assert plan.matches(_Known(row, {"foo": False})) is False
    assert compile_plan(parse("type:repo")).matches(RowTarget(row)) is True  # no expression
