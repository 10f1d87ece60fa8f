"""RE2 pattern syntax read once into a small AST: what search asks of a regex besides matching
(its trigram requirement, case:auto's upper-case rule, text anchors, group nesting) reads it.

Follows RE2's syntax (github.com/google/re2/wiki/Syntax); syntax it does not know raises
Unsupported and each reader then answers conservatively. Matching itself is RE2's job.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DEPTH = 64  # deeper group nesting is refused (the query language allows 32)


class Unsupported(Exception):
    """Syntax this parser does not read (or that RE2 rejects too)."""


class TooDeep(Unsupported):
    """Groups nest deeper than the parser was asked to read."""


@dataclass(frozen=True)
class Char:
    """One character to match (folded or not as the flags and the query's case say)."""

    char: str


@dataclass(frozen=True)
class CharSet:
    """One character out of a set: the members when few and listed one by one, else None
    (a range, a negation, an escape class, `.`)."""

    chars: frozenset[str] | None = None


@dataclass(frozen=True)
class Assertion:
    """Matches the empty string: ^ $ \\b \\B \\A \\z, or "" (an empty group or a flag group)."""

    kind: str


@dataclass(frozen=True)
class Concat:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alternate:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Repeat:
    item: Node
    lo: int
    hi: int | None  # None: unbounded


Node = Char | CharSet | Assertion | Concat | Alternate | Repeat
ANY_CHAR = CharSet(None)
EMPTY = Assertion("")


@dataclass(frozen=True)
class Regexp:
    """A parsed pattern and what its text says beside the tree."""

    root: Node
    depth: int  # how deep its groups nest
    folds: bool  # a flag group turns case folding on somewhere (`(?i)`, `(?i:...)`)
    upper: bool  # an upper-case letter written as a character to match (case:auto)
    text_anchors: bool  # \A or \z: only a line on its own gives them line meaning


_CONTROL = {"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}
_OCTAL = "01234567"


class _Parser:
    def __init__(self, pattern: str, max_depth: int) -> None:
        self.p = pattern
        self.i = 0
        self.max_depth = max_depth
        self.depth = self.deepest = 0
        self.folds = self.upper = self.text_anchors = False

    def more(self) -> bool:
        return self.i < len(self.p)

    def peek(self, text: str) -> bool:
        return self.p.startswith(text, self.i)

    def written(self, c: str) -> Char:
        """A character the pattern spells out (not an escape's code): case:auto reads it."""
        self.upper = self.upper or c.isupper()
        return Char(c)

    def alternation(self) -> Node:
        items = [self.concat()]
        while self.peek("|"):
            self.i += 1
            items.append(self.concat())
        return items[0] if len(items) == 1 else Alternate(tuple(items))

    def concat(self) -> Node:
        items: list[Node] = []
        while self.more() and self.p[self.i] not in "|)":
            items.append(self.repeat())
        if not items:
            return EMPTY
        return items[0] if len(items) == 1 else Concat(tuple(items))

    def repeat(self) -> Node:
        node = self.atom()
        while self.more():
            c = self.p[self.i]
            if c in "*+?":
                self.i += 1
                lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
            elif c == "{" and (bounds := self.braces()) is not None:
                lo, hi = bounds
            else:
                break
            if self.peek("?"):
                self.i += 1  # non-greedy: the same strings
            node = Repeat(node, lo, hi)
        return node

    def braces(self) -> tuple[int, int | None] | None:
        """{n}, {n,} or {n,m}; None (and nothing read) when the brace is a literal one."""
        close = self.p.find("}", self.i)
        if close < 0:
            return None
        lo_s, comma, hi_s = self.p[self.i + 1 : close].partition(",")
        if not lo_s.isdigit() or (hi_s and not hi_s.isdigit()):
            return None  # RE2 reads a brace that is no repetition as a literal
        self.i = close + 1
        return int(lo_s), (int(hi_s) if hi_s else None) if comma else int(lo_s)

    def atom(self) -> Node:
        c = self.p[self.i]
        if c == "(":
            return self.group()
        if c == "[":
            return self.char_class()
        if c == "\\":
            return self.escape()
        if c in "*+?":
            raise Unsupported("missing argument to repetition operator")
        self.i += 1
        if c == ".":
            return ANY_CHAR
        if c in "^$":
            return Assertion(c)
        return self.written(c)

    def group(self) -> Node:
        self.i += 1
        self.depth += 1
        self.deepest = max(self.deepest, self.depth)
        if self.depth > self.max_depth:
            raise TooDeep(f"groups nest deeper than {self.max_depth}")
        if self.peek("?"):
            self.i += 1
            if self.peek("P<") or self.peek("<"):
                close = self.p.find(">", self.i)
                if close < 0:
                    raise Unsupported("unclosed group name")
                self.i = close + 1
            else:
                start = self.i
                while self.more() and self.p[self.i] in "imsU-":
                    self.i += 1
                if "i" in self.p[start : self.i].partition("-")[0]:
                    self.folds = True
                if self.peek(")"):  # (?flags): they last to the end of the enclosing group
                    self.i += 1
                    self.depth -= 1
                    return EMPTY
                if not self.peek(":"):
                    raise Unsupported("unknown group flags")
                self.i += 1
        inner = self.alternation()
        if not self.peek(")"):
            raise Unsupported("missing closing )")
        self.i += 1
        self.depth -= 1
        return inner

    def char_class(self) -> Node:
        start = self.i
        self.i += 1
        negated = self.peek("^")
        if negated:
            self.i += 1
        chars: set[str] = set()
        simple = not negated
        first = True
        while True:
            if not self.more():
                raise Unsupported("missing closing ]")
            c = self.p[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "\\":
                simple = False
                self.class_escape()
                continue
            if c == "[" and self.peek("[:"):
                close = self.p.find(":]", self.i + 2)
                if close < 0:
                    raise Unsupported("unclosed POSIX class")
                simple = False
                self.i = close + 2
                continue
            if c == "-" and chars and self.p[self.i + 1 : self.i + 2] not in ("]", ""):
                simple = False  # a range
            chars.add(c)
            self.written(c)  # members and range ends count for case:auto
            self.i += 1
        if not simple or not chars or len(chars) > 8 or self.i - start > 32:
            return ANY_CHAR
        return CharSet(frozenset(chars))

    def class_escape(self) -> None:
        """Step over an escape inside a class (its set is not tracked: the class is wide)."""
        self.i += 1
        if not self.more():
            raise Unsupported("trailing backslash")
        c = self.p[self.i]
        self.i += 1
        if c in "pPx" and self.peek("{"):
            close = self.p.find("}", self.i)
            if close < 0:
                raise Unsupported("unclosed escape")
            self.i = close + 1
        elif c in "pP":
            self.i += 1  # a one-letter property name: \pL
        elif c == "x":
            self.i += 2

    def escape(self) -> Node:
        self.i += 1
        if not self.more():
            raise Unsupported("trailing backslash")
        c = self.p[self.i]
        self.i += 1
        if c == "Q":
            end = self.p.find("\\E", self.i)
            text = self.p[self.i :] if end < 0 else self.p[self.i : end]
            self.i = len(self.p) if end < 0 else end + 2
            items = tuple(self.written(ch) for ch in text)
            if not items:
                return EMPTY
            return items[0] if len(items) == 1 else Concat(items)
        if c in "dDsSwWC":
            return ANY_CHAR
        if c in "pP":
            if self.peek("{"):
                close = self.p.find("}", self.i)
                if close < 0:
                    raise Unsupported("unclosed \\p{")
                self.i = close + 1
            else:
                self.i += 1
            return ANY_CHAR
        if c in "bBAz":
            self.text_anchors = self.text_anchors or c in "Az"
            return Assertion("\\" + c)
        if c in _CONTROL:
            return Char(_CONTROL[c])
        if c == "x":
            return Char(self.hex_code())
        if c in _OCTAL:
            return Char(self.octal_code(c))
        if c.isascii() and not c.isalnum():
            return Char(c)  # an escaped punctuation character is itself
        raise Unsupported(f"invalid escape \\{c}")

    def hex_code(self) -> str:
        if self.peek("{"):
            close = self.p.find("}", self.i)
            if close < 0:
                raise Unsupported("unclosed \\x{")
            digits = self.p[self.i + 1 : close]
            self.i = close + 1
        else:
            digits = self.p[self.i : self.i + 2]
            self.i += 2
        try:
            return chr(int(digits, 16))
        except ValueError:
            raise Unsupported("bad \\x escape") from None

    def octal_code(self, first: str) -> str:
        # \0 and \1..\7 followed by an octal digit are octal codes (up to three digits);
        # a lone \1..\7 would be a backreference, which RE2 rejects.
        if first != "0" and not (self.more() and self.p[self.i] in _OCTAL):
            raise Unsupported("backreference")
        digits = first
        while len(digits) < 3 and self.more() and self.p[self.i] in _OCTAL:
            digits += self.p[self.i]
            self.i += 1
        return chr(int(digits, 8))


def parse(pattern: str, max_depth: int = MAX_DEPTH) -> Regexp:
    """The AST of an RE2 pattern; raises Unsupported (TooDeep past `max_depth`)."""
    parser = _Parser(pattern, max_depth)
    try:
        root = parser.alternation()
    except IndexError:
        raise Unsupported("truncated pattern") from None
    if parser.more():
        raise Unsupported("unbalanced )")
    return Regexp(root, parser.deepest, parser.folds, parser.upper, parser.text_anchors)


def read(pattern: str) -> Regexp | None:
    """The AST, or None when the pattern cannot be read (the caller answers conservatively)."""
    try:
        return parse(pattern)
    except Unsupported:
        return None
