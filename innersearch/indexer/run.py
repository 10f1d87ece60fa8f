"""One indexing run: mirror every source, re-index what changed, commit repo by repo.

Per repo: fetch, list or diff each wanted branch's tree (tree.py), read and parse only blobs
the index lacks (pool.py), add them to tantivy, commit tantivy, then switch the repo's files
in one catalog transaction, a new generation (writer.py); then collect garbage (gc.py).
A kill -9 at any point leaves the last committed state searchable; the next run reuses what
was committed and completes the rest.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from . import access, catalog, gc, gitread, layout, owners
from .changes import BranchCommit, BranchState, RepoChange
from .credentials import redact
from .pool import Analyzer
from .repoinfo import RepoInfo
from .sources import RepoSource, ResolveOptions, SourceProblem, resolve
from .tree import TreeReader
from .writer import IndexWriter


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


class _Indexer:
    """The loop of one run over the repos: decides what changed and hands it on."""

    def __init__(self, data: layout.DataDir, say: Callable[[str], None], progress: bool):
        self.data = data
        self.say = say
        self.catalog = catalog.Catalog(data.catalog_path)
        self.summary = RunSummary()
        with self.catalog.write() as tx:
            # The last run did not finish its collection: sweep everything this time.
            self.sweep_all = tx.meta_value("gc") != "done"
            tx.set_meta("gc", "pending")
        self.writer = IndexWriter(data, self.catalog, leftovers_possible=self.sweep_all)
        self.analyzer = Analyzer()
        self.trees = TreeReader(self.catalog, self.analyzer, self.writer, progress)

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
            self.writer.switch(RepoChange(repo_id, default, "empty", message))
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
                tx.set_repo_head(repo_id, status, error, default)
            return RepoOutcome(src.name, "error" if problems else "unchanged", error)
        change = RepoChange(repo_id, default, status, error, gone=gone)
        for branch in changed:
            state = self._branch_state(src, repo_id, mirror, branch, indexed.get(branch), heads)
            change.branches[branch] = state
            if branch == default:
                change.info = self._repo_info(src, repo_id, mirror, branch, heads, state, indexed)
        change.commits = {
            b: BranchCommit(heads[b], gitread.commit_time(mirror, heads[b])) for b in changed
        }
        self.writer.switch(change)
        # A listing counts the branch's files, a diff the paths it touched.
        total = sum(
            len(s.files) if s.removed is None else len(s.removed | s.files.keys())
            for s in change.branches.values()
        )
        return RepoOutcome(src.name, "indexed" if not problems else "error", error, files=total)

    def _repo_info(
        self, src: RepoSource, repo_id: int, mirror, branch: str, heads, state, indexed
    ) -> RepoInfo:
        """repos.info at the default branch's new commit (owners.py, describe.py). Made at
        the diff's base, what the diff cannot change carries over; the whole branch is read
        from the catalog only for what does not."""
        with self.catalog.read() as r:
            old_info = r.repo_info(repo_id)
        base = indexed.get(branch)
        changed = state.changed if base and old_info.at == base else None
        whole = functools.cache(lambda: self.trees.whole(repo_id, branch, state))
        commit = heads[branch]
        info = owners.repo_info(mirror, commit, whole, state, old_info, changed)
        activity = gitread.recent_activity(mirror, commit, known=_known_roots(old_info))
        described = self.writer.impl.describe(
            src.name, mirror, commit, lambda: whole().files, old_info, changed, activity
        )
        # `at`: the commit this info was made for, the next diff's base
        return dataclasses.replace(info, **described, at=commit)

    def _branch_state(
        self, src: RepoSource, repo_id: int, mirror, branch: str, old: str | None, heads: dict
    ) -> BranchState:
        """A diff from the indexed commit when there is one (and no path is excluded, which
        a diff does not apply), else a listing of the tree."""
        state = None
        if old and not src.exclude_paths:
            label = f"{src.name}@{branch}"
            state = self.trees.diff(repo_id, mirror, branch, old, heads[branch], label)
        if state is None:
            state = self.trees.snapshot(src, mirror, branch, heads[branch])
        for _, reason, _ in state.skips:
            self.summary.skipped[reason] += 1
        return state

    def remove_repo(self, repo: catalog.RepoRow) -> RepoOutcome:
        """A repo no longer in the sources: its documents leave the index."""
        self.writer.remove_repo(repo.id)
        self.writer.impl.forget(repo.name)
        shutil.rmtree(self.data.mirror_path(repo.name), ignore_errors=True)
        return RepoOutcome(repo.name, "removed")

    def collect_garbage(self) -> None:
        gc.collect_garbage(self.writer, self.sweep_all)

    def nothing_to_collect(self) -> None:
        """Nothing was written: the last collection still holds. Left "pending", a poll
        where nothing changed made the next run sweep the whole index (3.6 s of a kernel
        one-file commit: every document's blob key read)."""
        with self.catalog.write() as tx:
            tx.set_meta("gc", "done")

    def close(self) -> None:
        self.summary.new_blobs = self.writer.new_blobs
        self.summary.new_bytes = self.writer.new_bytes
        self.analyzer.close()
        self.writer.close()
        self.catalog.close()


def _known_roots(info: RepoInfo) -> tuple[str, int] | None:
    """(the commit `info` was made at, the time of its first commit), when it says both."""
    first = info.activity.get("first_commit_at") if info.activity is not None else None
    return (info.at, first) if info.at is not None and isinstance(first, int) else None


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
                        listing.repos if listing.complete else None,
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
            elif not indexer.sweep_all and indexer.writer.new_blobs == 0:
                indexer.nothing_to_collect()
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
