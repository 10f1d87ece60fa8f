"""`serve --ray`: the routes about one repo or one name (file, outline, definition, refs, a
repo's page data) and the repo list, answered on the shards by the functions the
single-machine API calls.

A repo's routes go to the shard holding it (rendezvous hashing on its name), whose snapshot
also has every other shard's repo rows: a repo its reader may not read is unknown there, as
on one machine. Definitions and references span the organization: every shard is asked and
the answers are merged in one machine's order.
"""

from __future__ import annotations

import time

from flask import Blueprint, jsonify

from innersearch.search import api as search
from innersearch.search import content, refs
from innersearch.search.results import RefRepo, RefsResponse, SymbolHit
from innersearch.search.sharded import (
    ShardedDefinitionResponse,
    ShardedRefsResponse,
    covered,
    sharded,
)
from innersearch.search.symbols import identifier_at

from . import data, params
from .answers import compare_sides
from .fanout_calls import answers, on_all, on_owner, whole

bp = Blueprint("api_repo", __name__, url_prefix="/api/v1")


# -- what a shard runs: fn(store, snap, *args), module-level so Ray sends it by name ---------


def _file(_store, snap, repo: str, path: str, branch: str | None) -> data.FileView:
    return data.file_document(snap, repo, path, branch)


def _outline(_store, snap, repo: str, path: str, branch: str | None):
    return search.outline(snap, repo, path, branch=branch)


def _repo(_store, snap, name: str) -> data.RepoResponse:
    return data.repo_document(snap, name)


def _compare_side(_store, snap, side: data.FragmentRef) -> tuple[data.CompareSide, list[str]]:
    return data.compare_side(snap, side)


def _own_repos(_store, snap) -> data.ReposResponse:
    """The shard's own repos (called with merged=False: no other shard's rows)."""
    return data.repos_document(snap)


def _identifier(_store, snap, repo: str, path: str, line: int, column: int, branch) -> str:
    """The identifier at the cursor (search.definition_at's first step, on the file's shard)."""
    f = snap.require_file(repo, path, branch)
    text = content.lines(snap, f.blob_key, [line]).get(line, "")
    return identifier_at(text, column)


def _definitions(_store, snap, name: str) -> tuple[list[SymbolHit], list[SymbolHit]]:
    """The shard's exact definitions of `name`, and those named alike when it has none."""
    exact = refs.exact_definitions(snap, name)
    return exact, ([] if exact else refs.named_alike(snap, name))


def _references(_store, snap, name: str, limit: int) -> RefsResponse:
    return search.references(snap, name, limit=limit)


# -- routes ---------------------------------------------------------------------------------


@bp.get("/file")
def file_route():
    repo, path = params.text("repo", required=True), params.text("path", required=True)
    return jsonify(file_document(repo, path, params.text("branch")).to_json())


def file_document(repo: str, path: str, branch: str | None) -> data.FileView:
    """data.file_document on the shard holding `repo` (the route's and the file page's)."""
    return on_owner(repo, _file, (repo, path, branch))


@bp.get("/outline")
def outline_route():
    repo, path = params.text("repo", required=True), params.text("path", required=True)
    return jsonify(on_owner(repo, _outline, (repo, path, params.text("branch"))).to_json())


@bp.get("/compare")
def compare_route():
    return jsonify(compare_document(*compare_sides()).to_json())


def compare_document(a: data.FragmentRef, b: data.FragmentRef) -> data.CompareResponse:
    """data.compare_document over shards: each side read on its repo's shard (the two may
    differ), then aligned here."""
    sides = on_owner(a.repo, _compare_side, (a,)), on_owner(b.repo, _compare_side, (b,))
    return data.compare_lines(*sides)


@bp.get("/repos/<path:name>")
def repo_route(name: str):
    return jsonify(repo_document(name).to_json())


def repo_document(name: str) -> data.RepoResponse:
    """data.repo_document on the shard holding `name` (the route's and the repo page's)."""
    return on_owner(name, _repo, (name,))


@bp.get("/repos")
def repos_route():
    return jsonify(repos_document().to_json())


def repos_document() -> ShardedReposResponse:
    """Every shard's own repos the reader may read, as one machine lists them (the route's
    and the repos page's ShardedReposResponse)."""
    everywhere = on_all(_own_repos, merged=False)
    # One machine lists them by name (the catalog's order); each repo is on one shard.
    listed = sorted(
        (r for p in answers(everywhere).values() for r in p.repos), key=lambda r: r.name
    )
    return ShardedReposResponse(listed, **everywhere.partial())


@bp.get("/definition")
def definition_route():
    start = time.perf_counter()
    repo, path = params.text("repo", required=True), params.text("path", required=True)
    line = params.integer("line", None, 1, 10_000_000, required=True)
    column = params.integer("column", None, 0, 10_000_000, required=True)
    args = (repo, path, line, column, params.text("branch"))
    name = on_owner(repo, _identifier, args)
    found, partial = [], whole()
    if name:
        everywhere = on_all(_definitions, (name,))
        found = merge_definitions(list(answers(everywhere).values()))
        partial = everywhere.partial()
    found = refs.nearest_first(found, repo, path)
    took = (time.perf_counter() - start) * 1000
    return jsonify(ShardedDefinitionResponse(name, found, took, **partial).to_json())


@bp.get("/refs")
def refs_route():
    name = params.text("name", required=True)
    limit = params.integer("limit", 1000, 1, 10_000)
    return jsonify(refs_document(name, limit).to_json())


def refs_document(name: str, limit: int) -> ShardedRefsResponse:
    """`name`'s definitions and uses from every shard, merged in one machine's order (the
    route's and the symbol page's ShardedRefsResponse)."""
    start = time.perf_counter()
    everywhere = on_all(_references, (name, limit))
    out = merge_references(name, list(answers(everywhere).values()), limit)
    out.took_ms = (time.perf_counter() - start) * 1000
    return covered(out, ShardedRefsResponse, everywhere.partial())


ShardedReposResponse = sharded(
    data.ReposResponse,
    "Every shard's own repos in one machine's order, and the shards that answered.",
    __name__,
)


# -- merges ---------------------------------------------------------------------------------


def merge_definitions(parts: list[tuple[list[SymbolHit], list[SymbolHit]]]) -> list[SymbolHit]:
    """refs.definitions_for's list before its nearness sort: every shard's exact definitions
    in exact_definitions' order, or, when no shard has one, those named alike in
    search_symbols' order (each shard's were scored as one machine scores them)."""
    exact = sorted(
        (s for found, _alike in parts for s in found),
        key=lambda s: (s.repo, s.path, s.branch, s.line),
    )
    if exact:
        return exact
    return sorted(
        (s for _exact, alike in parts for s in alike),
        key=lambda s: (-s.score, s.name, s.repo, s.path, s.branch, s.line),
    )


def merge_references(name: str, parts: list[RefsResponse], limit: int) -> RefsResponse:
    """refs.references over the union: files walked in (repo, path, branch) order, lines
    counted up to `limit`. Each shard sent its first `limit` lines in that order, so the
    first `limit` of all are among them; one shard cut short means more follow the cut."""
    definitions = sorted(
        (d for p in parts for d in p.definitions), key=lambda s: (s.repo, s.path, s.branch, s.line)
    )
    files = sorted(
        ((r.repo, f) for p in parts for r in p.repos for f in r.files),
        key=lambda rf: (rf[0], rf[1].path, rf[1].branch),
    )
    by_repo: dict[str, list] = {}
    total, truncated = 0, any(p.limit_hit for p in parts)
    for repo, f in files:
        if limit and total >= limit:
            truncated = True
            break
        lines = f.lines[: max(0, limit - total)] if limit else f.lines
        total += len(lines)
        by_repo.setdefault(repo, []).append(type(f)(f.path, f.branch, lines))
    repos = [RefRepo(r, sum(len(x.lines) for x in fs), fs) for r, fs in by_repo.items()]
    repos.sort(key=lambda r: (-r.count, r.repo))
    return RefsResponse(name, definitions, repos, total, truncated)
