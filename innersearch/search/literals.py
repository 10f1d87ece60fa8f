"""What text every match of an RE2 pattern must contain: the trigram requirement of a regex.

A small parser of RE2 syntax used only for analysis (matching is RE2's job). It is
conservative by construction: whatever it does not understand requires nothing, and a pattern
it cannot read at all makes every blob a candidate, so a requirement never drops a match.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_EXACT = 32  # largest set of alternative strings tracked before falling back to AND/OR


# A requirement: None = nothing required; ("str", s); ("and", [reqs]); ("or", [reqs]).
Req = tuple | None


class Unsupported(Exception):
    """Syntax the analyser does not know: the caller requires nothing of the pattern."""


@dataclass
class Info:
    exact: frozenset[str] | None  # every string the node can match, when few; else None
    req: Req  # what any match contains, when exact is None


def _and(*reqs: Req) -> Req:
    parts = [r for r in reqs if r is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ("and", parts)


def _or(*reqs: Req) -> Req:
    if any(r is None for r in reqs):
        return None
    return reqs[0] if len(reqs) == 1 else ("or", list(reqs))


def to_req(info: Info) -> Req:
    if info.exact is None:
        return info.req
    if "" in info.exact:
        return None
    return _or(*[("str", s) for s in sorted(info.exact)])


ANY = Info(None, None)
EMPTY = Info(frozenset({""}), None)

# RE2 folds these ASCII letters with non-ASCII ones (KELVIN SIGN, LONG S); both spellings are
# kept, and the trigram helper ignores windows with non-ASCII characters.
_FOLDS = {"k": "k\u212a", "s": "s\u017f"}


def _char(c: str, fold: bool) -> Info:
    if fold:
        low = c.lower()
        return Info(frozenset(_FOLDS.get(low, low)) | {low}, None)
    return Info(frozenset({c}), None)


def _concat(a: Info, b: Info) -> Info:
    if a.exact is not None and b.exact is not None and len(a.exact) * len(b.exact) <= MAX_EXACT:
        return Info(frozenset(x + y for x in a.exact for y in b.exact), None)
    return Info(None, _and(to_req(a), to_req(b)))


def _alternate(a: Info, b: Info) -> Info:
    if a.exact is not None and b.exact is not None and len(a.exact | b.exact) <= MAX_EXACT:
        return Info(a.exact | b.exact, None)
    return Info(None, _or(to_req(a), to_req(b)))


_CONTROL = {"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}


class _Analyser:
    def __init__(self, pattern: str, fold: bool) -> None:
        self.p = pattern
        self.i = 0
        self.fold = fold

    def more(self) -> bool:
        return self.i < len(self.p)

    def alternation(self) -> Info:
        info = self.concat()
        while self.more() and self.p[self.i] == "|":
            self.i += 1
            info = _alternate(info, self.concat())
        return info

    def concat(self) -> Info:
        # Runs of exact pieces stay exact (so "foo.*bar" requires "foo" and "bar", not
        # single letters); a non-exact piece closes the run into the AND of requirements.
        done: Req = None
        closed = False
        run = EMPTY
        while self.more() and self.p[self.i] not in "|)":
            piece = self.repeat()
            if piece.exact is not None:
                assert run.exact is not None
                if len(run.exact) * len(piece.exact) <= MAX_EXACT:
                    run = _concat(run, piece)
                    continue
                done, closed, run = _and(done, to_req(run)), True, piece
                continue
            done, closed, run = _and(done, to_req(run), piece.req), True, EMPTY
        if not closed:
            return run
        return Info(None, _and(done, to_req(run)))

    def repeat(self) -> Info:
        info = self.atom()
        while self.more():
            c = self.p[self.i]
            if c in "*+?":
                self.i += 1
                lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
            elif c == "{" and (bounds := self._braces()) is not None:
                lo, hi = bounds
            else:
                break
            if self.more() and self.p[self.i] == "?":
                self.i += 1  # non-greedy: same strings
            info = self._repeated(info, lo, hi)
        return info

    def _braces(self) -> tuple[int, int | None] | None:
        close = self.p.find("}", self.i)
        if close < 0:
            return None
        body = self.p[self.i + 1 : close]
        lo_s, comma, hi_s = body.partition(",")
        if not lo_s.isdigit() or (hi_s and not hi_s.isdigit()):
            return None  # RE2 reads a brace that is no repetition as a literal
        self.i = close + 1
        return int(lo_s), (int(hi_s) if hi_s else None) if comma else int(lo_s)

    @staticmethod
    def _repeated(info: Info, lo: int, hi: int | None) -> Info:
        if lo == 0:
            if hi == 1 and info.exact is not None and len(info.exact) < MAX_EXACT:
                return Info(info.exact | {""}, None)
            return ANY
        return Info(None, to_req(info))

    def atom(self) -> Info:
        c = self.p[self.i]
        if c == "(":
            return self.group()
        if c == "[":
            return self.char_class()
        if c == ".":
            self.i += 1
            return ANY
        if c in "^$":
            self.i += 1
            return EMPTY
        if c == "\\":
            return self.escape()
        if c in "*+?)|":
            raise Unsupported(c)
        self.i += 1
        return _char(c, self.fold)

    def group(self) -> Info:
        self.i += 1
        if self.p.startswith("?", self.i):
            self.i += 1
            if self.p.startswith("P<", self.i) or self.p.startswith("<", self.i):
                close = self.p.find(">", self.i)
                if close < 0:
                    raise Unsupported("group name")
                self.i = close + 1
            else:
                start = self.i
                while self.more() and self.p[self.i] in "imsU-":
                    self.i += 1
                flags = self.p[start : self.i]
                if "i" in flags.partition("-")[0]:
                    self.fold = True  # conservative: folding only widens the strings
                if self.more() and self.p[self.i] == ")":
                    self.i += 1
                    return EMPTY
                if not self.more() or self.p[self.i] != ":":
                    raise Unsupported("group flags")
                self.i += 1
        inner = self.alternation()
        if not self.more() or self.p[self.i] != ")":
            raise Unsupported("unclosed group")
        self.i += 1
        return inner

    def char_class(self) -> Info:
        start = self.i
        self.i += 1
        negated = self.p.startswith("^", self.i)
        if negated:
            self.i += 1
        chars: set[str] = set()
        simple = not negated
        first = True
        while True:
            if not self.more():
                raise Unsupported("unclosed class")
            c = self.p[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "\\":
                simple = False
                self.i += 2
                if self.p[self.i - 1 : self.i] in ("p", "P", "x") and self.p.startswith(
                    "{", self.i
                ):
                    close = self.p.find("}", self.i)
                    if close < 0:
                        raise Unsupported("class escape")
                    self.i = close + 1
                continue
            if c == "[" and self.p.startswith("[:", self.i):
                close = self.p.find(":]", self.i + 2)
                if close < 0:
                    raise Unsupported("posix class")
                simple = False
                self.i = close + 2
                continue
            if (
                c == "-"
                and chars
                and self.more()
                and self.p[self.i + 1 : self.i + 2] not in ("]", "")
            ):
                simple = False  # a range
            chars.add(c)
            self.i += 1
        if not simple or not chars or len(chars) > 8 or self.i - start > 32:
            return ANY
        out: set[str] = set()
        for ch in chars:
            out |= _char(ch, self.fold).exact or set()
        return Info(frozenset(out), None)

    def escape(self) -> Info:
        self.i += 1
        if not self.more():
            raise Unsupported("trailing backslash")
        c = self.p[self.i]
        self.i += 1
        if c == "Q":
            end = self.p.find("\\E", self.i)
            text = self.p[self.i :] if end < 0 else self.p[self.i : end]
            self.i = len(self.p) if end < 0 else end + 2
            info = EMPTY
            for ch in text:
                info = _concat(info, _char(ch, self.fold))
            return info
        if c in "dDsSwWC":
            return ANY
        if c in "pP":
            if self.p.startswith("{", self.i):
                close = self.p.find("}", self.i)
                if close < 0:
                    raise Unsupported("\\p")
                self.i = close + 1
            else:
                self.i += 1
            return ANY
        if c in "bBAz":
            return EMPTY
        if c in _CONTROL:
            return _char(_CONTROL[c], self.fold)
        if c == "x":
            if self.p.startswith("{", self.i):
                close = self.p.find("}", self.i)
                digits = self.p[self.i + 1 : close]
                self.i = close + 1
            else:
                digits = self.p[self.i : self.i + 2]
                self.i += 2
            try:
                return _char(chr(int(digits, 16)), self.fold)
            except ValueError:
                raise Unsupported("\\x") from None
        if c.isascii() and not c.isalnum():
            return _char(c, self.fold)
        raise Unsupported(f"\\{c}")


def required(pattern: str, case_insensitive: bool) -> Req:
    """The requirement tree of an RE2 pattern (None: nothing can be required)."""
    # A flag group anywhere may turn folding on: assume it is on everywhere (only widens).
    analyser = _Analyser(pattern, case_insensitive or "(?" in pattern)
    try:
        info = analyser.alternation()
        if analyser.more():
            return None
    except (Unsupported, IndexError):
        return None
    return to_req(info)
