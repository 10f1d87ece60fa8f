"""What a repository's package manifest says about it: name, one-line description, keywords,
topic classifiers and declared dependencies (package.json, PKG-INFO, pyproject.toml, setup.cfg).

Read from the snapshot's default-branch files only; a manifest that does not parse is skipped.
"""

from __future__ import annotations

import configparser
import email.parser
import json
import re
import tomllib
from dataclasses import dataclass, field

from innersearch.indexer.store import Snapshot

MANIFESTS = ("package.json", "PKG-INFO", "pyproject.toml", "setup.cfg", "go.mod")
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_MAX_BYTES = 500_000
# Trove topic leaves that every other package has: they say nothing about the capability.
_GENERIC_TOPICS = frozenset(
    {"Libraries", "Utilities", "Testing", "Python Modules", "Software Development"}
)


@dataclass
class PackageMeta:
    """One repo's manifest facts; empty fields when no manifest says."""

    names: set[str] = field(default_factory=set)  # normalized package names it provides
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)  # "Topic :: System :: Logging" -> logging
    depends: set[str] = field(default_factory=set)  # normalized names of declared dependencies


def normalized(name: str) -> str:
    """PEP 503 style, which also fits npm names (lower case, runs of -_. as one -)."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _requirement(spec: str) -> str | None:
    found = _REQ_NAME.match(spec or "")
    return normalized(found.group(1)) if found else None


def _read(snap: Snapshot, repo: str, path: str) -> str | None:
    row = snap.file(repo, path, snap.repos[repo].default_branch)
    data = snap.content(row.blob_key) if row else None
    if not data or len(data) > _MAX_BYTES:
        return None
    return data.decode("utf-8", "replace")


def _package_json(text: str, meta: PackageMeta) -> None:
    try:
        doc = json.loads(text)
    except ValueError:
        return
    if not isinstance(doc, dict):
        return
    if isinstance(doc.get("name"), str):
        meta.names.add(normalized(doc["name"]))
    if isinstance(doc.get("description"), str):
        meta.description = meta.description or doc["description"]
    if isinstance(doc.get("keywords"), list):
        meta.keywords += [str(k) for k in doc["keywords"] if isinstance(k, str)]
    for section in ("dependencies", "peerDependencies"):
        deps = doc.get(section)
        if isinstance(deps, dict):
            meta.depends |= {normalized(str(k)) for k in deps}


def _pkg_info(text: str, meta: PackageMeta) -> None:
    msg = email.parser.Parser().parsestr(text, headersonly=True)
    if msg.get("Name"):
        meta.names.add(normalized(str(msg["Name"])))
    meta.description = meta.description or str(msg.get("Summary") or "")
    if msg.get("Keywords"):
        meta.keywords += [k for k in re.split(r"[,\s]+", str(msg["Keywords"])) if k]
    for classifier in msg.get_all("Classifier") or []:
        parts = [p.strip() for p in str(classifier).split("::")]
        if parts[0] == "Topic" and len(parts) > 1 and parts[-1] not in _GENERIC_TOPICS:
            meta.topics.append(parts[-1])
    for spec in msg.get_all("Requires-Dist") or []:
        if "extra ==" not in str(spec):  # optional extras are not what the library is built on
            name = _requirement(str(spec))
            if name:
                meta.depends.add(name)


def _pyproject(text: str, meta: PackageMeta) -> None:
    try:
        project = tomllib.loads(text).get("project") or {}
    except tomllib.TOMLDecodeError:
        return
    if not isinstance(project, dict):
        return
    if isinstance(project.get("name"), str):
        meta.names.add(normalized(project["name"]))
    if isinstance(project.get("description"), str):
        meta.description = meta.description or project["description"]
    if isinstance(project.get("keywords"), list):
        meta.keywords += [str(k) for k in project["keywords"]]
    for spec in project.get("dependencies") or []:
        name = _requirement(str(spec))
        if name:
            meta.depends.add(name)


def _setup_cfg(text: str, meta: PackageMeta) -> None:
    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read_string(text)
    except configparser.Error:
        return
    if cfg.has_option("metadata", "name"):
        meta.names.add(normalized(cfg.get("metadata", "name")))
    if cfg.has_option("metadata", "description"):
        meta.description = meta.description or cfg.get("metadata", "description")
    if cfg.has_option("metadata", "keywords"):
        meta.keywords += [k for k in re.split(r"[,\s]+", cfg.get("metadata", "keywords")) if k]
    if cfg.has_option("options", "install_requires"):
        for spec in cfg.get("options", "install_requires").splitlines():
            name = _requirement(spec)
            if name:
                meta.depends.add(name)


def _go_mod(text: str, meta: PackageMeta) -> None:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "module":
            meta.names.add(parts[1].lower())
        elif len(parts) >= 2 and "." in parts[0] and "/" in parts[0]:
            meta.depends.add(parts[0].lower())  # a line of a require block
        elif len(parts) >= 3 and parts[0] == "require" and parts[1] != "(":
            meta.depends.add(parts[1].lower())


_READERS = {
    "package.json": _package_json,
    "PKG-INFO": _pkg_info,
    "pyproject.toml": _pyproject,
    "setup.cfg": _setup_cfg,
    "go.mod": _go_mod,
}


def _manifests(snap: Snapshot) -> dict[str, list[tuple[str, str]]]:
    """repo -> [(path, reader)] of its root manifests, plus the METADATA of an unpacked
    wheel (NAME.dist-info/) or egg (NAME.egg-info/PKG-INFO), which have PKG-INFO's format."""
    found: dict[str, list[tuple[str, str]]] = {}
    for f in snap.files:
        repo = snap.repos.get(f.repo)
        if repo is None or f.branch != repo.default_branch:
            continue
        parts = f.path.split("/")
        if len(parts) == 1 and f.path in _READERS:
            found.setdefault(f.repo, []).append((f.path, f.path))
        elif len(parts) == 2 and (
            (parts[0].endswith(".dist-info") and parts[1] == "METADATA")
            or (parts[0].endswith(".egg-info") and parts[1] == "PKG-INFO")
        ):
            found.setdefault(f.repo, []).append((f.path, "PKG-INFO"))
    return {repo: sorted(paths) for repo, paths in found.items()}


def package_meta(snap: Snapshot) -> dict[str, PackageMeta]:
    """repo -> its manifest facts, for every repo of the snapshot."""
    out: dict[str, PackageMeta] = {}
    manifests = _manifests(snap)
    for repo in sorted(snap.repos):
        meta = PackageMeta()
        for path, reader in manifests.get(repo, []):
            text = _read(snap, repo, path)
            if text is not None:
                _READERS[reader](text, meta)
        meta.depends -= meta.names
        out[repo] = meta
    return out


def declared_uses(metas: dict[str, PackageMeta]) -> set[tuple[str, str]]:
    """(repo, repo it declares a dependency on), between repos of the snapshot."""
    provider: dict[str, str] = {}
    for repo, meta in metas.items():
        for name in meta.names:
            provider.setdefault(name, repo)
    return {
        (repo, provider[dep])
        for repo, meta in metas.items()
        for dep in meta.depends
        if dep in provider and provider[dep] != repo
    }
