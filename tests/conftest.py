"""Fixtures shared by the test modules: opening the indexes the tests build, and the
organizations several modules index (each module gets its own copy, built once).

Builders live in tests/helpers.py and the organizations in tests/dedup_org.py and
tests/web_org.py; these fixtures open what they built and close it when the module is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from innersearch.dedup import api as dedup
from innersearch.indexer import layout
from innersearch.indexer.store import Store
from tests.dedup_org import build_org as build_dedup_org
from tests.helpers import build_index
from tests.web_org import open_web_store


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


@pytest.fixture(scope="module")
def dedup_data(tmp_path_factory) -> layout.DataDir:
    """tests/dedup_org.py's organization indexed (a data dir of this module's own)."""
    root = tmp_path_factory.mktemp("dedup-org")
    return build_index(root, build_dedup_org(root))


@pytest.fixture(scope="module")
def dedup_store(dedup_data, open_store) -> Store:
    return open_store(dedup_data.root)


@pytest.fixture(scope="module")
def dedup_report(dedup_store) -> dict:
    """The dedup report of tests/dedup_org.py's organization, at the default settings."""
    return dedup.find_duplicates(dedup_store)


@pytest.fixture(scope="module")
def web_store(tmp_path_factory) -> Iterator[Store]:
    """tests/web_org.py's organization indexed, with its persisted dedup report."""
    opened = open_web_store(tmp_path_factory.mktemp("web-org"))
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def ray_cluster():
    """A real Ray cluster on loopback for the session: a head and a second node, one CPU
    each, in a temp dir of their own; (cluster, connected ray module). Stopped at the end
    by their own process groups (never `ray stop`: another session's cluster stays)."""
    from innersearch.cluster.local import LocalCluster

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
