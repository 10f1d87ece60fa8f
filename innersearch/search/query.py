"""The query parser: query text -> tokens -> an AST whose nodes keep their character positions.

The one parser of the query language (docs/query-language.md); errors carry the offset
they point at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import regex_syntax

# Filter names and their aliases; anything else before a colon is part of a literal
# (code is full of `std::vector` and `http://`).
FILTERS = {
    "repo": "repo",
    "r": "repo",
    "file": "file",
    "f": "file",
    "path": "file",
    "lang": "lang",
    "l": "lang",
    "branch": "branch",
    "b": "branch",
    "sym": "sym",
    "type": "type",
    "t": "type",
    "case": "case",
    "fork": "fork",
    "archived": "archived",
    "visibility": "visibility",
    "content": "content",  # an explicit content term: content:foo is the literal foo
}
# Modifiers apply to the whole query, so they may appear only at the top level.
GLOBAL_FILTERS = {"type", "case", "fork", "archived", "visibility"}
TYPES = {"file", "symbol", "path", "repo"}
CASES = {"yes", "no", "auto"}
YES_NO_ONLY = {"yes", "no", "only"}
VISIBILITIES = {"public", "internal", "private"}
_ALLOWED = {
    "type": TYPES,
    "case": CASES,
    "fork": YES_NO_ONLY,
    "archived": YES_NO_ONLY,
    "visibility": VISIBILITIES,
}

# Bounds on what one query may ask, so that parsing, planning and matching stay small and
# a malformed or hostile query is a 400, never a deep recursion or a minute of CPU.
MAX_QUERY_CHARS = 4096
MAX_TERMS = 200  # words, strings, regexes and filters
MAX_NESTING = 32  # parentheses and negations inside one another, and regex groups
MAX_NAME_CHARS = 256  # a symbol name (sym:, symbol and reference searches)


class QueryError(ValueError):
    """A malformed query: `message` says what is wrong, `position` the 0-based offset in the
    query it points at (None when it applies to the whole query)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message if self.position is None else f"{self.message} (at {self.position})"


@dataclass
class Node:
    pos: int  # offset of the node's first character in the query
    end: int  # offset just after its last character


@dataclass
class Literal(Node):
    text: str
    quoted: bool = False


@dataclass
class Regex(Node):
    pattern: str
    syntax: regex_syntax.Regexp | None = None  # read once; None: the parser cannot read it


@dataclass
class Filter(Node):
    name: str  # canonical name: repo, file, lang, branch, sym, type, case
    value: str
    value_pos: int


@dataclass
class Not(Node):
    child: Node


@dataclass
class And(Node):
    children: list[Node] = field(default_factory=list)


@dataclass
class Or(Node):
    children: list[Node] = field(default_factory=list)


@dataclass
class Query:
    """A parsed query: the expression (None when only modifiers were given) and modifiers."""

    expr: Node | None
    type: str = "file"
    case: str = "auto"
    text: str = ""
    # Repos from a code host: forks and archived repos are left out unless asked for.
    fork: str = "no"
    archived: str = "no"
    visibility: str | None = None


# ---------------------------------------------------------------- tokens


@dataclass
class Token:
    kind: str  # "(", ")", "or", "and", "-", "atom"
    pos: int
    end: int
    node: Node | None = None


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The string of a "quoted" token starting at `start` (the quote), and the offset after it."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                break
            nxt = text[i + 1]
            if nxt not in _ESCAPES:
                raise QueryError(f'unknown escape "\\{nxt}" in quoted string', i)
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise QueryError('unterminated quoted string: add the closing "', start)


def _regex_end(text: str, start: int) -> int | None:
    """Offset just after the closing slash of a /regex/ starting at `start`, if it is one.

    A token is a regex only when its closing slash ends the token, so paths such as
    `/usr/bin` stay literals."""
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "/":
            after = i + 1
            if i > start + 1 and (
                after == len(text) or text[after].isspace() or text[after] == ")"
            ):
                return after
            return None
        i += 1
    return None


def _word_end(text: str, start: int) -> int:
    i = start
    while i < len(text) and not text[i].isspace():
        i += 1
    return i


def check_name(name: str, position: int = 0) -> None:
    """A symbol name short enough to search (tantivy compiles it into an automaton)."""
    if len(name) > MAX_NAME_CHARS:
        raise QueryError(f"a symbol name may have at most {MAX_NAME_CHARS} characters", position)


def _regex(pattern: str, start: int, end: int, error_at: int) -> Regex:
    """A /regex/ term with its syntax read once (None: RE2 will say what is wrong)."""
    try:
        syntax = regex_syntax.parse(pattern, MAX_NESTING)
    except regex_syntax.TooDeep:
        raise QueryError(f"the regex nests groups deeper than {MAX_NESTING}", error_at) from None
    except regex_syntax.Unsupported:
        syntax = None
    return Regex(start, end, pattern, syntax)


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters", MAX_QUERY_CHARS)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:  # a lone surrogate: no text can hold it
        raise QueryError("the query is not valid Unicode (a lone surrogate)", err.start) from None
    tokens: list[Token] = []
    depth = 0
    negations = 0  # consecutive '-' before a term
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "(-" and depth + negations >= MAX_NESTING:
            raise QueryError(f"the query nests deeper than {MAX_NESTING} levels", i)
        if c != "-":
            negations = 0
        if c == "(":
            tokens.append(Token("(", i, i + 1))
            depth += 1
            i += 1
            continue
        if c == ")":
            tokens.append(Token(")", i, i + 1))
            depth -= 1
            i += 1
            continue
        if c == "-" and i + 1 < n and not text[i + 1].isspace():
            tokens.append(Token("-", i, i + 1))
            negations += 1
            i += 1
            continue
        if c == '"':
            value, end = _read_quoted(text, i)
            if value == "":
                raise QueryError("empty quoted string", i)
            tokens.append(Token("atom", i, end, Literal(i, end, value, quoted=True)))
            i = end
            continue
        if c == "/":
            end = _regex_end(text, i)
            if end is not None:
                pattern = text[i + 1 : end - 1]
                tokens.append(Token("atom", i, end, _regex(pattern, i, end, i)))
                i = end
                continue
        end = _word_end(text, i)
        name, colon, rest = text[i:end].partition(":")
        if colon and rest.startswith('"') and name.lower() in FILTERS:
            # A quoted filter value may hold spaces: the token ends at its closing quote.
            end = _read_quoted(text, i + len(name) + 1)[1]
        # Trailing parentheses close open groups; unmatched ones belong to the word (`f()`).
        closes = 0
        while end - closes - 1 > i and text[end - closes - 1] == ")" and closes < depth:
            closes += 1
        word_end = end - closes
        tokens.append(_word_token(text, i, word_end))
        for k in range(closes):
            tokens.append(Token(")", word_end + k, word_end + k + 1))
        depth -= closes
        i = end
    return tokens


def _word_token(text: str, start: int, end: int) -> Token:
    word = text[start:end]
    if word in ("or", "OR"):
        return Token("or", start, end)
    if word in ("and", "AND"):
        return Token("and", start, end)
    name, colon, rest = word.partition(":")
    if colon and name.lower() in FILTERS:
        canonical = FILTERS[name.lower()]
        value_pos = start + len(name) + 1
        value = rest
        if rest.startswith('"'):
            value, qend = _read_quoted(text, value_pos)
            if qend != end:
                raise QueryError("unexpected text after the quoted filter value", qend)
        if value == "":
            raise QueryError(f"{name}: needs a value", value_pos)
        if canonical == "sym":
            check_name(value, value_pos)
        if canonical == "content":
            return Token("atom", start, end, _content_node(text, start, end, value, value_pos))
        return Token("atom", start, end, Filter(start, end, canonical, value, value_pos))
    return Token("atom", start, end, Literal(start, end, word))


def _content_node(text: str, start: int, end: int, value: str, value_pos: int) -> Node:
    """content:VALUE is the content term VALUE: a /regex/ or a literal (quoted or not)."""
    if not text[value_pos:end].startswith('"') and len(value) > 2 and value[0] == value[-1] == "/":
        return _regex(value[1:-1], value_pos, end, value_pos)
    return Literal(start, end, value, quoted=True)


# ---------------------------------------------------------------- grammar
#   query   := or_expr
#   or_expr := and_expr ("or" and_expr)*
#   and_expr:= unary+            (adjacent terms, or an explicit "and", AND together)
#   unary   := "-" unary | "(" or_expr ")" | atom


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            if tok.kind == ")":
                raise QueryError("unbalanced ')': no group to close", tok.pos)
            raise QueryError(f"unexpected {self.text[tok.pos : tok.end]!r}", tok.pos)
        return node

    def or_expr(self) -> Node:
        first = self.and_expr()
        children = [first]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in (")", "or", "and"):
                raise QueryError("'or' needs a term on both sides", tok.pos)
            children.append(self.and_expr())
        if len(children) == 1:
            return first
        return Or(children[0].pos, children[-1].end, children)

    def and_expr(self) -> Node:
        children: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind not in (")", "or"):
            if tok.kind == "and":
                self.take()
                if not children or (nxt := self.peek()) is None or nxt.kind in (")", "or", "and"):
                    raise QueryError("'and' needs a term on both sides", tok.pos)
                continue
            children.append(self.unary())
        if not children:
            tok = self.peek()
            if tok is None:
                raise QueryError("expected a search term", len(self.text))
            raise QueryError("expected a search term before this", tok.pos)
        if len(children) == 1:
            return children[0]
        return And(children[0].pos, children[-1].end, children)

    def unary(self) -> Node:
        tok = self.take()
        if tok.kind == "-":
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("(", "-", "atom"):
                raise QueryError("'-' must be followed by a term to exclude", tok.pos)
            child = self.unary()
            return Not(tok.pos, child.end, child)
        if tok.kind == "(":
            nxt = self.peek()
            if nxt is not None and nxt.kind == ")":
                raise QueryError("empty parentheses", tok.pos)
            if nxt is None:
                raise QueryError("unbalanced '(': missing ')'", tok.pos)
            inner = self.or_expr()
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError("unbalanced '(': missing ')'", tok.pos)
            self.take()
            return inner
        assert tok.node is not None
        return tok.node


def parse(text: str) -> Query:
    """Parse a query; raises QueryError pointing at the offending position."""
    if not text.strip():
        raise QueryError("empty query", 0)
    tokens = tokenize(text)
    terms = [t for t in tokens if t.kind == "atom"]
    if len(terms) > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} terms", terms[MAX_TERMS].pos)
    expr = _Parser(text, tokens).parse()
    query = Query(expr=None, text=text)
    query.expr = _take_modifiers(expr, query, top=True)
    return query


def _take_modifiers(node: Node, query: Query, top: bool) -> Node | None:
    """Move type:/case: into `query`; they are valid only as top-level AND terms."""
    if isinstance(node, Filter) and node.name in GLOBAL_FILTERS:
        if not top:
            raise QueryError(
                f"{node.name}: applies to the whole query: use it at the top level", node.pos
            )
        value = node.value.lower()
        allowed = _ALLOWED[node.name]
        if value not in allowed:
            options = "|".join(sorted(allowed))
            raise QueryError(f"{node.name}: must be one of {options}", node.value_pos)
        setattr(query, node.name, value)
        return None
    if isinstance(node, And):
        kept = [c for c in (_take_modifiers(c, query, top) for c in node.children) if c is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else And(node.pos, node.end, kept)
    if isinstance(node, Or):
        node.children = [_required(_take_modifiers(c, query, False), c) for c in node.children]
        return node
    if isinstance(node, Not):
        node.child = _required(_take_modifiers(node.child, query, False), node.child)
        return node
    return node


def _required(node: Node | None, original: Node) -> Node:
    if node is None:
        raise QueryError("a modifier cannot stand alone here", original.pos)
    return node


def walk(node: Node | None, negated: bool = False):
    """Yield (node, negated) for every leaf of the expression."""
    if node is None:
        return
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from walk(child, negated)
    elif isinstance(node, Not):
        yield from walk(node.child, not negated)
    else:
        yield node, negated
