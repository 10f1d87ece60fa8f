"""What the indexer learns about one blob: symbols, references, function spans, fingerprints.

Plain dataclasses shared by the parser (producer), the index writer and the readers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np


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
    two for Type-2 detection."""

    text: str
    category: str
    line: int  # 1-based
    start_byte: int


@dataclass(frozen=True, eq=False)
class TokenStream:
    """A file's tokens in source order, as columns: token i is `distinct[ids[i]]` at byte
    `starts[i]` of line `lines[i]`; indexing or iterating gives Token tuples.

    Columns, not one object per token: a file has one token per leaf, and making a tuple
    for each, then taking them apart again into the fingerprints' arrays, was a third of
    the token stream's cost; a text's hash and category are looked up once per distinct
    text."""

    distinct: list[tuple[str, str]]  # (text, category) of each distinct token
    ids: np.ndarray  # int64, per token: its entry in `distinct`
    starts: np.ndarray  # int64, per token: its first byte
    lines: np.ndarray  # int64, per token: its 1-based line

    @classmethod
    def of(cls, tokens: Iterable[Token]) -> TokenStream:
        """The stream of tokens given one by one (hand-built parse results)."""
        distinct: dict[tuple[str, str], int] = {}
        ids, starts, lines = [], [], []
        for tok in tokens:
            ids.append(distinct.setdefault((tok.text, tok.category), len(distinct)))
            starts.append(tok.start_byte)
            lines.append(tok.line)
        return cls(list(distinct), *(np.array(c, dtype=np.int64) for c in (ids, starts, lines)))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Token:
        text, category = self.distinct[self.ids[i]]
        return Token(text, category, int(self.lines[i]), int(self.starts[i]))

    def __iter__(self) -> Iterator[Token]:
        return map(self.__getitem__, range(len(self)))

    def __eq__(self, other: object) -> bool:  # the same tokens, however they are numbered
        return isinstance(other, TokenStream) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside


@dataclass
class ParseResult:
    symbols: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    functions: list[FunctionSpan] = field(default_factory=list)
    tokens: TokenStream = field(default_factory=lambda: TokenStream.of(()))
    error: str = ""  # non-empty when the grammar reported syntax errors (still usable)
