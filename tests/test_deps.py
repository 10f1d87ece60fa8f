"""The dependency graph: imports resolved to the repos that provide them, on real repos."""

from __future__ import annotations

from innersearch.indexer import deps
from tests.helpers import build_index, make_repo


def _org(tmp_path):
    org = tmp_path / "org"
    make_repo(
        org,
        "ratelib",
        {
            "src/ratelib/__init__.py": '"""Token bucket rate limiting."""\n',
            "ratelib.egg-info/top_level.txt": "ratelib\nnews\n",
            "news/1.feature": "added\n",
            "setup.py": "import setuptools\n",
        },
    )
    make_repo(org, "jsbits", {"package.json": '{"name": "@acme/bits", "version": "1.0.0"}\n'})
    make_repo(
        org,
        "gouuid",
        {"go.mod": "module example.com/acme/uuid\n\ngo 1.21\n", "uuid.go": "package uuid\n"},
    )
    make_repo(
        org,
        "app",
        {
            "app/main.py": "import os, ratelib.bucket as b\nfrom ratelib import Bucket\n"
            "from . import local\nimport news\n",
            "web/index.js": "const bits = require('@acme/bits/sub');\nimport x from './x';\n",
            "cmd/main.go": 'package main\n\nimport (\n\t"fmt"\n\tu "example.com/acme/uuid/v2"\n)\n',
            "vendor/ratelib/__init__.py": "",
        },
    )
    make_repo(org, "loner", {"tool.py": "import setuptools\n"})
    return org


def test_used_by_counts_repos_that_import_what_a_repo_provides(tmp_path, open_test_store):
    snap = open_test_store(build_index(tmp_path, _org(tmp_path)).root).snapshot()
    info = snap.repos["ratelib"].info["deps"]
    # top_level.txt's "news" holds no Python code: not a package anyone can import.
    assert info["provides"] == {"python": ["ratelib"]}
    graph = deps.graph(snap)
    assert [d.to_json() for d in graph.used_by("ratelib")] == [
        {"repo": "app", "names": ["ratelib"]}
    ]
    assert [(d.repo, d.names) for d in graph.uses("app")] == [
        ("gouuid", ["example.com/acme/uuid"]),
        ("jsbits", ["@acme/bits"]),
        ("ratelib", ["ratelib"]),
    ]
    assert graph.depends("app", "jsbits") and graph.depends("jsbits", "app")
    assert not graph.depends("loner", "ratelib")
    assert graph.uses("loner") == [] and graph.used_by("app") == []
    # A repo's own packages are not imports of it (app vendors ratelib: not a provider).
    assert "ratelib" not in snap.repos["app"].info["deps"]["provides"].get("python", [])


def test_a_snapshot_without_a_repo_resolves_nothing_to_it(tmp_path, open_test_store):
    snap = open_test_store(build_index(tmp_path, _org(tmp_path)).root).snapshot()
    # The shape of a snapshot filtered for one user: fewer repos.
    snap.repos = {name: row for name, row in snap.repos.items() if name != "ratelib"}
    assert deps.graph(snap).used_by("ratelib") == []
    assert [d.repo for d in deps.graph(snap).uses("app")] == ["gouuid", "jsbits"]


def test_imports_by_language():
    py = "import a.b, c as d\nfrom .x import y\nfrom e.f import g\n"
    assert deps.imports_in("python", py) == {"a", "c", "e"}
    js = "import {a} from 'lodash/fp'\nimport '@s/p/q'\nconst n = require(\"node:fs\")\n"
    assert deps.imports_in("javascript", js) == {"lodash", "@s/p"}
    go = 'import "fmt"\nimport (\n\t"net/http"\n\tx "example.com/m/pkg"\n)\n'
    assert deps.imports_in("go", go) == {"fmt", "net/http", "example.com/m/pkg"}
