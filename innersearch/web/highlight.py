"""Syntax highlighting with Pygments, one HTML fragment per source line.

Lines stay separate so the file view can anchor them and search results can mark match ranges.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from functools import lru_cache

from markupsafe import Markup, escape
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.token import STANDARD_TYPES, Name, _TokenType
from pygments.util import ClassNotFound

# Highlighting is for reading; past this size a plain, escaped view is faster and as useful.
MAX_HIGHLIGHT_CHARS = 400_000
# A longer line (minified code) is shown plain, as code hosts do: thousands of tokens on one
# line help nobody read it and cost the server.
MAX_HIGHLIGHT_LINE_CHARS = 2_000

# The indexer's language ids that Pygments knows under another name.
_PYGMENTS_NAMES = {
    "shell": "bash",
    "restructuredtext": "rst",
    "starlark": "python",
    "go-mod": "text",
    "objective-c": "objective-c",
    "tsx": "tsx",
}

# A per-line fragment: (start, end, css class) character spans covering the line.
Span = tuple[int, int, str]


@lru_cache(maxsize=64)
def _lexer_for(lang: str, filename: str) -> Lexer:
    # stripnl=False keeps leading blank lines, so line numbers stay the file's.
    options = {"stripnl": False, "ensurenl": False}
    if lang:
        try:
            return get_lexer_by_name(_PYGMENTS_NAMES.get(lang, lang), **options)
        except ClassNotFound:
            pass
    try:
        return get_lexer_for_filename(filename, **options)
    except ClassNotFound:
        return TextLexer(**options)


def css_class(ttype: _TokenType) -> str:
    """Pygments' short class name ("k", "nf", ...) of a token type or its nearest parent."""
    while ttype not in STANDARD_TYPES and ttype.parent is not None:
        ttype = ttype.parent
    return STANDARD_TYPES.get(ttype, "")


def _spans(text: str, lang: str, filename: str) -> list[list[Span]]:
    """Token spans per line; a token crossing lines is cut at each newline."""
    lines: list[list[Span]] = [[]]
    col = 0
    if len(text) > MAX_HIGHLIGHT_CHARS:
        tokens = [(None, text)]
    else:
        # Pygments reads a lone \r as a line break; a space of the same length keeps its
        # lines and columns those of the file (the text shown is the file's own).
        tokens = _lexer_for(lang or "", filename).get_tokens(text.replace("\r", " "))
    for ttype, value in tokens:
        cls = "" if ttype is None else css_class(ttype)
        if ttype is not None and ttype in Name and cls in ("n", "nf", "nc", "nx", "na", "py"):
            cls = cls + " id"
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
                col = 0
            if part:
                lines[-1].append((col, col + len(part), cls))
                col += len(part)
    return lines


def _render(
    line: str,
    spans: list[Span],
    marks: list[list[int]] | None = None,
    link=None,
) -> Markup:
    """One line as HTML: spans get their class, `marks` ranges get <mark>, and identifier
    spans for which link(name, col) returns a URL become links."""
    if len(line) > MAX_HIGHLIGHT_LINE_CHARS:
        spans, link = [], None
    cut_set = {0, len(line), *(p for s, e, _ in spans for p in (s, e))}
    cut_set.update(p for s, e in marks or () for p in (s, e) if 0 <= p <= len(line))
    cuts = sorted(cut_set)
    out: list[str] = []
    for s, e, cls in spans or [(0, len(line), "")]:
        # The cuts inside this span, found by bisection: linear in the line, not quadratic.
        piece_cuts = cuts[bisect_left(cuts, s) : bisect_right(cuts, e)]
        whole = line[s:e]
        href = link(whole, s) if link and cls.endswith(" id") else None
        inner: list[str] = []
        for a, b in zip(piece_cuts, piece_cuts[1:], strict=False):
            # A raw CR would become a line break in HTML; its reference stays one character.
            text = str(escape(line[a:b])).replace("\r", "&#13;")
            if marks and any(ms <= a and b <= me for ms, me in marks):
                inner.append(f"<mark>{text}</mark>")
            else:
                inner.append(text)
        body = "".join(inner)
        if href:
            out.append(
                f'<a class="{cls}" href="{escape(href)}" data-name="{escape(whole)}" '
                f'data-col="{s}">{body}</a>'
            )
        elif cls:
            out.append(f'<span class="{cls}">{body}</span>')
        else:
            out.append(body)
    return Markup("".join(out))


def highlight_lines(text: str, lang: str, filename: str, link=None) -> list[Markup]:
    """The file's lines as highlighted HTML fragments; link(name, line, col) -> URL | None
    decides which identifiers become links."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    spans = _spans(text, lang, filename)
    out = []
    for number, line in enumerate(lines, start=1):
        line_spans = spans[number - 1] if number - 1 < len(spans) else []

        def line_link(name: str, col: int, number: int = number) -> str | None:
            return link(name, number, col) if link else None

        out.append(_render(line, line_spans, None, line_link if link else None))
    return out


def highlight_snippet(line: str, lang: str, filename: str, ranges: list[list[int]]) -> Markup:
    """One search-result line, highlighted on its own, with its match ranges marked."""
    spans = _spans(line, lang, filename)
    return _render(line, spans[0] if spans else [], ranges)
