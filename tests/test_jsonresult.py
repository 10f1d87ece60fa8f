"""from_json reads exactly what to_json writes, and refuses anything the field types do not
allow (a persisted dedup report is served through it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from innersearch.indexer.jsonresult import JsonResult, from_json, optional


@dataclass(slots=True)
class Leaf(JsonResult):
    name: str
    size: int
    share: float
    kind: Literal["a", "b"]
    note: str | None = optional()


@dataclass(slots=True)
class Tree(JsonResult):
    leaves: list[Leaf]
    by_name: dict[str, Leaf]
    extra: dict[str, Any]
    flag: bool
    child: Tree | None = None
    tags: list[str] = field(default_factory=list)


GOOD = {
    "leaves": [{"name": "x", "size": 1, "share": 1, "kind": "a"}],
    "by_name": {"y": {"name": "y", "size": 2, "share": 0.5, "kind": "b", "note": "n"}},
    "extra": {"anything": [1, {"goes": None}]},
    "flag": False,
    "child": {"leaves": [], "by_name": {}, "extra": {}, "flag": True, "child": None, "tags": []},
    "tags": ["t"],
}


def test_round_trip_is_exact():
    tree = from_json(Tree, GOOD)
    assert isinstance(tree.leaves[0], Leaf) and isinstance(tree.child, Tree)
    assert tree.leaves[0].share == 1 and type(tree.leaves[0].share) is int  # as written
    assert tree.to_json() == GOOD
    assert "note" not in tree.to_json()["leaves"][0]  # optional: absent while None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"flag": 0}, "not"),  # an int is not a bool
        ({"leaves": [{"name": "x", "size": True, "share": 1, "kind": "a"}]}, "not"),
        ({"leaves": [{"name": "x", "size": 1, "share": "1", "kind": "a"}]}, "not"),
        ({"leaves": [{"name": "x", "size": 1, "share": 1, "kind": "c"}]}, "one of"),
        ({"leaves": [{"name": "x", "size": 1, "share": 1}]}, "without 'kind'"),
        ({"leaves": [{"name": "x", "size": 1, "share": 1, "kind": "a", "more": 1}]}, "'more'"),
        ({"by_name": []}, "expected an object"),
        ({"tags": "t"}, "expected a list"),
        ({"child": {"flag": True}}, "none of"),
        ({"surprise": 1}, "no field 'surprise'"),
    ],
)
def test_what_the_types_do_not_allow_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        from_json(Tree, {**GOOD, **change})
