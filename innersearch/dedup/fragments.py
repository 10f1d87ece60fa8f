"""Loading the fingerprinted fragments of every repo's default branch from a Store.

Columnar (numpy) so LSH banding and signature comparisons run vectorized.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from innersearch.indexer import fingerprints as fp
from innersearch.indexer.catalog import FLAG_GENERATED, FileRow, FragmentRow
from innersearch.indexer.store import Snapshot, Store


@dataclass
class Fragments:
    """Every fragment at or above the minimum size; row i describes fragment i."""

    rowid: np.ndarray  # catalog rowid, to fetch the token streams when verifying
    blob: np.ndarray  # blob_key
    is_file: np.ndarray  # bool: file-level (else function-level)
    start: np.ndarray
    end: np.ndarray
    tokens: np.ndarray
    raw_sig: np.ndarray  # (n, num_perm) uint32
    abs_sig: np.ndarray  # (n, num_perm) uint32
    symbol: list[str]
    locations: dict[int, list[FileRow]] = field(default_factory=dict)  # blob -> files

    def __len__(self) -> int:
        return len(self.blob)

    def key(self, i: int) -> str:
        """A fragment's identity across runs: its blob and position."""
        kind = "file" if self.is_file[i] else "function"
        return f"{int(self.blob[i]):x}:{kind}:{int(self.start[i])}:{int(self.end[i])}"


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
    locations = default_branch_files(snap)
    # Only the signatures are read (fingerprints.py writes the record and knows their end).
    with store.catalog.read() as r:
        rows = r.fragment_signatures(fp.SIGNATURES_END, min_tokens, min_lines)
    kept: list[FragmentRow] = []
    raws, abss = [], []
    for row in rows:
        if row.blob_key not in locations:
            continue
        try:
            decoded = fp.decode_record(row.data)
        except ValueError:
            continue  # written by another fingerprint format: re-indexing refreshes it
        kept.append(row)
        raws.append(decoded.raw_sig)
        abss.append(decoded.abs_sig)
    # Deterministic order whatever the catalog's row order.
    order = sorted(
        range(len(kept)),
        key=lambda i: (kept[i].blob_key, kept[i].kind, kept[i].start_line, kept[i].end_line),
    )
    wrappers = _wrappers(kept)
    order = [i for i in order if i not in wrappers]
    kept = [kept[i] for i in order]
    width = fp.NUM_PERM
    return Fragments(
        rowid=np.array([r.rowid for r in kept], dtype=np.int64),
        blob=np.array([r.blob_key for r in kept], dtype=np.int64),
        is_file=np.array([r.kind == "file" for r in kept], dtype=bool),
        start=np.array([r.start_line for r in kept], dtype=np.int64),
        end=np.array([r.end_line for r in kept], dtype=np.int64),
        tokens=np.array([r.tokens for r in kept], dtype=np.int64),
        raw_sig=np.array([raws[i] for i in order], dtype=np.uint32).reshape(-1, width),
        abs_sig=np.array([abss[i] for i in order], dtype=np.uint32).reshape(-1, width),
        symbol=[r.symbol for r in kept],
        locations=locations,
    )


# A function at least this much of which is one nested function is left to the nested one:
# otherwise a wrapper and the function it wraps end up in one clone class.
WRAPPER_SHARE = 0.5


def _wrappers(rows: list[FragmentRow]) -> set[int]:
    """Indexes of function rows mostly made of a nested function row of the same blob."""
    by_blob: dict[int, list[int]] = {}
    for i, row in enumerate(rows):
        if row.kind == "function":
            by_blob.setdefault(row.blob_key, []).append(i)
    out: set[int] = set()
    for members in by_blob.values():
        if len(members) < 2:
            continue
        for i in members:
            start, end, tokens = rows[i].start_line, rows[i].end_line, rows[i].tokens
            for j in members:
                if j == i:
                    continue
                s2, e2, t2 = rows[j].start_line, rows[j].end_line, rows[j].tokens
                if (
                    start <= s2
                    and e2 <= end
                    and (s2, e2) != (start, end)
                    and t2 >= WRAPPER_SHARE * tokens
                ):
                    out.add(i)
                    break
    return out


def load_streams(store: Store, rowids: list[int]) -> dict[int, fp.Fingerprint]:
    """rowid -> decoded record with its token streams (a function record linked to its
    file record, whose streams it slices)."""
    out: dict[int, fp.Fingerprint] = {}
    orphans: dict[int, list[int]] = {}  # blob_key -> rowids of function records
    with store.catalog.read() as r:
        rows = r.fragment_records(rowids)
    for rowid, blob, data in rows:
        try:
            out[rowid] = fp.decode_record(data)
        except ValueError:
            continue
        if out[rowid].needs_parent:
            orphans.setdefault(blob, []).append(rowid)
    parents: dict[int, fp.Fingerprint] = {}
    with store.catalog.read() as r:
        records = r.file_records(list(orphans))
    for blob, data in records:
        try:
            parents[blob] = fp.decode_record(data)
        except ValueError:
            continue
    for blob, members in orphans.items():
        parent = parents.get(blob)
        for rowid in members:
            if parent is None:
                del out[rowid]  # its file record is unreadable: nothing to verify against
            else:
                out[rowid].parent = parent
    return out


def load_vocabulary(store: Store, blobs: set[int]) -> dict[int, list]:
    """blob_key -> [[kind, name, container, signature], ...] from the file records."""
    out: dict[int, list] = {}
    with store.catalog.read() as r:
        rows = r.file_records()
    for key, data in rows:
        if key not in blobs:
            continue
        try:
            out[key] = fp.decode_record(data).streams()[3]
        except (ValueError, Exception):  # a damaged record only loses its vocabulary
            continue
    return out


def blob_lines(store: Store, blobs: set[int]) -> dict[int, int]:
    with store.catalog.read() as r:
        lines = r.blob_lines()
    return {k: n for k, n in lines.items() if k in blobs}
