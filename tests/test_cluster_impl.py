"""/api/v1/implementations under `serve --ray`, on a real Ray cluster on loopback: equal to
one machine's JSON for several queries and readers (a reader outside a rule never sees the
repos it guards), though each shard alone scores differently (BM25 statistics are per index).

The org is tests/test_cluster.py's (its fixture, built again for this module).
"""

from __future__ import annotations

import json
import urllib.parse

import pytest

from innersearch.search import implementations
from innersearch.web import create_app
from innersearch.web.auth import AuthSettings
from innersearch.web.fanout import create_fanout_app
from tests.test_cluster import org  # noqa: F401 - the module-scoped cluster fixture

QUERIES = [
    "logging",
    "logger transport",
    "child logger levels",
    "rate limiter",
    "hello",
    "step values limit",
    "json format",
    "util",
    "core",
]
READERS = [("carol", "core"), ("bob", "")]  # carol reads gamma and delta, bob does not
_VOLATILE = ("took_ms", "partial", "partial_shards", "shards")
PROXY = AuthSettings.parse("proxy")


def _as(user: str, groups: str = "") -> dict:
    return {"X-Forwarded-User": user, "X-Forwarded-Groups": groups}


def _url(q: str, limit: int = 10) -> str:
    return f"/api/v1/implementations?q={urllib.parse.quote(q)}&limit={limit}"


def _body(response) -> dict:
    return {k: v for k, v in response.get_json().items() if k not in _VOLATILE}


def _own_find(_store, snap, q: str) -> list:
    """One shard's implementations alone, scored by its own index's statistics."""
    return [(i.repo, round(i.score, 4)) for i in implementations.find(snap, q).implementations]


@pytest.mark.parametrize("auth", ["proxy", "none"])
def test_implementations_over_shards_equal_one_machine_for_each_reader(org, auth):  # noqa: F811
    settings = PROXY if auth == "proxy" else AuthSettings()
    one = create_app(org["one"], cache_entries=0, auth=settings).test_client()
    many = create_fanout_app(org["search"], org["data"].root, auth=settings).test_client()
    readers = READERS if auth == "proxy" else [("anyone", "")]
    found_any = set()
    for user, groups in readers:
        who = _as(user, groups)
        for q in QUERIES:
            for limit in (10, 2):
                want, got = (
                    one.get(_url(q, limit), headers=who),
                    many.get(_url(q, limit), headers=who),
                )
                assert got.status_code == want.status_code == 200, (q, got.get_json())
                assert _body(got) == _body(want), (user, q, limit)
                assert got.get_json()["partial"] is False
                found_any.update(i["repo"] for i in got.get_json()["implementations"])
            if user == "bob":  # gamma and delta are guarded by the `core` rule
                text = json.dumps(many.get(_url(q, 100), headers=who).get_json())
                assert '"gamma"' not in text and '"delta"' not in text, q
    assert {"js-logwell", "js-lumber", "zeta"} <= found_any  # the queries do find things
    bad = many.get("/api/v1/implementations", headers=_as("bob"))
    assert (
        bad.status_code == 400 == one.get("/api/v1/implementations", headers=_as("bob")).status_code
    )


def test_one_shard_alone_scores_differently(org):  # noqa: F811
    """Why the org-wide index: the shards' own answers, merged, are not one machine's."""
    differs = False
    for q in QUERIES:
        want = {
            i.repo: round(i.score, 4)
            for i in implementations.find(org["one"].snapshot(), q, limit=100).implementations
        }
        found = org["search"].call(_own_find, (q,), merged=False)
        for shard_answer in found.answers.values():
            differs |= any(want.get(repo) != score for repo, score in shard_answer)
    assert differs


def test_the_org_index_is_kept_until_a_shard_moves(org):  # noqa: F811
    many = create_fanout_app(org["search"], org["data"].root).test_client()
    assert many.get(_url("logging")).status_code == 200
    cache = many.application.extensions["innersearch.fanout.implementations"]
    first = cache.current
    assert first is not None and first.documents > 0
    assert many.get(_url("rate limiter")).status_code == 200
    assert cache.current is first  # the same generations: not built again


def test_serve_builds_the_org_wide_index_before_the_first_query(org):  # noqa: F811
    import time

    from innersearch.web.fanout_impl import ORG_INDEX

    cold = create_fanout_app(org["search"], org["data"].root)
    assert cold.extensions[ORG_INDEX].current is None  # built by the first query only
    app = create_fanout_app(org["search"], org["data"].root, warm=True)  # as `serve` makes it
    cache = app.extensions[ORG_INDEX]
    deadline = time.monotonic() + 60
    while cache.current is None and time.monotonic() < deadline:
        time.sleep(0.05)
    built = cache.current
    assert built is not None and built.documents > 0  # no request was made
    got = app.test_client().get(_url("logging"))
    assert got.status_code == 200 and got.get_json()["implementations"]
    assert cache.current is built  # the query used it, not a build of its own
