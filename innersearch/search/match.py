"""Exact line matching with google-re2, with `git grep` line semantics, on a blob's bytes.

Each line is matched on its own (a CRLF line keeps its \r; a last line without newline counts;
^ and $ anchor at line ends; no match spans lines); see docs/query-language.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import re2

from . import regex_syntax
from .query import QueryError


def _options() -> re2.Options:
    opts = re2.Options()
    opts.log_errors = False  # RE2 would print every rejected user pattern to stderr
    opts.max_mem = 64 << 20
    return opts


OPTIONS = _options()

# Characters whose RE2 case-folding orbit contains a non-ASCII character (KELVIN SIGN, LONG S):
# the literal builder keeps them as RE2 (?i:c) so literals fold exactly like regexes.
_FOLD_SPECIAL = set("kKsS")
# Their non-ASCII partners in UTF-8: a blob holding neither folds k and s like ASCII does.
_FOLD_PARTNERS = ("\u212a".encode(), "\u017f".encode())
MAX_RANGES = 50  # highlighted matches per line; a line still counts once however many


def check_regex(pattern: str, pos: int) -> None:
    """Raise QueryError pointing into the query when RE2 rejects `pattern` (which starts at
    query offset `pos`)."""
    try:
        re2.compile(pattern, OPTIONS)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else b""
        msg = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        where = pos
        _, sep, fragment = msg.partition(": ")
        if sep and fragment and (idx := pattern.find(fragment)) >= 0:
            where = pos + idx
        raise QueryError(f"invalid regular expression: {msg}", where) from None


def literal_pattern(text: str, case_sensitive: bool) -> str:
    """An RE2 pattern matching `text` literally; case-insensitively per character when asked."""
    if case_sensitive:
        return re2.escape(text)
    parts = []
    for ch in text:
        if ch.isascii() and ch.isalpha() and ch not in _FOLD_SPECIAL:
            parts.append(f"[{ch.lower()}{ch.upper()}]")
        elif ch.lower() != ch.upper() or ch in _FOLD_SPECIAL:
            parts.append(f"(?i:{re2.escape(ch)})")
        else:
            parts.append(re2.escape(ch))
    return "".join(parts)


def has_upper(pattern: str, is_regex: bool, syntax: regex_syntax.Regexp | None = None) -> bool:
    """case:auto's rule: an upper-case letter in the pattern; in a regex, only letters written
    as characters to match count (not escapes such as \\S, \\W, \\p{Greek} or \\x41, flags,
    group names or [:upper:]). `syntax`: the regex's AST when the caller has read it."""
    if is_regex:
        syntax = syntax or regex_syntax.read(pattern)
        if syntax is not None:
            return syntax.upper
    # Plain text, or a regex that cannot be read (RE2 will say what is wrong with it).
    return any(c.isupper() for c in pattern)


@dataclass
class Matcher:
    """One content pattern compiled for line matching."""

    source: str  # the pattern as the user wrote it
    regex: re2._Regexp  # (?m)-compiled, for whole-blob scans and line-bounded matches
    literal: bytes | None = None  # set for case-sensitive literals: bytes.find is exact and fast
    text_anchors: bool = False  # \A or \z: only a line on its own gives them line meaning
    folded: bytes | None = None  # ASCII literal, case-insensitive: find in .lower()
    folded_ks: bool = False  # `folded` holds k or s: exact only where no partner occurs

    @classmethod
    def for_literal(cls, text: str, case_sensitive: bool) -> Matcher:
        rx = re2.compile("(?m)" + literal_pattern(text, case_sensitive), OPTIONS)
        lit = text.encode("utf-8") if case_sensitive else None
        # bytes.lower() folds exactly ASCII letters, which is RE2's folding for an ASCII
        # literal without k or s (those also fold to KELVIN SIGN and LONG S).
        simple = not case_sensitive and text.isascii()
        ks = simple and bool(set(text) & _FOLD_SPECIAL)
        return cls(text, rx, lit, folded=text.lower().encode() if simple else None, folded_ks=ks)

    def _folds_ascii(self, data: bytes) -> bool:
        """Whether finding `folded` in data.lower() is exact for this data."""
        if self.folded is None:
            return False
        # isascii() is one fast pass; most source has no non-ASCII byte at all.
        return not self.folded_ks or data.isascii() or not any(p in data for p in _FOLD_PARTNERS)

    @classmethod
    def for_regex(
        cls,
        pattern: str,
        case_sensitive: bool,
        pos: int = 0,
        syntax: regex_syntax.Regexp | None = None,
    ) -> Matcher:
        """`syntax`: the pattern's AST when the caller has read it."""
        check_regex(pattern, pos)
        syntax = syntax or regex_syntax.read(pattern)
        flags = "(?m)" if case_sensitive else "(?mi)"
        try:
            rx = re2.compile(f"{flags}(?:{pattern})", OPTIONS)
        except re2.error as exc:  # e.g. a program too large once wrapped
            raise QueryError(f"invalid regular expression: {exc}", pos) from None
        # A pattern RE2 accepts but the parser does not read is matched line by line: always
        # exact, only slower.
        anchors = syntax is None or syntax.text_anchors
        return cls(pattern, rx, text_anchors=anchors)

    def _first(self, data: bytes, pos: int) -> tuple[int, int] | None:
        if self.literal is not None:
            s = data.find(self.literal, pos)
            return None if s < 0 else (s, s + len(self.literal))
        m = self.regex.search(data, pos)
        return None if m is None else m.span()

    def lines(self, data: bytes, max_lines: int = 0) -> list[int]:
        """1-based numbers of the lines of `data` that contain a match, as git grep sees them."""
        return [line for line, _start in self.scan(data, max_lines)]

    def scan(self, data: bytes, max_lines: int = 0) -> list[tuple[int, int]]:
        """(line number, offset of the line's start) of each line that contains a match.

        The whole blob is scanned once; a leftmost match that would cross a newline is
        re-checked within its own line, so results equal per-line matching: no per-line
        match can start before the leftmost whole-text match (the text after the line end is
        the same context a line-bounded match sees)."""
        if self.literal is not None and b"\n" in self.literal:
            return []
        if self.text_anchors:
            return self._lines_one_by_one(data, max_lines)
        if self._folds_ascii(data):
            return _literal_lines(data.lower(), self.folded, max_lines)
        if self.literal is not None:
            return _literal_lines(data, self.literal, max_lines)
        n = len(data)
        ends_with_nl = n > 0 and data[-1] == 0x0A
        found: list[tuple[int, int]] = []
        line_no = 1
        counted_to = 0  # line_no is the number of the line starting at counted_to
        pos = 0
        while pos < n:
            span = self._first(data, pos)
            if span is None:
                break
            s, e = span
            if s >= n and (n == 0 or ends_with_nl):
                # git grep looks ahead with the whole rest of the blob; when its first hit is
                # the empty string after the final newline it tests (and may report) that
                # empty "line" too: done the same way for equal results.
                if n and self.regex.search(data, n, n) is not None:
                    found.append((line_no + data.count(b"\n", counted_to, n), n))
                break
            ls = data.rfind(b"\n", 0, s) + 1
            le = data.find(b"\n", s)
            if le < 0:
                le = n
            ok = e <= le or self.regex.search(data, ls, le) is not None
            if ok:
                line_no += data.count(b"\n", counted_to, ls)
                counted_to = ls
                found.append((line_no, ls))
                if max_lines and len(found) >= max_lines:
                    break
            pos = le + 1
        return found

    def _lines_one_by_one(self, data: bytes, max_lines: int) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        ls = 0
        line_no = 1
        while ls < len(data):
            le = data.find(b"\n", ls)
            if le < 0:
                le = len(data)
            if self.regex.search(data[ls:le]) is not None:
                found.append((line_no, ls))
                if max_lines and len(found) >= max_lines:
                    break
            ls = le + 1
            line_no += 1
        else:
            if self._reports_end(data, found):
                found.append((line_no, len(data)))
        return found

    def _reports_end(self, data: bytes, found: list[tuple[int, int]]) -> bool:
        r"""Whether git grep reports the empty "line" after a final newline that no found line
        ends at: its look-ahead over the rest of the blob (as in scan) sees the blob's end,
        where \z holds, and reports it when that look-ahead's first hit is the end itself
        (/\B\z/ after "long\n")."""
        n = len(data)
        rest = data.find(b"\n", found[-1][1]) + 1 if found else 0
        if not data.endswith(b"\n") or (found and rest == n):
            return False
        first = self.regex.search(data, rest)
        if first is None or first.start() != n:
            return False
        return self.regex.search(data, n, n) is not None

    def ranges(self, data: bytes, ls: int, le: int) -> list[tuple[int, int]]:
        """Byte ranges [start, end) of the first MAX_RANGES matches within the line data[ls:le]."""
        if self.text_anchors:
            data, ls, le = data[ls:le], 0, le - ls
        if self.literal is not None or self._folds_ascii(data[ls:le]):
            needle = self.literal if self.literal is not None else self.folded
            line = data[ls:le] if self.literal is not None else data[ls:le].lower()
            found: list[tuple[int, int]] = []
            i = line.find(needle)
            while i >= 0 and len(found) < MAX_RANGES:
                found.append((i, i + len(needle)))
                i = line.find(needle, i + len(needle))
            return found
        out: list[tuple[int, int]] = []
        p = ls
        while p <= le and len(out) < MAX_RANGES:
            m = self.regex.search(data, p, le)
            if m is None:
                break
            s, e = m.span()
            out.append((s - ls, e - ls))
            if e > s:
                p = e
            else:
                p = s + 1
                while p < le and (data[p] & 0xC0) == 0x80:
                    p += 1  # step over a whole UTF-8 character after an empty match
        return out

    def line_ranges(
        self, data: bytes, bounds: list[tuple[int, int]]
    ) -> list[list[tuple[int, int]]]:
        """`ranges` of each line (start, end) of `bounds` in one blob: for a literal, one find
        loop over the blob instead of a slice and a lower() per line (a page of a common
        literal renders hundreds of lines; bench/api_ab.py: 2-3% of such a search)."""
        if self.text_anchors or not (self.literal is not None or self._folds_ascii(data)):
            return [self.ranges(data, ls, le) for ls, le in bounds]
        # Folding the whole blob is exact where folding each line is: _folds_ascii of the
        # blob holds for every line of it.
        needle = self.literal if self.literal is not None else self.folded
        hay = data if self.literal is not None else data.lower()
        width = len(needle)
        out = []
        for ls, le in bounds:
            found: list[tuple[int, int]] = []
            i = hay.find(needle, ls, le)
            while i >= 0 and len(found) < MAX_RANGES:
                found.append((i - ls, i - ls + width))
                i = hay.find(needle, i + width, le)
            out.append(found)
        return out

    def matches_text(self, text: str) -> list[tuple[int, int]]:
        """Code-point ranges of the matches in a one-line string (a path or a name)."""
        data = text.encode("utf-8")
        return to_char_ranges(data, 0, self.ranges(data, 0, len(data)))


def _literal_lines(data: bytes, needle: bytes, max_lines: int) -> list[tuple[int, int]]:
    """Lines containing a literal without newline: find, count newlines, skip the line."""
    if b"\n" in needle:
        return []
    found: list[tuple[int, int]] = []
    line_no = 1
    counted_to = 0
    pos = data.find(needle)
    while pos >= 0:
        ls = data.rfind(b"\n", 0, pos) + 1
        line_no += data.count(b"\n", counted_to, ls)
        counted_to = ls
        found.append((line_no, ls))
        if max_lines and len(found) >= max_lines:
            break
        le = data.find(b"\n", pos)
        if le < 0:
            break
        pos = data.find(needle, le + 1)
    return found


def to_char_ranges(data: bytes, base: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Byte offsets relative to `base` -> Unicode code point offsets, in one pass over the
    line (an invalid UTF-8 sequence counts as the U+FFFD characters it decodes to)."""
    if not spans:
        return []
    last = max(e for _s, e in spans)
    if data[base : base + last].isascii():
        return list(spans)
    cache: dict[int, int] = {0: 0}
    points = sorted({p for span in spans for p in span})
    prev = 0
    chars = 0
    for p in points:
        chars += len(data[base + prev : base + p].decode("utf-8", "replace"))
        cache[p] = chars
        prev = p
    return [(cache[s], cache[e]) for s, e in spans]


def line_bounds(data: bytes) -> list[int]:
    """Offsets where each line starts (index 0 = line 1)."""
    starts = [0]
    i = data.find(b"\n")
    while i >= 0:
        starts.append(i + 1)
        i = data.find(b"\n", i + 1)
    if data.endswith(b"\n"):
        starts.pop()
    return starts
