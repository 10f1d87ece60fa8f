"""The documents the web layer serves that no other package builds: files, repos, comparisons.

Typed results (one to_json each, their OpenAPI schemas generated): the JSON API returns
their JSON and the HTML pages render the same JSON, so the API offers everything the UI shows.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from innersearch.indexer.catalog import FLAG_GENERATED, FLAG_TEST, FLAG_VENDORED, RepoRow
from innersearch.indexer.hosts import HostInfo, file_url
from innersearch.indexer.records import Symbol
from innersearch.indexer.repoinfo import RepoOwners
from innersearch.indexer.store import Snapshot
from innersearch.search.portal import Portal, portal
from innersearch.search.results import ContextLine, JsonResult

from .errors import bad_request, not_found

# Side-by-side comparison is for reading two fragments, not two whole trees.
MAX_COMPARE_LINES = 5_000


def iso(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


@dataclass(slots=True)
class FileView(JsonResult):
    """A file's text and what the index knows of it (GET /api/v1/file, the file page)."""

    repo: str
    path: str
    branch: str
    commit: str
    url: str | None  # the file on its code host, if any
    lang: str
    size: int  # bytes
    lines: int
    vendored: bool
    generated: bool
    test: bool
    content: str
    symbols: list[Symbol]
    references: dict[str, list[int]]  # name -> lines where the file calls or uses it


def file_document(snap: Snapshot, repo: str, path: str, branch: str | None = None) -> FileView:
    """A file's text and what the index knows of it; 404 for an unknown repo, branch or path."""
    try:
        row = snap.require_file(repo, path, branch)
    except LookupError as err:
        raise not_found(str(err.args[0])) from None
    raw = snap.content(row.blob_key)
    if raw is None:
        raise not_found(f"the content of {repo}/{path} is not in the index")
    text = decode(raw)
    commit = snap.branch_commits.get((row.repo, row.branch), "")
    host = HostInfo.from_info(snap.repos[row.repo].info)
    return FileView(
        repo=row.repo,
        path=row.path,
        branch=row.branch,
        commit=commit,
        url=file_url(host, commit, row.path),
        lang=row.lang,
        size=len(raw),
        lines=text.count("\n") + (0 if text.endswith("\n") or not text else 1),
        vendored=bool(row.flags & FLAG_VENDORED),
        generated=bool(row.flags & FLAG_GENERATED),
        test=bool(row.flags & FLAG_TEST),
        content=text,
        symbols=snap.symbols(row.blob_key),
        references=snap.references(row.blob_key),
    )


@dataclass(slots=True)
class RepoSummary(JsonResult):
    """One indexed repository as the repo list shows it (GET /api/v1/repos)."""

    name: str
    source: str
    default_branch: str | None
    commit: str  # the indexed commit of the default branch ("" before the first)
    status: str
    error: str | None
    last_commit_at: str | None  # ISO 8601, UTC
    indexed_at: str | None
    files: int  # on the default branch
    languages: dict[str, float]  # language -> share of the default branch's code


@dataclass(slots=True)
class ReposResponse(JsonResult):
    repos: list[RepoSummary]


@dataclass(slots=True)
class BranchRef(JsonResult):
    name: str
    commit: str


@dataclass(slots=True)
class TextFile(JsonResult):
    path: str
    text: str


@dataclass(slots=True)
class RepoResponse(RepoSummary):
    """One repo (GET /api/v1/repos/NAME, the repo page): its summary, owners, branches,
    README text, CONTRIBUTING guide and portal entry."""

    owners: RepoOwners
    branches: list[BranchRef]
    readme: TextFile | None
    contributing: TextFile | None
    paths: list[str]  # the default branch's files
    portal: Portal


def _summary_fields(snap: Snapshot, repo: RepoRow, files: int) -> dict[str, Any]:
    return {
        "name": repo.name,
        "source": repo.source,
        "default_branch": repo.default_branch,
        "commit": snap.branch_commits.get((repo.name, repo.default_branch or ""), ""),
        "status": repo.status,
        "error": repo.error,
        "last_commit_at": iso(repo.last_commit_at),
        "indexed_at": iso(repo.indexed_at),
        "files": files,
        "languages": (repo.info or {}).get("languages") or {},
    }


def repos_document(snap: Snapshot) -> ReposResponse:
    files = snap.default_files_by_repo()
    return ReposResponse(
        [
            RepoSummary(**_summary_fields(snap, r, len(files.get(r.name, ()))))
            for r in snap.repos.values()
        ]
    )


def repo_document(snap: Snapshot, name: str) -> RepoResponse:
    """One repo: summary, owners, branches, README text and CONTRIBUTING guide location."""
    repo = snap.repos.get(name)
    if repo is None:
        raise not_found(f"unknown repo {name!r}")
    info = repo.info or {}
    paths = [f.path for f in snap.default_files_by_repo().get(name, ())]
    return RepoResponse(
        **_summary_fields(snap, repo, len(paths)),
        owners=RepoOwners.read(info.get("owners")),
        branches=[
            BranchRef(b, c) for (r, b), c in sorted(snap.branch_commits.items()) if r == name
        ],
        readme=_text_file(snap, name, info.get("readme")),
        contributing=_text_file(snap, name, info.get("contributing")),
        paths=paths,
        portal=portal(snap, name),
    )


def _text_file(snap: Snapshot, repo: str, path: str | None) -> TextFile | None:
    if not path:
        return None
    row = snap.file(repo, path)
    raw = snap.content(row.blob_key) if row else None
    return TextFile(path, decode(raw) if raw is not None else "")


@dataclass(slots=True)
class FragmentRef:
    """One side of a comparison as asked: a file and an optional line range."""

    repo: str
    path: str
    branch: str | None = None
    start: int | None = None
    end: int | None = None


@dataclass(slots=True)
class CompareSide(JsonResult):
    repo: str
    path: str
    branch: str
    lang: str
    start_line: int
    end_line: int


@dataclass(slots=True)
class CompareRow(JsonResult):
    """One row of a comparison; `a` or `b` is null where that side has no line."""

    op: Literal["equal", "replace", "delete", "insert"]
    a: ContextLine | None
    b: ContextLine | None


@dataclass(slots=True)
class CompareResponse(JsonResult):
    """Two fragments side by side (GET /api/v1/compare, the compare page)."""

    a: CompareSide
    b: CompareSide
    similarity: float
    rows: list[CompareRow]


def compare_side(snap: Snapshot, side: FragmentRef) -> tuple[CompareSide, list[str]]:
    """One side of a comparison: where it is and its lines (on the repo's own shard under
    `serve --ray`; compare_lines then runs where both sides meet)."""
    doc = file_document(snap, side.repo, side.path, side.branch)
    lines = doc.content.split("\n")
    if doc.content.endswith("\n"):
        lines.pop()
    start = side.start or 1
    end = side.end or len(lines)
    if start < 1 or end < start:
        raise bad_request(f"bad line range {start}-{end} for {side.repo}/{side.path}")
    end = min(end, len(lines), start + MAX_COMPARE_LINES - 1)
    found = CompareSide(doc.repo, doc.path, doc.branch, doc.lang, start, end)
    return found, lines[start - 1 : end]


def compare_document(snap: Snapshot, a: FragmentRef, b: FragmentRef) -> CompareResponse:
    """Two fragments side by side: rows of (a line, b line, op) from difflib's opcodes.

    op is "equal", "replace", "delete" (only in a) or "insert" (only in b); a or b is None
    where that side has no line."""
    return compare_lines(compare_side(snap, a), compare_side(snap, b))


def compare_lines(
    a: tuple[CompareSide, list[str]], b: tuple[CompareSide, list[str]]
) -> CompareResponse:
    """compare_document of two sides already read (compare_side)."""
    (left, la), (right, lb) = a, b
    matcher = difflib.SequenceMatcher(None, la, lb, autojunk=False)
    rows: list[CompareRow] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        for k in range(max(a1 - a0, b1 - b0)):
            ia, ib = a0 + k, b0 + k
            rows.append(
                CompareRow(
                    op,  # type: ignore[arg-type]
                    ContextLine(left.start_line + ia, la[ia]) if ia < a1 else None,
                    ContextLine(right.start_line + ib, lb[ib]) if ib < b1 else None,
                )
            )
    return CompareResponse(left, right, round(matcher.ratio(), 4), rows)
