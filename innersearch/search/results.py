"""Typed results of the search API (search, symbols, references, definition_at, outline).

Each class has one to_json() giving the JSON shape of DESIGN.md (fields may be added, never
renamed); web/openapi.py derives its schemas from these classes' field types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

# The base lives in the indexer (status and dedup answers use it too); re-exported here.
from ..indexer.jsonresult import OMIT_NONE, JsonResult, SupportsJson, optional  # noqa: F401
from ..indexer.records import Symbol


@dataclass(slots=True)
class ContextLine(JsonResult):
    """One line of a file: a context line of a match, or a use of a name."""

    line: int  # 1-based
    text: str


@dataclass(slots=True)
class LineMatch(JsonResult):
    """A matched line; `ranges` are [start, end) character offsets of the matches in `text`."""

    line: int  # 1-based
    text: str
    ranges: list[list[int]]
    before: list[ContextLine] | None = optional()  # only with context > 0
    after: list[ContextLine] | None = optional()

    def to_json(self) -> dict:
        out = {"line": self.line, "text": self.text, "ranges": self.ranges}
        if self.before is not None:
            out["before"] = [{"line": c.line, "text": c.text} for c in self.before]
        if self.after is not None:
            out["after"] = [{"line": c.line, "text": c.text} for c in self.after]
        return out


@dataclass(slots=True)
class SymbolHit(JsonResult):
    """A definition at one location (symbol search, references, go-to-definition)."""

    name: str
    kind: str
    lang: str
    repo: str
    path: str
    branch: str
    line: int
    end_line: int
    container: str
    signature: str
    score: float

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "lang": self.lang,
            "repo": self.repo,
            "path": self.path,
            "branch": self.branch,
            "line": self.line,
            "end_line": self.end_line,
            "container": self.container,
            "signature": self.signature,
            "score": self.score,
        }


@dataclass(slots=True)
class _Hit(JsonResult):
    """The fields every search result starts with (a repo result leaves the file ones empty)."""

    repo: str
    path: str
    lang: str
    branch: str
    commit: str
    score: float


@dataclass(slots=True)
class FileResult(_Hit):
    """One file of a search's page: where it is, its category marks, what matched."""

    vendored: bool
    generated: bool
    test: bool
    url: str | None  # the file (at its first matched line) on its code host, if any
    line_matches: list[LineMatch] = field(default_factory=list)
    # The definitions in the file named like a query term; type:symbol: the found one.
    symbols: list[Symbol | SymbolHit] = field(default_factory=list)
    path_ranges: list[list[int]] | None = optional()  # type:path: matches in the path
    symbol: SymbolHit | None = optional()  # type:symbol: the definition found

    def to_json(self) -> dict:
        out = {
            "repo": self.repo,
            "path": self.path,
            "lang": self.lang,
            "branch": self.branch,
            "commit": self.commit,
            "score": self.score,
            "vendored": self.vendored,
            "generated": self.generated,
            "test": self.test,
            "url": self.url,
            "line_matches": [m.to_json() for m in self.line_matches],
            "symbols": [s.to_json() for s in self.symbols],
        }
        if self.path_ranges is not None:
            out["path_ranges"] = self.path_ranges
        if self.symbol is not None:
            out["symbol"] = self.symbol.to_json()
        return out


@dataclass(slots=True)
class RepoHit(_Hit):
    """type:repo: a repository; the file fields are empty so every renderer copes."""

    description: str
    topics: list[str]
    visibility: str | None
    fork: bool
    archived: bool
    url: str | None
    line_matches: list[LineMatch] = field(default_factory=list)


@dataclass(slots=True)
class Facets(JsonResult):
    """Matched files per repo and per language (all matches, not just the page)."""

    repo: dict[str, int] = field(default_factory=dict)
    lang: dict[str, int] = field(default_factory=dict)

    def add(self, repo: str, lang: str | None) -> None:
        self.repo[repo] = self.repo.get(repo, 0) + 1
        lang = lang or "unknown"
        self.lang[lang] = self.lang.get(lang, 0) + 1


@dataclass(slots=True)
class SearchResponse(JsonResult):
    """A page of search results with totals (lower bounds when `limit_hit`)."""

    results: list[FileResult | RepoHit]
    total_files: int
    total_matches: int
    limit_hit: bool
    facets: Facets
    truncated: bool | None = optional()  # content search: lines cut to the response bound
    offset: int = 0
    limit: int = 0
    type: str = "file"
    took_ms: float = 0.0
    cached: bool | None = optional()  # web: the answer came from the result cache

    def to_json(self) -> dict:
        """Written once per instance: the web's result cache shares an answer between the
        requests of its generation, so its JSON too (do not modify either)."""
        memo = self.__dict__.get("_json")  # JsonResult has no __slots__: a __dict__ exists
        if memo is None:
            memo = self.__dict__["_json"] = JsonResult.to_json(self)
        return memo

    def as_cached(self) -> SearchResponse:
        """This answer as the result cache serves it (`cached`: true), sharing its JSON."""
        out = dataclasses.replace(self, cached=True)
        out.__dict__["_json"] = {**self.to_json(), "cached": True}
        return out


@dataclass(slots=True)
class SymbolsResponse(JsonResult):
    symbols: list[SymbolHit]
    total: int
    took_ms: float


@dataclass(slots=True)
class RefFile(JsonResult):
    path: str
    branch: str
    lines: list[ContextLine]


@dataclass(slots=True)
class RefRepo(JsonResult):
    repo: str
    count: int
    files: list[RefFile]


@dataclass(slots=True)
class RefsResponse(JsonResult):
    """Who uses a name: its exact definitions and every recorded use, grouped by repo."""

    name: str
    definitions: list[SymbolHit]
    repos: list[RefRepo]
    total: int
    limit_hit: bool
    took_ms: float = 0.0


@dataclass(slots=True)
class DefinitionResponse(JsonResult):
    """The identifier at a position ("" when there is none) and its definitions, nearest first."""

    name: str
    definitions: list[SymbolHit]
    took_ms: float = 0.0


@dataclass(slots=True)
class OutlineResponse(JsonResult):
    symbols: list[Symbol]
