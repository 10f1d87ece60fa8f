"""The storage layer's own contract: catalog transactions, and a store as a set of shards."""

from __future__ import annotations

import threading

import pytest

from innersearch.indexer import catalog
from innersearch.indexer.store import Store
from tests.helpers import build_index, make_repo


def test_a_write_that_raises_leaves_nothing_behind(tmp_path):
    cat = catalog.Catalog(tmp_path / "catalog.sqlite")
    with cat.write() as tx:
        assert tx.bump_generation() == 1
    with pytest.raises(RuntimeError), cat.write() as tx:
        tx.bump_generation()
        tx.remember_sources(["/somewhere"])
        raise RuntimeError("killed half-way")
    with cat.read() as r:
        assert r.generation() == 1
        assert r.remembered_sources() is None
    cat.close()


def test_threads_sharing_a_catalog_each_get_whole_transactions(tmp_path):
    cat = catalog.Catalog(tmp_path / "catalog.sqlite")
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(50):
                with cat.write() as tx:
                    tx.bump_generation()
        except BaseException as err:  # a nested BEGIN would raise sqlite3.OperationalError
            errors.append(err)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with cat.read() as r:
        assert r.generation() == 200
    cat.close()


def test_a_store_is_one_shard_whose_catalog_and_index_snapshots_read(tmp_path):
    org = tmp_path / "org"
    make_repo(org, "alpha", {"a.py": "def alpha():\n    return 1\n"})
    store = Store(build_index(tmp_path, org))
    [shard] = store.shards
    assert shard.catalog is store.catalog
    snap = store.snapshot()
    with shard.catalog.read() as r:
        assert r.generation() == snap.generation
        assert [repo.name for repo in r.repos()] == ["alpha"]
        with pytest.raises(RuntimeError, match="already open"):
            store.snapshot()  # would wait for itself: refused instead
    searcher, _impl = shard.searchers()
    assert searcher.num_docs == store.snapshot().searcher.num_docs > 0
    store.close()
