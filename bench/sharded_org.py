"""An organization indexed twice for the `serve --ray` benchmarks: on one machine, and over
4 shards on a real two-node Ray cluster on loopback (cluster/local.py, one CPU per node).

`one_and_sharded(repos, work)` yields both data dirs and the shards' ClusterSearch; the
cluster is stopped on the way out, whatever happened.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from innersearch.cluster import connect
from innersearch.cluster.index import index_cluster
from innersearch.cluster.local import LocalCluster
from innersearch.cluster.search import ClusterSearch
from innersearch.indexer import layout
from innersearch.indexer.run import index_sources

SHARDS = 4


@dataclass(frozen=True)
class ShardedOrg:
    one: layout.DataDir  # one machine's index
    many: layout.DataDir  # the cluster's (coordinator and shards)
    searcher: ClusterSearch


@contextmanager
def one_and_sharded(repos: Path, work: Path) -> Iterator[ShardedOrg]:
    one = layout.DataDir(work / "one")
    index_sources(one, [str(repos)], say=lambda _m: None)
    cluster = LocalCluster().start()
    try:
        cluster.add_node()
        ray = connect(cluster.address)
        cluster.wait_nodes(ray, 2)
        many = layout.DataDir(work / "many")
        summary = index_cluster(cluster.address, many, [str(repos)], SHARDS, say=lambda _m: None)
        assert not summary.failed, summary.failed
        searcher = ClusterSearch.open(cluster.address, many.root)
        try:
            yield ShardedOrg(one, many, searcher)
        finally:
            searcher.close()
            ray.shutdown()
    finally:
        cluster.stop()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def first_repos(repos: str | Path, take: int, work: Path) -> Path:
    """A new WORK/repos holding links to the first `take` repos of `repos` (by name), to
    keep a benchmark's cluster run short; WORK is emptied first."""
    shutil.rmtree(work, ignore_errors=True)
    src = work / "repos"
    src.mkdir(parents=True)
    for repo in sorted(p for p in Path(repos).iterdir() if p.is_dir())[:take]:
        (src / repo.name).symlink_to(repo.resolve())
    return src


def org_arguments(ap: argparse.ArgumentParser, work: str) -> None:
    """--repos, --take and --work (default `work`): the org the benchmark shards."""
    ap.add_argument("--repos", default="/tmp/sample-org/repos")
    ap.add_argument("--take", type=int, default=12, help="index the first N repos only")
    ap.add_argument("--work", default=work)
