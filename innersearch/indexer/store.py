"""The read side of a data dir: one consistent snapshot of the catalog and the tantivy index.

search/, dedup/ and web/ read the index only through Store.snapshot(); see catalog.py for
how generations keep a snapshot free of half-written state during indexing. A Store is a set
of shards (Store.shards, one today), each with its own catalog and indexes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import tantivy

from . import access, catalog, implindex, layout, schema
from .catalog import FileRow, RepoRow
from .records import Symbol
from .schema import symbol_from_doc  # noqa: F401  search/ imports it from here (moved)

T = TypeVar("T")


class StoreError(RuntimeError):
    """The data dir cannot be read; the message says why and what to do."""


# Permission sets whose restricted views a generation keeps (LRU), and principals whose
# readable repo names it remembers: enough for the groups of an organization, bounded.
RESTRICTED_VIEWS = 32
PRINCIPALS = 4096


class _Scoped(Mapping):
    """A parent view's mapping seen through a permission set: only readable repos' entries
    (no copy: a lookup checks the repo of what it finds)."""

    def __init__(self, parent: Mapping, names: frozenset[str], by_key: bool) -> None:
        self._parent, self._names, self._by_key = parent, names, by_key

    def __getitem__(self, key):
        found = self._parent[key]
        if self._by_key:  # location -> FileRow: the key names the repo
            if key[0] not in self._names:
                raise KeyError(key)
            return found
        kept = [f for f in found if f.repo in self._names]  # blob -> [FileRow]
        if not kept:
            raise KeyError(key)
        return kept

    def __iter__(self):
        return (k for k in self._parent if k in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True)
class IndexStatus:
    """What `status` shows of one generation besides repos and files, read in the same
    catalog transaction as they are: branches with their times, skipped files per repo and
    reason, the newest errors."""

    branches: list[catalog.BranchRow] = field(default_factory=list)
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[catalog.ErrorRow] = field(default_factory=list)

    def restricted(self, names: frozenset[str]) -> IndexStatus:
        """Only the rows of `names`' repos (errors of no repo name none of them)."""
        return IndexStatus(
            [b for b in self.branches if b.repo in names],
            {r: n for r, n in self.skipped.items() if r in names},
            [e for e in self.errors if e.repo in names],
        )


@dataclass
class CatalogView:
    """The catalog's state at one generation, shared by every snapshot of that generation;
    a restricted view (restricted()) holds only the repos of one permission set."""

    generation: int
    files: list[FileRow]  # every live file, in (repo, branch, path) order
    repos: dict[str, RepoRow]
    branch_commits: dict[tuple[str, str], str]  # (repo, branch) -> indexed commit
    access: access.AccessRules = field(default_factory=access.AccessRules)
    scope: frozenset[str] | None = None  # the readable repos; None: all of them
    files_by_blob: Mapping[int, list[FileRow]] = field(default_factory=dict)
    by_location: Mapping[tuple[str, str, str], FileRow] = field(default_factory=dict)
    status: IndexStatus = field(default_factory=IndexStatus)
    _derived: dict[object, object] = field(default_factory=dict, repr=False)
    _derived_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.scope is not None:
            return  # restricted(): the maps are the parent's, scoped
        grouped: dict[int, list[FileRow]] = defaultdict(list)
        by_location: dict[tuple[str, str, str], FileRow] = {}
        for f in self.files:
            grouped[f.blob_key].append(f)
            by_location[(f.repo, f.branch, f.path)] = f
        self.files_by_blob = dict(grouped)
        self.by_location = by_location

    def derived(self, name: object, compute: Callable[[], T]) -> T:
        """A value computed from this view once per generation (such as the rank order of
        all files), so no request pays for a pass over the whole corpus again. It lives and
        dies with the view: a new generation starts empty; a restricted view has its own."""
        with self._derived_lock:
            if name in self._derived:
                return self._derived[name]  # type: ignore[return-value]
        value = compute()  # outside the lock: other names need not wait
        with self._derived_lock:
            return self._derived.setdefault(name, value)  # type: ignore[return-value]

    def _bounded(self, kind: str, key: object, compute: Callable[[], T], bound: int) -> T:
        """derived() for per-principal values, least recently used dropped past `bound`."""
        with self._derived_lock:
            table = self._derived.setdefault(kind, OrderedDict())
            if key in table:
                table.move_to_end(key)
                return table[key]
        value = compute()
        with self._derived_lock:
            table[key] = table.get(key, value)
            table.move_to_end(key)
            while len(table) > bound:
                table.popitem(last=False)
            return table[key]

    def default_files(self) -> list[FileRow]:
        """The files on each repo's default branch, in (repo, path) order (computed once
        per generation: search order, symbol locations, dedup and the repo pages use it)."""

        def compute() -> list[FileRow]:
            defaults = {name: r.default_branch for name, r in self.repos.items()}
            return [f for f in self.files if defaults.get(f.repo) == f.branch]

        return self.derived("default_files", compute)

    def default_files_by_repo(self) -> dict[str, list[FileRow]]:
        """repo -> its default branch's files (default_files() grouped)."""

        def compute() -> dict[str, list[FileRow]]:
            out: dict[str, list[FileRow]] = defaultdict(list)
            for f in self.default_files():
                out[f.repo].append(f)
            return dict(out)

        return self.derived("default_files_by_repo", compute)

    def readable_names(self, principal: access.Principal) -> frozenset[str]:
        """The repos `principal` may read (access.py decides), remembered per principal."""

        def readers() -> dict[str, access.Readers]:
            return {n: access.readers_of(r, self.access) for n, r in self.repos.items()}

        def compute() -> frozenset[str]:
            table = self.derived("readers", readers)
            return frozenset(n for n, who in table.items() if who.admit(principal))

        return self._bounded("readable", principal, compute, PRINCIPALS)

    def repo_ranges(self) -> dict[str, tuple[int, int]]:
        """repo -> [start, end) of its files in `files` (sorted by repo: one run each)."""

        def compute() -> dict[str, tuple[int, int]]:
            out: dict[str, tuple[int, int]] = {}
            start = 0
            for i in range(1, len(self.files) + 1):
                if i == len(self.files) or self.files[i].repo != self.files[start].repo:
                    out[self.files[start].repo] = (start, i)
                    start = i
            return out

        return self.derived("repo_ranges", compute)

    def restricted(self, names: frozenset[str]) -> CatalogView:
        """This view with only the repos in `names`; one per permission set, cached."""
        if self.scope is not None:
            raise ValueError("restrict the full view, not a restricted one")

        def compute() -> CatalogView:
            ranges = self.repo_ranges()
            files: list[FileRow] = []
            for name in sorted(n for n in names if n in ranges):
                start, end = ranges[name]
                files.extend(self.files[start:end])  # slices keep (repo, branch, path) order
            return CatalogView(
                self.generation,
                files,
                {n: r for n, r in self.repos.items() if n in names},
                {k: c for k, c in self.branch_commits.items() if k[0] in names},
                self.access,
                names,
                _Scoped(self.files_by_blob, names, by_key=False),
                _Scoped(self.by_location, names, by_key=True),
                self.status.restricted(names),
            )

        return self._bounded("restricted", names, compute, RESTRICTED_VIEWS)


class Snapshot:
    """One consistent state: a catalog view and a tantivy searcher opened after it."""

    def __init__(
        self,
        view: CatalogView,
        searcher: tantivy.Searcher,
        impl_searcher: tantivy.Searcher | None = None,
        full: CatalogView | None = None,
    ) -> None:
        self.view = view
        self.view_full = full or view  # the unrestricted view of the same generation
        self.searcher = searcher
        # The implementations index (implindex.py), opened after the catalog like the main one.
        self.impl_searcher = impl_searcher
        self.generation = view.generation
        self.files = view.files
        self.repos = view.repos
        self.branch_commits = view.branch_commits
        self.files_by_blob = view.files_by_blob
        self._by_location = view.by_location
        # The permission set this snapshot shows (None: everything); part of every cache key.
        self.scope = view.scope

    def restricted_to(self, names: frozenset[str]) -> Snapshot:
        """This state as the holder of `names` may see it: only those repos' files, commits
        and locations, everywhere (search, symbols, dedup, status, pages)."""
        names = frozenset(names & self.repos.keys())  # never wider than this snapshot
        if len(names) == len(self.repos):
            return self
        return Snapshot(
            self.view_full.restricted(names), self.searcher, self.impl_searcher, self.view_full
        )

    def unrestricted(self) -> Snapshot:
        """This state with every repo: for values computed once per generation for all
        permission sets (a reader sees them through its own snapshot's repos)."""
        if self.scope is None:
            return self
        return Snapshot(self.view_full, self.searcher, self.impl_searcher)

    def for_principal(self, principal: access.Principal) -> Snapshot:
        """restricted_to() the repos `principal` may read (access.readable decides)."""
        return self.restricted_to(self.view_full.readable_names(principal))

    def default_files(self) -> list[FileRow]:
        return self.view.default_files()

    def default_files_by_repo(self) -> dict[str, list[FileRow]]:
        return self.view.default_files_by_repo()

    def on_default_branch(self, f: FileRow) -> bool:
        """Whether `f` is on its repo's default branch."""
        repo = self.repos.get(f.repo)
        return repo is not None and f.branch == repo.default_branch

    def file(self, repo: str, path: str, branch: str | None = None) -> FileRow | None:
        """A file by location; without a branch, the default branch's (else any) copy."""
        if branch is not None:
            return self._by_location.get((repo, branch, path))
        info = self.repos.get(repo)
        if info and info.default_branch:
            found = self._by_location.get((repo, info.default_branch, path))
            if found:
                return found
        return next((f for f in self.files if f.repo == repo and f.path == path), None)

    def require_file(self, repo: str, path: str, branch: str | None = None) -> FileRow:
        """Like file(), but LookupError with a message a user can act on when missing."""
        if repo not in self.repos:
            raise LookupError(f"unknown repository {repo!r}")
        found = self.file(repo, path, branch)
        if found is None:
            where = f" on branch {branch!r}" if branch else ""
            raise LookupError(f"no file {path!r} in repository {repo!r}{where}")
        return found

    def content(self, key: int) -> bytes | None:
        doc = schema.find_blob_doc(self.searcher, key)
        return doc.raw_content() if doc else None

    def references(self, key: int) -> dict[str, list[int]]:
        """name -> lines where the blob calls or uses it."""
        doc = schema.find_blob_doc(self.searcher, key)
        return doc.references() if doc else {}

    def symbols(self, key: int) -> list[Symbol]:
        """The definitions in one blob, in line order."""
        query = schema.docs_of_blob(schema.DOC_SYMBOL, key)
        hits = self.searcher.search(query, limit=100_000).hits
        found = [schema.symbol_at(self.searcher, addr) for _, addr in hits]
        return sorted(found, key=lambda s: (s.line, s.end_line, s.name))

    def _keyed_hits(self, query: tantivy.Query) -> list[tuple[int, tantivy.DocAddress]]:
        """(blob_key, address) of every document matching `query`. Ordered by the blob_key
        fast field, unscored: the hits carry their keys, and no score is computed (about
        40% cheaper than scored hits and a second fast-field read)."""
        total = self.searcher.num_docs
        if total == 0:
            return []
        unscored = tantivy.Query.const_score_query(query, 1.0)
        return self.searcher.search(
            unscored, limit=total, count=False, order_by_field=schema.F_BLOB_KEY
        ).hits

    def blob_keys(self, query: tantivy.Query) -> list[int]:
        """blob_key of every document matching `query`."""
        return [key for key, _addr in self._keyed_hits(query)]

    def symbol_docs(self, query: tantivy.Query) -> dict[int, list[tantivy.DocAddress]]:
        """The symbol documents matching `query`, grouped by blob_key: a search reads only
        these instead of every definition of each candidate blob."""
        grouped: dict[int, list[tantivy.DocAddress]] = defaultdict(list)
        for key, addr in self._keyed_hits(query):
            grouped[key].append(addr)
        return dict(grouped)

    def symbols_at(self, addrs: list[tantivy.DocAddress]) -> list[Symbol]:
        """The definitions stored at these addresses (from symbol_docs)."""
        return [schema.symbol_at(self.searcher, addr) for addr in addrs]


@dataclass
class Shard:
    """One shard of a store: its catalog, its index and its implementations index."""

    name: str
    catalog: catalog.Catalog
    index: tantivy.Index
    impl: tantivy.Index

    @classmethod
    def open(cls, name: str, data: layout.DataDir) -> Shard:
        return cls(
            name,
            catalog.Catalog(data.catalog_path),
            schema.open_index(data.index_dir, create=True),
            implindex.open_index(data.implementations_dir, create=True),
        )

    def searchers(self) -> tuple[tantivy.Searcher, tantivy.Searcher]:
        """Searchers of what is committed now (main index, implementations)."""
        self.index.reload()
        self.impl.reload()
        return self.index.searcher(), self.impl.searcher()

    def close(self) -> None:
        self.catalog.close()


class Store:
    """Opens a data dir for reading; thread-safe; snapshots are cached per generation."""

    def __init__(self, data: layout.DataDir) -> None:
        problem = layout.check_readable(data)
        if problem:
            raise StoreError(problem)
        shards = data.shards
        if len(shards) != 1:
            # A snapshot reads one catalog and one index; merging several is the scale-out's.
            raise StoreError(f"{data.root} has {len(shards)} shards: this version reads one")
        self.data = data
        self._lock = threading.Lock()  # guards the cached view, not the catalog (it has its own)
        self._shards = tuple(Shard.open(str(i), d) for i, d in enumerate(shards))
        self._view: CatalogView | None = None
        self._view_state: tuple[int, int] = (-1, -1)  # (generation, state_version) of _view
        # The searchers opened for a view: (view, main, implementations).
        self._searchers: tuple[CatalogView, tantivy.Searcher, tantivy.Searcher] | None = None

    @classmethod
    def open(cls, data_dir: str | Path | None = None) -> Store:
        return cls(layout.resolve_data_dir(str(data_dir) if data_dir else None))

    @property
    def shards(self) -> tuple[Shard, ...]:
        """The shards behind this store (one today, see layout.DataDir.shards)."""
        return self._shards

    @property
    def catalog(self) -> catalog.Catalog:
        """The data dir's catalog (its first shard's), for what a snapshot does not hold:
        status, webhooks, sync state, dedup fragments. No connection is handed out: its
        read() and write() serialize the threads sharing it."""
        return self._shards[0].catalog

    def snapshot(self) -> Snapshot:
        """The current state. The catalog is read first: the indexer commits tantivy before
        the catalog, so every blob the catalog's files name is already searchable."""
        with self._lock:
            with self._shards[0].catalog.read() as r:
                gen = r.generation()
                # A failed run changes a repo's status without a new generation: the
                # cached view is this state's only while the state version stays too.
                state = (gen, r.state_version())
                if self._view is not None and self._view_state == state:
                    return self._open_snapshot(self._view)
                files = list(r.live_files(gen))
                repos = {repo.name: repo for repo in r.repos()}
                rules = access.AccessRules.from_json(r.access_rules())
                branches = r.branches()
                status = IndexStatus(branches, r.skipped_counts(), r.recent_errors())
            commits = {(b.repo, b.name): b.commit for b in branches}
            self._view = CatalogView(gen, files, repos, commits, rules, status=status)
            self._view_state = state
            return self._open_snapshot(self._view)

    def _open_snapshot(self, view: CatalogView) -> Snapshot:
        """A snapshot of `view` with the searchers opened after the catalog read that found
        its generation new. While the generation stays, they already hold every blob the
        catalog names (tantivy commits first), so a request pays no reload (about a
        millisecond for the two indexes)."""
        if self._searchers is None or self._searchers[0] is not view:
            self._searchers = (view, *self._shards[0].searchers())
        return Snapshot(view, self._searchers[1], self._searchers[2])

    def close(self) -> None:
        for shard in self._shards:
            shard.close()
