"""Fixtures shared by the test modules: opening the indexes the tests build.

Each module builds its own organization (tests/helpers.py); these fixtures open what it built
and close it when the module is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from innersearch.indexer.store import Store


def _opener() -> Iterator[Callable[[Path], Store]]:
    opened: list[Store] = []

    def _open(data_root: Path) -> Store:
        store = Store.open(data_root)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture(scope="module")
def open_store() -> Iterator[Callable[[Path], Store]]:
    """open_store(data_root) -> Store, closed after the module."""
    yield from _opener()


@pytest.fixture()
def open_test_store() -> Iterator[Callable[[Path], Store]]:
    """open_test_store(data_root) -> Store, closed after the test."""
    yield from _opener()


@pytest.fixture(scope="session")
def ray_cluster():
    """A real Ray cluster on loopback for the session: a head and a second node, one CPU
    each, in a temp dir of their own; (cluster, connected ray module). Stopped at the end
    by their own process groups (never `ray stop`: another session's cluster stays)."""
    from tests.raycluster import LocalCluster

    cluster = LocalCluster().start()
    try:
        cluster.add_node()
        from innersearch.cluster import connect

        ray = connect(cluster.address)
        cluster.wait_nodes(ray, 2)
        yield cluster, ray
        ray.shutdown()
    finally:
        cluster.stop()
