"""The line matcher equals per-line matching, and regex trigram requirements are conservative."""

from __future__ import annotations

import itertools

import pytest
import re2
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from innersearch.indexer import schema
from innersearch.search import regex_syntax
from innersearch.search.literals import required
from innersearch.search.match import OPTIONS, Matcher, has_upper, literal_pattern
from tests.helpers import REGEX, per_line

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
    # Only letters written as characters to match count, not codes, flags or group names.
    assert has_upper("[A-Z]", True) and has_upper(r"\QA\E", True) and has_upper("[xY]", True)
    assert not has_upper(r"\x41\x{4A}\101(?U)(?P<Name>x)", True)
    assert has_upper("(?P<Name>x", True)  # unreadable: every letter counts (RE2 rejects it)


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


def test_the_syntax_tree_says_what_the_pattern_text_says():
    rx = regex_syntax.parse(r"(a(?:b|(?i)c))\Aé")  # (?i) is a group too: depth 3
    assert (rx.depth, rx.folds, rx.upper, rx.text_anchors) == (3, True, False, True)
    assert regex_syntax.parse(r"\\A").text_anchors is False  # an escaped backslash, then A
    assert regex_syntax.read("a(b") is None and regex_syntax.read("*a") is None
    with pytest.raises(regex_syntax.TooDeep):
        regex_syntax.parse("(" * 5 + "a" + ")" * 5, max_depth=4)


_TEXT_LINE = st.lists(
    st.sampled_from(["a", "b", "e", "l", "o", "h", "H", "K", "s", "S", "1", " ", "_", ".", "é",
                     "日", "\u212a", "\u017f", "\r", "\t", "lo", "hello", "a.b", "]", "abc",
                     "kiss"]),
    max_size=8,
).map("".join)  # fmt: skip
_TEXT = st.lists(_TEXT_LINE, max_size=5).map("\n".join) | st.lists(_TEXT_LINE, max_size=5).map(
    lambda lines: "".join(line + "\n" for line in lines)
)


@settings(max_examples=400, deadline=None)
@given(REGEX, _TEXT, st.booleans())
def test_generated_regexes_read_match_and_require_like_re2(pattern, text, fold):
    try:
        re2.compile(pattern, OPTIONS)
    except re2.error:
        assume(False)
    syntax = regex_syntax.parse(pattern)  # every generated pattern RE2 reads, the parser reads
    flags = "(?i)" if fold else ""
    data = text.encode()
    # The matcher's lines are RE2's per-line matches (git grep's line semantics).
    assert Matcher.for_regex(pattern, not fold, 0, syntax).lines(data) == per_line(
        flags + pattern, data
    )
    # The trigram requirement never excludes a line RE2 matches.
    req = required(syntax, fold)
    rx = re2.compile(flags + pattern, OPTIONS)
    for line in text.split("\n"):
        if rx.search(line) is not None:
            assert _contains(req, line), (pattern, fold, line)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="abkKsS\u212a\u017f \n\u00e9", max_size=40),
    st.text(alphabet="abkKsS\u00e9 ", min_size=1, max_size=4),
    st.booleans(),
)
def test_a_blobs_line_ranges_equal_each_lines_ranges(text, needle, case_sensitive):
    # The search page asks a blob's rendered lines at once; KELVIN SIGN and LONG S are the
    # blobs where folding the whole blob and folding each line must agree to stay exact.
    data = text.encode()
    m = Matcher.for_literal(needle, case_sensitive)
    bounds = []
    for _line, start in m.scan(data):
        end = data.find(b"\n", start)
        bounds.append((start, len(data) if end < 0 else end))
    assert m.line_ranges(data, bounds) == [m.ranges(data, ls, le) for ls, le in bounds]
