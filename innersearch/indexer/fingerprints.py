"""Dedup fingerprints of one parsed blob: MinHash signatures and token streams per fragment.

Runs in the indexer's workers; innersearch.dedup reads the records back (see decode_record).

Record format (`FragmentRecord.data`, little-endian):

    b"IF" version:u8 num_perm:u16 ntokens:u32 packed_len:u32 offset:u32 line_shift:i32
    raw MinHash values   num_perm x u16   (low 16 bits; shingles of RAW_K raw tokens)
    abs MinHash values   num_perm x u16   (low 16 bits; shingles of ABS_K abstracted tokens)
    zlib(packed): token hashes ntokens x u32, token categories ntokens x u8,
                  token line deltas ntokens x u32 (each token's line minus the previous
                  token's; the first is relative to start_line), then UTF-8 JSON
                  API vocabulary (file records only: [[kind, name, container, signature],
                  ...] of the file's definitions of API_KINDS)

Signatures keep 16 of the 32 bits of each MinHash value (b-bit MinHash, Li & König 2010):
the similarity estimate is the fraction of equal values, and two different values agree in
their low 16 bits with probability 2^-16, so the estimate moves by less than 0.00002 while
the signatures, the largest part of the catalog, take half the space. Line deltas are
mostly 0 and 1, so the stream compresses to a fraction of absolute lines.

Only file records carry `packed` (offset 0, line_shift 0). A function record's streams are
the slice [offset, offset + ntokens) of its file record's, with lines made relative to the
function by subtracting line_shift (= function start_line - file start_line): storing them
again doubled the catalog. Readers pass the file record as `parent` to decode_record.

MinHash values are datasketch's "affine32" scheme with the project's fixed permutations,
computed here in one vectorised pass per file: a function's shingles are the file's
windows that lie inside it, so its signature is a column-wise minimum over a row range of
the file's permuted-window matrix (a test checks equality with datasketch.MinHash).

Token hashes are CRC-32 of the token text (stable across processes and runs); the
abstracted stream is derived from them: identifiers become ABS_IDENT, literals ABS_LITERAL.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from .records import ParseResult

FORMAT_VERSION = 3  # 2: function records point into their file record; 3: 16-bit values
NUM_PERM = 64
SEED = 20241
RAW_K = 5  # raw-token shingle length (Type-1)
ABS_K = 6  # abstracted-token shingle length (Type-2/3): longer, the alphabet is small
# Index-time thresholds are below the report defaults (50 tokens, 6 lines) so the report's
# minimum size can be raised or lowered a little without re-indexing.
INDEX_MIN_TOKENS = 20
INDEX_MIN_LINES = 3
# File records were the catalog's largest part (271 MiB of the kernel's 504 MiB of
# fragments): level 6 makes them 20% smaller than level 1 for 0.02 s more per MB of source
# in the workers (measured on the 24 MB kernel slice; level 9 gains 2% more at 6x the cost).
PACK_ZLIB_LEVEL = 6

CAT_IDENT, CAT_LITERAL, CAT_KEYWORD, CAT_PUNCT = 0, 1, 2, 3
_CATEGORY = {"identifier": CAT_IDENT, "literal": CAT_LITERAL, "keyword": CAT_KEYWORD}
ABS_IDENT = zlib.crc32(b"\x00I")
ABS_LITERAL = zlib.crc32(b"\x00L")

_HEADER = struct.Struct("<2sBHIIIi")
_MAGIC = b"IF"
# Bytes of a record up to the end of both signatures: what the dedup job reads of each.
SIGNATURES_END = _HEADER.size + 4 * NUM_PERM
_SIG_MASK = np.uint32(0xFFFF)

# Statement starters that only bring names into scope (imports, includes, packages).
_IMPORT_STARTERS = frozenset(
    {"import", "package", "#include", "#import", "require", "require_relative", "extern"}
)
_STARTER_WORDS = _IMPORT_STARTERS | {"from", "use", "using", "const", "let", "var"}

# The definitions that make a file's API, the only vocabulary dedup's library analysis
# reads. The file's constants, fields and variables (70% of the kernel's symbols: #define
# constants and struct members) are in the search index's symbol documents already;
# keeping them here too was 34 MiB of the kernel catalog's 50 MiB of vocabulary.
API_KINDS = frozenset({"class", "function", "method", "interface", "struct", "type", "enum"})


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

    raw_sig: np.ndarray  # uint32[num_perm], the stored low 16 bits of each MinHash value
    abs_sig: np.ndarray  # uint32[num_perm]
    ntokens: int
    packed: bytes
    offset: int = 0
    line_shift: int = 0
    parent: Fingerprint | None = None  # the file record a function record points into
    _cached: tuple | None = None
    _vocabulary: list | None = None

    def streams(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """(raw token hashes u32, categories u8, relative lines u32, vocabulary)."""
        hashes, cats, lines = self.token_streams()
        if self._vocabulary is None:
            rest = self._cached[3] if self._cached is not None else b""
            self._vocabulary = json.loads(bytes(rest)) if rest else []
        return hashes, cats, lines, self._vocabulary

    def token_streams(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`streams` without the vocabulary: what comparing streams needs (parsing the
        vocabulary's JSON of every file record was a tenth of the kernel's dedup)."""
        if self._cached is not None:
            return self._cached[:3]
        if not self.packed and self.ntokens:
            if self.parent is None:
                raise ValueError("a function record needs its file record to give streams")
            hashes, cats, lines = self.parent.token_streams()
            lo, hi = self.offset, self.offset + self.ntokens
            if hi > len(hashes):
                raise ValueError("function record points past its file record")
            shifted = (lines[lo:hi].astype(np.int64) - self.line_shift).astype("<u4")
            return hashes[lo:hi], cats[lo:hi], shifted
        blob = zlib.decompress(self.packed)
        n = self.ntokens
        hashes = np.frombuffer(blob, dtype="<u4", count=n)
        cats = np.frombuffer(blob, dtype=np.uint8, count=n, offset=4 * n)
        deltas = np.frombuffer(blob, dtype="<u4", count=n, offset=5 * n)
        lines = np.cumsum(deltas, dtype=np.uint32).astype("<u4")
        # File records are read once per function of the file: keep the inflated copy
        # (the vocabulary a view of it, parsed on demand).
        self._cached = (hashes, cats, lines, memoryview(blob)[9 * n :])
        return hashes, cats, lines

    @property
    def needs_parent(self) -> bool:
        return not self.packed and self.ntokens > 0 and self.parent is None


def abstract_stream(hashes: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Identifiers and literals replaced by placeholders (Type-2 view)."""
    out = hashes.astype(np.uint32, copy=True)
    out[cats == CAT_IDENT] = ABS_IDENT
    out[cats == CAT_LITERAL] = ABS_LITERAL
    return out


def _affine32_permutations(num_perm: int, seed: int) -> np.ndarray:
    """datasketch's affine32 parameters (odd a, any b) for `seed`, drawn the way
    datasketch.MinHash draws them; made here because importing datasketch took 1.9 s of a
    3 s incremental run (a test checks the signatures still equal datasketch's)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


PERMUTATIONS = _affine32_permutations(NUM_PERM, SEED)
_PERM_A = PERMUTATIONS[0].astype(np.uint32)[None, :]
_PERM_B = PERMUTATIONS[1].astype(np.uint32)[None, :]
_EMPTY_SIG = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)  # an empty set's MinHash
# Rows of the permuted-window matrix computed at once: bounds a worker's memory on a big
# file (4096 x 64 x 4 bytes = 1 MiB) while keeping numpy's per-call cost small.
_CHUNK_ROWS = 4096
_FMIX1, _FMIX2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, datasketch's pre-mix for the affine32 scheme."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * _FMIX1
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * _FMIX2
    return hv ^ (hv >> np.uint32(16))


def window_hashes(stream: np.ndarray, k: int) -> np.ndarray:
    """32-bit hash of every k-token window, in order (one window if the stream is shorter)."""
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
    return ((acc ^ (acc >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def shingle_hashes(stream: np.ndarray, k: int) -> np.ndarray:
    """The set of 32-bit k-shingle hashes of a stream."""
    return np.unique(window_hashes(stream, k))


def range_signatures(stream: np.ndarray, k: int, ranges: list[tuple[int, int]]) -> np.ndarray:
    """(len(ranges), num_perm) MinHash values of the k-shingles of stream[lo:hi] per range.

    Windows are hashed and permuted once for the whole stream; each range takes the minimum
    over the windows that lie inside it, so nested and adjacent ranges cost no rehash."""
    out = np.tile(_EMPTY_SIG, (len(ranges), 1))
    windows = window_hashes(stream, k)
    n = len(stream)
    # Window rows [lo, hi - k + 1) lie inside [lo, hi); a range shorter than k is one
    # window over the range itself, hashed on its own (as a stream of its own would be).
    spans = []
    for r, (lo, hi) in enumerate(ranges):
        if hi - lo <= 0:
            continue
        if hi - lo < k and hi - lo < n:
            out[r] = _signature_of(window_hashes(stream[lo:hi], k))
            continue
        spans.append((r, lo, max(lo + 1, hi - k + 1)))
    if not spans:
        return out
    with np.errstate(over="ignore"):
        for c0 in range(0, len(windows), _CHUNK_ROWS):
            c1 = min(len(windows), c0 + _CHUNK_ROWS)
            inside = [
                (r, max(lo, c0) - c0, min(hi, c1) - c0)
                for r, lo, hi in spans
                if lo < c1 and hi > c0
            ]
            if inside:
                permuted = _fmix32(windows[c0:c1])[:, None] * _PERM_A + _PERM_B
                _fold_minima(out, permuted, inside)
    return out


def _fold_minima(out: np.ndarray, permuted: np.ndarray, inside: list[tuple[int, int, int]]):
    """out[r] = min(out[r], min of permuted[a:b]) for each (r, a, b) of one chunk's rows.

    A file's functions are mostly disjoint: their minima come from one reduceat over the
    chunk, not one reduction each (a C file has hundreds); a range covering the whole chunk
    (the file record's) takes the chunk's minimum once, and nested ranges are reduced one
    by one."""
    whole = [r for r, a, b in inside if a == 0 and b == len(permuted)]
    if whole:
        out[whole] = np.minimum(out[whole], permuted.min(axis=0))
    parts = sorted((a, b, r) for r, a, b in inside if not (a == 0 and b == len(permuted)))
    disjoint = all(parts[i][1] <= parts[i + 1][0] for i in range(len(parts) - 1))
    if len(parts) > 1 and disjoint:
        bounds = [edge for a, b, _ in parts for edge in (a, b)]
        # Segment 2i is [a_i, b_i); the odd ones are the gaps between ranges. The last end
        # bounds the slice instead, as reduceat's last segment runs to the end.
        minima = np.minimum.reduceat(permuted[: bounds[-1]], bounds[:-1], axis=0)[::2]
        rows = [r for _, _, r in parts]
        out[rows] = np.minimum(out[rows], minima)
        return
    for a, b, r in parts:
        np.minimum(out[r], permuted[a:b].min(axis=0), out=out[r])


def _signature_of(windows: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (_fmix32(windows)[:, None] * _PERM_A + _PERM_B).min(axis=0)


def _pack(hashes: np.ndarray, cats: np.ndarray, lines: np.ndarray, vocab: list | None) -> bytes:
    # Deltas wrap modulo 2**32 and the reader sums them modulo 2**32: exact in any order.
    deltas = np.diff(lines.astype(np.int64), prepend=0)
    packed_parts = [
        hashes.astype("<u4").tobytes(),
        cats.astype(np.uint8).tobytes(),
        deltas.astype("<u4").tobytes(),
    ]
    if vocab:
        packed_parts.append(json.dumps(vocab, separators=(",", ":")).encode())
    return zlib.compress(b"".join(packed_parts), PACK_ZLIB_LEVEL)


def _record(
    raw: np.ndarray, abstracted: np.ndarray, ntokens: int, packed: bytes, offset=0, shift=0
) -> bytes:
    header = _HEADER.pack(_MAGIC, FORMAT_VERSION, NUM_PERM, ntokens, len(packed), offset, shift)
    low = (raw & _SIG_MASK).astype("<u2").tobytes()
    return header + low + (abstracted & _SIG_MASK).astype("<u2").tobytes() + packed


def decode_record(data: bytes, parent: Fingerprint | None = None) -> Fingerprint:
    """Raises ValueError on a record of another format (the dedup job skips it). A function
    record's streams need `parent`, the decoded file record of its blob."""
    if len(data) < _HEADER.size:
        raise ValueError("fingerprint record too short")
    magic, version, num_perm, ntokens, packed_len, offset, shift = _HEADER.unpack_from(data)
    if magic != _MAGIC or version != FORMAT_VERSION or num_perm != NUM_PERM:
        raise ValueError(f"fingerprint record format {version}/{num_perm} is not supported")
    off = _HEADER.size
    raw = np.frombuffer(data, dtype="<u2", count=num_perm, offset=off).astype(np.uint32)
    abstracted = np.frombuffer(data, dtype="<u2", count=num_perm, offset=off + 2 * num_perm)
    abstracted = abstracted.astype(np.uint32)
    packed = data[off + 4 * num_perm : off + 4 * num_perm + packed_len]
    return Fingerprint(raw, abstracted, ntokens, packed, offset, shift, parent)


class _TokenHashes(dict):
    """Token text -> CRC-32, filled on first use (a dict subclass, so that `map` over a
    stream's texts runs the lookups in C and only a miss calls Python)."""

    def __missing__(self, text: str) -> int:
        if len(self) > 200_000:  # bounded: workers live for the whole run
            self.clear()
        h = self[text] = zlib.crc32(text.encode("utf-8", "replace"))
        return h


class _CategoryCodes(dict):
    def __missing__(self, category: str) -> int:
        return CAT_PUNCT


_HASH_CACHE = _TokenHashes()
_CATEGORY_CODES = _CategoryCodes(_CATEGORY)


def token_hash(text: str) -> int:
    """The stream value of one token text (CRC-32 of its UTF-8)."""
    return _HASH_CACHE[text]


_STARTER_HASHES = np.array(sorted({_HASH_CACHE[w] for w in _STARTER_WORDS}), dtype=np.uint32)


def _import_token_indexes(tokens, hashes: np.ndarray) -> set[int]:
    """Indexes of tokens in import/include/package/using statements (any language).

    Only tokens whose hash is a starter word's are looked at (a hash collision is still
    checked against the text)."""
    dropped: set[int] = set()
    resume = 0
    for i in np.flatnonzero(np.isin(hashes, _STARTER_HASHES)).tolist():
        tok = tokens[i]
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
    n = len(tokens)
    texts, categories = zip(*tokens.distinct, strict=True)
    hashes = np.fromiter(map(_HASH_CACHE.__getitem__, texts), dtype=np.uint32)[tokens.ids]
    cats = np.fromiter(map(_CATEGORY_CODES.__getitem__, categories), dtype=np.uint8)[tokens.ids]
    lines, starts = tokens.lines, tokens.starts
    dropped = _import_token_indexes(tokens, hashes)
    if dropped:
        keep = np.ones(n, dtype=bool)
        keep[list(dropped)] = False
        hashes, cats, lines, starts = hashes[keep], cats[keep], lines[keep], starts[keep]
    if not len(hashes):
        return []
    count = len(hashes)

    first, last = int(lines[0]), int(lines[-1])
    vocab = [
        [s.kind, s.name, s.container, s.signature] for s in parsed.symbols if s.kind in API_KINDS
    ]
    spans = []  # (function, lo, hi): token range of each function in the kept stream
    for fn in parsed.functions:
        lo = int(np.searchsorted(starts, fn.start_byte, "left"))
        hi = int(np.searchsorted(starts, fn.end_byte, "left"))
        if hi - lo < INDEX_MIN_TOKENS or fn.end_line - fn.start_line + 1 < INDEX_MIN_LINES:
            continue
        spans.append((fn, lo, hi))
    ranges = [(0, count)] + [(lo, hi) for _, lo, hi in spans]
    raw = range_signatures(hashes, RAW_K, ranges)
    abstracted = range_signatures(abstract_stream(hashes, cats), ABS_K, ranges)
    packed = _pack(hashes, cats, lines - first, vocab)
    records = [
        FragmentRecord(
            "file", "", first, last, count, _record(raw[0], abstracted[0], count, packed)
        )
    ]
    for r, (fn, lo, hi) in enumerate(spans, start=1):
        shift = fn.start_line - first
        data = _record(raw[r], abstracted[r], hi - lo, b"", lo, shift)
        records.append(
            FragmentRecord("function", fn.name, fn.start_line, fn.end_line, hi - lo, data)
        )
    return records
