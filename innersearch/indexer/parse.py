"""Tree-sitter parsing of one blob: symbols, references, function spans and tokens.

Grammars come from tree-sitter-language-pack; definitions come from our tags/<lang>.scm."""

# Tags query convention (tree-sitter tags, plus two innersearch additions):
#
# - @name is the defined or referenced identifier of a match;
# - @definition.<kind> is the whole definition node; <kind> is one of our symbol kinds or a
#   tags-vocabulary alias (trait -> interface, constructor -> method, ...);
# - @reference.call is a call site, any other @reference.<kind> a type/class use;
# - @scope.<kind> marks a region that names the container of the definitions inside it
#   without being a symbol itself (a Rust impl, a JS object literal used as a namespace);
# - @container overrides the container of definitions that live outside their owner's body
#   (Go receivers, Foo.prototype.bar = ..., C++ Shape::draw).
#
# When several patterns capture the same @name node the earliest pattern in the file wins,
# so specific patterns go before generic fallbacks. A file may start with
# "; inherits: <lang>" to include another language's file up to its line starting with
# "; --- not inherited". Functions whose nearest enclosing definition is class-like become
# methods here, once, rather than in every query.

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tree_sitter import Language, Node, Parser, Query, QueryCursor
from tree_sitter_language_pack import get_language, get_parser

from innersearch.indexer.records import (
    FunctionSpan,
    ParseResult,
    Reference,
    Symbol,
    TokenStream,
)

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(
    {
        "python",
        "javascript",
        "typescript",
        "tsx",
        "go",
        "java",
        "rust",
        "c",
        "cpp",
        "csharp",
        "ruby",
        "php",
        "kotlin",
    }
)

TAGS_DIR = Path(__file__).with_name("tags")
_INHERITS = "; inherits:"
_NOT_INHERITED = "; --- not inherited"

_SYMBOL_KINDS = frozenset(
    {
        "class",
        "function",
        "method",
        "interface",
        "struct",
        "type",
        "enum",
        "module",
        "constant",
        "field",
        "variable",
    }
)
_KIND_ALIASES = {
    "trait": "interface",
    "constructor": "method",
    "object": "class",
    "record": "class",
    "namespace": "module",
    "union": "struct",
    "macro": "function",
    "typedef": "type",
}
# Definitions and scopes whose name becomes the container of what they enclose.
_CONTAINER_KINDS = frozenset({"class", "struct", "interface", "enum", "module", "impl", "object"})
# A function directly inside one of these is a method.
_CLASS_LIKE = frozenset({"class", "struct", "interface", "enum", "impl", "object"})
_FUNCTION_KINDS = frozenset({"function", "method"})
# Children that hold a function's body in grammars without a `body` field.
_BODY_TYPES = frozenset(
    {
        "block",
        "body_statement",
        "compound_statement",
        "constructor_body",
        "function_body",
        "statement_block",
        "arrow_expression_clause",
    }
)
# Nodes around a definition whose first line belongs in its signature when they start on
# the same line: `type X struct {`, `export function f()`, `const f = () =>`.
_SIGNATURE_WRAPPERS = frozenset(
    {
        "type_declaration",
        "export_statement",
        "lexical_declaration",
        "variable_declaration",
        "ambient_declaration",
        "expression_statement",
        "const_declaration",
        "var_declaration",
        "property_declaration",
    }
)
# `namespace Foo;` (PHP, C#) has no body: it scopes everything after it in the file.
_FILE_SCOPED_NAMESPACES = frozenset({"namespace_definition", "file_scoped_namespace_declaration"})
# Lines before the name that are not the interesting first line of a definition.
_SIGNATURE_SKIP = (b"@", b"#[", b"[", b"//", b"/*", b"*")
_MAX_SIGNATURE = 200
_MAX_NAME = 200
_MAX_ERROR_LINES = 10
_MAX_REASON = 200

# Token categories, decided per node type (named leaves are listed by their type).
_IDENTIFIER_TYPES = frozenset(
    {
        "identifier",
        "field_identifier",
        "property_identifier",
        "type_identifier",
        "shorthand_property_identifier",
        "shorthand_property_identifier_pattern",
        "private_property_identifier",
        "statement_identifier",
        "namespace_identifier",
        "package_identifier",
        "simple_identifier",
        "blank_identifier",
        "label_name",
        "constant",
        "name",
        "instance_variable",
        "class_variable",
        "global_variable",
        "hash_key_symbol",
        "metavariable",
        "jsx_identifier",
    }
)
# Whole-node literals: one token each, never descended into (interpolations included), so
# that a string edit changes exactly one token.
_STRING_TYPES = frozenset(
    {
        "string",
        "string_literal",
        "raw_string_literal",
        "template_string",
        "interpreted_string_literal",
        "char_literal",
        "character_literal",
        "rune_literal",
        "encapsed_string",
        "heredoc",
        "nowdoc",
        "heredoc_body",
        "heredoc_beginning",
        "verbatim_string_literal",
        "interpolated_string_expression",
        "interpolated_verbatim_string_expression",
        "text_block",
        "line_string_literal",
        "multi_line_string_literal",
        "regex",
        "regex_literal",
        "shell_command_expression",
        "subshell",
        "delimited_symbol",
        "simple_symbol",
        "string_array",
        "symbol_array",
        "character",
        "system_lib_string",
        "user_defined_literal",
        "rational",
        "complex",
        "imaginary",
        "jsx_text",
        "text",
    }
)
_NUMBER_TYPES = frozenset({"number", "integer", "float"})
# Token classes of node kinds; the ones below _STRING are descended into when not leaves.
_OTHER, _IDENT, _NUMBER, _STRING, _SKIP = 0, 1, 2, 3, 4


@dataclass
class _Lang:
    """Per-language state shared by every parse in this process (queries are read-only)."""

    name: str
    query: Query
    token_classes: list[int]


@dataclass
class _Def:
    name: str
    kind: str  # our symbol kind, or a scope kind ("impl", "object")
    is_scope: bool
    node: Node
    name_node: Node
    container: str | None  # explicit @container text
    order: int  # pattern index: lower wins on the same name node
    scope_end: int = -1  # end byte of the region it contains, when not its node's end


_langs: dict[str, _Lang] = {}
_langs_lock = threading.Lock()
# Parsers are stateful, so one per thread; queries and languages are shared.
_local = threading.local()


def _query_source(lang: str, inherited: bool = False) -> str:
    text = (TAGS_DIR / f"{lang}.scm").read_text(encoding="utf-8")
    base = ""
    first = text.split("\n", 1)[0]
    if first.startswith(_INHERITS):
        base = _query_source(first[len(_INHERITS) :].strip(), inherited=True) + "\n"
    if inherited and _NOT_INHERITED in text:
        text = text[: text.index(_NOT_INHERITED)]
    return base + text


def _lang(lang: str) -> _Lang:
    state = _langs.get(lang)
    if state is None:
        with _langs_lock:
            state = _langs.get(lang)
            if state is None:
                language = get_language(lang)
                query = Query(language, _query_source(lang))
                state = _Lang(lang, query, _token_classes(language))
                _langs[lang] = state
    return state


def _parser(lang: str) -> Parser:
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(lang)
    if parser is None:
        parser = parsers[lang] = get_parser(lang)
    return parser


def parse_source(lang: str, data: bytes) -> ParseResult | None:
    """Parse `data` as `lang`; None when the language is not supported.

    Never raises: syntax errors (and, as a last resort, internal failures) are reported in
    ParseResult.error next to whatever could be extracted."""
    if lang not in SUPPORTED_LANGUAGES:
        return None
    result = ParseResult()
    with collector_paused():
        try:
            state = _lang(lang)
            root = _parser(lang).parse(data).root_node
            if root.has_error:
                result.error = _error_summary(root)
            # Separate steps, so that a failure in one still leaves the other's output.
            _guard(result, _extract_tags, state, root, data, result)
            _guard(result, _extract_tokens, state, root, data, result)
        except Exception as exc:  # a worker must survive any blob; the error says what broke
            _add_internal_error(result, exc)
    return result


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one blob's analysis, then back as it was.

    A big file makes hundreds of thousands of acyclic objects (tokens, nodes, the columns
    of its fingerprints): with the collector on, their growing number triggers collections
    again and again that cannot free anything (~40% of parsing, ~8% of the whole analysis).
    The few cycles a blob may leave are collected once it is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _guard(result: ParseResult, step: Callable[..., None], *args: object) -> None:
    try:
        step(*args)
    except Exception as exc:
        _add_internal_error(result, exc)


def _add_internal_error(result: ParseResult, exc: Exception) -> None:
    reason = f"internal error: {type(exc).__name__}: {exc}"[:_MAX_REASON]
    result.error = f"{result.error}; {reason}" if result.error else reason


def _extract_tokens(state: _Lang, root: Node, data: bytes, result: ParseResult) -> None:
    result.tokens = _tokens(state, root, data)


def _text(data: bytes, node: Node) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _end_line(node: Node) -> int:
    """1-based last line of `node`; a node ending at column 0 ends on the line before."""
    row, column = node.end_point
    if column == 0 and row > node.start_point[0]:
        return row
    return row + 1


def _clean_name(text: str) -> str:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        # A computed JS key is named by its string (`get ['async']()`), not `[Symbol.x]`.
        inner = text[1:-1].strip()
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"`":
            text = inner
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        text = text[1:-1]
    return " ".join(text.split())[:_MAX_NAME]


def _extract_tags(state: _Lang, root: Node, data: bytes, result: ParseResult) -> None:
    defs: dict[tuple[bool, int], _Def] = {}
    refs: dict[tuple[str, int], tuple[int, str]] = {}  # (name, line) -> (byte, kind)
    for order, captures in QueryCursor(state.query).matches(root):
        names = captures.get("name")
        if not names:
            continue
        name_node = names[0]
        for key, nodes in captures.items():
            role, _, kind = key.partition(".")
            if not kind or role not in ("definition", "reference", "scope"):
                continue
            name = _clean_name(_text(data, name_node))
            if not name:
                break
            if role == "reference":
                ref_kind = "call" if kind == "call" else "ref"
                ref_key = (name, name_node.start_point[0] + 1)
                seen = refs.get(ref_key)
                if seen is None or (ref_kind == "call" and seen[1] != "call"):
                    refs[ref_key] = (name_node.start_byte, ref_kind)
                break
            is_scope = role == "scope"
            if not is_scope:
                kind = _KIND_ALIASES.get(kind, kind)
                if kind not in _SYMBOL_KINDS:
                    break
            def_key = (is_scope, name_node.start_byte)
            previous = defs.get(def_key)
            if previous is None or order < previous.order:
                container = captures.get("container")
                defs[def_key] = _Def(
                    name=name,
                    kind=kind,
                    is_scope=is_scope,
                    node=nodes[0],
                    name_node=name_node,
                    container=_container_name(data, container[0]) if container else None,
                    order=order,
                )
            break
    _resolve_definitions(list(defs.values()), data, result)
    result.references = [
        Reference(name=name, line=line, kind=kind)
        for (name, line), (_, kind) in sorted(refs.items(), key=lambda item: (item[1][0], item[0]))
    ]


def _container_name(data: bytes, node: Node) -> str:
    # `Shape<int>::draw` and `Stack[T]` name their owner without type arguments.
    text = _text(data, node)
    for stop in "<[(":
        text = text.split(stop, 1)[0]
    return _clean_name(text)


def _resolve_definitions(defs: list[_Def], data: bytes, result: ParseResult) -> None:
    """Turn matched definitions into symbols, with containers from lexical nesting."""
    for d in defs:
        d.scope_end = d.node.end_byte
    file_scoped = sorted(
        (
            d
            for d in defs
            if d.kind == "module"
            and d.node.type in _FILE_SCOPED_NAMESPACES
            and d.node.child_by_field_name("body") is None
        ),
        key=lambda d: d.node.start_byte,
    )
    for i, d in enumerate(file_scoped):
        following = file_scoped[i + 1] if i + 1 < len(file_scoped) else None
        d.scope_end = following.node.start_byte if following else len(data)
    # On equal ranges a symbol encloses the scope it names (`const api = {...}`).
    defs.sort(key=lambda d: (d.node.start_byte, -d.scope_end, d.is_scope, d.order))
    # Stack of open definitions: (start, end, kind, container for the definitions inside).
    stack: list[tuple[int, int, str, str]] = []
    symbols: list[tuple[int, Symbol]] = []
    for d in defs:
        start, end = d.node.start_byte, d.node.end_byte
        while stack and not (stack[-1][0] <= start and end <= stack[-1][1]):
            stack.pop()
        parent_kind = stack[-1][2] if stack else ""
        container = stack[-1][3] if stack else ""
        if d.container is not None:
            container = d.container
        kind = d.kind
        if kind == "function" and parent_kind in _CLASS_LIKE:
            kind = "method"
        elif kind == "method" and not container:
            # Ruby top-level `def`, methods of anonymous objects: nothing to be a method of.
            kind = "function"
        inner = d.name if d.kind in _CONTAINER_KINDS else container
        stack.append((start, d.scope_end, d.kind, inner))
        if d.is_scope:
            continue
        line = d.name_node.start_point[0] + 1
        end_line = max(_end_line(d.node), line)
        symbol = Symbol(
            name=d.name,
            kind=kind,
            line=line,
            end_line=end_line,
            container=container,
            signature=_signature(data, _signature_start(d.node), d.name_node.start_byte),
        )
        symbols.append((d.name_node.start_byte, symbol))
        if kind in _FUNCTION_KINDS and _has_body(d.node):
            result.functions.append(
                FunctionSpan(
                    name=d.name,
                    start_line=d.node.start_point[0] + 1,
                    end_line=end_line,
                    start_byte=start,
                    end_byte=end,
                )
            )
    symbols.sort(key=lambda item: item[0])
    result.symbols = [symbol for _, symbol in symbols]
    result.functions.sort(key=lambda span: (span.start_byte, -span.end_byte))


def _has_body(node: Node, depth: int = 0) -> bool:
    if node.child_by_field_name("body") is not None:
        return True
    for child in node.named_children:
        if child.type in _BODY_TYPES:
            return True
    if depth < 2:
        # `const f = () => {}` and friends: the function is the declaration's value.
        for child in node.named_children:
            if child.type in ("variable_declarator", "pair", "assignment", "field_definition"):
                return _has_body(child, depth + 1)
        for field in ("value", "right"):
            value = node.child_by_field_name(field)
            if value is not None:
                return _has_body(value, depth + 1)
    return False


def _signature_start(node: Node) -> int:
    row = node.start_point[0]
    start = node.start_byte
    parent = node.parent
    while parent is not None and parent.type in _SIGNATURE_WRAPPERS:
        if parent.start_point[0] != row:
            break
        start = parent.start_byte
        parent = parent.parent
    return start


def _signature(data: bytes, start: int, name_start: int) -> str:
    """First line of the definition, skipping annotation and comment lines before its name."""
    end = data.find(b"\n", start)
    if end == -1:
        end = len(data)
    while end < name_start:
        line = data[start:end].strip()
        if line and not line.startswith(_SIGNATURE_SKIP):
            break
        start = end + 1
        end = data.find(b"\n", start)
        if end == -1:
            end = len(data)
    # Bound the decode: minified files have megabyte lines.
    chunk = data[start : min(end, start + 4 * _MAX_SIGNATURE)]
    return chunk.decode("utf-8", errors="replace").strip()[:_MAX_SIGNATURE]


def _error_summary(root: Node) -> str:
    """Lines of the innermost ERROR nodes and of MISSING nodes, walking only subtrees that
    contain errors (recovery often wraps a whole file in one ERROR around the real ones).

    Empty when no such node is visible (see below)."""
    lines: set[int] = set()
    cursor = root.walk()
    while True:
        node = cursor.node
        descend = False
        if node.is_missing:
            lines.add(node.start_point[0] + 1)
        elif node.is_error:
            if any(child.has_error for child in node.children):
                descend = True
            else:
                lines.add(node.start_point[0] + 1)
        elif node.has_error:
            descend = True
        if descend and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                ordered = sorted(lines)
                if not ordered:
                    # Only hidden MISSING nodes, e.g. Kotlin's automatic semicolon before
                    # `}` in valid code: not an error anyone could see or fix.
                    return ""
                shown = ", ".join(str(n) for n in ordered[:_MAX_ERROR_LINES])
                more = len(ordered) - _MAX_ERROR_LINES
                suffix = f" (+{more} more)" if more > 0 else ""
                word = "line" if len(ordered) == 1 else "lines"
                return f"syntax errors at {word} {shown}{suffix}"


def _token_classes(language: Language) -> list[int]:
    """Token class of every node kind of a grammar, indexed by kind id."""
    classes = []
    for kind_id in range(language.node_kind_count):
        node_type = language.node_kind_for_id(kind_id) or ""
        named = language.node_kind_is_named(kind_id)
        if "comment" in node_type:
            cls = _SKIP
        elif named and node_type in _STRING_TYPES:
            cls = _STRING
        elif named and (node_type in _IDENTIFIER_TYPES or node_type.endswith("identifier")):
            cls = _IDENT
        elif named and (node_type in _NUMBER_TYPES or node_type.endswith("_literal")):
            cls = _NUMBER
        else:
            cls = _OTHER
        classes.append(cls)
    return classes


def _tokens(state: _Lang, root: Node, data: bytes) -> TokenStream:
    """Leaf tokens in source order, by an explicit cursor walk (trees can be very deep).

    The hot loop of the indexer: one kind-id lookup per node, attributes read only once,
    each distinct token text decoded and categorised once per file, and per token only
    its distinct entry and start byte kept (lines are counted afterwards, in numpy)."""
    distinct: list[tuple[str, str]] = []
    ids: list[int] = []
    starts: list[int] = []
    add_id = ids.append
    add_start = starts.append
    classes = state.token_classes
    kinds = len(classes)
    seen: tuple[dict[bytes, int], ...] = ({}, {}, {}, {})  # per token class
    cursor = root.walk()
    while True:
        node = cursor.node
        kind_id = node.kind_id
        cls = classes[kind_id] if kind_id < kinds else _OTHER  # ERROR is kind 65535
        # Non-leaf literals (`func () {}` in Go is a func_literal) are walked like any node.
        if cls < _STRING and cursor.goto_first_child():
            continue
        if cls != _SKIP:
            start = node.start_byte
            end = node.end_byte
            if end > start:  # MISSING nodes are empty
                raw = data[start:end]
                known = seen[cls].get(raw)
                if known is None:
                    known = seen[cls][raw] = len(distinct)
                    distinct.append(_token_text(raw, cls))
                add_id(known)
                add_start(start)
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return _stream(distinct, ids, starts, data)


def _stream(distinct: list[tuple[str, str]], ids: list[int], starts: list[int], data: bytes):
    at = np.array(starts, dtype=np.int64)
    # Tree-sitter's row of a byte is the number of newlines before it.
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    lines = np.searchsorted(newlines, at, "left") + 1
    return TokenStream(distinct, np.array(ids, dtype=np.int64), at, lines.astype(np.int64))


def _token_text(raw: bytes, cls: int) -> tuple[str, str]:
    """(text, category) of a leaf's bytes in a node of token class `cls`."""
    text = raw.decode("utf-8", errors="replace")
    if cls == _IDENT:
        return text, "identifier"
    if cls == _STRING:
        return text, "literal"
    if text.isidentifier():
        # true/false/null/None/self and every alphabetic anonymous node.
        return text, "keyword"
    if cls == _NUMBER or text[0].isdigit():
        return text, "literal"
    return text, "punct"
