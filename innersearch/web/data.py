"""The documents the web layer serves that no other package builds: files, repos, comparisons.

The JSON API returns them as they are and the HTML pages render them, so the API offers
everything the UI shows.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime

from innersearch.indexer.catalog import FLAG_GENERATED, FLAG_TEST, FLAG_VENDORED, RepoRow
from innersearch.indexer.hosts import HostInfo, file_url
from innersearch.indexer.records import Symbol
from innersearch.indexer.store import Snapshot
from innersearch.search.portal import portal
from innersearch.search.results import JsonResult

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


def _repo_summary(snap: Snapshot, repo: RepoRow, files: int) -> dict:
    info = repo.info or {}
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
        "languages": info.get("languages") or {},
    }


def repos_document(snap: Snapshot) -> dict:
    files = snap.default_files_by_repo()
    return {
        "repos": [_repo_summary(snap, r, len(files.get(r.name, ()))) for r in snap.repos.values()]
    }


def repo_document(snap: Snapshot, name: str) -> dict:
    """One repo: summary, owners, branches, README text and CONTRIBUTING guide location."""
    repo = snap.repos.get(name)
    if repo is None:
        raise not_found(f"unknown repo {name!r}")
    info = repo.info or {}
    paths = [f.path for f in snap.default_files_by_repo().get(name, ())]
    doc = _repo_summary(snap, repo, len(paths))
    owners = info.get("owners") or {}
    doc["owners"] = {
        "codeowners": owners.get("codeowners") or [],
        "codeowners_rules": owners.get("codeowners_rules") or [],
        "committers": owners.get("committers") or [],
    }
    doc["branches"] = [
        {"name": b, "commit": c} for (r, b), c in sorted(snap.branch_commits.items()) if r == name
    ]
    doc["readme"] = _text_file(snap, name, info.get("readme"))
    doc["contributing"] = _text_file(snap, name, info.get("contributing"))
    doc["paths"] = paths
    doc["portal"] = portal(snap, name).to_json()
    return doc


def _text_file(snap: Snapshot, repo: str, path: str | None) -> dict | None:
    if not path:
        return None
    row = snap.file(repo, path)
    raw = snap.content(row.blob_key) if row else None
    return {"path": path, "text": decode(raw) if raw is not None else ""}


def _fragment(snap: Snapshot, side: dict) -> dict:
    doc = file_document(snap, side["repo"], side["path"], side.get("branch"))
    lines = doc.content.split("\n")
    if doc.content.endswith("\n"):
        lines.pop()
    start = side.get("start") or 1
    end = side.get("end") or len(lines)
    if start < 1 or end < start:
        raise bad_request(f"bad line range {start}-{end} for {side['repo']}/{side['path']}")
    end = min(end, len(lines), start + MAX_COMPARE_LINES - 1)
    return {
        "repo": doc.repo,
        "path": doc.path,
        "branch": doc.branch,
        "lang": doc.lang,
        "start_line": start,
        "end_line": end,
        "lines": lines[start - 1 : end],
    }


def compare_document(snap: Snapshot, a: dict, b: dict) -> dict:
    """Two fragments side by side: rows of (a line, b line, op) from difflib's opcodes.

    op is "equal", "replace", "delete" (only in a) or "insert" (only in b); a or b is null
    where that side has no line."""
    left, right = _fragment(snap, a), _fragment(snap, b)
    la, lb = left.pop("lines"), right.pop("lines")
    matcher = difflib.SequenceMatcher(None, la, lb, autojunk=False)
    rows: list[dict] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        for k in range(max(a1 - a0, b1 - b0)):
            ia, ib = a0 + k, b0 + k
            rows.append(
                {
                    "op": op,
                    "a": {"line": left["start_line"] + ia, "text": la[ia]} if ia < a1 else None,
                    "b": {"line": right["start_line"] + ib, "text": lb[ib]} if ib < b1 else None,
                }
            )
    return {"a": left, "b": right, "similarity": round(matcher.ratio(), 4), "rows": rows}
