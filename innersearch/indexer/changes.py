"""Typed records of what one run learns about a repo: each branch's new state and the
change that makes it visible (written by writer.IndexWriter.switch in one transaction)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .catalog import FileEntry, SkipEntry
from .repoinfo import RepoInfo


@dataclass
class BranchState:
    """One branch at its new commit, as the catalog will record it: the whole branch (from
    a listing), or the change from its indexed state (from a diff, `removed` not None), so
    that a one-file commit costs one file, not a pass over the whole tree."""

    # path -> (key, lang, flags): every file, or of a diff the new and changed ones
    files: dict[str, FileEntry] = field(default_factory=dict)
    # (path, reason, size): every skipped file, or of a diff those of its new paths
    skips: list[SkipEntry] = field(default_factory=list)
    # language -> bytes of its files; of a diff, the change (negative for fewer)
    lang_bytes: Counter = field(default_factory=Counter)
    paths: list[str] = field(default_factory=list)  # of a listing: every path of the tree
    # Of a diff: the paths whose old rows end (a changed path is here and in `files`).
    removed: set[str] | None = None
    # Of a diff: (path, language) of every path it touched, before and after. Tells whether
    # what was read about the repo carries over (describe.reads_path, owners.looks_at).
    changed: list[tuple[str, str]] | None = None


@dataclass(frozen=True)
class BranchCommit:
    commit: str
    committed_at: int | None


@dataclass
class RepoChange:
    """A repo's new state: the changed branches, the branches gone, status and info."""

    repo_id: int
    default_branch: str | None
    status: str  # ok | error | empty
    error: str = ""
    branches: dict[str, BranchState] = field(default_factory=dict)
    commits: dict[str, BranchCommit] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    info: RepoInfo | None = None  # what indexing found (owners, languages...), for the default
