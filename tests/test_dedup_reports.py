"""Report formats (JSON, SARIF 2.1.0, CSV, HTML), the `innersearch dedup` CLI and
"does this already exist?" (similar_to), on a real index of tests/dedup_org.py."""

from __future__ import annotations

import csv
import io
import json

import pytest

from innersearch.cli import main
from innersearch.dedup import api
from innersearch.dedup.report_csv import HEADER
from tests.dedup_org import ORIGINAL, RENAMED_COPY


def render(report: dict, fmt: str) -> str:
    out = io.StringIO()
    api.write_report(report, fmt, out)
    return out.getvalue()


def test_json_round_trips(dedup_report):
    assert json.loads(render(dedup_report, "json")) == dedup_report


def test_sarif_structure(dedup_report):
    doc = json.loads(render(dedup_report, "sarif"))
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] and driver["rules"]
    rule_ids = {r["id"] for r in driver["rules"]}
    members = sum(len(c["members"]) for c in dedup_report["clone_classes"])
    assert len(run["results"]) == members + len(dedup_report["libraries"])
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert result["message"]["text"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"]
        if result["ruleId"].startswith("IS-DUP"):
            assert 1 <= loc["region"]["startLine"] <= loc["region"]["endLine"]
            assert result["relatedLocations"]


def test_csv_rows(dedup_report):
    rows = list(csv.reader(io.StringIO(render(dedup_report, "csv"))))
    assert rows[0] == HEADER
    assert len(rows) - 1 == sum(len(c["members"]) for c in dedup_report["clone_classes"])
    ids = {r[0] for r in rows[1:]}
    assert ids == {c["id"] for c in dedup_report["clone_classes"]}


def test_html_is_self_contained_and_escaped(dedup_report):
    hostile = json.loads(json.dumps(dedup_report))
    hostile["clone_classes"][0]["members"][0]["symbol"] = "<script>alert(1)</script>"
    html = render(hostile, "html")
    assert html.startswith("<!DOCTYPE html>")
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html
    assert "&lt;script&gt;" in html
    assert dedup_report["clone_classes"][0]["id"] in html


def test_unknown_format_is_refused(dedup_report):
    with pytest.raises(ValueError, match="unknown report format"):
        render(dedup_report, "xml")


def test_similar_to_finds_the_copies(dedup_store):
    found = api.similar_to(
        dedup_store, RENAMED_COPY.replace("group_payments", "tally"), lang="python"
    ).to_json()
    assert "error" not in found and found["took_ms"] >= 0
    where = {(m["repo"], m["path"]) for m in found["matches"]}
    assert ("alpha", "orders.py") in where and ("gamma", "payments.py") in where
    top = found["matches"][0]
    assert set(top) >= {"repo", "path", "branch", "start_line", "end_line", "symbol"}
    assert top["similarity"] > 0.9
    assert "models_gen.py" not in {m["path"] for m in found["matches"]}, "generated"


def test_similar_to_guesses_the_language(dedup_store):
    found = api.similar_to(dedup_store, ORIGINAL, limit=2).to_json()
    assert found["lang"] == "python"
    assert len(found["matches"]) == 2
    assert found["matches"][0]["similarity"] == 1.0


@pytest.mark.parametrize(
    ("snippet", "lang", "message"),
    [
        ("", None, "empty"),
        ("   \n", "python", "empty"),
        (ORIGINAL, "cobol", "not supported"),
        ("# only a comment\n", "python", "no code tokens"),
    ],
)
def test_similar_to_bad_input(dedup_store, snippet, lang, message):
    found = api.similar_to(dedup_store, snippet, lang=lang).to_json()
    assert found["matches"] == []
    assert message in found["error"]


def test_cli_formats(dedup_data, dedup_report, capsys, tmp_path):
    assert main(["--data", str(dedup_data.root), "dedup", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == ",".join(HEADER)
    target = tmp_path / "out" / "report.sarif"
    assert (
        main(["--data", str(dedup_data.root), "dedup", "--format", "sarif", "--out", str(target)])
        == 0
    )
    assert json.loads(target.read_text())["version"] == "2.1.0"
    assert (
        main(["--data", str(dedup_data.root), "dedup", "--min-tokens", "20", "--min-lines", "3"])
        == 0
    )
    lower = json.loads(capsys.readouterr().out)
    assert lower["settings"] == {"min_tokens": 20, "min_lines": 3}
    assert len(lower["clone_classes"]) >= len(dedup_report["clone_classes"])


def test_cli_bad_input(dedup_data, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(dedup_data.root), "dedup", "--min-tokens", "zero"])
    assert exit_info.value.code == 2
    assert main(["--data", str(tmp_path / "nothing"), "dedup"]) == 1
    assert "no index" in capsys.readouterr().err


def test_similar_to_finds_where_a_cut_snippet_comes_from(dedup_store):
    lines = ORIGINAL.splitlines()[3:11]  # the loop of summarize_orders, dedented
    snippet = "\n".join(line[4:] for line in lines) + "\n"
    found = api.similar_to(dedup_store, snippet, lang="python").to_json()
    top = found["matches"][0]
    assert top["similarity"] > 0.8
    assert 1 <= top["start_line"] <= top["end_line"]
    where = {(m["repo"], m["path"]) for m in found["matches"]}
    assert ("alpha", "orders.py") in where
