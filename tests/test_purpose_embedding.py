"""The purpose embedding (dedup/purpose_embedding.py) with the real bundled model: what it
joins and parts, and its cache."""

from __future__ import annotations

import numpy as np
import pytest

from innersearch.dedup import libraries, purpose_embedding

TEXTS = {
    "request": "request. Simplified HTTP request client.",
    "got": "got. Human-friendly and powerful HTTP request library for Node.js",
    "chardet": "chardet. Universal encoding detector for Python 3",
    "pipenv": "pipenv. Python Development Workflow for Humans.",
    "silent": "",
}


def test_one_job_in_other_words_is_close_and_other_jobs_are_not(tmp_path):
    vectors = purpose_embedding.embed(TEXTS, tmp_path / "purpose.npz")
    assert "silent" not in vectors  # says nothing about itself: no vector, cosine 0
    assert purpose_embedding.cosine(vectors, "silent", "request") == 0.0
    same_job = purpose_embedding.cosine(vectors, "request", "got")
    other_job = purpose_embedding.cosine(vectors, "chardet", "pipenv")
    assert np.linalg.norm(vectors["got"]) == pytest.approx(1.0, abs=1e-5)
    # The two HTTP clients say one job in other words ("client" / "library"): a pair whose
    # code words meet a little (vocabulary score 0.02) is reported, and an environment
    # manager and an encoding detector are not, when each side's purpose hubness is the
    # mean of the pairs here (what the four say of themselves is a little alike).
    pairs = [("request", "got"), ("chardet", "pipenv"), ("request", "chardet"), ("got", "pipenv")]
    usual = np.mean([purpose_embedding.cosine(vectors, a, b) for a, b in pairs])

    def score(purpose: float) -> float:
        return 0.02 + libraries.PURPOSE_WEIGHT * (purpose - libraries.PURPOSE_HUB_WEIGHT * usual)

    assert score(same_job) >= libraries.MIN_PARALLEL_SCORE
    assert score(other_job) < libraries.MIN_PARALLEL_SCORE


def test_the_cache_spares_the_model_and_holds_only_this_runs_texts(tmp_path, monkeypatch):
    cache = tmp_path / "purpose.npz"
    first = purpose_embedding.embed(TEXTS, cache)

    def no_model():
        raise AssertionError("the model was loaded for texts the cache holds")

    monkeypatch.setattr(purpose_embedding, "_model", no_model)
    again = purpose_embedding.embed(TEXTS, cache)
    assert again.keys() == first.keys()
    assert all(np.array_equal(again[r], first[r]) for r in first)
    # A repo gone from the org leaves the cache with it.
    purpose_embedding.embed({"got": TEXTS["got"]}, cache)
    with np.load(cache) as saved:
        assert len(saved["keys"]) == 1


def test_a_torn_cache_is_recomputed_not_trusted(tmp_path):
    cache = tmp_path / "purpose.npz"
    cache.write_bytes(b"PK\x03\x04 not a whole archive")
    vectors = purpose_embedding.embed({"got": TEXTS["got"]}, cache)
    assert np.linalg.norm(vectors["got"]) == pytest.approx(1.0, abs=1e-5)
    assert purpose_embedding.embed({"got": TEXTS["got"]}, cache)["got"].shape == (384,)
