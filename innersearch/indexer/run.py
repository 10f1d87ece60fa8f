"""One indexing run: mirror every source, re-index what changed, commit repo by repo.

Per repo: fetch, list each wanted branch's tree, read and parse only blobs the index lacks
(in worker processes), add them to tantivy, commit tantivy, then switch the repo's files in
one catalog transaction (a new generation). A kill -9 at any point leaves the last committed
state searchable; the next run reuses what was committed and completes the rest.
"""

from __future__ import annotations

import fnmatch
import multiprocessing
import os
import shutil
import sqlite3
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

import tantivy

from . import access, catalog, classify, gitread, implindex, layout, orphans, owners, schema
from .analyze import BlobAnalysis, analyze_blob, blob_key
from .credentials import redact
from .progress import Progress
from .sources import RepoSource, ResolveOptions, SourceProblem, resolve

WRITER_HEAP_BYTES = 256 * 1024 * 1024
FLUSH_BLOBS = 4000  # commit tantivy + catalog blobs this often, so a kill loses little work
FLUSH_BYTES = 96 * 1024 * 1024
WORKERS = max(1, os.cpu_count() or 1)  # parsing processes: every core
INLINE_PARSE_LIMIT = 48  # fewer new blobs than this are parsed in-process (no pool start-up)
# A diff between the indexed and the new commit longer than this lists the whole tree instead.
DIFF_LIMIT = 20_000
IN_FLIGHT_PER_WORKER = 16  # bounded window of blobs handed to workers: memory stays bounded


@dataclass
class RepoOutcome:
    name: str
    status: str  # indexed | unchanged | error | empty | removed
    message: str = ""
    files: int = 0
    seconds: float = 0.0


@dataclass
class RunSummary:
    outcomes: list[RepoOutcome] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    new_blobs: int = 0
    new_bytes: int = 0
    skipped: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def failed(self) -> list[RepoOutcome]:
        return [o for o in self.outcomes if o.status == "error"]


@dataclass
class _Pending:
    """New blobs analysed but not yet committed."""

    analyses: list[BlobAnalysis] = field(default_factory=list)
    bytes: int = 0


class _Indexer:
    def __init__(self, data: layout.DataDir, say: Callable[[str], None], progress: bool):
        self.data = data
        self.say = say
        self.show_progress = progress
        self.catalog = catalog.Catalog(data.catalog_path)
        self.index = schema.open_index(data.index_dir, create=True)
        self.writer = self.index.writer(WRITER_HEAP_BYTES, 1)
        self.impl = implindex.ImplWriter.open(data.implementations_dir)
        self.pending = _Pending()
        self.pool: ProcessPoolExecutor | None = None
        self.summary = RunSummary()
        # Blobs some file row stopped naming in this run: the only garbage candidates, unless
        # the last run did not finish its collection (then everything is swept).
        self.dropped: set[int] = set()
        with self.catalog.write() as tx:
            self.sweep_all = tx.meta_value("gc") != "done"
            tx.set_meta("gc", "pending")
        self.leftovers_possible = self.sweep_all and self.index.searcher().num_docs > 0

    # -- blobs -------------------------------------------------------------------------

    def _analyses(
        self, tasks: Iterator[tuple[str, str, str, bytes]], count: int
    ) -> Iterator[tuple[tuple[str, str, str, bytes], BlobAnalysis]]:
        """(task, analysis) in task order. Tasks are produced lazily and at most a bounded
        window of them is in flight, so memory does not grow with the repo's size."""
        # A few blobs are parsed in process rather than starting the pool for them; once the
        # pool runs, everything goes to it (both cores, no start-up left to save).
        if count < INLINE_PARSE_LIMIT and self.pool is None:
            for task in tasks:
                yield task, analyze_blob(task)
            return
        if self.pool is None:
            ctx = multiprocessing.get_context("forkserver")
            # No orphans after a kill -9: the forkserver and each worker die with their parent.
            ctx.set_forkserver_preload(["innersearch.indexer.orphans_preload"])
            self.pool = ProcessPoolExecutor(
                WORKERS, mp_context=ctx, initializer=orphans.die_with_parent
            )
        window: deque[tuple[tuple[str, str, str, bytes], Future]] = deque()
        limit = IN_FLIGHT_PER_WORKER * WORKERS
        for task in tasks:
            window.append((task, self.pool.submit(analyze_blob, task)))
            if len(window) >= limit:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()

    def _add_blob(self, a: BlobAnalysis, data: bytes) -> None:
        # Idempotent: a run killed after a tantivy commit but before the catalog's may
        # have left this blob's documents behind (only then: a delete query per blob is
        # not free). By query: a delete by term on the u64 field matches nothing.
        if self.leftovers_possible:
            self.writer.delete_documents_by_query(schema.term(schema.F_BLOB_KEY, a.key))
        for doc in schema.blob_documents(a.key, a.lang, data, a.symbols, a.references):
            self.writer.add_document(doc)
        self.pending.analyses.append(a)
        self.pending.bytes += len(data)
        self.summary.new_blobs += 1
        self.summary.new_bytes += len(data)
        if len(self.pending.analyses) >= FLUSH_BLOBS or self.pending.bytes >= FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        """Commit tantivy, then record the committed blobs in the catalog (that order: the
        catalog never names a blob the index lacks)."""
        self.writer.commit()
        self.impl.commit()
        with self.catalog.write() as tx:
            for a in self.pending.analyses:
                row = catalog.BlobRow(
                    a.key,
                    a.oid,
                    a.size,
                    a.lang,
                    a.lines,
                    len(a.symbols),
                    a.generated,
                    a.parse_error,
                )
                tx.add_blob(row, a.fragments)
        self.pending = _Pending()

    # -- repos -------------------------------------------------------------------------

    def index_repo(self, src: RepoSource, known_pushes: dict | None = None) -> RepoOutcome:
        started = time.monotonic()
        # The host reports no push since the last good index: no git fetch at all.
        pushed = src.host.get("pushed_at") if src.host else None
        unchanged = (
            pushed is not None and not src.force and (known_pushes or {}).get(src.name) == pushed
        )
        with self.catalog.write() as tx:
            repo_id = tx.ensure_repo(src.name, src.url)
            if src.host is not None:
                # A listing that asked the host again (the details were stale) says when:
                # then its readers replace the stored ones even for an unchanged repo.
                fresh = src.host.get("detail_at") is not None
                tx.set_host_info(repo_id, src.host, keep_detail=unchanged and not fresh)
        if unchanged:
            return RepoOutcome(src.name, "unchanged", seconds=time.monotonic() - started)
        try:
            mirror = gitread.mirror(src.url, self.data.mirror_path(src.name), src.auth_header)
            outcome = self._index_mirror(src, repo_id, mirror)
        except gitread.GitError as err:
            outcome = self._fail(repo_id, src.name, "mirror", f"cannot read {src.url}: {err}")
        except (OSError, sqlite3.Error, ValueError) as err:
            outcome = self._fail(repo_id, src.name, "index", f"{type(err).__name__}: {err}")
        outcome.seconds = time.monotonic() - started
        return outcome

    def _fail(self, repo_id: int, name: str, stage: str, message: str) -> RepoOutcome:
        """The repo keeps whatever it had indexed before; the error is shown in status."""
        message = redact(message)
        with self.catalog.write() as tx:
            tx.set_repo_state(repo_id, "error", message)
            tx.record_error(repo_id, stage, message)
        return RepoOutcome(name, "error", message)

    def _index_mirror(self, src: RepoSource, repo_id: int, mirror) -> RepoOutcome:
        heads = gitread.branches(mirror)
        default = gitread.default_branch(mirror)
        problems: list[str] = []
        if not heads:
            message = "repository has no commits"
            self._switch(repo_id, default, {}, {}, {}, [], status="empty", error=message)
            return RepoOutcome(src.name, "empty", message)
        wanted = []
        if default in heads:
            wanted.append(default)
        else:
            problems.append(f"default branch {default!r} has no commits")
        for branch in src.branches:
            if branch in heads:
                wanted.append(branch)
            else:
                problems.append(f"configured branch {branch!r} does not exist")
        with self.catalog.read() as r:
            indexed = r.repo_branch_commits(repo_id)
        changed = [b for b in dict.fromkeys(wanted) if heads[b] != indexed.get(b)]
        gone = [b for b in indexed if b not in wanted]
        status, error = ("error", "; ".join(problems)) if problems else ("ok", "")
        if not changed and not gone:
            with self.catalog.write() as tx:
                tx.set_repo_state(repo_id, status, error, default)
            return RepoOutcome(src.name, "error" if problems else "unchanged", error)
        new_files: dict[str, dict[str, tuple[int, str, int]]] = {}
        skipped: dict[str, list[tuple[str, str, int]]] = {}
        info = None
        for branch in changed:
            found = None
            if indexed.get(branch) and not src.exclude_paths:
                found = self._diff_branch(
                    repo_id, mirror, branch, indexed[branch], heads[branch], f"{src.name}@{branch}"
                )
            if found is None:
                found = self._snapshot_branch(src, mirror, branch, heads[branch])
            files, skips, lang_bytes, paths = found
            new_files[branch], skipped[branch] = files, skips
            if branch == default:
                info = owners.repo_info(mirror, heads[branch], paths, lang_bytes)
                with self.catalog.read() as r:
                    old_info = r.repo_info(repo_id)
                info.update(self.impl.describe(src.name, mirror, heads[branch], files, old_info))
        self._flush()
        commits = {b: (heads[b], gitread.commit_time(mirror, heads[b])) for b in changed}
        self._switch(repo_id, default, new_files, skipped, commits, gone, status, error, info)
        total = sum(len(f) for f in new_files.values())
        return RepoOutcome(src.name, "indexed" if not problems else "error", error, files=total)

    def _diff_branch(self, repo_id: int, mirror, branch: str, old: str, commit: str, label=""):
        """The branch's new state from its indexed one and the commits' diff (git diff-tree),
        so a one-file commit costs one blob, not a listing of the whole tree; None when the
        old commit is gone or the diff is larger than a listing would be worth."""
        diff = gitread.diff_tree(mirror, old, commit)
        if diff is None or len(diff[1]) > DIFF_LIMIT:
            return None
        removed, entries = diff
        gone = set(removed)
        files: dict[str, tuple[int, str, int]] = {}
        lang_bytes: Counter = Counter()
        with self.catalog.read() as r:
            rows = r.branch_file_rows(repo_id, branch)
            old_skips = r.branch_skipped(repo_id, branch)
        for path, (key, lang, flags, size) in rows.items():
            if path not in gone:
                files[path] = (key, lang, flags)
                lang_bytes[lang] += size
        skips = [s for s in old_skips if s[0] not in gone]
        candidates = _candidates(entries, skips)
        self._add_entries(mirror, candidates, files, skips, lang_bytes, label)
        for _, reason, _ in skips:
            self.summary.skipped[reason] += 1
        return files, skips, lang_bytes, sorted([*files, *(s[0] for s in skips)])

    def _snapshot_branch(self, src: RepoSource, mirror, branch: str, commit: str):
        """Read one branch's tree; analyse and add the blobs the index lacks."""
        entries = list(gitread.list_tree(mirror, commit))
        files: dict[str, tuple[int, str, int]] = {}
        skips: list[tuple[str, str, int]] = []
        lang_bytes: Counter = Counter()
        wanted = [
            e
            for e in entries
            if not (
                src.exclude_paths and any(fnmatch.fnmatchcase(e.path, p) for p in src.exclude_paths)
            )
        ]
        candidates = _candidates(wanted, skips)
        self._add_entries(mirror, candidates, files, skips, lang_bytes, f"{src.name}@{branch}")
        for _, reason, _ in skips:
            self.summary.skipped[reason] += 1
        paths = [e.path for e in entries]
        return files, skips, lang_bytes, paths

    def _add_entries(self, mirror, candidates, files, skips, lang_bytes, label: str) -> None:
        """Fill `files` (and `skips`, `lang_bytes`) for the candidate tree entries, reading,
        analysing and adding the blobs the index lacks; each blob is read when its turn
        comes, not all up front (the kernel's 1 GB of source was held in memory)."""
        with self.catalog.read() as r:
            known = r.known_blobs({blob_key(e.oid) for e in candidates})
        todo: dict[int, list] = {}  # blob key -> entries (paths) of one new blob
        for e in candidates:
            key = blob_key(e.oid)
            if key in known:
                lang, generated = known[key]
                path_lang = classify.language(e.path) or lang
                files[e.path] = (key, path_lang, classify.file_flags(e.path, generated))
                lang_bytes[path_lang] += e.size
            else:
                todo.setdefault(key, []).append(e)

        def tasks() -> Iterator[tuple[str, str, str, bytes]]:
            reader = gitread.BlobReader(mirror)
            try:
                for entries in todo.values():
                    e = entries[0]
                    data = reader.read(e.oid)
                    if classify.is_binary(data):
                        skips.extend((x.path, "binary", x.size) for x in entries)
                        continue
                    yield (e.oid, e.path, classify.language(e.path, data[:256]), data)
            finally:
                reader.close()

        bar = Progress(label, len(todo), enabled=self.show_progress)
        for task, a in self._analyses(tasks(), len(todo)):
            self._add_blob(a, task[3])
            for e in todo[a.key]:
                path_lang = classify.language(e.path) or a.lang
                files[e.path] = (a.key, path_lang, classify.file_flags(e.path, a.generated))
                lang_bytes[path_lang] += a.size
            bar.advance(a.size)
        bar.close()

    def _switch(
        self, repo_id, default, new_files, skipped, commits, gone, status, error="", info=None
    ) -> None:
        """Make the repo's new state visible: one transaction, one new generation."""
        now = int(time.time())
        with self.catalog.write() as tx:
            gen = tx.bump_generation()
            for branch, files in new_files.items():
                self.dropped |= tx.switch_branch_files(repo_id, branch, files, gen)
                tx.replace_skipped(repo_id, branch, skipped.get(branch, []))
            for branch, (commit, committed_at) in commits.items():
                tx.set_branch_commit(repo_id, branch, commit, committed_at, now)
            for branch in gone:
                self.dropped |= tx.drop_branch(repo_id, branch, gen)
            tx.set_repo_state(repo_id, status, error, default)
            tx.set_repo_indexed(repo_id, now, commits[default][1] if default in commits else None)
            if info is not None:
                tx.set_repo_info(repo_id, info)

    def remove_repo(self, repo: catalog.RepoRow) -> RepoOutcome:
        """A repo no longer in the sources: its documents leave the index."""
        with self.catalog.write() as tx:
            gen = tx.bump_generation()
            self.dropped |= tx.remove_repo(repo.id, gen)
        shutil.rmtree(self.data.mirror_path(repo.name), ignore_errors=True)
        return RepoOutcome(repo.name, "removed")

    def collect_garbage(self) -> None:
        """Drop file rows and blobs that no reader at the current generation can see: the
        blobs this run stopped naming, or, after a run that did not finish, a sweep of all
        (a full sweep reads every document id of the index: seconds on the kernel)."""
        if self.sweep_all:
            self._sweep_all()
        else:
            with self.catalog.write() as tx:
                tx.drop_removed_files(tx.generation())
                dead = tx.drop_unreferenced_blobs(self.dropped)
            for key in dead:
                self.writer.delete_documents_by_query(schema.term(schema.F_BLOB_KEY, key))
            self.writer.commit()
        with self.catalog.read() as r:
            commits = r.default_branch_commits()
        self.impl.collect_garbage(commits)
        with self.catalog.write() as tx:
            tx.set_meta("gc", "done")

    def _sweep_all(self) -> None:
        with self.catalog.write() as tx:
            tx.drop_removed_files(tx.generation())
            tx.drop_all_unreferenced_blobs()
            live = tx.blob_keys()
        self.index.reload()
        searcher = self.index.searcher()
        if searcher.num_docs:
            hits = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs, count=False)
            in_index = set(
                searcher.fast_field_values(schema.F_BLOB_KEY, [addr for _, addr in hits.hits])
            )
            for key in in_index - live:
                self.writer.delete_documents_by_query(schema.term(schema.F_BLOB_KEY, key))
        self.writer.commit()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
        self.writer.wait_merging_threads()
        self.impl.close()
        self.catalog.close()


def _candidates(entries, skips: list[tuple[str, str, int]]) -> list:
    """The entries that may be indexed; the others are added to `skips` with the reason."""
    out = []
    for e in entries:
        if e.mode == "160000":
            skips.append((e.path, "submodule", 0))
        elif e.mode == "120000":
            skips.append((e.path, "symlink", e.size))
        elif e.size > classify.MAX_FILE_BYTES:
            skips.append((e.path, "too-large", e.size))
        else:
            out.append(e)
    return out


def index_sources(
    data: layout.DataDir,
    sources: list[str] | None,
    say: Callable[[str], None] = print,
    progress: bool = False,
    only: set[str] | None = None,
) -> RunSummary:
    """Index `sources` (the complete set: repos not named any more are removed). With no
    sources, the ones of the previous run are indexed again. `only`: just these repos (by
    name), fetched even if their host reports no push; nothing is removed."""
    started = time.monotonic()
    layout.prepare_for_writing(data, say)
    with layout.index_lock(data), layout.private_files():
        indexer = _Indexer(data, say, progress)
        try:
            sources = _remembered_sources(indexer.catalog, sources)
            # Before any repo: a tightened rule holds before new content becomes visible.
            rules = access.rules_from_sources(sources)
            with indexer.catalog.write() as tx:
                tx.set_access_rules(rules.to_json(), access.AccessRules().to_json())
                options = ResolveOptions(
                    only=only, known_pushes=tx.host_pushes(), known_details=tx.host_detail_times()
                )
            repos, problems = resolve(sources, options)
            with indexer.catalog.write() as tx:
                for listing in options.listings:
                    tx.record_host_listing(
                        listing.label,
                        listing.api_url,
                        listing.repos,
                        listing.error,
                        listing.seconds,
                    )
            indexer.summary.problems = problems
            for problem in problems:
                say(f"skipped source {problem.source}: {problem.message}")
            wanted = {r.name for r in repos}
            if problems:
                say("some sources could not be read: no repository is removed in this run")
            elif only is None:
                with indexer.catalog.read() as r:
                    old_repos = r.repos()
                for old in old_repos:
                    if old.name not in wanted:
                        indexer.summary.outcomes.append(indexer.remove_repo(old))
            for src in repos:
                indexer.summary.outcomes.append(indexer.index_repo(src, options.known_pushes))
            # Only indexing and removal leave garbage; a poll where nothing changed skips it.
            if any(o.status in ("indexed", "removed") for o in indexer.summary.outcomes):
                indexer.collect_garbage()
        finally:
            indexer.close()
    indexer.summary.seconds = time.monotonic() - started
    return indexer.summary


def _remembered_sources(cat: catalog.Catalog, sources: list[str] | None) -> list[str]:
    if sources:
        # Local paths are remembered absolute, so a later run from elsewhere finds them;
        # URLs without their credentials (a later run gets them from a credential helper).
        sources = [os.path.abspath(s) if os.path.exists(s) else s for s in sources]
        with cat.write() as tx:
            tx.remember_sources([redact(s) for s in sources])
        return sources
    with cat.read() as r:
        remembered = r.remembered_sources()
    if not remembered:
        raise ValueError("no SOURCE given and none remembered from an earlier run")
    return remembered


def default_progress() -> bool:
    return sys.stderr.isatty()
