"""Analysis of one new blob, run in worker processes: parse, references, fingerprints.

Input and output are plain picklable values; the parent process writes them to the index.
Every derived field value (reference names and JSON, symbol words) is computed here, so the
parent only adds ready values: it is one process against all the workers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from . import classify, fingerprints
from .identifiers import name_terms
from .parse import collector_paused, parse_source
from .records import Symbol
from .schema import StoredBlob


@dataclass
class BlobAnalysis:
    key: int
    oid: str
    lang: str
    size: int
    lines: int
    generated: bool
    symbols: list[Symbol] = field(default_factory=list)
    # Per symbol, aligned with `symbols`: (squashed name, distinct identifier words).
    symbol_terms: list[tuple[str, list[str]]] = field(default_factory=list)
    ref_names: list[str] = field(default_factory=list)  # distinct referenced names
    # The blob document's stored content and references JSON, packed here (schema.py).
    stored: StoredBlob | None = None
    fragments: list[fingerprints.FragmentRecord] = field(default_factory=list)
    parse_error: str = ""


def blob_key(oid: str) -> int:
    """The blob's id in tantivy and the catalog: 60 bits of its git object id."""
    return int(oid[:15], 16)


def count_lines(data: bytes) -> int:
    """Lines as git grep sees them: a last line without a newline still counts."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def analyze_blob(task: tuple[str, str, str, bytes]) -> BlobAnalysis:
    """task = (oid, path, lang, data) for a text blob; never raises on bad content."""
    with collector_paused():
        return _analyze(*task)


def _analyze(oid: str, path: str, lang: str, data: bytes) -> BlobAnalysis:
    result = BlobAnalysis(
        key=blob_key(oid),
        oid=oid,
        lang=lang,
        size=len(data),
        lines=count_lines(data),
        generated=classify.is_generated(path, data),
        stored=StoredBlob.pack(data, "{}"),
    )
    try:
        parsed = parse_source(lang, data) if lang else None
    except Exception as err:  # a grammar crash must not take the run down
        result.parse_error = f"parser failed: {type(err).__name__}: {err}"[:300]
        return result
    if parsed is None:
        return result
    result.symbols = parsed.symbols
    result.symbol_terms = [name_terms(s.name) for s in parsed.symbols]
    refs: dict[str, list[int]] = {}
    for ref in parsed.references:
        refs.setdefault(ref.name, []).append(ref.line)
    result.ref_names = list(refs)
    result.stored = result.stored.with_references(json.dumps(refs, separators=(",", ":")))
    result.parse_error = parsed.error
    if not result.generated:
        result.fragments = fingerprints.fragment_records(parsed, data)
    return result
