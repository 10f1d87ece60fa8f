"""What the indexer learns about one blob: symbols, references, function spans, fingerprints.

Plain dataclasses shared by the parser (producer), the index writer and the readers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class Symbol:
    """A definition: `kind` is one of class, function, method, interface, struct, type,
    enum, module, constant, field, variable (lower-case, tags-query vocabulary)."""

    name: str
    kind: str
    line: int  # 1-based line of the name
    end_line: int  # 1-based last line of the definition
    container: str  # enclosing class/struct/namespace name, "" at top level
    signature: str  # the definition's first line, stripped, at most 200 chars

    def to_dict(self) -> dict:
        """The outline entry of DESIGN.md: name, kind, line, end_line, container, signature."""
        return asdict(self)

    def to_json(self) -> dict:
        return self.to_dict()


@dataclass(frozen=True)
class Reference:
    """A use of a name: a call site (`kind="call"`) or another identifier use (`"ref"`)."""

    name: str
    line: int  # 1-based
    kind: str = "call"


@dataclass(frozen=True)
class FunctionSpan:
    """A function or method body, the unit of function-level clone detection."""

    name: str
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    start_byte: int
    end_byte: int


class Token(NamedTuple):
    """One lexical token from the syntax tree (leaf node); comments are excluded.

    `category` is "identifier", "literal", "keyword" or "punct": dedup abstracts the first
    two for Type-2 detection. A tuple, not a dataclass: a file has one per leaf, and
    building and freeing millions of frozen dataclasses was a fifth of the indexing time."""

    text: str
    category: str
    line: int  # 1-based
    start_byte: int


@dataclass
class ParseResult:
    symbols: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    functions: list[FunctionSpan] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    error: str = ""  # non-empty when the grammar reported syntax errors (still usable)
