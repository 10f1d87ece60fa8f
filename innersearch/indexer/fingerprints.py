"""Dedup fingerprints of one parsed blob: MinHash signatures and token streams per fragment.

Runs in the indexer's workers; innersearch.dedup reads the records back (see decode_record).

Record format (`FragmentRecord.data`, little-endian):

    b"IF" version:u8 num_perm:u16 ntokens:u32 packed_len:u32
    raw MinHash hashvalues   num_perm x u32   (shingles of RAW_K raw tokens)
    abs MinHash hashvalues   num_perm x u32   (shingles of ABS_K abstracted tokens)
    zlib(packed): token hashes ntokens x u32, token categories ntokens x u8,
                  token lines ntokens x u32 (relative to start_line), then UTF-8 JSON
                  vocabulary (file records only: [[kind, name, container, signature], ...])

Token hashes are CRC-32 of the token text (stable across processes and runs); the
abstracted stream is derived from them: identifiers become ABS_IDENT, literals ABS_LITERAL.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from .records import ParseResult

FORMAT_VERSION = 1
NUM_PERM = 64
SEED = 20241
RAW_K = 5  # raw-token shingle length (Type-1)
ABS_K = 6  # abstracted-token shingle length (Type-2/3): longer, the alphabet is small
# Index-time thresholds are below the report defaults (50 tokens, 6 lines) so the report's
# minimum size can be raised or lowered a little without re-indexing.
INDEX_MIN_TOKENS = 20
INDEX_MIN_LINES = 3

CAT_IDENT, CAT_LITERAL, CAT_KEYWORD, CAT_PUNCT = 0, 1, 2, 3
_CATEGORY = {"identifier": CAT_IDENT, "literal": CAT_LITERAL, "keyword": CAT_KEYWORD}
ABS_IDENT = zlib.crc32(b"\x00I")
ABS_LITERAL = zlib.crc32(b"\x00L")

_HEADER = struct.Struct("<2sBHII")
_MAGIC = b"IF"

# Statement starters that only bring names into scope (imports, includes, packages).
_IMPORT_STARTERS = frozenset(
    {"import", "package", "#include", "#import", "require", "require_relative", "extern"}
)
_STARTER_WORDS = _IMPORT_STARTERS | {"from", "use", "using", "const", "let", "var"}


@dataclass
class FragmentRecord:
    kind: str  # "function" | "file"
    symbol: str  # function name ("" for file)
    start_line: int
    end_line: int
    tokens: int  # number of significant tokens
    data: bytes  # see the module docstring


@dataclass
class Fingerprint:
    """A decoded record: signatures always, streams on demand (they cost a zlib inflate)."""

    raw_sig: np.ndarray  # uint32[num_perm]
    abs_sig: np.ndarray  # uint32[num_perm]
    ntokens: int
    packed: bytes

    def streams(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """(raw token hashes u32, categories u8, relative lines u32, vocabulary)."""
        blob = zlib.decompress(self.packed)
        n = self.ntokens
        hashes = np.frombuffer(blob, dtype="<u4", count=n)
        cats = np.frombuffer(blob, dtype=np.uint8, count=n, offset=4 * n)
        lines = np.frombuffer(blob, dtype="<u4", count=n, offset=5 * n)
        rest = blob[9 * n :]
        vocab = json.loads(rest) if rest else []
        return hashes, cats, lines, vocab


def abstract_stream(hashes: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Identifiers and literals replaced by placeholders (Type-2 view)."""
    out = hashes.astype(np.uint32, copy=True)
    out[cats == CAT_IDENT] = ABS_IDENT
    out[cats == CAT_LITERAL] = ABS_LITERAL
    return out


_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")
PERMUTATIONS = _TEMPLATE.permutations


def _identity(value):
    return value


def shingle_hashes(stream: np.ndarray, k: int) -> np.ndarray:
    """32-bit hashes of every k-token window (the whole stream if shorter than k)."""
    values = stream.astype(np.uint64)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    width = min(k, n)
    count = n - width + 1
    acc = np.zeros(count, dtype=np.uint64)
    mult = np.uint64(0x100000001B3)
    for j in range(width):
        acc = acc * mult + values[j : j + count]
    folded = (acc ^ (acc >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return np.unique(folded.astype(np.uint32))


def minhash(stream: np.ndarray, k: int) -> MinHash:
    """datasketch MinHash of the stream's k-shingles, with the project's fixed permutations."""
    m = MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashfunc=_identity,
        permutations=PERMUTATIONS,
        scheme="affine32",
    )
    shingles = shingle_hashes(stream, k)
    if len(shingles):
        m.update_batch(shingles.tolist())
    return m


def encode_record(
    hashes: np.ndarray, cats: np.ndarray, lines: np.ndarray, vocab: list | None = None
) -> bytes:
    raw = minhash(hashes, RAW_K).hashvalues.astype("<u4")
    abstracted = minhash(abstract_stream(hashes, cats), ABS_K).hashvalues.astype("<u4")
    packed_parts = [
        hashes.astype("<u4").tobytes(),
        cats.astype(np.uint8).tobytes(),
        lines.astype("<u4").tobytes(),
    ]
    if vocab:
        packed_parts.append(json.dumps(vocab, separators=(",", ":")).encode())
    packed = zlib.compress(b"".join(packed_parts), 1)
    header = _HEADER.pack(_MAGIC, FORMAT_VERSION, NUM_PERM, len(hashes), len(packed))
    return header + raw.tobytes() + abstracted.tobytes() + packed


def decode_record(data: bytes) -> Fingerprint:
    """Raises ValueError on a record of another format (the dedup job skips it)."""
    if len(data) < _HEADER.size:
        raise ValueError("fingerprint record too short")
    magic, version, num_perm, ntokens, packed_len = _HEADER.unpack_from(data)
    if magic != _MAGIC or version != FORMAT_VERSION or num_perm != NUM_PERM:
        raise ValueError(f"fingerprint record format {version}/{num_perm} is not supported")
    off = _HEADER.size
    raw = np.frombuffer(data, dtype="<u4", count=num_perm, offset=off)
    abstracted = np.frombuffer(data, dtype="<u4", count=num_perm, offset=off + 4 * num_perm)
    packed = data[off + 8 * num_perm : off + 8 * num_perm + packed_len]
    return Fingerprint(raw, abstracted, ntokens, packed)


_HASH_CACHE: dict[str, int] = {}


def _token_hash(text: str) -> int:
    h = _HASH_CACHE.get(text)
    if h is None:
        if len(_HASH_CACHE) > 200_000:  # bounded: workers live for the whole run
            _HASH_CACHE.clear()
        h = _HASH_CACHE[text] = zlib.crc32(text.encode("utf-8", "replace"))
    return h


def _import_token_indexes(tokens) -> set[int]:
    """Indexes of tokens in import/include/package/using statements (any language)."""
    dropped: set[int] = set()
    resume = 0
    for i, tok in enumerate(tokens):
        if i < resume or tok.text not in _STARTER_WORDS:
            continue
        if i > 0 and tokens[i - 1].line == tok.line:
            continue  # only at the start of a line
        if _starts_import(tokens, i):
            resume = _statement_end(tokens, i)
            dropped.update(range(i, resume))
    return dropped


def _starts_import(tokens, i: int) -> bool:
    text = tokens[i].text
    nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
    if text in _IMPORT_STARTERS:
        if text == "extern":  # Rust `extern crate x;`, not C `extern int x;`
            return nxt == "crate"
        if text.startswith("require"):
            return bool(nxt) and (nxt == "(" or tokens[i + 1].category == "literal")
        return True
    if text == "from":  # Python: from x import y
        line = tokens[i].line
        j = i + 1
        while j < len(tokens) and tokens[j].line == line:
            if tokens[j].text == "import":
                return True
            j += 1
        return False
    if text == "use":  # Rust / PHP imports; closures use `use` mid-line
        return nxt not in ("(", "")
    if text == "using":  # C# directives, not `using (...)` / `using var` statements
        return nxt not in ("(", "var", "")
    if text in ("const", "let", "var"):  # JS: const x = require("y")
        line = tokens[i].line
        j = i + 1
        while j < len(tokens) and tokens[j].line == line:
            if tokens[j].text == "require" and j + 1 < len(tokens) and tokens[j + 1].text == "(":
                return True
            j += 1
    return False


_OPEN = {"(": 1, "{": 1, "[": 1, ")": -1, "}": -1, "]": -1}


def _statement_end(tokens, i: int) -> int:
    """Index after the statement starting at i: brackets balanced, then `;` or a new line."""
    depth = 0
    line = tokens[i].line
    j = i
    n = len(tokens)
    while j < n:
        tok = tokens[j]
        if depth <= 0 and tok.line != line and j > i:
            return j
        depth += _OPEN.get(tok.text, 0) if tok.category == "punct" else 0
        line = tok.line if depth > 0 else line
        if depth <= 0 and tok.text == ";":
            return j + 1
        j += 1
    return n


def fragment_records(parsed: ParseResult, data: bytes) -> list[FragmentRecord]:
    """One file record (always, when the file has code: it carries the API vocabulary the
    library analysis needs) and one record per function of at least the index minimum size."""
    tokens = parsed.tokens
    if not tokens:
        return []
    dropped = _import_token_indexes(tokens)
    kept = [t for idx, t in enumerate(tokens) if idx not in dropped] if dropped else tokens
    if not kept:
        return []
    cache = _HASH_CACHE
    hashes = np.array([cache.get(t.text) or _token_hash(t.text) for t in kept], dtype=np.uint32)
    cats = np.array([_CATEGORY.get(t.category, CAT_PUNCT) for t in kept], dtype=np.uint8)
    lines = np.array([t.line for t in kept], dtype=np.int64)
    starts = np.array([t.start_byte for t in kept], dtype=np.int64)

    first, last = int(lines[0]), int(lines[-1])
    vocab = [[s.kind, s.name, s.container, s.signature] for s in parsed.symbols]
    records = [
        FragmentRecord(
            "file", "", first, last, len(kept), encode_record(hashes, cats, lines - first, vocab)
        )
    ]
    for fn in parsed.functions:
        lo = int(np.searchsorted(starts, fn.start_byte, "left"))
        hi = int(np.searchsorted(starts, fn.end_byte, "left"))
        count = hi - lo
        if count < INDEX_MIN_TOKENS or fn.end_line - fn.start_line + 1 < INDEX_MIN_LINES:
            continue
        records.append(
            FragmentRecord(
                "function",
                fn.name,
                fn.start_line,
                fn.end_line,
                count,
                encode_record(hashes[lo:hi], cats[lo:hi], lines[lo:hi] - fn.start_line),
            )
        )
    return records
