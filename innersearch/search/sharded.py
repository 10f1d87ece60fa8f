"""Typed answers of a search over shards (`serve --ray`): one machine's answer plus which
shards it covers (`partial`, the `partial_shards` that did not answer in time, `shards`).

The JSON is one machine's with those three fields after its own; the web layer serves it
without knowing the cluster package, which builds it (cluster/search.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .results import DefinitionResponse, RefsResponse, SearchResponse, SymbolsResponse


@dataclass(slots=True)
class ShardedSearchResponse(SearchResponse):
    """api.search's answer merged over the shards, and the shards it covers."""

    partial: bool = False
    partial_shards: list[str] = field(default_factory=list)
    shards: int = 1


@dataclass(slots=True)
class ShardedSymbolsResponse(SymbolsResponse):
    """api.symbols' answer merged over the shards, and the shards it covers."""

    partial: bool = False
    partial_shards: list[str] = field(default_factory=list)
    shards: int = 1


@dataclass(slots=True)
class ShardedDefinitionResponse(DefinitionResponse):
    """definition_at's answer with every shard's definitions, and the shards it covers."""

    partial: bool = False
    partial_shards: list[str] = field(default_factory=list)
    shards: int = 1


@dataclass(slots=True)
class ShardedRefsResponse(RefsResponse):
    """references' answer merged over the shards, and the shards it covers."""

    partial: bool = False
    partial_shards: list[str] = field(default_factory=list)
    shards: int = 1
