"""The rank order of candidate files, looked up per candidate, equals one pass over all files."""

from __future__ import annotations

import random

import pytest

from innersearch.search import execute
from tests.helpers import build_index, make_repo


@pytest.fixture(scope="module")
def snap(tmp_path_factory, open_store):
    root = tmp_path_factory.mktemp("order")
    for r in range(3):
        files = {f"src/m{i}.py": f"X = {i % 40}\n" for i in range(120)}  # shared blobs
        files.update({f"tests/test_{i}.py": f"Y = {r}{i}\n" for i in range(20)})
        make_repo(root / "repos", f"repo{r}", files)
    return open_store(build_index(root, root / "repos").root).snapshot()


def test_candidate_order_equals_the_full_pass(snap):
    order = execute._default_order(snap)
    keys = sorted({f.blob_key for _, f in order})
    rng = random.Random(7)
    for size in (0, 1, 3, 10, len(keys) // 10, len(keys) // 2, len(keys)):
        chosen = set(rng.sample(keys, size))
        expected = [pf for pf in order if pf[1].blob_key in chosen]
        assert list(execute._in_default_order(snap, chosen)) == expected, size
