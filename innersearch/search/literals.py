"""What text every match of an RE2 pattern must contain: the trigram requirement of a regex.

A walk over the pattern's AST (regex_syntax.py). It is conservative by construction: a
character set it does not list requires nothing, and a pattern the parser cannot read makes
every blob a candidate, so a requirement never drops a match.
"""

from __future__ import annotations

from dataclasses import dataclass

from .regex_syntax import Alternate, Assertion, Char, Concat, Node, Regexp, Repeat, read

MAX_EXACT = 32  # largest set of alternative strings tracked before falling back to AND/OR


# A requirement: None = nothing required; ("str", s); ("and", [reqs]); ("or", [reqs]).
Req = tuple | None


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


def _repeated(info: Info, lo: int, hi: int | None) -> Info:
    if lo == 0:
        if hi == 1 and info.exact is not None and len(info.exact) < MAX_EXACT:
            return Info(info.exact | {""}, None)
        return ANY
    return Info(None, to_req(info))


def _sequence(items: list[Info]) -> Info:
    # Runs of exact pieces stay exact (so "foo.*bar" requires "foo" and "bar", not single
    # letters); a non-exact piece closes the run into the AND of requirements.
    done: Req = None
    closed = False
    run = EMPTY
    for piece in items:
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


def _info(node: Node, fold: bool) -> Info:
    if isinstance(node, Char):
        return _char(node.char, fold)
    if isinstance(node, Assertion):
        return EMPTY
    if isinstance(node, Concat):
        return _sequence([_info(n, fold) for n in node.items])
    if isinstance(node, Alternate):
        info = _info(node.items[0], fold)
        for item in node.items[1:]:
            info = _alternate(info, _info(item, fold))
        return info
    if isinstance(node, Repeat):
        return _repeated(_info(node.item, fold), node.lo, node.hi)
    if node.chars is None:  # a CharSet
        return ANY
    out: set[str] = set()
    for ch in node.chars:
        out |= _char(ch, fold).exact or set()
    return Info(frozenset(out), None)


def required(pattern: str | Regexp | None, case_insensitive: bool) -> Req:
    """The requirement tree of an RE2 pattern, given as text or as its AST (None: nothing
    can be required)."""
    rx = read(pattern) if isinstance(pattern, str) else pattern
    if rx is None:
        return None
    # A flag group anywhere may turn folding on: assume it is on everywhere (only widens).
    return to_req(_info(rx.root, case_insensitive or rx.folds))
