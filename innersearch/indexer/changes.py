"""Typed records of what one run learns about a repo: each branch's new state and the
change that makes it visible (written by writer.IndexWriter.switch in one transaction)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .catalog import FileEntry, SkipEntry


@dataclass
class BranchState:
    """One branch at its new commit, as the catalog will record it."""

    files: dict[str, FileEntry] = field(default_factory=dict)  # path -> (key, lang, flags)
    skips: list[SkipEntry] = field(default_factory=list)  # (path, reason, size)
    lang_bytes: Counter = field(default_factory=Counter)  # language -> bytes of its files
    paths: list[str] = field(default_factory=list)  # every path of the tree, skipped or not
    # From a diff: (path, language) of every path it touched, before and after (a listing:
    # None). Tells whether the repo's description can carry over (describe.reads_path).
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
    info: dict | None = None  # what indexing found (owners, languages...), for the default
