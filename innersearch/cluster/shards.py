"""Which shard holds which repo: rendezvous (highest-random-weight) hashing of repo names.

A repo goes to the shard whose hash of (shard, repo) is highest, so adding a shard moves only
the repos the new shard wins (about 1/(n+1) of them) and nothing moves between old shards.
A shard is an ordinary innersearch data dir at DATA/shards/<id>/.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from innersearch.indexer import layout

SHARDS_DIR = "shards"
LAYOUT_FILE = "cluster.json"  # DATA/cluster.json: the shard ids of this deployment
# DATA/hooks.sqlite: serve --ray's webhook queue (cluster/hooks.py), a catalog of its own
# beside the shards (a delivery is not any one shard's until it is indexed).
HOOKS_FILE = "hooks.sqlite"
DEFAULT_SHARDS = 4


def weight(shard: str, name: str) -> int:
    digest = hashlib.blake2b(f"{shard}\0{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(name: str, shards: Iterable[str]) -> str:
    """The shard that holds repo `name` (ties, which need equal 64-bit hashes, go to the
    smaller id so every process agrees)."""
    return max(shards, key=lambda s: (weight(s, name), s))


def assign(names: Iterable[str], shards: Iterable[str]) -> dict[str, list[str]]:
    """shard -> its repos (sorted), every shard present even when it holds none."""
    ids = sorted(set(shards))
    if not ids:
        raise ValueError("a cluster needs at least one shard")
    out: dict[str, list[str]] = {s: [] for s in ids}
    for name in sorted(set(names)):
        out[owner(name, ids)].append(name)
    return out


def hooks_path(root: Path) -> Path:
    """The webhook queue's catalog of the DATA dir `root`."""
    return Path(root) / HOOKS_FILE


def shard_ids(count: int) -> list[str]:
    if count < 1:
        raise ValueError(f"a cluster needs at least one shard, got {count}")
    return [f"s{i:02d}" for i in range(count)]


@dataclass(frozen=True)
class ShardLayout:
    """The shards of one DATA dir: their ids (kept in DATA/cluster.json) and data dirs."""

    root: Path
    ids: tuple[str, ...]

    def data(self, shard: str) -> layout.DataDir:
        return layout.DataDir(self.root / SHARDS_DIR / shard)

    @classmethod
    def load(cls, root: Path) -> ShardLayout | None:
        try:
            found = json.loads((root / LAYOUT_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return cls(root, tuple(found["shards"]))

    @classmethod
    def ensure(cls, root: Path, count: int | None) -> ShardLayout:
        """The layout of `root`, created with `count` shards (or grown to it: shards are only
        added, so a grown cluster re-indexes only the repos the new shards win)."""
        found = cls.load(root)
        ids = list(found.ids) if found else []
        for sid in shard_ids(count or (len(ids) or DEFAULT_SHARDS)):
            if sid not in ids:
                ids.append(sid)
        root.mkdir(parents=True, exist_ok=True)
        (root / LAYOUT_FILE).write_text(json.dumps({"shards": ids}) + "\n")
        return cls(root, tuple(ids))
