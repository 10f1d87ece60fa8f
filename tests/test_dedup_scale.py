"""The dedup job's scale paths give what the simple ones gave: the worker pool, the grouped
str streams, the linear merge of bands, the bisection of directories, the bounded caches."""

from __future__ import annotations

import numpy as np

from innersearch.dedup import detect, libraries, verify, verify_pool
from innersearch.dedup.fragments import ParentCache, load, load_streams
from innersearch.indexer import fingerprints as fp


def _candidate_rowids(store) -> np.ndarray:
    snap = store.snapshot()
    frags = load(store, snap, 20, 3)  # the index minimum: more pairs to verify
    pairs = detect.candidates(frags)
    assert len(pairs) >= 8, "the test org has clones to verify"
    # and pairs that are not clones: one fragment against arbitrary others
    others = np.stack((np.full(10, pairs[0, 0]), np.arange(1, 11) * (len(frags) // 11)), 1)
    return frags.rowid[np.concatenate((pairs, others))]


def test_the_pool_gives_the_in_process_verdicts(dedup_store, monkeypatch):
    rowids = _candidate_rowids(dedup_store)
    groups = [rowids[lo : lo + 3] for lo in range(0, len(rowids), 3)]
    groups.append(np.array([[rowids[0, 0], int(rowids.max()) + 1000]]))  # no such record
    inline = list(verify_pool.verdicts(dedup_store, groups, len(rowids)))
    monkeypatch.setattr(verify_pool, "PARALLEL_PAIRS", 0)
    monkeypatch.setattr(verify_pool, "WORKERS", 2)
    pooled = list(verify_pool.verdicts(dedup_store, groups, len(rowids)))
    assert len(pooled) == len(groups)
    for (k1, s1, r1), (k2, s2, r2) in zip(inline, pooled, strict=True):
        assert k1.tolist() == k2.tolist() and s1.tolist() == s2.tolist()
        assert r1.tolist() == r2.tolist()
    kinds = np.concatenate([k for k, _, _ in pooled])
    assert (kinds > 0).any() and (kinds == 0).any(), "clones and non-clones both verified"
    assert kinds[-1] == verify_pool.MISSING


def test_group_streams_compare_as_the_lists_do(dedup_store):
    rowids = _candidate_rowids(dedup_store)
    records = load_streams(dedup_store, sorted(set(rowids.ravel().tolist())))
    grouped = verify.group_streams(records)
    assert all(isinstance(s.raw, str) for s in grouped.values())
    # One number per distinct value over the whole group, in both views: equal tokens, and
    # only equal tokens, compare equal.
    for view in ("raw", "abstract"):
        numbering: dict[str, int] = {}
        for s in grouped.values():
            values = getattr(s, f"{view}_array").tolist()
            assert len(getattr(s, view)) == len(values)
            for char, value in zip(getattr(s, view), values, strict=True):
                assert numbering.setdefault(char, value) == value
        assert len(set(numbering.values())) == len(numbering)
    for a, b in rowids.tolist():
        plain = verify.compare(verify.Streams(records[a]), verify.Streams(records[b]))
        assert verify.compare(grouped[a], grouped[b]) == plain or not plain.clone_type
        # a non-clone's similarities may be left unmeasured, never its verdict
        assert verify.compare(grouped[a], grouped[b]).clone_type == plain.clone_type


def test_a_non_clone_is_decided_on_the_abstracted_view_alone():
    a = verify.lcs_ratio([1, 2, 3, 4], [5, 6, 7, 8], cutoff=0.75)
    assert a == 0.0
    assert verify.lcs_ratio([1, 2, 3, 4], [1, 2, 3, 5], cutoff=0.7) == 0.75


def test_group_bounds_cut_as_pair_groups_did():
    rng = np.random.default_rng(3)
    todo = np.sort(rng.integers(0, 20_000, size=(30_000, 2)), axis=1)
    todo = todo[np.lexsort((todo[:, 1], todo[:, 0]))]
    listed = todo.tolist()
    # the loop pair_groups ran before (fragments named reach STREAMS_PER_GROUP)
    want, start = [], 0
    while start < len(listed):
        group, end = set(), start
        while end < len(listed) and len(group) < detect.STREAMS_PER_GROUP:
            group.update(listed[end])
            end += 1
        want.append((start, end))
        start = end
    assert list(detect.group_bounds(todo)) == want
    assert [len(b) for b, _ in detect.pair_groups(listed)] == [e - s for s, e in want]


def test_group_bounds_stop_at_the_token_budget():
    todo = np.array([[0, 1], [0, 2], [3, 4], [5, 6]])
    tokens = np.full(7, detect.GROUP_TOKENS // 2)  # two fragments fill a group
    assert list(detect.group_bounds(todo, tokens)) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    tokens[:] = detect.GROUP_TOKENS // 3  # three do not: the fourth and fifth go with them
    assert list(detect.group_bounds(todo, tokens)) == [(0, 3), (3, 4)]
    assert list(detect.group_bounds(todo)) == [(0, 4)]


def test_merged_bands_equal_the_union():
    rng = np.random.default_rng(5)
    kept = np.unique(rng.integers(0, 1 << 40, 5000))
    new = np.setdiff1d(np.unique(rng.integers(0, 1 << 40, 3000)), kept)
    assert detect._merged(kept, new).tolist() == np.union1d(kept, new).tolist()


def test_files_under_equals_the_scan(dedup_store):
    snap = dedup_store.snapshot()
    files = libraries.code_files(snap)
    under = libraries.files_under(snap)
    for repo, rows in files.items():
        dirs = {"", "nope", *("/".join(f.path.split("/")[:k]) for f in rows for k in (1, 2))}
        for d in dirs:
            want = [f for f in rows if libraries._under(f.path, d)]
            assert under(repo, d) == want, (repo, d)


def test_parent_cache_keeps_to_its_token_budget():
    def record(n: int) -> fp.Fingerprint:
        return fp.Fingerprint(np.zeros(64, np.uint32), np.zeros(64, np.uint32), n, b"x")

    cache = ParentCache(100, max_tokens=1000)
    for blob in range(10):
        cache.put(blob, record(300))
    assert cache.tokens <= 1000 and list(cache.records) == [7, 8, 9]
    cache.put(8, record(300))  # replacing a record does not count it twice
    assert cache.tokens == 900
    cache.put(42, record(5000))  # one record above the budget is still kept
    assert list(cache.records) == [42]
