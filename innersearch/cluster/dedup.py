"""`innersearch dedup --ray`: the dedup report across shards, as one machine makes it.

A Ray task per shard (on its node) loads the shard's fingerprinted fragments and catalog
rows; the coordinator merges them (a blob held by several shards is one fragment, with the
files of all), bands the signatures with the one machine's LSH (dedup.detect.candidates),
verifies candidates on token streams fetched from the shards that hold them, and builds the
classes and copies with the one machine's code. Same input, same functions: same output.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from innersearch.dedup import clones, libraries, purpose_embedding, verify
from innersearch.dedup.api import report_path
from innersearch.dedup.detect import Detection, candidates, pair_groups
from innersearch.dedup.fragments import (
    Fragments,
    blob_lines,
    default_branch_files,
    load,
    load_streams,
)
from innersearch.dedup.report import assemble, runtime_call_sites
from innersearch.dedup.state import dedup_dir, write_json_atomic
from innersearch.indexer import deps
from innersearch.indexer.catalog import FileRow, RepoRow
from innersearch.indexer.layout import DataDir
from innersearch.indexer.store import CatalogView, Snapshot, Store

from . import connect, placement
from .shards import ShardLayout


@dataclass
class ShardPart:
    """What one shard contributes: its fragments and the catalog rows they are read with."""

    shard: str
    generation: int
    fragments: Fragments
    files: list[FileRow]
    repos: dict[str, RepoRow]
    branch_commits: dict[tuple[str, str], str]
    lines: dict[int, int] = field(default_factory=dict)
    vocab: dict[int, list] = field(default_factory=dict)  # code blobs' vocabularies
    readmes: dict[int, bytes] = field(default_factory=dict)  # what readme_text reads


def _open(root: str, shard: str) -> Store:
    return Store.open(ShardLayout(Path(root), (shard,)).data(shard).root)


def _shard_part(root: str, shard: str, min_tokens: int, min_lines: int) -> ShardPart:
    store = _open(root, shard)
    try:
        snap = store.snapshot()
        frags = load(store, snap, min_tokens, min_lines)
        code = {f.blob_key for rows in libraries.code_files(snap).values() for f in rows}
        return ShardPart(
            shard,
            snap.generation,
            frags,
            list(snap.files),
            dict(snap.repos),
            dict(snap.branch_commits),
            blob_lines(store, code),
            libraries.load_api_vocabulary(store, code),
            _readmes(snap),
        )
    finally:
        store.close()


def _readmes(snap: Snapshot) -> dict[int, bytes]:
    out = {}
    for repo in snap.repos:
        for path in libraries.readme_paths(snap, repo):
            row = snap.file(repo, path) if path else None
            data = snap.content(row.blob_key) if row else None
            if data is not None:
                out[row.blob_key] = data
    return out


def _shard_sites(root: str, shard: str, graph: deps.DepGraph) -> dict[tuple[str, str], int]:
    """The runtime call sites of the users this shard holds (report.runtime_call_sites over
    the shard's files; the graph is the whole organization's)."""
    store = _open(root, shard)
    try:
        snap = store.snapshot()
        return runtime_call_sites(snap, libraries.code_files(snap), graph)
    finally:
        store.close()


def _shard_streams(root: str, shard: str, rowids: list[int]) -> dict:
    store = _open(root, shard)
    try:
        return load_streams(store, rowids)
    finally:
        store.close()


class MergedSnapshot(Snapshot):
    """The catalog rows of every shard as one snapshot, with no index behind it: what the
    report's assembly reads is the catalog and the READMEs the shards sent."""

    def __init__(self, view: CatalogView, readmes: dict[int, bytes]) -> None:
        super().__init__(view, None)
        self.readmes = readmes

    def content(self, key: int) -> bytes | None:
        return self.readmes.get(key)


def merged_snapshot(parts: list[ShardPart]) -> MergedSnapshot:
    files = sorted((f for p in parts for f in p.files), key=lambda f: (f.repo, f.branch, f.path))
    repos = {n: r for p in parts for n, r in p.repos.items()}
    commits = {k: c for p in parts for k, c in p.branch_commits.items()}
    view = CatalogView(sum(p.generation for p in parts), files, repos, commits)
    return MergedSnapshot(view, {k: b for p in parts for k, b in p.readmes.items()})


def merge_fragments(parts: list[ShardPart], snap: Snapshot) -> tuple[Fragments, list[tuple]]:
    """One Fragments in one machine's order (blob, file before function, start, end), each
    fragment once; and per row, the (shard, rowid) its streams are read from."""
    seen: dict[tuple, tuple[int, int]] = {}
    for pi, p in enumerate(parts):
        fr = p.fragments
        for i in range(len(fr)):
            key = (int(fr.blob[i]), not bool(fr.is_file[i]), int(fr.start[i]), int(fr.end[i]))
            seen.setdefault(key, (pi, i))
    order = sorted(seen)
    picks = [seen[k] for k in order]

    def column(name: str, dtype) -> np.ndarray:
        return np.array([getattr(parts[pi].fragments, name)[i] for pi, i in picks], dtype=dtype)

    width = parts[0].fragments.raw_sig.shape[1] if parts else 0
    frags = Fragments(
        rowid=np.arange(len(picks), dtype=np.int64),
        blob=column("blob", np.int64),
        is_file=column("is_file", bool),
        start=column("start", np.int64),
        end=column("end", np.int64),
        tokens=column("tokens", np.int64),
        raw_sig=np.array(
            [parts[pi].fragments.raw_sig[i] for pi, i in picks], dtype=np.uint32
        ).reshape(-1, width),
        abs_sig=np.array(
            [parts[pi].fragments.abs_sig[i] for pi, i in picks], dtype=np.uint32
        ).reshape(-1, width),
        symbol=[parts[pi].fragments.symbol[i] for pi, i in picks],
        locations=default_branch_files(snap),
    )
    sources = [(parts[pi].shard, int(parts[pi].fragments.rowid[i])) for pi, i in picks]
    return frags, sources


def verify_across(
    ray, task, root: str, frags: Fragments, sources: list[tuple], pairs: np.ndarray
) -> list[tuple[int, int, verify.Verdict]]:
    """Verdicts of the candidate pairs, a bounded group of fragments' streams at a time,
    each group's streams read by the shards holding them (in parallel)."""
    todo = sorted(map(tuple, pairs.tolist()))
    edges = []
    for batch, group in pair_groups(todo):
        wanted: dict[str, list[int]] = {}
        for x in group:
            shard, rowid = sources[x]
            wanted.setdefault(shard, []).append(rowid)
        refs = {s: task.remote(root, s, sorted(ids)) for s, ids in wanted.items()}
        records = {s: ray.get(ref) for s, ref in refs.items()}
        streams: dict[int, verify.Streams | None] = {}
        for x in group:
            shard, rowid = sources[x]
            record = records[shard].get(rowid)
            streams[x] = verify.Streams(record) if record is not None else None
        for i, j in batch:
            if streams[i] is not None and streams[j] is not None:
                verdict = verify.compare(streams[i], streams[j])
                if verdict.clone_type:
                    edges.append((i, j, verdict))
    edges.sort(key=lambda e: (e[0], e[1]))
    return edges


def find_duplicates_cluster(
    address: str,
    root,
    min_tokens: int = 50,
    min_lines: int = 6,
    say: Callable[[str], None] = lambda _m: None,
) -> dict:
    """The dedup report over every shard: the one machine's (report.assemble on the
    shards' fragments, line counts, vocabularies, READMEs and call sites), plus `shards`;
    persisted in DATA/dedup/report.json as the one machine's is (`serve --ray` serves it).
    Every candidate is verified (the verified-pair cache is per data dir)."""
    started = time.monotonic()
    ray = connect(address)
    found = ShardLayout.load(Path(root).resolve())
    if found is None:
        raise FileNotFoundError(f"{root}: no cluster index (run `innersearch index --ray`)")
    where = placement.place(list(found.ids), placement.nodes(ray))
    part_task = ray.remote(num_cpus=1, max_retries=0)(_shard_part)
    refs = [
        part_task.options(scheduling_strategy=placement.on_node(ray, where[s])).remote(
            str(found.root), s, min_tokens, min_lines
        )
        for s in found.ids
    ]
    parts = ray.get(refs)
    snap = merged_snapshot(parts)
    frags, sources = merge_fragments(parts, snap)
    say(f"{len(frags)} fragments from {len(parts)} shards")
    pairs = candidates(frags)
    # Call sites need each user's files: read on its shard, while the pairs are verified.
    site_task = ray.remote(num_cpus=1, max_retries=0)(_shard_sites)
    graph = deps.graph(snap)
    site_refs = [
        site_task.options(scheduling_strategy=placement.on_node(ray, where[s])).remote(
            str(found.root), s, graph
        )
        for s in found.ids
    ]
    stream_task = ray.remote(num_cpus=1, max_retries=0)(_shard_streams)
    edges = verify_across(ray, stream_task, str(found.root), frags, sources, pairs)
    classes = clones.build(frags, edges)
    sites: dict[tuple[str, str], int] = {}
    for found_sites in ray.get(site_refs):
        sites.update(found_sites)
    stats = {
        "fragments": len(frags),
        "candidate_pairs": int(len(pairs)),
        "verified_pairs": int(len(pairs)),
        "cached_pairs": 0,
        "clone_pairs": len(edges),
    }
    lines = {k: n for p in parts for k, n in p.lines.items()}
    vocab = {k: v for p in parts for k, v in p.vocab.items()}
    detection = Detection(frags, edges, classes, stats)
    # The purpose embeddings are cached beside the shards, as the one-machine job caches
    # them in its data dir.
    cache = dedup_dir(DataDir(found.root)) / purpose_embedding.CACHE_NAME
    report = assemble(snap, detection, lines, sites, vocab, cache)
    report["settings"] = {"min_tokens": min_tokens, "min_lines": min_lines}
    report["shards"] = list(found.ids)
    report["stats"]["seconds"] = round(time.monotonic() - started, 3)
    # Where the one-machine job keeps it, in the coordinator's DATA: `serve --ray` serves it.
    with contextlib.suppress(OSError):  # a read-only data dir still gets its answer
        write_json_atomic(report_path(DataDir(found.root)), report)
    return report
