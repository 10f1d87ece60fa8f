"""Where things live in a data directory, its format version, and the indexing lock.

A data dir written by another format version is moved aside and rebuilt, never crashed on.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Bump whenever the tantivy schema, the catalog tables or the mirror layout change shape.
# 2: the implementations index, repos.info about/deps/activity, and function fingerprints
#    that point into their file record; 3: symbol name trigrams; 4: fingerprint records
#    with 16-bit MinHash values and line deltas; 5: zlib-packed stored content and
#    references, signature/container/references stored but not indexed
FORMAT_VERSION = 5
DEFAULT_DATA_DIR = ".innersearch"


class IndexBusyError(RuntimeError):
    """Another `innersearch index` holds the lock on this data dir."""


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def format_file(self) -> Path:
        return self.root / "FORMAT"

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite"

    @property
    def tokens_path(self) -> Path:
        return self.root / "tokens.sqlite"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def implementations_dir(self) -> Path:
        return self.root / "implementations"

    @property
    def mirrors_dir(self) -> Path:
        return self.root / "mirrors"

    @property
    def lock_path(self) -> Path:
        return self.root / "index.lock"

    def mirror_path(self, repo_name: str) -> Path:
        return self.mirrors_dir / (repo_name.replace("/", "__") + ".git")

    def exists(self) -> bool:
        return self.format_file.exists()

    @property
    def shards(self) -> tuple[DataDir, ...]:
        """The shards of this data dir, each laid out like a data dir (catalog, index,
        implementations). Today a data dir is its own one shard; a scale-out that splits
        the repos adds shard dirs under the root and lists them here; search reads only
        store.Snapshot, so it does not change when shards are added."""
        return (self,)


def resolve_data_dir(explicit: str | None = None) -> DataDir:
    """--data wins, then $INNERSEARCH_DATA, then ./.innersearch."""
    raw = explicit or os.environ.get("INNERSEARCH_DATA") or DEFAULT_DATA_DIR
    return DataDir(Path(raw).expanduser().resolve())


def read_format_version(data: DataDir) -> int | None:
    try:
        return int(data.format_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def prepare_for_writing(data: DataDir, say=print) -> None:
    """Create the data dir, or set aside one of another format version so it is rebuilt.
    The dir is private to its owner: it holds private code and committers' e-mails."""
    data.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data.root, 0o700)
    found = read_format_version(data)
    if found == FORMAT_VERSION:
        return
    leftovers = [
        p for p in (data.catalog_path, data.index_dir, data.implementations_dir) if p.exists()
    ]
    if leftovers:
        found_text = "unknown" if found is None else str(found)
        aside = data.root / f"old-format-{found_text}-{int(time.time())}"
        aside.mkdir()
        for p in leftovers:
            p.rename(aside / p.name)
        for suffix in ("-wal", "-shm"):
            side = Path(str(data.catalog_path) + suffix)
            if side.exists():
                side.rename(aside / side.name)
        say(
            f"data dir {data.root} has index format {found_text}, this innersearch "
            f"writes format {FORMAT_VERSION}: the old index was moved to {aside.name} and "
            "will be rebuilt (mirrors are kept)"
        )
        shutil.rmtree(aside, ignore_errors=True)
    data.format_file.write_text(f"{FORMAT_VERSION}\n")


def check_readable(data: DataDir) -> str | None:
    """None when the data dir can be searched, else a message saying why not."""
    if not data.exists():
        return f"no index at {data.root}: run `innersearch index SOURCE...` first"
    found = read_format_version(data)
    if found != FORMAT_VERSION:
        return (
            f"the index at {data.root} has format {found}, this innersearch reads format "
            f"{FORMAT_VERSION}: run `innersearch index` again to rebuild it"
        )
    return None


@contextmanager
def private_files() -> Iterator[None]:
    """Files and dirs created meanwhile (catalog, index, mirrors) are 0600/0700."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


@contextmanager
def index_lock(data: DataDir) -> Iterator[None]:
    """One indexer per data dir; the OS drops the lock if the process dies (kill -9)."""
    data.root.mkdir(parents=True, exist_ok=True)
    with open(data.lock_path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError(f"another indexer is running on {data.root}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
