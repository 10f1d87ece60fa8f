"""`innersearch search`, `symbols` and `refs` through the console entry point."""

from __future__ import annotations

import json

import pytest

from innersearch.cli import main
from tests.helpers import build_index, make_repo

CODE = (
    "class RateLimiter:\n    def acquire(self):\n        return refill(self)\n\n\n"
    "def refill(x):\n    return x\n"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return str(build_index(root, make_repo(root / "org", "svc", {"limiter.py": CODE})).root)


def test_search_json_and_text(data, capsys):
    assert main(["--data", data, "search", "--json", "refill"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [m["line"] for m in out["results"][0]["line_matches"]] == [3, 6]
    assert main(["--data", data, "search", "RateLimiter"]) == 0
    assert "svc/limiter.py:1:class RateLimiter:" in capsys.readouterr().out


def test_symbols_and_refs(data, capsys):
    assert main(["--data", data, "symbols", "--json", "rate limiter"]) == 0
    assert json.loads(capsys.readouterr().out)["symbols"][0]["name"] == "RateLimiter"
    assert main(["--data", data, "refs", "refill"]) == 0
    text = capsys.readouterr().out
    assert "defined: svc/limiter.py:6:" in text and "limiter.py:3:" in text


def test_bad_query_and_missing_index(data, tmp_path, capsys):
    assert main(["--data", data, "search", "/a(/"]) == 2
    err = capsys.readouterr().err
    assert "bad query" in err and "^" in err
    assert main(["--data", str(tmp_path / "none"), "refs", "x"]) == 1
    assert "no index at" in capsys.readouterr().err
