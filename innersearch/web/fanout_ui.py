"""`serve --ray`: the HTML pages (ui.py's views and templates) over the shards, from the
documents the fan-out JSON routes compute, for the same reader (fanout_calls.readable).

FanOutPages is ui.py's page source on the fan-out app.
"""

from __future__ import annotations

from flask import Flask

from innersearch.dedup.results import DuplicateReport, SimilarResponse
from innersearch.indexer.status import StatusReport
from innersearch.search.implementations import ImplementationsResponse
from innersearch.search.results import RefsResponse
from innersearch.search.sharded import ShardedSearchResponse

from . import data, pages, ui
from .fanout import search_document
from .fanout_calls import answers, backend, on_all
from .fanout_duplicates import served_report
from .fanout_impl import implementations_document
from .fanout_repo import (
    compare_document,
    file_document,
    refs_document,
    repo_document,
    repos_document,
)
from .fanout_similar import similar_document
from .fanout_status import status_document

# -- what a shard runs: fn(store, snap, *args), module-level so Ray sends it by name --------


def _counts(_store, snap) -> pages.IndexedCounts:
    """The shard's own repos and files (called with merged=False)."""
    return pages.IndexedCounts(len(snap.repos), len(snap.files))


def _names(_store, snap) -> list[str]:
    return list(snap.repos)


def _present(_store, snap, wanted: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (repo, path) of `wanted` that are files of this shard's repos."""
    return [w for w in wanted if snap.file(*w) is not None]


class FanOutPages:
    """The page source over a cluster's shards (the app's backend, this request's reader)."""

    def indexed(self) -> pages.IndexedCounts:
        parts = answers(on_all(_counts, merged=False)).values()
        return pages.IndexedCounts(sum(p.repos for p in parts), sum(p.files for p in parts))

    def search(self, q: str, limit: int, offset: int, context: int) -> ShardedSearchResponse:
        return search_document(q, limit, offset, context)

    def implementations(self, q: str, limit: int) -> ImplementationsResponse:
        return implementations_document(q, limit)

    def file(self, repo: str, path: str, branch: str | None) -> data.FileView:
        return file_document(repo, path, branch)

    def references(self, name: str, limit: int) -> RefsResponse:
        return refs_document(name, limit)

    def repos(self) -> data.ReposResponse:
        return repos_document()

    def repo(self, name: str) -> data.RepoResponse:
        return repo_document(name)

    def duplicates(self) -> DuplicateReport:
        return served_report()

    def repo_names(self) -> list[str]:
        found = answers(on_all(_names, merged=False)).values()
        return sorted(n for names in found for n in names)

    def files_present(self, wanted: set[tuple[str, str]]) -> pages.FilesPresent:
        if not wanted:
            return pages.FilesPresent(frozenset(), shards=backend().shard_count())
        found = on_all(_present, (sorted(wanted),), merged=False)
        files = frozenset(w for part in answers(found).values() for w in part)
        cover = found.partial()
        return pages.FilesPresent(
            files, cover["partial"], tuple(cover["partial_shards"]), cover["shards"]
        )

    def compare(self, a: data.FragmentRef, b: data.FragmentRef) -> data.CompareResponse:
        return compare_document(a, b)

    def similar(self, snippet: object, lang: object, limit: object) -> SimilarResponse:
        return similar_document(snippet, lang, limit)

    def status(self) -> StatusReport:
        return status_document()


def install(app: Flask) -> None:
    """The HTML pages on the fan-out app, reading the shards."""
    ui.install(app, FanOutPages())
