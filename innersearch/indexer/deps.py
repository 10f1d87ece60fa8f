"""Who uses what across repos: the package names a repo provides, the imports its code makes,
and the graph that resolves one to the other (Python packages, npm names, Go module paths).

Extraction (`imports_in`, `provided_names`) runs at index time and lands in repos.info["deps"];
`graph(snap)` resolves imports to the repos of one Snapshot only, so a filtered snapshot
filters the graph too.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .jsonresult import JsonResult

# The ecosystems an import can be resolved in; a file's language maps onto one of them.
ECOSYSTEMS = {
    "python": "python",
    "javascript": "npm",
    "typescript": "npm",
    "tsx": "npm",
    "go": "go",
}
MAX_IMPORTS = 2000  # per repo and ecosystem: the catalog row stays small

_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w. \t,]+)", re.M)
_PY_FROM = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import\b", re.M)
_JS_IMPORT = re.compile(
    r"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"\s]+)['"]""", re.M
)
_GO_SINGLE = re.compile(r'^\s*import\s+(?:[\w.]+\s+)?"([^"]+)"', re.M)
_GO_BLOCK = re.compile(r"^\s*import\s*\(([^)]*)\)", re.M | re.S)
_GO_SPEC = re.compile(r'(?:^|\n)\s*(?:[\w.]+\s+)?"([^"]+)"')
_GO_MODULE = re.compile(r"^\s*module\s+(\S+)", re.M)
# Build and task scripts at a repo's root are not importable packages anyone depends on.
_NOT_PACKAGES = {"setup", "conftest", "noxfile", "fabfile", "tasks", "manage", "__init__"}


def imports_in(lang: str, text: str) -> set[str]:
    """The external names one source file imports: Python top-level packages, npm package
    names (`@scope/name`), Go import paths. Relative imports are not external."""
    found: set[str] = set()
    if lang == "python":
        for m in _PY_IMPORT.finditer(text):
            for part in m.group(1).split(","):
                name = part.strip().split()[0] if part.strip() else ""
                if name and not name.startswith("."):
                    found.add(name.split(".")[0])
        for m in _PY_FROM.finditer(text):
            name = m.group(1)
            if not name.startswith("."):
                found.add(name.split(".")[0])
    elif ECOSYSTEMS.get(lang) == "npm":
        for m in _JS_IMPORT.finditer(text):
            name = npm_package(m.group(1))
            if name:
                found.add(name)
    elif lang == "go":
        found.update(m.group(1) for m in _GO_SINGLE.finditer(text))
        for block in _GO_BLOCK.finditer(text):
            found.update(m.group(1) for m in _GO_SPEC.finditer(block.group(1)))
    return found


def npm_package(specifier: str) -> str | None:
    """'lodash/fp' -> 'lodash', '@scope/x/y' -> '@scope/x'; relative, absolute, URL and
    `node:` specifiers are not packages."""
    if specifier.startswith((".", "/", "node:", "http:", "https:", "data:")):
        return None
    parts = specifier.split("/")
    if specifier.startswith("@"):
        return "/".join(parts[:2]) if len(parts) >= 2 else None
    return parts[0] or None


def provided_names(paths: Iterable[str], read: Callable[[str], bytes | None]) -> dict[str, list]:
    """{ecosystem: [name]} a repo offers others to import: Python top-level packages and
    modules (at the root or under src/, or listed in *.egg-info/top_level.txt), the root
    package.json "name", the root go.mod module path. `read(path)` gives a file's bytes."""
    paths = list(paths)
    python: set[str] = set()
    declared: set[str] = set()
    for path in paths:
        p = PurePosixPath(path)
        parts = p.parts[1:] if p.parts and p.parts[0] in ("src", "lib") else p.parts
        if len(parts) == 2 and parts[1] == "__init__.py" and parts[0].isidentifier():
            python.add(parts[0])
        elif len(parts) == 1 and p.suffix == ".py" and p.stem.isidentifier():
            python.add(p.stem)
        elif len(p.parts) == 2 and p.parts[0].endswith(".egg-info") and p.name == "top_level.txt":
            text = (read(path) or b"").decode("utf-8", "replace")
            declared.update(w for w in text.split() if w.isidentifier())
    # top_level.txt also names directories that hold no importable code (news/, docker/):
    # only a name with Python files under it counts.
    python |= {
        n for n in declared if any(x.startswith(n + "/") and x.endswith(".py") for x in paths)
    }
    provides: dict[str, list] = {"python": sorted(python - _NOT_PACKAGES)}
    pkg = read("package.json") if "package.json" in paths else None
    if pkg:
        try:
            name = json.loads(pkg).get("name")
        except (ValueError, AttributeError):
            name = None
        if isinstance(name, str) and name:
            provides["npm"] = [name]
    mod = read("go.mod") if "go.mod" in paths else None
    if mod:
        m = _GO_MODULE.search(mod.decode("utf-8", "replace"))
        if m:
            provides["go"] = [m.group(1).strip('"')]
    return {k: v for k, v in provides.items() if v}


@dataclass(frozen=True)
class Dependency(JsonResult):
    """One edge seen from one side: the other repo and the names that tie them."""

    repo: str
    names: list[str]


@dataclass
class DepGraph:
    """Repo-level import graph of one snapshot: uses[a][b] = names a imports that b provides."""

    uses_map: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    used_by_map: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def uses(self, repo: str) -> list[Dependency]:
        """The repos whose packages `repo` imports, by name."""
        return [Dependency(r, n) for r, n in sorted(self.uses_map.get(repo, {}).items())]

    def used_by(self, repo: str) -> list[Dependency]:
        """The repos that import a package `repo` provides, by name."""
        return [Dependency(r, n) for r, n in sorted(self.used_by_map.get(repo, {}).items())]

    def depends(self, a: str, b: str) -> bool:
        """True when either repo imports the other (one uses the other, not parallel)."""
        return b in self.uses_map.get(a, {}) or a in self.uses_map.get(b, {})


def build_graph(infos: dict[str, dict]) -> DepGraph:
    """The graph of the repos in `infos` (name -> repos.info) and nothing else."""
    providers: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for repo, info in infos.items():
        for eco, names in ((info.get("deps") or {}).get("provides") or {}).items():
            for name in names:
                providers[eco][name].add(repo)
    go_modules = sorted(providers.get("go", {}), key=len, reverse=True)
    graph = DepGraph()
    for repo, info in infos.items():
        for eco, names in ((info.get("deps") or {}).get("imports") or {}).items():
            for name in names:
                target = name
                if eco == "go":  # an import path resolves to the longest module prefix
                    target = next(
                        (m for m in go_modules if name == m or name.startswith(m + "/")), ""
                    )
                for other in providers.get(eco, {}).get(target, ()):
                    if other != repo:
                        graph.uses_map.setdefault(repo, {}).setdefault(other, []).append(target)
                        graph.used_by_map.setdefault(other, {}).setdefault(repo, []).append(target)
    for side in (graph.uses_map, graph.used_by_map):
        for edges in side.values():
            for other, names in edges.items():
                edges[other] = sorted(set(names))
    return graph


def graph(snap) -> DepGraph:
    """The dependency graph among the repos of `snap` (a store.Snapshot). Computed once per
    generation and set of visible repos, so a snapshot filtered for a user gets its own."""
    names = tuple(sorted(snap.repos))
    return snap.view.derived(
        f"deps.graph:{hash(names)}", lambda: build_graph({n: snap.repos[n].info for n in names})
    )
