"""What the HTML pages read, behind one seam: a page source registered on the app, answering
with the documents the JSON API serves (one Store's snapshot here, the shards in fanout_ui.py).

ui.py's views ask `source()` and render what it answers, so both apps share the views and
templates; LocalPages reads the request's snapshot (state.py), narrowed to its reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app

from innersearch.dedup.results import DuplicateReport, SimilarResponse
from innersearch.indexer.status import StatusReport, status_report
from innersearch.search import api as search
from innersearch.search import implementations
from innersearch.search.implementations import ImplementationsResponse
from innersearch.search.results import RefsResponse, SearchResponse

from . import answers, data, state

SOURCE = "innersearch.pages"


@dataclass(frozen=True)
class IndexedCounts:
    """What the empty search page says is indexed: the reader's repos and their files (every
    branch's)."""

    repos: int
    files: int


@dataclass(frozen=True)
class FilesPresent:
    """Which asked (repo, path) are default-branch files the reader may read; over shards,
    the shards that did not answer in time (their files are shown without links)."""

    files: frozenset[tuple[str, str]]
    partial: bool = False
    partial_shards: tuple[str, ...] = ()
    shards: int = 1


class PageSource(Protocol):
    """The documents of this request's reader that the pages render (each raises the ApiError
    the JSON route answers: 404 for an unknown or unreadable repo, 400 for a bad query)."""

    def indexed(self) -> IndexedCounts: ...

    def search(self, q: str, limit: int, offset: int, context: int) -> SearchResponse: ...

    def implementations(self, q: str, limit: int) -> ImplementationsResponse: ...

    def file(self, repo: str, path: str, branch: str | None) -> data.FileView: ...

    def references(self, name: str, limit: int) -> RefsResponse: ...

    def repos(self) -> data.ReposResponse: ...

    def repo(self, name: str) -> data.RepoResponse: ...

    def duplicates(self) -> DuplicateReport: ...

    def repo_names(self) -> list[str]: ...

    def files_present(self, wanted: set[tuple[str, str]]) -> FilesPresent:
        """Which (repo, path) of `wanted` are files of the default branch the reader may read."""
        ...

    def compare(self, a: data.FragmentRef, b: data.FragmentRef) -> data.CompareResponse: ...

    def similar(self, snippet: object, lang: object, limit: object) -> SimilarResponse: ...

    def status(self) -> StatusReport: ...


class LocalPages:
    """One machine: every document from this request's snapshot of the app's Store."""

    def indexed(self) -> IndexedCounts:
        snap = state.snapshot()
        return IndexedCounts(len(snap.repos), len(snap.files))

    def search(self, q: str, limit: int, offset: int, context: int) -> SearchResponse:
        return answers.run_search(q, limit, offset, context)

    def implementations(self, q: str, limit: int) -> ImplementationsResponse:
        return implementations.find(state.snapshot(), q, limit=limit)

    def file(self, repo: str, path: str, branch: str | None) -> data.FileView:
        return data.file_document(state.snapshot(), repo, path, branch)

    def references(self, name: str, limit: int) -> RefsResponse:
        return search.references(state.snapshot(), name, limit=limit)

    def repos(self) -> data.ReposResponse:
        return data.repos_document(state.snapshot())

    def repo(self, name: str) -> data.RepoResponse:
        return data.repo_document(state.snapshot(), name)

    def duplicates(self) -> DuplicateReport:
        return answers.latest_duplicates()

    def repo_names(self) -> list[str]:
        return sorted(state.snapshot().repos)

    def files_present(self, wanted: set[tuple[str, str]]) -> FilesPresent:
        snap = state.snapshot()
        return FilesPresent(frozenset(w for w in wanted if snap.file(*w) is not None))

    def compare(self, a: data.FragmentRef, b: data.FragmentRef) -> data.CompareResponse:
        return data.compare_document(state.snapshot(), a, b)

    def similar(self, snippet: object, lang: object, limit: object) -> SimilarResponse:
        return answers.similar(snippet, lang, limit)

    def status(self) -> StatusReport:
        return status_report(state.store(), snapshot=state.snapshot())


def register(app: Flask, pages: PageSource) -> None:
    app.extensions[SOURCE] = pages


def source() -> PageSource:
    """The page source of the app serving this request."""
    return current_app.extensions[SOURCE]
