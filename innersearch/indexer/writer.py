"""The index writer: adds blob documents and switches repos, tantivy always before the catalog.

The catalog never names a blob the index lacks: blobs are committed to tantivy (and the
implementations index) first, then recorded; a repo's files switch after that flush.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import tantivy

from . import catalog, implindex, layout, schema
from .analyze import BlobAnalysis
from .changes import RepoChange
from .fingerprints import FragmentRecord

WRITER_HEAP_BYTES = 256 * 1024 * 1024
FLUSH_BLOBS = 4000  # commit tantivy + catalog blobs this often, so a kill loses little work
FLUSH_BYTES = 96 * 1024 * 1024


@dataclass
class _Pending:
    """New blobs added to tantivy but not yet committed: only their catalog rows and
    fragments (their symbols and stored values are in the writer's heap already; keeping
    the analyses was ~270k Symbol objects per 96 MB flush on the kernel)."""

    rows: list[tuple[catalog.BlobRow, list[FragmentRecord]]] = field(default_factory=list)
    bytes: int = 0


class IndexWriter:
    """The write side of a data dir's index and implementations index, with its catalog."""

    def __init__(self, data: layout.DataDir, cat: catalog.Catalog, leftovers_possible: bool):
        self.catalog = cat
        self.index = schema.open_index(data.index_dir, create=True)
        self.writer = self.index.writer(WRITER_HEAP_BYTES, 1)
        self.impl = implindex.ImplWriter.open(data.implementations_dir)
        self.pending = _Pending()
        # A run killed after a tantivy commit but before the catalog's may have left
        # documents behind: only possible when the last run did not finish and the index
        # has documents (then adds delete first).
        self.leftovers_possible = leftovers_possible and self.index.searcher().num_docs > 0
        self.new_blobs = 0
        self.new_bytes = 0
        # Blobs some file row stopped naming in this run: the garbage candidates.
        self.dropped: set[int] = set()

    # -- blobs -------------------------------------------------------------------------

    def add_blob(self, a: BlobAnalysis, data: bytes) -> None:
        # Idempotent after a kill (see leftovers_possible); a delete query per blob is not
        # free, so only then. By query: a delete by term on the u64 field matches nothing.
        if self.leftovers_possible:
            self.writer.delete_documents_by_query(schema.term(schema.F_BLOB_KEY, a.key))
        docs = schema.blob_documents(
            a.key, a.lang, data, a.stored, a.symbols, a.symbol_terms, a.ref_names
        )
        for doc in docs:
            self.writer.add_document(doc)
        row = catalog.BlobRow(
            a.key, a.oid, a.size, a.lang, a.lines, len(a.symbols), a.generated, a.parse_error
        )
        self.pending.rows.append((row, a.fragments))
        self.pending.bytes += len(data)
        self.new_blobs += 1
        self.new_bytes += len(data)
        if len(self.pending.rows) >= FLUSH_BLOBS or self.pending.bytes >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Commit tantivy, then record the committed blobs in the catalog (that order: the
        catalog never names a blob the index lacks)."""
        self.writer.commit()
        self.impl.commit()
        with self.catalog.write() as tx:
            for row, fragments in self.pending.rows:
                tx.add_blob(row, fragments)
        self.pending = _Pending()

    # -- repos -------------------------------------------------------------------------

    def switch(self, change: RepoChange) -> None:
        """Make the repo's new state visible: flush first, then one catalog transaction,
        one new generation."""
        self.flush()
        now = int(time.time())
        with self.catalog.write() as tx:
            gen = tx.bump_generation()
            for branch, state in change.branches.items():
                if state.removed is None:
                    self.dropped |= tx.switch_branch_files(change.repo_id, branch, state.files, gen)
                    tx.replace_skipped(change.repo_id, branch, state.skips)
                else:  # a diff: only its paths' rows change
                    self.dropped |= tx.update_branch_files(
                        change.repo_id, branch, state.files, state.removed, gen
                    )
                    tx.update_skipped(change.repo_id, branch, state.removed, state.skips)
            for branch, c in change.commits.items():
                tx.set_branch_commit(change.repo_id, branch, c.commit, c.committed_at, now)
            for branch in change.gone:
                self.dropped |= tx.drop_branch(change.repo_id, branch, gen)
            tx.set_repo_head(change.repo_id, change.status, change.error, change.default_branch)
            default = change.commits.get(change.default_branch or "")
            tx.set_repo_indexed(change.repo_id, now, default.committed_at if default else None)
            if change.info is not None:
                tx.set_repo_info(change.repo_id, change.info)

    def remove_repo(self, repo_id: int) -> None:
        """The repo's files leave at a new generation; its blobs become garbage candidates."""
        with self.catalog.write() as tx:
            gen = tx.bump_generation()
            self.dropped |= tx.remove_repo(repo_id, gen)

    # -- garbage (gc.py) ---------------------------------------------------------------

    def delete_blob_docs(self, keys: set[int] | list[int]) -> None:
        for key in keys:
            self.writer.delete_documents_by_query(schema.term(schema.F_BLOB_KEY, key))

    def commit(self) -> None:
        self.writer.commit()

    def indexed_blob_keys(self) -> set[int]:
        """The blob keys of every committed document (reads every document id: seconds on
        the kernel)."""
        self.index.reload()
        searcher = self.index.searcher()
        if not searcher.num_docs:
            return set()
        hits = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs, count=False)
        return set(searcher.fast_field_values(schema.F_BLOB_KEY, [addr for _, addr in hits.hits]))

    def close(self) -> None:
        self.writer.wait_merging_threads()
        self.impl.close()
