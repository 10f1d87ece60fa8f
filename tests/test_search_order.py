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


@pytest.mark.parametrize(
    ("query", "dense"),
    [
        ('"X = 1"', True),
        ('"Y = 1"', True),
        ('"X = 2" -file:m2', True),
        ('"= 1" "Y = 0"', True),  # looks dense, matches nothing: the index is asked
        ('"X = 39"', False),
        ("X", False),  # no trigram: no bound
        ("zzz", False),
    ],
)
@pytest.mark.parametrize("limit", [1, 5, 0])
def test_walking_a_dense_term_file_by_file_finds_what_the_index_finds(snap, query, dense, limit):
    from innersearch.search.budget import Budget
    from innersearch.search.plan import compile_plan
    from innersearch.search.query import parse

    probed = []

    def run(allow: bool) -> tuple:
        plan = compile_plan(parse(query))
        original = execute._Candidates.__init__

        def init(self, plan, snap, lazy):
            original(self, plan, snap, lazy and allow)
            probed.append(not self.known)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(execute._Candidates, "__init__", init)
            out = execute.search_files(snap, plan, limit, 0, 0, Budget.of(60_000))
        return [(r.repo, r.path, r.line_matches) for r in out.results], out.total_files

    probing, looked_up = run(True), run(False)
    assert probed == [dense, False]
    assert probing[0] == looked_up[0]
    if limit == 0:
        assert probing[1] == looked_up[1]


def test_a_dense_term_behind_a_narrow_filter_asks_the_index_after_few_rejects(snap, monkeypatch):
    """Walking the rank order for a dense term tests the filter on each file; when the filter
    turns most away, the walk would test every file of the corpus. After PROBE_REJECTS
    rejections the index is asked, and the answer is what the index alone gives."""
    from innersearch.search.budget import Budget
    from innersearch.search.plan import compile_plan
    from innersearch.search.query import parse

    rejects_at_look_up = []
    original = execute._Candidates.look_up

    def look_up(self):
        rejects_at_look_up.append(self.rejects)
        original(self)

    def run(query: str, limit: int) -> tuple:
        out = execute.search_files(snap, compile_plan(parse(query)), limit, 0, 0, Budget.of(60_000))
        return [(r.repo, r.path, r.line_matches) for r in out.results], out.total_files

    query = '"= 1" file:test_1'
    for limit in (5, 0):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(execute._Candidates, "look_up", look_up)
            mp.setattr(execute, "PROBE_REJECTS", 10**9)  # the walk never gives up
            rejects_at_look_up.clear()
            walked = run(query, limit)
            assert rejects_at_look_up == []  # the whole order was walked
            mp.setattr(execute, "PROBE_REJECTS", 8)
            assert run(query, limit) == walked
        assert rejects_at_look_up == [9], limit
    assert walked[0] and all(path.startswith("tests/test_1") for _, path, _ in walked[0])
