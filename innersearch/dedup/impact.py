"""Impact of a duplicate: duplicated lines times redundant copies, and whether it crosses repos.

Copies inside one repo are classified (build output, generated tables, tests, docs) so the
report can group them away from the cross-repo findings a platform team acts on.
"""

from __future__ import annotations

import re

# Directory names that hold what a build or a generator made from the sources beside them.
BUILD_DIRS = frozenset(
    {"dist", "build", "out", "lib", "esm", "cjs", "umd", "es", "es5", "es6", "min", "bundle"}
    | {"bundles", "dist-node", "dist-web", "dist-src", "types", "_build", "target", "compiled"}
)
TABLE_DIRS = frozenset({"locale", "locales", "i18n", "l10n", "lang", "langs", "translations"})
TEST_DIRS = frozenset(
    {"test", "tests", "spec", "specs", "__tests__", "testing", "fixtures", "testdata", "bench"}
    | {"benchmark", "benchmarks"}
)
DOC_DIRS = frozenset({"docs", "doc", "example", "examples", "samples", "demo", "demos"})
IN_REPO_KINDS = (
    "build-output",
    "generated-tables",
    "vendored",
    "test-scaffolding",
    "docs-examples",
    "other",
)
# A class this big is an idiom repeated everywhere (a 7-line __init__ in 70 places), not
# one piece of code copied: listed, never a first-page finding.
BOILERPLATE_MEMBERS = 60


def _dirs(path: str) -> set[str]:
    # split, not PurePosixPath: git paths are already normal, and a kernel report asks
    # for hundreds of thousands of paths
    return {p.lower() for p in path.split("/")[:-1] if p and p != "."}


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _is_build(path: str) -> bool:
    name = _name(path).lower()
    return bool(_dirs(path) & BUILD_DIRS) or ".min." in name or name.endswith(".d.ts")


# A file named like this is scaffolding wherever it lives (tabulate's benchmark.py at the
# root imports prettytable to time it: a comparison, not "built on").
SCAFFOLD_STEMS = frozenset({"bench", "benchmark", "benchmarks", "example", "examples", "demo"})


def is_scaffolding(path: str) -> bool:
    """Tests, benchmarks, docs and examples: code around a library, not the library."""
    stem = re.split(r"[._-]", path.rsplit("/", 1)[-1].lower(), maxsplit=1)[0]
    return bool(_dirs(path) & (TEST_DIRS | DOC_DIRS | {"scripts", "tools"})) or (
        stem in SCAFFOLD_STEMS
    )


def in_repo_kind(paths: list[str], tests: list[bool], vendored: list[bool] | None = None) -> str:
    """What a copy inside one repo most likely is, from where its members live."""
    if any(_is_build(p) for p in paths):
        return "build-output"  # one member is what the build made of another
    if all(_dirs(p) & TABLE_DIRS for p in paths):
        return "generated-tables"
    if vendored and all(vendored):
        return "vendored"  # two vendored copies of one third-party package
    if all(t or _dirs(p) & TEST_DIRS for p, t in zip(paths, tests, strict=True)):
        return "test-scaffolding"
    if any(_dirs(p) & DOC_DIRS or _name(p) == "conf.py" for p in paths):
        return "docs-examples"
    return "other"


def class_impact(members: list[dict]) -> tuple[int, int]:
    """(lines of one copy, lines that consolidation would remove): the smallest member's
    lines times the copies beyond the first. Across repos a copy is a repo holding the code
    (what a shared library would replace), so one repo's own repetitions do not inflate it."""
    if len(members) < 2:
        return 0, 0
    size = min(m["end_line"] - m["start_line"] + 1 for m in members)
    repos = len({m["repo"] for m in members})
    return size, size * ((repos if repos > 1 else len(members)) - 1)


def class_scope(members: list[dict]) -> str:
    return "cross-repo" if len({m["repo"] for m in members}) > 1 else "in-repo"


def annotate_class(c: dict) -> dict:
    """Add `scope`, `lines`, `impact` and, inside one repo, `in_repo_kind` to a clone class."""
    lines, impact = class_impact(c["members"])
    c["scope"] = class_scope(c["members"])
    c["lines"] = lines
    c["impact"] = impact
    if c["scope"] == "in-repo":
        c["in_repo_kind"] = in_repo_kind(
            [m["path"] for m in c["members"]],
            [bool(m.get("test")) for m in c["members"]],
            [bool(m.get("vendored")) for m in c["members"]],
        )
    c["boilerplate"] = len(c["members"]) > BOILERPLATE_MEMBERS
    return c


def annotate_pair(p: dict, vendored: bool = False) -> dict:
    """The same for a library pair: a copy's impact is the lines of its copied files."""
    same = p["a"]["repo"] == p["b"]["repo"]
    p["scope"] = "in-repo" if same else "cross-repo"
    p["impact"] = int(p.get("evidence", {}).get("duplicated_lines", 0))
    if same:
        p["in_repo_kind"] = in_repo_kind(
            [p["a"]["path"] + "/x", p["b"]["path"] + "/x"], [False, False], [vendored, vendored]
        )
    return p


# What a file binds from an import, per statement form (names only; the statement's line is
# an import, not a call site).
# (the names of a parenthesised list may span lines; otherwise they end with the line)
_PY_FROM = re.compile(
    r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w \t,]+))", re.M
)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w.]+)(?:[ \t]+as[ \t]+(\w+))?", re.M)
_JS_IMPORT = re.compile(
    r"""^\s*import\s+([\w$*{},\s]+?)\s+from\s+['"]([^'"]+)['"]|"""
    r"""(?:const|let|var)\s+(.+?)\s*=\s*require\(\s*['"]([^'"]+)['"]\s*\)""",
    re.M,
)
_GO_SPEC = re.compile(r'^\s*(?:import\s+)?(?:([\w.]+)\s+)?"([^"]+)"\s*$', re.M)
_NAME = re.compile(r"[A-Za-z_$][\w$]*")


def _bound_names(lang: str, text: str, packages: set[str]) -> set[str]:
    """The names a file binds from imports of `packages` (top-level package names for
    Python, npm package names, Go import paths)."""
    names: set[str] = set()
    if lang == "python":
        for m in _PY_FROM.finditer(text):
            if m.group(1).split(".")[0] in packages:
                listed = (m.group(2) or m.group(3) or "").replace("\n", " ")
                names |= {p.split()[-1] for p in listed.split(",") if p.strip()}
        for m in _PY_IMPORT.finditer(text):
            if m.group(1).split(".")[0] in packages:
                names.add(m.group(2) or m.group(1).split(".")[0])
    elif lang in ("javascript", "typescript", "tsx"):
        for m in _JS_IMPORT.finditer(text):
            binding, spec = (m.group(1), m.group(2)) if m.group(2) else (m.group(3), m.group(4))
            base = "/".join(spec.split("/")[:2]) if spec.startswith("@") else spec.split("/")[0]
            if base in packages:
                names |= set(_NAME.findall(re.sub(r"\b\w+\s+as\b", "", binding)))
        names -= {"type", "as"}
    elif lang == "go":
        for m in _GO_SPEC.finditer(text):
            path = m.group(2)
            if any(path == p or path.startswith(p + "/") for p in packages):
                names.add(m.group(1) or path.rstrip("/").rsplit("/", 1)[-1])
    return {n for n in names if n not in ("*", "_", ".")}


def call_sites(lang: str, text: str, packages: set[str]) -> int:
    """Lines of one file that use what it imports from `packages`: what would change if the
    file migrated to another library. Import statements themselves are not counted."""
    names = _bound_names(lang, text, packages)
    if not names:
        return 0
    skip: set[int] = set()  # lines of import statements (a parenthesised list spans several)
    for pattern in (_PY_FROM, _PY_IMPORT, _JS_IMPORT, _GO_SPEC):
        for m in pattern.finditer(text):
            first = text.count("\n", 0, m.start())
            skip.update(range(first, first + m.group(0).count("\n") + 1))
    use = re.compile(r"(?<![\w$.])(?:" + "|".join(map(re.escape, sorted(names))) + r")(?![\w$])")
    count = 0
    for n, line in enumerate(text.splitlines()):
        if n in skip or line.lstrip().startswith(("#", "//")):
            continue
        if use.search(line):
            count += 1
    return count
