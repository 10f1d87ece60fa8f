"""What a repo says about itself, read once per indexed default-branch commit: package
metadata, README, portal files (catalog-info.yaml, innersource.json), docstrings and comments
of its definitions, the imports it makes and the packages it provides.

The result feeds repos.info ("about", "deps", "activity") and the implementations index
(implindex.py). Everything is parsed defensively: a broken manifest is skipped, not fatal.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import PurePosixPath

import git
import yaml

from . import catalog, deps, gitread
from .identifiers import identifier_words

SOURCE_LANGS = ("python", "javascript", "typescript", "tsx", "go")
MAX_SOURCE_BYTES = 256 * 1024  # bigger source files are data more often than code
MAX_DOC_CHARS = 2000  # of one definition's docstring/comments
MAX_README_CHARS = 30_000
_SKIP_FLAGS = catalog.FLAG_VENDORED | catalog.FLAG_GENERATED | catalog.FLAG_TEST


@dataclass
class Definition:
    """A function, class or type with the words written about it."""

    name: str
    kind: str
    path: str
    line: int
    doc: str


@dataclass
class ModuleText:
    """One source file: its own doc (module docstring, package comment) and definitions."""

    path: str
    lang: str
    doc: str
    definitions: list[Definition] = field(default_factory=list)


@dataclass
class RepoDescription:
    about: dict  # repos.info["about"]: description, keywords, owners, lifecycle, ...
    deps: dict  # repos.info["deps"]: {"provides": {eco: [..]}, "imports": {eco: [..]}}
    activity: dict  # repos.info["activity"]
    readme_text: str
    modules: list[ModuleText]

    def info(self) -> dict:
        """The keys this adds to repos.info."""
        return {"about": self.about, "deps": self.deps, "activity": self.activity}


def describe_repo(
    repo: git.Repo,
    commit: str,
    files: dict[str, tuple[int, str, int]],
    activity: dict | None = None,
) -> RepoDescription:
    """Read what the repo at `commit` says about itself. `files`: path -> (blob key, lang,
    flags) of the branch (vendored, generated and test files do not describe the repo);
    `activity`: gitread.recent_activity() when the caller read it already."""
    reader = gitread.BlobReader(repo)

    def read(path: str) -> bytes | None:
        if "\n" in path:
            return None
        try:
            return reader.read(f"{commit}:{path}")
        except (ValueError, git.GitCommandError):
            return None

    try:
        own = [p for p, (_, _, flags) in files.items() if not flags & _SKIP_FLAGS]
        about = _about(own, read)
        modules: list[ModuleText] = []
        imports: dict[str, set[str]] = {}
        for path in own:
            lang = files[path][1]
            if lang not in SOURCE_LANGS:
                continue
            data = read(path)
            if not data or len(data) > MAX_SOURCE_BYTES:
                continue
            text = data.decode("utf-8", "replace")
            eco = deps.ECOSYSTEMS[lang]
            imports.setdefault(eco, set()).update(deps.imports_in(lang, text))
            modules.append(module_text(path, lang, text))
        if not about["description"]:
            about["description"] = package_doc(modules)
        provides = deps.provided_names(own, read)
        own_names = {(eco, n) for eco, names in provides.items() for n in names}
        dep_info = {
            "provides": provides,
            "imports": {
                eco: sorted(n for n in names if (eco, n) not in own_names)[: deps.MAX_IMPORTS]
                for eco, names in sorted(imports.items())
                if names
            },
        }
        readme_text = ""
        if about.get("readme_path"):
            raw = read(about["readme_path"]) or b""
            readme_text = raw.decode("utf-8", "replace")[:MAX_README_CHARS]
        elif about.get("long_description_path"):  # a wheel has no README, its METADATA does
            raw = (read(about["long_description_path"]) or b"").decode("utf-8", "replace")
            readme_text = str(HeaderParser().parsestr(raw).get_payload())[:MAX_README_CHARS]
    finally:
        reader.close()
    return RepoDescription(
        about=about,
        deps=dep_info,
        activity=gitread.recent_activity(repo, commit) if activity is None else activity,
        readme_text=readme_text,
        modules=modules,
    )


def reads_path(path: str, lang: str) -> bool:
    """True when describe_repo() may read this file or depend on its presence or flags:
    source code it parses, any root file (manifests, README, portal files), the READMEs of
    docs/ and .github/, Python packaging metadata (*.dist-info/, *.egg-info/). A commit that
    touches none of these leaves the description as it was."""
    if lang in SOURCE_LANGS or path.endswith(".py") or "/" not in path:
        return True
    parent = path.rpartition("/")[0]
    return parent in ("docs", ".github") or (
        "/" not in parent and parent.endswith((".dist-info", ".egg-info"))
    )


# -- package metadata and portal files ----------------------------------------------------


def _about(paths: list[str], read: Callable[[str], bytes | None]) -> dict:
    """Description, keywords, package names, owners and lifecycle from the root's files."""
    root = {p for p in paths if "/" not in p}
    about: dict = {"description": "", "keywords": [], "packages": [], "owners": []}

    def text(path: str) -> str:
        return (read(path) or b"").decode("utf-8", "replace") if path in root else ""

    def add(description=None, keywords=None, package=None) -> None:
        if isinstance(description, str) and description.strip() and not about["description"]:
            about["description"] = description.strip()[:500]
        if isinstance(keywords, str):
            keywords = re.split(r"[,\s]+", keywords)
        if isinstance(keywords, list):
            for k in keywords:
                if isinstance(k, str) and k.strip() and k.strip() not in about["keywords"]:
                    about["keywords"].append(k.strip()[:60])
        if isinstance(package, str) and package and package not in about["packages"]:
            about["packages"].append(package)

    if pyproject := text("pyproject.toml"):
        try:
            data = tomllib.loads(pyproject)
        except tomllib.TOMLDecodeError:
            data = {}
        for table in (data.get("project"), (data.get("tool") or {}).get("poetry")):
            if isinstance(table, dict):
                add(table.get("description"), table.get("keywords"), table.get("name"))
    if setup_cfg := text("setup.cfg"):
        cfg = configparser.ConfigParser(interpolation=None)
        try:
            cfg.read_string(setup_cfg)
            meta = cfg["metadata"] if cfg.has_section("metadata") else {}
            add(meta.get("description"), meta.get("keywords"), meta.get("name"))
        except configparser.Error:
            pass
    # Python core metadata: an sdist's PKG-INFO, a wheel's *.dist-info/METADATA, an
    # *.egg-info/PKG-INFO; its body is the long description (the README, as published).
    core = [p for p in paths if p == "PKG-INFO" or _core_metadata_path(p)]
    for path in sorted(core, key=lambda p: (p.count("/"), p))[:1]:
        raw = (read(path) or b"").decode("utf-8", "replace")
        message = HeaderParser().parsestr(raw)
        add(message.get("Summary"), message.get("Keywords"), message.get("Name"))
        body = message.get_payload()
        if isinstance(body, str) and body.strip():
            about["long_description_path"] = path
    if package_json := text("package.json"):
        try:
            data = json.loads(package_json)
        except ValueError:
            data = {}
        if isinstance(data, dict):
            add(data.get("description"), data.get("keywords"), data.get("name"))
    if go_mod := text("go.mod"):
        m = re.search(r"^\s*module\s+(\S+)", go_mod, re.M)
        if m:
            add(package=m.group(1))
    for name in ("catalog-info.yaml", "catalog-info.yml"):
        if catalog_info := text(name):
            _backstage(catalog_info, about, add)
            break
    if innersource := text("innersource.json"):
        try:
            data = json.loads(innersource)
        except ValueError:
            data = {}
        if isinstance(data, dict):
            add(data.get("motivation") or data.get("description"), data.get("skills"))
            for key in ("owners", "maintainers", "owner"):
                value = data.get(key)
                values = value if isinstance(value, list) else [value]
                about["owners"] += [
                    {"name": v, "source": "innersource.json"} for v in values if isinstance(v, str)
                ]
    about["readme_path"] = _first_named(paths, "README")
    about["contributing_path"] = _first_named(paths, "CONTRIBUTING")
    return about


def package_doc(modules: list[ModuleText]) -> str:
    """Without declared metadata, the package's own doc says what it is: the first paragraph
    of the shallowest module doc (a Go package comment, a package __init__ docstring)."""
    documented = [m for m in modules if m.doc.strip()]
    if not documented:
        return ""
    best = min(documented, key=lambda m: (m.path.count("/"), "__init__" not in m.path, m.path))
    paragraph = best.doc.strip().split("\n\n")[0]
    return " ".join(paragraph.split())[:500]


def _core_metadata_path(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 2 and (
        (parts[0].endswith(".dist-info") and parts[1] == "METADATA")
        or (parts[0].endswith(".egg-info") and parts[1] == "PKG-INFO")
    )


def _backstage(text: str, about: dict, add) -> None:
    """Backstage's catalog-info.yaml: metadata.description/tags, spec.owner/lifecycle."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError:
        return
    for doc in docs:
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        add(meta.get("description"), meta.get("tags"))
        owner = spec.get("owner")
        if isinstance(owner, str) and owner:
            about["owners"].append({"name": owner, "source": "catalog-info.yaml"})
        lifecycle = spec.get("lifecycle")
        if isinstance(lifecycle, str) and lifecycle and "lifecycle" not in about:
            about["lifecycle"] = lifecycle


def _first_named(paths: list[str], stem: str) -> str | None:
    for folder in ("", "docs/", ".github/"):
        for p in sorted(paths):
            rest = p[len(folder) :] if p.startswith(folder) else None
            if rest and "/" not in rest and PurePosixPath(rest).stem.upper() == stem:
                return p
    return None


# -- docstrings and comments ----------------------------------------------------------------

_PY_DEF = re.compile(r"^([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+(\w+)", re.M)
_JS_DEF = re.compile(
    r"^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:async[ \t]+)?"
    r"(?:(function)\*?[ \t]*(\w+)|(class)[ \t]+(\w+)"
    r"|(?:const|let|var)[ \t]+(\w+)[ \t]*=[ \t]*(?:async[ \t]*)?"
    r"(?:function\b|\([^)]*\)[ \t]*=>|\w+[ \t]*=>))",
    re.M,
)
_GO_DEF = re.compile(r"^(?:func[ \t]+(?:\([^)]*\)[ \t]*)?(\w+)|type[ \t]+(\w+))", re.M)
_PY_SIGNATURE_END = re.compile(r":[ \t]*(?:#[^\n]*)?\n")  # the colon that ends a def line
_PY_DOCSTRING = re.compile(r'\A\s*[rRuUbB]?("""|\'\'\')(.*?)\1', re.S)
_COMMENT_LINE = re.compile(r"^\s*(#|//|/\*+|\*/?)")


def module_text(path: str, lang: str, text: str) -> ModuleText:
    """The module's own doc and each definition's docstring or the comment just above it."""
    lines = text.splitlines()
    module = ModuleText(path, lang, _module_doc(lang, text, lines))
    if lang == "python":
        for m in _PY_DEF.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            end = _PY_SIGNATURE_END.search(text, m.end())
            doc = _PY_DOCSTRING.match(text[end.end() : end.end() + 4000]) if end else None
            about = doc.group(2) if doc else _comment_above(lines, line)
            kind = "class" if m.group(2) == "class" else ("method" if m.group(1) else "function")
            module.definitions.append(
                Definition(m.group(3), kind, path, line, about[:MAX_DOC_CHARS])
            )
        return module
    for m in (_GO_DEF if lang == "go" else _JS_DEF).finditer(text):
        if lang == "go":
            name, kind = (m.group(1), "function") if m.group(1) else (m.group(2), "type")
        elif m.group(2) or m.group(5):
            name, kind = m.group(2) or m.group(5), "function"
        else:
            name, kind = m.group(4), "class"
        line = text.count("\n", 0, m.start()) + 1
        about = _comment_above(lines, line)[:MAX_DOC_CHARS]
        module.definitions.append(Definition(name, kind, path, line, about))
    return module


def _comment_above(lines: list[str], line: int) -> str:
    """The contiguous comment lines right above 1-based `line` (decorators skipped), or the
    /* ... */ block that ends right above it."""
    out: list[str] = []
    i = line - 2
    while i >= 0 and lines[i].lstrip().startswith("@"):
        i -= 1
    if i >= 0 and lines[i].rstrip().endswith("*/"):
        end = i
        while i >= 0 and "/*" not in lines[i] and end - i < 200:
            i -= 1
        block = lines[max(i, 0) : end + 1]
        return "\n".join(_COMMENT_LINE.sub("", b, count=1).strip(" */") for b in block).strip()
    while i >= 0 and _COMMENT_LINE.match(lines[i]) and len(out) < 40:
        out.append(_COMMENT_LINE.sub("", lines[i], count=1).strip(" */"))
        i -= 1
    return "\n".join(reversed(out))


def _module_doc(lang: str, text: str, lines: list[str]) -> str:
    if lang == "python":
        start = 0
        for i, ln in enumerate(lines[:5]):  # shebang, coding line and comments come first
            if ln.startswith("#"):
                start = i + 1
            else:
                break
        doc = _PY_DOCSTRING.match("\n".join(lines[start:]))
        return doc.group(2)[:MAX_DOC_CHARS] if doc else ""
    if lang == "go":
        for i, ln in enumerate(lines):
            if ln.startswith("package "):
                return _comment_above(lines, i + 1)[:MAX_DOC_CHARS]
        return ""
    # JavaScript/TypeScript: the leading comment block (after a shebang).
    i = 1 if lines and lines[0].startswith("#!") else 0
    out = []
    while i < len(lines) and (not lines[i].strip() or _COMMENT_LINE.match(lines[i])) and i < 60:
        out.append(_COMMENT_LINE.sub("", lines[i], count=1).strip(" */"))
        i += 1
    return "\n".join(out).strip()[:MAX_DOC_CHARS]


def words(text: str) -> str:
    """Identifier-aware words of a text: 'RateLimiter' and 'rate_limiter' both add
    'rate limiter' beside the original token, so all three spellings meet."""
    out = []
    for token in re.findall(r"[A-Za-z0-9_]+", text):
        parts = identifier_words(token)
        out.append(" ".join(parts) if len(parts) > 1 else token)
    return " ".join(out)
