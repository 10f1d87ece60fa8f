"""Loading the fingerprinted fragments of every repo's default branch from a Store.

Columnar (numpy) so LSH banding and signature comparisons run vectorized.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from innersearch.indexer import fingerprints as fp
from innersearch.indexer.catalog import FLAG_GENERATED, FileRow, Reads
from innersearch.indexer.store import Snapshot, Store

SIG_BYTES = fp.SIGNATURES_END


@dataclass
class Fragments:
    """Every fragment at or above the minimum size; row i describes fragment i."""

    rowid: np.ndarray  # catalog rowid, to fetch the token streams when verifying
    blob: np.ndarray  # blob_key
    is_file: np.ndarray  # bool: file-level (else function-level)
    start: np.ndarray
    end: np.ndarray
    tokens: np.ndarray
    raw_sig: np.ndarray  # (n, num_perm) uint16 (the stored low 16 bits)
    abs_sig: np.ndarray  # (n, num_perm) uint16
    symbol: list[str]
    locations: dict[int, list[FileRow]] = field(default_factory=dict)  # blob -> files

    def __len__(self) -> int:
        return len(self.blob)

    def key(self, i: int) -> str:
        """A fragment's identity across runs: its blob and position."""
        kind = "file" if self.is_file[i] else "function"
        return f"{int(self.blob[i]):x}:{kind}:{int(self.start[i])}:{int(self.end[i])}"

    def ids(self) -> np.ndarray:
        """(n,) uint64: each fragment's identity across runs (its blob, level and lines)
        hashed, so caches key on one number per fragment, not a string."""
        h = mix64(self.blob.astype(np.uint64))
        h = mix64(h ^ (self.start.astype(np.uint64) << np.uint64(1) | self.is_file))
        return mix64(h ^ self.end.astype(np.uint64))


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, elementwise on uint64."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def default_branch_files(snap: Snapshot) -> dict[int, list[FileRow]]:
    """blob_key -> the non-generated files of each repo's default branch holding it."""
    out: dict[int, list[FileRow]] = {}
    for f in snap.files:
        repo = snap.repos.get(f.repo)
        if repo is None or f.branch != (repo.default_branch or f.branch):
            continue
        if f.flags & FLAG_GENERATED:
            continue
        out.setdefault(f.blob_key, []).append(f)
    return out


def load(store: Store, snap: Snapshot, min_tokens: int, min_lines: int) -> Fragments:
    """Streamed from the catalog in batches into flat arrays: the rows are never all held
    as Python objects (the kernel's ~1M fragments took gigabytes so)."""
    locations = default_branch_files(snap)
    cols = _Columns()
    blob_rows: list[tuple] = []  # the rows of the blob being read (rows come by blob)

    def flush() -> None:
        skip = _wrappers(blob_rows)
        for k, (row, raw, abstract) in enumerate(blob_rows):
            if k not in skip:
                cols.add(row, raw, abstract)
        blob_rows.clear()

    with store.catalog.read() as r:
        for batch in r.fragment_signature_batches(SIG_BYTES, min_tokens, min_lines):
            for row in batch:
                if row[1] not in locations:
                    continue
                try:
                    decoded = fp.decode_record(row[7])
                except ValueError:
                    continue  # written by another fingerprint format: re-indexing refreshes it
                if blob_rows and blob_rows[-1][0][1] != row[1]:
                    flush()
                blob_rows.append((row[:7], decoded.raw_sig, decoded.abs_sig))
        flush()
    return cols.fragments(locations)


class _Columns:
    """Growing flat buffers of the kept fragments (array and bytearray, no per-row object)."""

    def __init__(self) -> None:
        self.ints = {name: array("q") for name in ("rowid", "blob", "start", "end", "tokens")}
        self.is_file = bytearray()
        self.raw = bytearray()
        self.abstract = bytearray()
        self.symbol: list[str] = []

    def add(self, row: tuple, raw: np.ndarray, abstract: np.ndarray) -> None:
        rowid, blob, kind, symbol, start, end, tokens = row
        for name, value in zip(self.ints, (rowid, blob, start, end, tokens), strict=True):
            self.ints[name].append(value)
        self.is_file.append(kind == "file")
        # 16-bit values (b-bit MinHash, fingerprints.py): kept as u2, half the memory
        self.raw += raw.astype("<u2").tobytes()
        self.abstract += abstract.astype("<u2").tobytes()
        self.symbol.append(symbol)

    def fragments(self, locations: dict[int, list[FileRow]]) -> Fragments:
        ints = {k: np.frombuffer(v, dtype=np.int64) if v else np.zeros(0, np.int64)
                for k, v in self.ints.items()}  # fmt: skip
        width = fp.NUM_PERM
        return Fragments(
            rowid=ints["rowid"],
            blob=ints["blob"],
            is_file=np.frombuffer(bytes(self.is_file), dtype=bool).copy(),
            start=ints["start"],
            end=ints["end"],
            tokens=ints["tokens"],
            raw_sig=np.frombuffer(self.raw, dtype="<u2").reshape(-1, width),
            abs_sig=np.frombuffer(self.abstract, dtype="<u2").reshape(-1, width),
            symbol=self.symbol,
            locations=locations,
        )


# A function at least this much of which is one nested function is left to the nested one:
# otherwise a wrapper and the function it wraps end up in one clone class.
WRAPPER_SHARE = 0.5


def _wrappers(rows: list[tuple]) -> set[int]:
    """Indexes of function rows (of one blob, in line order) mostly made of a nested
    function row. A sweep: only rows starting inside a row are looked at, so disjoint
    functions (all of C) cost one comparison each."""
    out: set[int] = set()
    funcs = [(row[4], row[5], row[6], k) for k, (row, _, _) in enumerate(rows)
             if row[2] == "function"]  # fmt: skip
    # By start, then the longer first: every row nested in row i comes after it.
    funcs.sort(key=lambda f: (f[0], -f[1], f[3]))
    for x, (start, end, tokens, k) in enumerate(funcs):
        for s2, e2, t2, _ in funcs[x + 1 :]:
            if s2 > end:
                break
            if e2 <= end and (s2, e2) != (start, end) and t2 >= WRAPPER_SHARE * tokens:
                out.add(k)
                break
    return out


class ParentCache:
    """Decoded file records (their inflated streams kept) by blob, least recently used
    dropped beyond `size` records or `max_tokens` tokens in all: function records of one
    file are verified in many groups."""

    def __init__(self, size: int = 256, max_tokens: int | None = None) -> None:
        self.size = size
        self.max_tokens = max_tokens
        self.tokens = 0
        self.records: OrderedDict[int, fp.Fingerprint] = OrderedDict()

    def get(self, blob: int) -> fp.Fingerprint | None:
        found = self.records.get(blob)
        if found is not None:
            self.records.move_to_end(blob)
        return found

    def put(self, blob: int, record: fp.Fingerprint) -> None:
        old = self.records.pop(blob, None)
        self.tokens -= old.ntokens if old is not None else 0
        self.records[blob] = record
        self.tokens += record.ntokens
        limit = self.max_tokens
        while len(self.records) > self.size or (
            limit is not None and self.tokens > limit and len(self.records) > 1
        ):
            self.tokens -= self.records.popitem(last=False)[1].ntokens


def load_streams(
    store: Store, rowids: list[int], parents: ParentCache | None = None
) -> dict[int, fp.Fingerprint]:
    """rowid -> decoded record with its token streams (a function record linked to its
    file record, whose streams it slices)."""
    parents = parents if parents is not None else ParentCache(0)
    out: dict[int, fp.Fingerprint] = {}
    orphans: dict[int, list[int]] = {}  # blob_key -> rowids of function records
    for rowid, blob, data in _batched(store, Reads.fragment_records, rowids):
        try:
            out[rowid] = fp.decode_record(data)
        except ValueError:
            continue
        if out[rowid].needs_parent:
            orphans.setdefault(blob, []).append(rowid)
        elif out[rowid].packed:
            # a file-level fragment is its blob's file record: inflated once while cached
            cached = parents.get(blob)
            if cached is not None:
                out[rowid] = cached
            else:
                parents.put(blob, out[rowid])
    found = {blob: rec for blob in orphans if (rec := parents.get(blob)) is not None}
    missing = [blob for blob in orphans if blob not in found]
    for blob, data in _batched(store, Reads.file_records, missing):
        try:
            found[blob] = fp.decode_record(data)
        except ValueError:
            continue
        parents.put(blob, found[blob])
    for blob, members in orphans.items():
        parent = found.get(blob)
        for rowid in members:
            if parent is None:
                del out[rowid]  # its file record is unreadable: nothing to verify against
            else:
                out[rowid].parent = parent
    return out


def _batched(store: Store, read, values: list[int]) -> Iterator[tuple]:
    """Rows of the catalog read `read(reads, chunk)` over `values`, 500 at a time, each
    chunk in its own short read (the job works between chunks)."""
    for lo in range(0, len(values), 500):
        with store.catalog.read() as r:
            rows = read(r, values[lo : lo + 500])
        yield from rows


def load_vocabulary(
    store: Store, blobs: set[int], digest: Callable[[list], Any] | None = None
) -> dict[int, Any]:
    """blob_key -> [[kind, name, container, signature], ...] from the file records, read
    500 at a time (all file records at once were most of the job's memory on the kernel),
    or `digest` of that list, made as each record is read."""
    out: dict[int, Any] = {}
    for key, data in _batched(store, Reads.file_records, sorted(blobs)):
        try:
            entries = fp.decode_record(data).streams()[3]
            out[key] = digest(entries) if digest else entries
        except (ValueError, Exception):  # a damaged record only loses its vocabulary
            continue
    return out


def blob_lines(store: Store, blobs: set[int]) -> dict[int, int]:
    with store.catalog.read() as r:
        return {k: n for k, n in r.blob_lines().items() if k in blobs}
