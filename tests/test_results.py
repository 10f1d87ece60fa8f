"""The typed results' own to_json methods write what the generic field walk writes."""

from __future__ import annotations

from innersearch.indexer.deps import Dependency
from innersearch.indexer.records import Symbol
from innersearch.search.portal import Activity, Owner
from innersearch.search.results import (
    ContextLine,
    FileResult,
    JsonResult,
    LineMatch,
    SymbolHit,
)


def _hit() -> SymbolHit:
    return SymbolHit("f", "function", "python", "r", "a.py", "main", 3, 5, "C", "def f():", 1.5)


def test_hand_written_to_json_equal_the_field_walk():
    context = [ContextLine(2, "x")]
    plain = LineMatch(3, "def f():", [[4, 5]])
    with_context = LineMatch(3, "def f():", [[4, 5]], before=context, after=[])
    result = FileResult("r", "a.py", "python", "main", "c0ffee", 2.0, False, True, False, None)
    result.line_matches = [plain, with_context]
    result.symbols = [Symbol("f", "function", 3, 5, "", "def f():"), _hit()]
    typed_symbol = FileResult("r", "a.py", "python", "main", "c", 1.0, True, False, True, "u")
    typed_symbol.symbol, typed_symbol.path_ranges = _hit(), [[0, 1]]
    for value in (plain, with_context, result, typed_symbol, _hit()):
        assert value.to_json() == JsonResult.to_json(value)
        assert list(value.to_json()) == list(JsonResult.to_json(value))  # same field order
    assert "before" not in plain.to_json() and with_context.to_json()["after"] == []


def test_portal_owner_and_activity_are_written_by_the_shared_base():
    """Owner, Activity and a portal's Dependency once wrote themselves; the base writes the
    same keys in the same order, the `window` property last."""
    for cls in (Owner, Activity, Dependency):
        assert cls.to_json is JsonResult.to_json, cls
    assert Dependency("lib", ["RateLimiter"]).to_json() == {"repo": "lib", "names": ["RateLimiter"]}
    assert Owner("@core", "CODEOWNERS").to_json() == {"name": "@core", "source": "CODEOWNERS"}
    activity = Activity(4, 2, 90, 1700000000, 1700000000, 120)
    written = activity.to_json()
    assert list(written) == [
        "commits",
        "authors",
        "days",
        "window_end",
        "last_commit_at",
        "score",
        "window",
    ]
    assert written["window"] == "the 90 days before the newest commit"
