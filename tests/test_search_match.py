"""The line matcher equals per-line matching, and regex trigram requirements are conservative."""

from __future__ import annotations

import itertools

import pytest
import re2

from innersearch.indexer import schema
from innersearch.search.literals import required
from innersearch.search.match import OPTIONS, Matcher, has_upper, literal_pattern

TEXTS = [
    b"",
    b"\n",
    b"\n\n",
    b"abc",
    b"abc\n",
    b"foo bar\r\nbaz\r\n\r\n",
    b"x\n\ny\n",
    b"  leading\ntrailing  \n\tTab\n",
    "caf\u00e9 na\u00efve\n\u65e5\u672c\nemoji \U0001f600\n".encode(),
    b"aaa\nbab\nbbb",
    b"line without newline at end",
    b"a\nb\nc\nd\ne\n",
]
PATTERNS = [
    "a",
    "b",
    "^",
    "$",
    "^$",
    "^a",
    "a$",
    "b?",
    "x*",
    "\\s",
    "\\s$",
    "^\\s*$",
    "[^x]",
    "[^x]+$",
    "a\\nb",
    "\\n",
    "(?s).",
    "(?s)a.*b",
    "\\r$",
    "\\r",
    ".",
    ".*",
    "\\bba",
    "b\\b",
    "(a|b)+",
    "\\S+",
    "^[a-z]+$",
    "e$",
    "\u00e9",
    "[\u00e9\u00ef]",
    "\\x{1F600}",
    "\\pL+",
    "(?i)ABC",
    "\\Aabc",
    "c\\z",
    "(?m)^b",
]


def per_line(pattern: str, data: bytes) -> list[int]:
    """Reference semantics, straight from the definition: each line on its own, then git
    grep's empty line after a final newline when the rest of the blob's first hit is there."""
    rx = re2.compile("(?m)(?:" + pattern + ")", OPTIONS)
    if not data:
        return []  # git: an empty file has no lines
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    found = [i + 1 for i, line in enumerate(lines) if rx.search(line) is not None]
    if data.endswith(b"\n") and (not found or found[-1] != len(lines)):
        first = rx.search(data, (sum(len(x) + 1 for x in lines[: found[-1]]) if found else 0))
        if first is not None and first.start() == len(data) and rx.search(b"") is not None:
            found.append(len(lines) + 1)
    return found


@pytest.mark.parametrize("pattern", PATTERNS)
def test_whole_blob_scan_equals_per_line_matching(pattern):
    matcher = Matcher.for_regex(pattern, True)
    for data in TEXTS:
        assert matcher.lines(data) == per_line(pattern, data), (pattern, data)


@pytest.mark.parametrize("text", ["a", "ab", "foo bar", "\r", "\u00e9", "x\ny", "\\d"])
def test_literal_fast_path_equals_regex(text):
    fast = Matcher.for_literal(text, True)
    assert fast.literal is not None
    slow = Matcher.for_regex(re2.escape(text), True)
    for data in TEXTS:
        assert fast.lines(data) == slow.lines(data)


def test_case_insensitive_literal_folds_like_re2():
    m = Matcher.for_literal("kiss", False)
    assert m.lines("KISS\nKi\u017fs\n\u212aiss\nkis\n".encode()) == [1, 2, 3]
    assert re2.compile(literal_pattern("a.b", False)).search("A.B") is not None
    assert re2.compile(literal_pattern("a.b", False)).search("AxB") is None


@pytest.mark.parametrize(
    "data",
    [b"Kiss kISS\nno\nkis KISS\n", "\u212aiss kiss\nKi\u017fs\n".encode(), b"", b"kiss"],
)
def test_k_and_s_literals_fold_like_re2_with_and_without_their_partners(data):
    fast = Matcher.for_literal("kiss", False)
    slow = Matcher.for_regex(literal_pattern("kiss", False), True)
    assert fast.folded_ks and fast.lines(data) == slow.lines(data)
    for line, start in slow.scan(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        assert fast.ranges(data, start, end) == slow.ranges(data, start, end), line


def test_ranges_are_per_line_byte_offsets():
    m = Matcher.for_literal("ab", True)
    data = b"xx\nab ab\n"
    assert m.ranges(data, 3, 8) == [(0, 2), (3, 5)]
    assert Matcher.for_regex("^", True).ranges(data, 3, 8) == [(0, 0)]


def test_case_auto_rule():
    assert has_upper("Foo", False)
    assert not has_upper("foo", False)
    assert not has_upper(r"\S+\W\p{Greek}\PL[[:upper:]]", True)
    assert has_upper(r"\sA", True)


def _contains(req, text: str) -> bool:
    if req is None:
        return True
    kind, value = req
    if kind == "str":
        low = text.lower()
        return all(g in low for g in schema.query_trigrams(value))
    if kind == "and":
        return all(_contains(r, text) for r in value)
    return any(_contains(r, text) for r in value)


REQ_PATTERNS = [
    "foo",
    "foo.*bar",
    "(foo|bar)baz",
    "ab?cde",
    "[ab]cde",
    "x{2,}yz",
    "a+bcd",
    "\\bhello\\b",
    "[[:alpha:]]foo",
    "(?i)kiss",
    "\\Qa.b\\E",
    "(?P<n>abc)d",
    "a{,3}bc",
    "[^x]yzw",
    "(?i:SSS)",
    "(a|b)*hello|world",
    "\\x41BC",
    "[]a]bcd",
    "colou?r",
    "ab(cd)?ef",
    "\\pLabc",
    "\\.py$",
]
REQ_TEXTS = [
    "foo",
    "foobar",
    "foo and bar",
    "barbaz",
    "foobaz",
    "acde",
    "abcde",
    "bcde",
    "xxyz",
    "abcd",
    "hello there",
    "say hello",
    "afoo",
    "KISS",
    "Ki\u017fs",
    "\u212aiss",
    "a.b",
    "abcd",
    "a{,3}bc",
    "ayzw",
    "SSS",
    "\u017f\u017f\u017f",
    "world",
    "ahello",
    "ABC",
    "]bcd",
    "color",
    "colour",
    "abef",
    "abcdef",
    "\u00e9abc",
    "x.py",
]


@pytest.mark.parametrize("pattern", REQ_PATTERNS)
def test_requirements_never_exclude_a_match(pattern):
    for fold, text in itertools.product((False, True), REQ_TEXTS):
        flags = "(?i)" if fold else ""
        if re2.compile(flags + pattern, OPTIONS).search(text) is not None:
            assert _contains(required(pattern, fold), text), (pattern, fold, text)


def test_requirements_are_useful():
    assert required("foo.*bar", False) == ("and", [("str", "foo"), ("str", "bar")])
    assert required("(foo|bar)baz", False) == ("or", [("str", "barbaz"), ("str", "foobaz")])
    assert required(".*", False) is None
    assert required("[[:nonsense", False) is None
