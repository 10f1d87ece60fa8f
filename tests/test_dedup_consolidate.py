"""The report a platform team acts on: impact order, copies inside one repo grouped apart,
capability clusters with a candidate to keep, manifests as evidence and "uses", and the
pull-request mode (--changed), on real git repos and a real index."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from innersearch.cli import main
from innersearch.dedup import api, clusters, impact, libraries
from innersearch.dedup.changed import ChangeError, added_lines, changed_clones, parse_range
from innersearch.dedup.results import DuplicateReport
from innersearch.indexer import deps
from tests.dedup_org import ORIGINAL, UNRELATED, build_org
from tests.helpers import build_index, commit_files, make_repo
from tests.schemas import closed_registry, schema_errors

LOGGER = """export function {name}(level, message, fields) {{
  const record = {{ level, message, time: Date.now(), ...fields }};
  const line = JSON.stringify(record);
  if (level === "error" || level === "fatal") {{
    process.stderr.write(line + "\\n");
  }} else {{
    process.stdout.write(line + "\\n");
  }}
  return record;
}}
"""


def _js_lib(name: str, keywords: list[str], api_names: list[str], depends: dict | None = None):
    """A small JavaScript logging library; `depends` are packages it declares and imports."""
    files = {
        "package.json": json.dumps(
            {
                "name": name,
                "description": f"{name}: structured logging for node, with levels and transports",
                "keywords": keywords,
                "dependencies": depends or {},
            }
        ),
        "README.md": f"# {name}\nA logger: log levels, transports, formatters, child loggers.\n",
    }
    for dep in depends or {}:
        files["src/wire.js"] = (
            f'import {{ createLogger }} from "{dep}";\nexport {{ createLogger }};\n'
        )
    for n, fn in enumerate(api_names):
        files[f"src/{fn}.js"] = (
            LOGGER.format(name=fn)
            if n == 0
            else (f"export function {fn}(logger, level) {{\n  return logger.level(level);\n}}\n")
        )
    return files


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    root = tmp_path_factory.mktemp("consolidate")
    org = build_org(root)
    words = ["logging", "logger", "log", "levels", "transport", "json"]
    make_repo(
        org,
        "js-logwell",
        _js_lib(
            "logwell",
            words,
            ["createLogger", "childLogger", "logLevel", "addTransport", "formatRec"],
        ),
    )
    make_repo(
        org,
        "js-lumber",
        _js_lib(
            "lumber", words, ["makeLogger", "childLogger", "setLevel", "addTransport", "formatLine"]
        ),
    )
    # Built on logwell (declares it): a user of the library, never its parallel.
    make_repo(
        org,
        "js-logwell-express",
        _js_lib(
            "logwell-express",
            words,
            ["expressLogger", "childLogger", "logLevel", "addTransport", "formatRecord"],
            {"logwell": "^1.0.0"},
        ),
    )
    make_repo(
        org,
        "js-broken-manifest",
        {"package.json": "{ not json", "index.js": "export const x = 1;\n"},
    )
    # Build output beside its source: an in-repo copy, not a finding for the first page.
    make_repo(
        org,
        "delta",
        {"src/orders.py": ORIGINAL + "\n\n" + UNRELATED, "dist/orders.py": ORIGINAL + UNRELATED},
    )
    return root, org


@pytest.fixture(scope="module")
def data(org):
    root, org_dir = org
    return build_index(root, org_dir)


@pytest.fixture(scope="module")
def store(data, open_store):
    return open_store(data.root)


@pytest.fixture(scope="module")
def report(store):
    return api.find_duplicates(store)


def test_in_repo_kinds():
    assert impact.in_repo_kind(["src/a.js", "dist/a.js"], [False, False]) == "build-output"
    assert impact.in_repo_kind(["locale/fr.js", "locale/de.js"], [False, False]) == (
        "generated-tables"
    )
    assert impact.in_repo_kind(["tests/a.py", "tests/b.py"], [True, True]) == "test-scaffolding"
    assert impact.in_repo_kind(["a/x.py", "b/x.py"], [False, False], [True, True]) == "vendored"
    assert impact.in_repo_kind(["docs/conf.py", "conf.py"], [False, False]) == "docs-examples"
    assert impact.in_repo_kind(["a.py", "b.py"], [False, False]) == "other"


def test_call_sites_count_uses_not_imports():
    py = (
        "from click import option, command as cmd\nimport click\nimport os\n\n"
        "@cmd()\n@option('--x')\ndef main(x):\n    click.echo(x)\n    os.exit(0)\n"
    )
    assert impact.call_sites("python", py, {"click"}) == 3
    assert impact.call_sites("python", py, {"rich"}) == 0
    listed = "from __future__ import annotations\nfrom a import (\n    b,\n    c as d,\n)\n"
    listed += "b()\nd()\n"
    assert impact.call_sites("python", listed, {"a"}) == 2  # the list's lines are the import
    js = (
        'import { createLogger as make } from "logwell";\nconst pino = require("pino");\n'
        "export const l = make();\npino.info(1);\n// make() in a comment\n"
    )
    assert impact.call_sites("javascript", js, {"logwell", "pino"}) == 2
    multi = 'import "side";\nimport {\n  a,\n  b as c\n} from "pkg";\na(); c();\nc()\n'
    assert impact.call_sites("javascript", multi, {"pkg"}) == 2
    go = 'import (\n\t"fmt"\n\tbo "example.com/backoff/v4"\n)\n\nfunc f() { bo.Retry(g) }\n'
    assert impact.call_sites("go", go, {"example.com/backoff/v4"}) == 1


def test_readme_lead_is_the_opening_prose():
    readme = (
        "# tool\n[![ci](https://x/badge.svg)](https://x)\n\n```sh\npip install tool\n```\n"
        "    indented code line\nTool parses command line arguments.\n"
    )
    assert libraries._readme_lead(readme) == ["tool", "parses", "command", "line", "arguments"]


def test_impact_counts_repos_across_repos_and_copies_inside_one():
    def member(repo, start=1, end=10):
        return {"repo": repo, "path": "x.py", "start_line": start, "end_line": end}

    # Three copies in one repo plus one elsewhere: one more repo holds it.
    assert impact.class_impact([member("a"), member("a"), member("a"), member("b")]) == (10, 10)
    assert impact.class_impact([member("a"), member("a", 1, 20), member("a")]) == (10, 20)
    assert impact.class_scope([member("a"), member("b")]) == "cross-repo"


def test_uses_come_from_the_dependency_graph(store):
    graph = deps.graph(store.snapshot())
    assert graph.depends("js-logwell-express", "js-logwell")
    assert not graph.depends("js-logwell", "js-lumber")


def test_findings_are_cross_repo_and_ordered_by_impact(report):
    found = report["findings"]
    assert found, "the org has cross-repo copies"
    impacts = [f["impact"] for f in found]
    assert impacts == sorted(impacts, reverse=True)
    classes = {c["id"]: c for c in report["clone_classes"]}
    for f in found:
        if f["kind"] == "clone":
            assert classes[f["clone_class"]]["scope"] == "cross-repo"
    # the vendored textkit is one copy finding, its files are not separate clone findings
    kinds = [f["kind"] for f in found]
    assert "copy" in kinds
    lib = next(f for f in found if f["kind"] == "copy")
    assert {lib["library"]["a"]["repo"], lib["library"]["b"]["repo"]} == {"alpha", "beta"}
    scopes = [c["scope"] for c in report["clone_classes"]]
    assert scopes == sorted(scopes)  # "cross-repo" before "in-repo"


def test_build_output_is_grouped_in_repo(report):
    groups = [g for g in report["in_repo"] if g["repo"] == "delta"]
    assert groups and groups[0]["kind"] == "build-output"
    classes = {c["id"]: c for c in report["clone_classes"]}
    for cid in groups[0]["clone_classes"]:
        assert {m["repo"] for m in classes[cid]["members"]} == {"delta"}
    assert not any(f.get("clone_class") in groups[0]["clone_classes"] for f in report["findings"])


def test_capability_cluster_and_keep_candidate(report):
    caps = [c for c in report["capabilities"] if "js-logwell" in c["repos"]]
    assert len(caps) == 1
    cap = caps[0]
    assert "js-lumber" in cap["repos"]
    assert "js-logwell-express" not in cap["repos"]  # uses logwell: not parallel
    entry = cap["languages"][0]
    assert entry["language"] == "javascript"
    assert entry["keep"]["repo"] == "js-logwell"  # used by one repo, the other by none
    assert any("used by 1 repo" in r for r in entry["keep"]["reasons"])
    assert [m["from"] for m in entry["migrate"]] == ["js-lumber"]
    members = {m["repo"]: m for m in entry["members"]}
    # js-logwell-express re-exports createLogger: one line of its code uses logwell
    assert members["js-logwell"]["call_sites"] == 1
    assert members["js-logwell"]["call_sites_by_repo"] == {"js-logwell-express": 1}
    assert entry["migrate"][0]["call_sites"] == 0  # nobody calls lumber
    # what a migration retires is bounded by the size of the library kept
    move, kept = entry["migrate"][0], members["js-logwell"]
    assert move["replaceable_lines"] == min(move["code_lines"], kept["code_lines"]) > 0
    assert cap["impact"] == sum(m["replaceable_lines"] for m in entry["migrate"])
    # a reader who may not see the using repo sees no call sites from it
    hidden = clusters.narrowed(cap, set(cap["repos"]))
    seen = {m["repo"]: m for m in hidden["languages"][0]["members"]}
    assert seen["js-logwell"]["call_sites"] == 0
    assert seen["js-logwell"]["call_sites_by_repo"] == {}
    assert cap["name"] and cap["terms"]
    pairs = {
        frozenset((p["a"]["repo"], p["b"]["repo"]))
        for p in report["libraries"]
        if p["relation"] == "parallel"
    }
    assert frozenset(("js-logwell", "js-logwell-express")) not in pairs
    assert {"repo": "js-logwell-express", "uses": "js-logwell"} in report["uses"]


def test_html_folds_in_repo_copies(report):
    out = io.StringIO()
    api.write_report(report, "html", out)
    html = out.getvalue()
    assert "What to consolidate first" in html
    assert html.index("What to consolidate first") < html.index("Copies inside one repository")
    section = html[html.index("Copies inside one repository") :]
    assert section.split("\n")[1].startswith("<details>")  # collapsed by default
    assert "build-output" in section


def test_diff_parsing():
    diff = (
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -3,0 +4,2 @@\n+a\n+b\n"
        "diff --git a/n.py b/n.py\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+c\n"
        "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-d\n"
    )
    assert added_lines(diff) == {"x.py": ({4, 5}, False), "n.py": ({1}, True)}
    assert parse_range("main..HEAD") == ("main", "HEAD")
    for bad in ("main", "..HEAD", "a...b", ""):
        with pytest.raises(ChangeError):
            parse_range(bad)


@pytest.fixture(scope="module")
def pr_repo(org, data):
    """gamma's source repo after the index: one commit copies alpha's function (a clone the
    change introduces), one adds new code only."""
    _, org_dir = org
    repo = org_dir / "gamma"
    base = commit_files(repo, {"notes.txt": "base\n"}, "base")
    copied = commit_files(repo, {"billing.py": "import os\n\n" + ORIGINAL}, "copy a function")
    fresh = commit_files(repo, {"fresh.py": _NEW_CODE}, "new code only")
    return repo, base, copied, fresh


_NEW_CODE = """def unrelated_scheduler(jobs, workers, deadline):
    queue = sorted(jobs, key=lambda job: (job.priority, job.created))
    assigned = {worker: [] for worker in workers}
    for index, job in enumerate(queue):
        worker = workers[index % len(workers)]
        if job.estimate > deadline:
            job.state = "too-long"
            continue
        assigned[worker].append(job)
    return assigned
"""


def test_changed_reports_the_clone_a_change_introduces(store, pr_repo):
    repo, base, copied, _ = pr_repo
    out = changed_clones(store, store.snapshot(), "gamma", f"{base}..{copied}", str(repo))
    assert out["changed"]["repo"] == "gamma"
    classes = out["clone_classes"]
    assert classes, "the copied function already exists in alpha"
    new = classes[0]["members"][0]
    assert new["new"] and new["path"] == "billing.py" and new["symbol"] == "summarize_orders"
    existing = {(m["repo"], m["path"]) for m in classes[0]["members"][1:]}
    assert ("alpha", "orders.py") in existing
    # gamma's own test copy was already there before the change: not "introduced"
    assert all(m["path"] != "tests/test_helpers.py" for c in classes for m in c["members"][:1])
    doc = io.StringIO()
    api.write_report(out, "sarif", doc)
    results = json.loads(doc.getvalue())["runs"][0]["results"]
    assert len(results) == len(classes)
    text = results[0]["message"]["text"]
    assert "already exists in alpha/orders.py" in text or "already exists in beta" in text
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "billing.py"
    )


def test_changed_without_clones_reports_nothing(store, pr_repo):
    repo, _, copied, fresh = pr_repo
    out = changed_clones(store, store.snapshot(), "gamma", f"{copied}..{fresh}", str(repo))
    assert out["clone_classes"] == []
    assert out["changed"]["files"] == 1


def test_changed_respects_the_snapshot(store, pr_repo):
    """A snapshot without alpha and beta (a user who cannot see them) finds nothing there."""
    repo, base, copied, _ = pr_repo
    snap = store.snapshot()
    hidden = {"alpha", "beta", "delta"}
    snap.repos = {k: v for k, v in snap.repos.items() if k not in hidden}
    snap.files = [f for f in snap.files if f.repo not in hidden]
    out = changed_clones(store, snap, "gamma", f"{base}..{copied}", str(repo))
    for c in out["clone_classes"]:
        assert not {m["repo"] for m in c["members"]} & hidden


def test_changed_cli(data, pr_repo, capsys):
    repo, base, copied, _ = pr_repo
    args = ["--data", str(data.root), "dedup", "--changed", f"{base}..{copied}"]
    assert main([*args, "--repo", "gamma", "--repo-path", str(repo), "--format", "sarif"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"][0]["results"]
    assert main(args) == 2  # --repo missing
    assert "go together" in capsys.readouterr().err
    assert main([*args, "--repo", "nope"]) == 2
    assert "unknown repository" in capsys.readouterr().err
    bad = ["--data", str(data.root), "dedup", "--changed", "zzz..HEAD", "--repo", "gamma"]
    assert main([*bad, "--repo-path", str(repo)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_extended_copy_still_found(report):
    """The Type-3 copy in gamma's tests (EXTENDED_COPY) stays a class."""
    assert any(
        {m["repo"] for m in c["members"]} >= {"alpha", "gamma"} for c in report["clone_classes"]
    )


def _vec(words: dict[str, float]) -> dict[str, float]:
    norm = sum(v * v for v in words.values()) ** 0.5
    return {w: v / norm for w, v in words.items()}


def test_a_broad_repo_close_to_many_libraries_is_not_their_parallel():
    """Two narrow logging libraries stay a pair, as do two HTTP clients. A broad tool whose
    code words meet every library's (logging, http, tables) is as close to each on the plain
    cosine as a parallel pair once was (>= 0.14), and the rule before the purpose hubness
    reported it beside the HTTP client (score >= 0.15). Every description here is a little
    alike (all Python libraries, cosine 0.36); the tool's is no closer to the client's than
    to anything, while the client's is usually as close as its peer's (1.0): the purpose
    term's local scaling parts them."""
    log = {"logger": 1.0, "level": 1.0, "handler": 1.0, "record": 1.0}
    http = {"request": 1.0, "response": 1.0, "session": 1.0, "cookie": 1.0}
    table = {"table": 1.0, "column": 1.0, "row": 1.0, "border": 1.0}
    vectors = {
        "log-a": _vec({**log, "sink": 1.0, "emit": 1.0}),
        "log-b": _vec({**log, "formatter": 1.0, "filter": 1.0}),
        "http-a": _vec({**http, "adapter": 1.0}),
        "http-b": _vec({"fetch": 1.0, "headers": 1.0, "body": 1.0, "status": 1.0, "request": 1.0}),
        "tool": _vec({**log, **http, **table, "install": 6.0, "wheel": 6.0, "cache": 6.0}),
    }
    langs = dict.fromkeys(vectors, "python")
    # What each says it is for: a field all share (0.6) and its own job (0.8).
    jobs = {"log-a": 1, "log-b": 1, "http-a": 2, "http-b": 2, "tool": 3}
    eye = np.eye(4, dtype=np.float32)
    purpose = {repo: 0.6 * eye[0] + 0.8 * eye[job] for repo, job in jobs.items()}
    scores = libraries.similarities(vectors, langs, purpose)
    for pair in (("log-a", "log-b"), ("http-a", "http-b")):
        assert scores[pair].purpose == pytest.approx(1.0)
        assert scores[pair].score >= libraries.MIN_PARALLEL_SCORE
    for lib in ("http-a", "log-a", "log-b"):
        broad = scores[(lib, "tool")]
        assert broad.cosine >= 0.14 and broad.purpose == pytest.approx(0.36)
        assert broad.score < libraries.MIN_PARALLEL_SCORE
    http_tool = scores[("http-a", "tool")]
    assert http_tool.weighted(0.6, 0.25, 0.0) >= 0.15  # the rule before the purpose hubness
    assert http_tool.purpose_hub_a == pytest.approx((1.0 + 0.36 + 0.36) / 3)
    assert ("http-a", "log-a") in scores and ("log-a", "http-a") not in scores  # name order


def test_a_benchmark_file_is_scaffolding_wherever_it_lives():
    # tabulate's root benchmark.py imports prettytable to time it: not "built on" it
    assert impact.is_scaffolding("benchmark.py")
    assert impact.is_scaffolding("src/bench_render.js")
    assert impact.is_scaffolding("examples/x.py")
    assert not impact.is_scaffolding("tabulate/__init__.py")
    assert not impact.is_scaffolding("src/benchmarking.py")  # a module of the library


def test_copy_summary_counts_files_not_file_pairs(tmp_path, open_store):
    """Two identical files in each copy make four near-identical file pairs: the summary
    and `near_identical_files` count the copy's files (it once said "4 of 2 files")."""
    org = tmp_path / "org"
    body = ORIGINAL + "\n\n" + UNRELATED
    make_repo(org, "upstream", {"pkg/a.py": body, "pkg/b.py": body, "README.md": "up\n"})
    make_repo(org, "downstream", {"pkg/a.py": body, "pkg/b.py": body, "main.py": "x = 1\n"})
    store = open_store(build_index(tmp_path, org).root)
    pairs = [
        p
        for p in api.find_duplicates(store)["libraries"]
        if {p["a"]["repo"], p["b"]["repo"]} == {"upstream", "downstream"}
    ]
    assert pairs and pairs[0]["relation"] in ("copy", "fork")
    assert pairs[0]["evidence"]["near_identical_files"] == 2
    assert "2 of 2 files near-identical" in pairs[0]["evidence"]["summary"]


def test_the_report_reads_back_typed_and_unchanged(report):
    """Capabilities, in-repo groups and findings of every kind survive the typed reading
    that /api/v1/duplicates serves (a key no class declares would be refused), and match
    the closed generated schema."""
    assert report["capabilities"] and report["in_repo"] and report["findings"]
    assert {f["kind"] for f in report["findings"]} >= {"capability"}
    assert json.dumps(DuplicateReport.from_json(report).to_json()) == json.dumps(report)
    assert not schema_errors(closed_registry(), "DuplicateReport", report)
