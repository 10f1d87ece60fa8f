"""Typed answers over shards (`serve --ray`): one machine's answer plus which shards it
covers (`partial`, the `partial_shards` that did not answer in time, `shards`).

The JSON is one machine's with those three fields after its own; the web layer serves it
without knowing the cluster package, which builds the search answers (cluster/search.py).
`sharded(cls)` makes the class for any one-machine answer, so the three fields are written
once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field

from .results import DefinitionResponse, RefsResponse, SearchResponse, SymbolsResponse

# Declared after the answer's own fields, so they come last in its JSON.
COVERAGE_FIELDS = [
    ("partial", bool, False),
    ("partial_shards", list[str], field(default_factory=list)),
    ("shards", int, 1),
]


def coverage(missing: list[str], shards: int) -> dict:
    """The coverage fields' values, as keyword arguments of a Sharded answer: `partial`
    when some of the `shards` asked did not answer (`missing`)."""
    return {"partial": bool(missing), "partial_shards": sorted(missing), "shards": shards}


def covered(answer, sharded_class: type, cover: dict):
    """One machine's `answer` as its `sharded_class` (made by sharded() from the answer's
    class) with the coverage `cover` (see coverage); the values are shared, not copied."""
    fields = {f.name: getattr(answer, f.name) for f in dataclasses.fields(answer)}
    return sharded_class(**fields, **cover)


def sharded(answer: type, doc: str, module: str = __name__) -> type:
    """The dataclass `Sharded<answer>`: `answer`'s fields, then the shard coverage fields.
    `module` is where the caller binds it (pickle and the error messages look there)."""
    made = dataclasses.make_dataclass(
        "Sharded" + answer.__name__, COVERAGE_FIELDS, bases=(answer,), slots=True
    )
    made.__doc__ = doc
    made.__module__ = module
    return made


ShardedSearchResponse = sharded(
    SearchResponse, "api.search's answer merged over the shards, and the shards it covers."
)
ShardedSymbolsResponse = sharded(
    SymbolsResponse, "api.symbols' answer merged over the shards, and the shards it covers."
)
ShardedDefinitionResponse = sharded(
    DefinitionResponse,
    "definition_at's answer with every shard's definitions, and the shards it covers.",
)
ShardedRefsResponse = sharded(
    RefsResponse, "references' answer merged over the shards, and the shards it covers."
)
