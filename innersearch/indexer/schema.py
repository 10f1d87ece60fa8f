"""The tantivy index schema: the single place that knows its fields and analyzers.

One index holds two kinds of documents, so that one commit switches both atomically:
- "blob": one per unique git blob (content addressed): its bytes, its trigrams, the names it
  references;
- "symbol": one per definition found by tree-sitter in a blob.
Documents are built (blob_documents) and decoded (find_blob_doc, symbol_from_doc) here too.
Trigram postings give candidate blobs; the search package verifies every candidate with RE2
on the stored bytes, which is what makes results exact (Zoekt and codesearch do the same).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from .records import Symbol

TRIGRAM_ANALYZER = "trigram"
LOWER_RAW_ANALYZER = "lower_raw"

DOC_BLOB = "blob"
DOC_SYMBOL = "symbol"

# Field names, for readers and writers alike.
F_DOC_KIND = "doc_kind"
F_BLOB_KEY = "blob_key"  # u64, fast: joins tantivy docs to the catalog's files table
F_TRIGRAMS = "trigrams"  # blob: lower-cased character trigrams, doc ids only
F_CONTENT = "content"  # blob: zlib of the raw bytes (pack_stored), stored not indexed
F_REF_NAMES = "ref_names"  # blob: names the blob calls or uses (who-uses-this)
F_REFS = "refs"  # blob: zlib of the JSON {name: [line, ...]}, stored not indexed
F_SYM_NAME = "sym_name"  # symbol: exact name
F_SYM_LOWER = "sym_lower"  # symbol: lower-cased name (case-insensitive exact and prefix)
F_SYM_TRIGRAMS = "sym_trigrams"  # symbol: lower-cased trigrams of the name (sym: substrings)
F_SYM_SQUASHED = "sym_squashed"  # symbol: words joined, style-free ("ratelimiter")
F_SYM_WORDS = "sym_words"  # symbol: identifier words ("rate", "limiter")
F_SYM_KIND = "sym_kind"
F_LANG = "lang"
# symbol: b"line NUL end_line-line NUL container NUL signature", stored not indexed (no
# query names them). One value, not four: 8 bytes less per document in the doc store
# (2.7M symbols in the kernel), and a text field would index each signature as a term.
F_SYM_DETAIL = "sym_detail"

# Stored blob values are zlib-compressed by the worker (pack_stored): the doc store of the
# tantivy-py wheel is lz4 only, which left the content at ~45% of its size, zlib level 6
# at ~26%; decompressing costs ~3 ms per MB read, only for the candidates a search verifies.
STORED_ZLIB_LEVEL = 6


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field(F_DOC_KIND, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field(F_BLOB_KEY, stored=True, indexed=True, fast=True)
    sb.add_text_field(F_TRIGRAMS, tokenizer_name=TRIGRAM_ANALYZER, index_option="basic")
    sb.add_bytes_field(F_CONTENT, stored=True)
    sb.add_text_field(F_REF_NAMES, tokenizer_name="raw", index_option="basic")
    sb.add_bytes_field(F_REFS, stored=True, indexed=False)
    sb.add_text_field(F_SYM_NAME, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(F_SYM_LOWER, tokenizer_name=LOWER_RAW_ANALYZER, index_option="basic")
    sb.add_text_field(F_SYM_TRIGRAMS, tokenizer_name=TRIGRAM_ANALYZER, index_option="basic")
    sb.add_text_field(F_SYM_SQUASHED, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(F_SYM_WORDS, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(F_SYM_KIND, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(F_LANG, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_bytes_field(F_SYM_DETAIL, stored=True, indexed=False)
    return sb.build()


SCHEMA = build_schema()


def _register_analyzers(index: tantivy.Index) -> None:
    trigram = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(3, 3, False))
        .filter(tantivy.Filter.lowercase())
        .build()
    )
    lower_raw = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
        .filter(tantivy.Filter.lowercase())
        .build()
    )
    index.register_tokenizer(TRIGRAM_ANALYZER, trigram)
    index.register_tokenizer(LOWER_RAW_ANALYZER, lower_raw)


def open_index(path: Path, create: bool = False) -> tantivy.Index:
    """Open (or create) the index at `path` with its analyzers registered."""
    if create:
        path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
    _register_analyzers(index)
    return index


# ---------------------------------------------------------------- query builders
# Every tantivy query a reader sends is built here, next to the fields it names: the
# search package says what it wants (a literal's candidates, a symbol by name), this
# section says how the index answers it.


def query_trigrams(literal: str) -> list[str]:
    """Trigrams of a literal that every blob containing it has in its trigram field.

    Only all-ASCII windows of the original text are used: their lower-casing is the same in
    tantivy and Python, so a candidate is never lost to a Unicode case-mapping difference
    (tantivy n-grams the original characters, then lower-cases each n-gram)."""
    grams = {literal[i : i + 3] for i in range(len(literal) - 2)}
    return sorted({g.lower() for g in grams if g.isascii()})


def term(field: str, value: str | int) -> tantivy.Query:
    return tantivy.Query.term_query(SCHEMA, field, value)


def all_of(*queries: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


def docs_of_blob(doc_kind: str, key: int) -> tantivy.Query:
    """The blob document (DOC_BLOB) or the symbol documents (DOC_SYMBOL) of one blob."""
    return all_of(term(F_BLOB_KEY, key), term(F_DOC_KIND, doc_kind))


def trigram_query(text: str) -> tantivy.Query | None:
    """Blobs holding every trigram of a literal (None: it has none, any blob can match)."""
    grams = query_trigrams(text)
    if not grams:
        return None
    return all_of(*[term(F_TRIGRAMS, g) for g in grams])


# A regex's required substrings (search/literals.py's Req): ("str", text), or ("and" |
# "or", [Req, ...]); None: nothing required.
Req = tuple | None


def required_query(req: Req) -> tantivy.Query | None:
    """Blobs that can hold what a regex requires (None: any blob can)."""
    if req is None:
        return None
    kind, value = req
    if kind == "str":
        return trigram_query(value)
    parts = [required_query(r) for r in value]
    if kind == "and":
        kept = [p for p in parts if p is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else all_of(*kept)
    if any(p is None for p in parts):
        return None
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, p) for p in parts])


def symbol_substring_query(value: str) -> tantivy.Query | None:
    """Symbol documents whose name contains `value` (any case); None: cannot be asked."""
    # The symbol documents holding its trigrams (a cost that grows with the candidates); a
    # value without any goes through a regex over every lower-cased name term, with only
    # identifier characters (nothing to escape).
    grams = query_trigrams(value)
    if grams:
        return all_of(*[term(F_SYM_TRIGRAMS, g) for g in grams])
    if not value or not all(c.isalnum() or c == "_" for c in value) or not value.isascii():
        return None
    return tantivy.Query.regex_query(SCHEMA, F_SYM_LOWER, f".*{value.lower()}.*")


def symbols_restricted(query: tantivy.Query, kind: str | None, lang: str | None) -> tantivy.Query:
    """Symbol documents matching `query`, of one kind and language when given."""
    parts = [query, term(F_DOC_KIND, DOC_SYMBOL)]
    if kind:
        parts.append(term(F_SYM_KIND, kind.lower()))
    if lang:
        parts.append(term(F_LANG, lang.lower()))
    return all_of(*parts)


def symbol_name_query(name: str) -> tantivy.Query:
    """Symbol documents named exactly `name`."""
    return term(F_SYM_NAME, name)


def symbol_lower_query(name: str) -> tantivy.Query:
    """Symbol documents named `name` in any case (`name` lower-cased)."""
    return term(F_SYM_LOWER, name.lower())


def symbol_squashed_query(squashed: str) -> tantivy.Query:
    """Symbol documents with these identifier words in any style ("ratelimiter")."""
    return term(F_SYM_SQUASHED, squashed)


def symbol_squashed_prefix_query(squashed: str) -> tantivy.Query | None:
    """Squashed names starting with `squashed`; None unless it is ASCII alphanumeric
    (nothing to escape in the regex then)."""
    if not (squashed.isascii() and squashed.isalnum()):
        return None
    return tantivy.Query.regex_query(SCHEMA, F_SYM_SQUASHED, squashed + ".*")


def symbol_squashed_fuzzy_query(squashed: str, distance: int) -> tantivy.Query:
    """Squashed names within `distance` edits (a transposition counts as one)."""
    return tantivy.Query.fuzzy_term_query(SCHEMA, F_SYM_SQUASHED, squashed, distance, True, False)


def symbol_words_query(words: list[str]) -> tantivy.Query:
    """Symbol documents whose name has every one of these identifier words."""
    return all_of(*[term(F_SYM_WORDS, w) for w in words])


def definitions_named(name: str) -> tantivy.Query:
    """The symbol documents of definitions named exactly `name`."""
    return all_of(symbol_name_query(name), term(F_DOC_KIND, DOC_SYMBOL))


def blobs_definitions_named(keys: list[int], lower_names: list[str]) -> tantivy.Query:
    """The symbol documents of the blobs `keys` named (any case) like one of `lower_names`."""
    return all_of(
        tantivy.Query.term_set_query(SCHEMA, F_BLOB_KEY, sorted(keys)),
        term(F_DOC_KIND, DOC_SYMBOL),
        tantivy.Query.term_set_query(SCHEMA, F_SYM_LOWER, sorted(lower_names)),
    )


def blobs_referencing(name: str) -> tantivy.Query:
    """The blob documents that call or use `name`."""
    return all_of(term(F_REF_NAMES, name), term(F_DOC_KIND, DOC_BLOB))


# ================================================================ documents: build and decode
# The only code that writes or reads documents field by field: the indexer adds what
# blob_documents() builds; Snapshot reads blobs and symbols through the decoders below.


def pack_stored(value: bytes) -> bytes:
    """A blob's content or references JSON as its document stores it (the worker calls
    this, so the compression runs beside the parsing, not in the one indexing process)."""
    return zlib.compress(value, STORED_ZLIB_LEVEL)


def blob_documents(
    key: int,
    lang: str,
    data: bytes,
    stored: StoredBlob,
    symbols: Sequence[Symbol],
    symbol_terms: Sequence[tuple[str, Sequence[str]]],
    ref_names: Sequence[str],
) -> list[tantivy.Document]:
    """The documents of one blob: its blob document, then one per definition. The field
    values come ready from the worker (analyze.py: `name_terms` of each symbol, the distinct
    referenced names, the packed content and references), so building them is the main
    process's only share."""
    doc = tantivy.Document()
    doc.add_text(F_DOC_KIND, DOC_BLOB)
    doc.add_unsigned(F_BLOB_KEY, key)
    doc.add_text(F_TRIGRAMS, data.decode("utf-8", "replace"))
    doc.add_bytes(F_CONTENT, stored.content)
    doc.add_text(F_LANG, lang)
    for name in ref_names:
        doc.add_text(F_REF_NAMES, name)
    doc.add_bytes(F_REFS, stored.refs)
    docs = [doc]
    for sym, (squashed_name, words) in zip(symbols, symbol_terms, strict=True):
        docs.append(_symbol_document(key, lang, sym, squashed_name, words))
    return docs


def _symbol_document(
    key: int, lang: str, sym: Symbol, squashed_name: str, words: Sequence[str]
) -> tantivy.Document:
    sd = tantivy.Document()
    sd.add_text(F_DOC_KIND, DOC_SYMBOL)
    sd.add_unsigned(F_BLOB_KEY, key)
    sd.add_text(F_SYM_NAME, sym.name)
    sd.add_text(F_SYM_LOWER, sym.name)
    sd.add_text(F_SYM_TRIGRAMS, sym.name)
    sd.add_text(F_SYM_SQUASHED, squashed_name)
    for word in words:
        sd.add_text(F_SYM_WORDS, word)
    sd.add_text(F_SYM_KIND, sym.kind)
    sd.add_text(F_LANG, lang)
    detail = f"{sym.line}\0{sym.end_line - sym.line}\0{sym.container}\0{sym.signature}"
    sd.add_bytes(F_SYM_DETAIL, detail.encode())
    return sd


@dataclass(frozen=True)
class StoredBlob:
    """A blob document's stored values, packed (pack_stored): content and references JSON."""

    content: bytes
    refs: bytes

    @classmethod
    def pack(cls, data: bytes, refs_json: str) -> StoredBlob:
        return cls(pack_stored(data), pack_stored(refs_json.encode()))

    def with_references(self, refs_json: str) -> StoredBlob:
        return StoredBlob(self.content, pack_stored(refs_json.encode()))

    def raw_content(self) -> bytes:
        return zlib.decompress(self.content)

    def references(self) -> dict[str, list[int]]:
        """name -> lines where the blob calls or uses it."""
        return json.loads(zlib.decompress(self.refs)) if self.refs else {}


def find_blob_doc(searcher: tantivy.Searcher, key: int) -> StoredBlob | None:
    """The blob document of `key` in `searcher`, or None when the index lacks it."""
    hits = searcher.search(docs_of_blob(DOC_BLOB, key), limit=1).hits
    if not hits:
        return None
    doc = searcher.doc(hits[0][1]).to_dict()
    refs = doc.get(F_REFS) or [b""]
    return StoredBlob(bytes(doc[F_CONTENT][0]), bytes(refs[0]))


def symbol_from_doc(doc: dict) -> Symbol:
    """A symbol document (Document.to_dict()) as the Symbol it was built from."""

    def first(name: str, default=""):
        values = doc.get(name) or [default]
        return values[0]

    detail = bytes(first(F_SYM_DETAIL, b"0\x000\x00\x00")).decode()
    line, span, container, signature = detail.split("\0", 3)  # the signature may hold NULs
    return Symbol(
        name=first(F_SYM_NAME),
        kind=first(F_SYM_KIND),
        line=int(line),
        end_line=int(line) + int(span),
        container=container,
        signature=signature,
    )


def symbol_at(searcher: tantivy.Searcher, addr: tantivy.DocAddress) -> Symbol:
    """The symbol stored at one document address."""
    return symbol_from_doc(searcher.doc(addr).to_dict())
