"""Lineage the repos state (dedup/lineage.py): a fork, port or renamed successor named in a
README or description, or two READMEs opening alike, is a fork, not a parallel pair; advice
and inspiration are not lineage."""

from __future__ import annotations

import json

import pytest

from innersearch.dedup import api, lineage
from innersearch.dedup.results import DuplicateReport
from tests.helpers import build_index, make_repo
from tests.test_dedup_consolidate import _js_lib

NAMES = {"a": {"a", "tintlib"}, "b": {"b", "tint-ts"}}


def _said(text_b: str, names=NAMES) -> list[lineage.Lineage]:
    return lineage.find([("a", "b")], names, {"b": [text_b]}, {})


def test_a_declared_fork_names_its_origin():
    readme = "# tint\n\n> Colors\n\nA fork of [tintlib](https://example.com/x/tintlib) by Ann.\n"
    (found,) = _said(readme)
    assert (found.repo, found.named, found.kind, found.named_is) == ("b", "a", "declared", "origin")
    assert found.said == "a fork of tintlib by ann"


def test_a_deprecation_names_its_successor():
    (found,) = _said("# Deprecated\n\n**DEPRECATED:** Use **[`tintlib`](https://x/y)** instead.\n")
    assert (found.named_is, found.said) == ("successor", "deprecated: use tintlib instead")


@pytest.mark.parametrize(
    "text",
    [
        "Inspired by tintlib, written from scratch.",  # an idea, not an ancestor
        "Need server-side colors? Use tintlib instead.",  # advice naming a parallel library
        "A fork of tintlib-extra by Ann.",  # another name that starts alike
        "```\nA fork of tintlib\n```\nColors for terminals.",  # code, not prose
        "Based on tintlib.",  # a dependency
    ],
)
def test_advice_inspiration_and_other_names_are_not_lineage(text):
    assert _said(text) == []


def test_readmes_opening_with_one_long_passage_are_one_project():
    lead = [
        "fuzzy",
        "string",
        "matching",
        "like",
        "a",
        "boss",
        "it",
        "uses",
        "levenshtein",
        "distance",
        "to",
        "calculate",
        "the",
        "differences",
        "between",
        "sequences",
        "in",
        "a",
        "simple",
        "to",
        "use",
        "package",
    ]
    assert len(lead) >= lineage.SHARED_LEAD_WORDS
    (found,) = lineage.find([("a", "b")], NAMES, {}, {"a": ["x", *lead], "b": [*lead, "y"]})
    assert (found.kind, found.shared_words) == ("shared-readme", len(lead))
    assert found.said == " ".join(lead)
    short = lead[: lineage.SHARED_LEAD_WORDS - 1]
    assert lineage.find([("a", "b")], NAMES, {}, {"a": short + ["x"], "b": short + ["y"]}) == []


@pytest.fixture(scope="module")
def report(tmp_path_factory, open_store):
    root = tmp_path_factory.mktemp("lineage")
    org = root / "org"
    words = ["logging", "logger", "log", "levels", "transport", "json"]
    make_repo(
        org,
        "js-logwell",
        _js_lib("logwell", words, ["createLogger", "childLogger", "logLevel", "addTransport"]),
    )
    port = _js_lib("logwell-ts", words, ["makeLogger", "childLogger", "setLevel", "addTransport"])
    port["README.md"] = (
        "# logwell-ts\n\nA port of [logwell](https://example.com/logwell) to TypeScript.\n"
    )
    make_repo(org, "js-logwell-ts", port)
    # the same job, and its README recommends the other: still a parallel implementation
    lumber = _js_lib("lumber", words, ["buildLogger", "childLogger", "setLevel", "addTransport"])
    lumber["README.md"] += "\nFor structured JSON records use logwell instead.\n"
    make_repo(org, "js-lumber", lumber)
    return api.find_duplicates(open_store(build_index(root, org).root))


def _pair(report, a, b):
    (p,) = [p for p in report["libraries"] if {p["a"]["repo"], p["b"]["repo"]} == {a, b}]
    return p


def test_a_port_is_reported_as_a_fork_of_its_origin(report):
    p = _pair(report, "js-logwell", "js-logwell-ts")
    assert p["relation"] == "fork"
    assert p[p["canonical"]]["repo"] == "js-logwell"  # the origin is the one to keep
    assert p["evidence"]["lineage"] == "declared"
    assert "js-logwell-ts comes from js-logwell" in p["evidence"]["summary"]
    assert p["evidence"]["duplicated_lines"] > 0  # the port's code
    assert _pair(report, "js-logwell", "js-lumber")["relation"] == "parallel"
    assert any(f["kind"] == "fork" for f in report["findings"])
    assert json.dumps(DuplicateReport.from_json(report).to_json()) == json.dumps(report)
