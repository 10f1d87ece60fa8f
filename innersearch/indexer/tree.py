"""A branch's new state: listed from its tree, or derived from its indexed state and a diff.

Either way the blobs the index lacks are read, analysed (pool.Analyzer) and added
(writer.IndexWriter) one at a time as their turn comes, never all held in memory.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterator

from . import catalog, classify, gitread
from .analyze import blob_key
from .changes import BranchState
from .pool import Analyzer, BlobTask
from .progress import Progress
from .sources import RepoSource
from .writer import IndexWriter

# A diff between the indexed and the new commit longer than this lists the whole tree instead.
DIFF_LIMIT = 20_000


class TreeReader:
    """Reads branches of mirrors into BranchStates, adding new blobs to the writer."""

    def __init__(
        self, cat: catalog.Catalog, analyzer: Analyzer, writer: IndexWriter, progress: bool
    ) -> None:
        self.catalog = cat
        self.analyzer = analyzer
        self.writer = writer
        self.show_progress = progress

    def diff(
        self, repo_id: int, mirror, branch: str, old: str, commit: str, label: str = ""
    ) -> BranchState | None:
        """The change of the branch from its indexed state (git diff-tree), read from the
        catalog for the touched paths only, so a one-file commit costs one blob and one row,
        not a listing of the whole tree; None when the old commit is gone or the diff is
        larger than a listing would be worth."""
        diff = gitread.diff_tree(mirror, old, commit)
        if diff is None or len(diff[1]) > DIFF_LIMIT:
            return None
        removed, entries = diff
        state = BranchState(removed=set(removed))
        with self.catalog.read() as r:
            rows = r.branch_file_rows(repo_id, branch, paths=state.removed)
        for _, lang, _, size in rows.values():
            state.lang_bytes[lang] -= size
        self._add_entries(mirror, candidates(entries, state.skips), state, label)
        state.changed = [(p, rows[p][1] if p in rows else "") for p in removed]
        state.changed += [(e.path, state.files.get(e.path, (0, ""))[1]) for e in entries]
        return state

    def whole(self, repo_id: int, branch: str, state: BranchState) -> BranchState:
        """The whole branch `state` (a diff's, before the catalog switches) arrives at: its
        indexed rows with the change applied. A pass over the branch: only for what does
        not carry over (describe.py, owners.py)."""
        if state.removed is None:
            return state
        with self.catalog.read() as r:
            rows = r.branch_file_rows(repo_id, branch)
            skips = r.branch_skipped(repo_id, branch)
        whole = BranchState(lang_bytes=Counter(state.lang_bytes))
        whole.skips = [s for s in skips if s[0] not in state.removed] + state.skips
        for path, (key, lang, flags, size) in rows.items():
            whole.lang_bytes[lang] += size
            if path not in state.removed:
                whole.files[path] = (key, lang, flags)
        whole.files.update(state.files)
        whole.lang_bytes = +whole.lang_bytes  # the removed languages' zeros go
        whole.paths = sorted([*whole.files, *(s[0] for s in whole.skips)])
        return whole

    def snapshot(self, src: RepoSource, mirror, branch: str, commit: str) -> BranchState:
        """Read one branch's tree; analyse and add the blobs the index lacks."""
        entries = list(gitread.list_tree(mirror, commit))
        state = BranchState()
        wanted = [
            e
            for e in entries
            if not (
                src.exclude_paths and any(fnmatch.fnmatchcase(e.path, p) for p in src.exclude_paths)
            )
        ]
        found = candidates(wanted, state.skips)
        self._add_entries(mirror, found, state, f"{src.name}@{branch}")
        state.paths = [e.path for e in entries]
        return state

    def _add_entries(self, mirror, found: list, state: BranchState, label: str) -> None:
        """Fill `state` for the candidate tree entries, reading, analysing and adding the
        blobs the index lacks; each blob is read when its turn comes, not all up front (the
        kernel's 1 GB of source was held in memory)."""
        with self.catalog.read() as r:
            known = r.known_blobs({blob_key(e.oid) for e in found})
        todo: dict[int, list] = {}  # blob key -> entries (paths) of one new blob
        for e in found:
            key = blob_key(e.oid)
            if key in known:
                lang, generated = known[key]
                path_lang = classify.language(e.path) or lang
                state.files[e.path] = (key, path_lang, classify.file_flags(e.path, generated))
                state.lang_bytes[path_lang] += e.size
            else:
                todo.setdefault(key, []).append(e)

        def tasks() -> Iterator[BlobTask]:
            firsts = [entries[0] for entries in todo.values()]
            blobs = gitread.read_blobs(mirror, [e.oid for e in firsts])
            for e, data in zip(firsts, blobs, strict=True):
                if classify.is_binary(data):
                    state.skips.extend((x.path, "binary", x.size) for x in todo[blob_key(e.oid)])
                    continue
                yield (e.oid, e.path, classify.language(e.path, data[:256]), data)

        bar = Progress(label, len(todo), enabled=self.show_progress)
        for task, a in self.analyzer.analyses(tasks(), len(todo)):
            self.writer.add_blob(a, task[3])
            for e in todo[a.key]:
                path_lang = classify.language(e.path) or a.lang
                state.files[e.path] = (a.key, path_lang, classify.file_flags(e.path, a.generated))
                state.lang_bytes[path_lang] += a.size
            bar.advance(a.size)
        bar.close()


def candidates(entries, skips: list[catalog.SkipEntry]) -> list:
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
