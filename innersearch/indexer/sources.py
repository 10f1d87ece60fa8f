"""Turning `innersearch index SOURCE...` arguments into the list of repositories to mirror.

A SOURCE is a directory of repos, one repo, a git URL, or a TOML config file listing sources,
extra branches per repo and excludes (format in docs/architecture.md).
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .credentials import redact, split_url
from .gitread import looks_like_repo

_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.I)


class SourceError(ValueError):
    """A SOURCE argument that cannot be used at all (not a repo, dir, URL or config)."""


@dataclass
class RepoSource:
    name: str
    url: str  # what `git fetch` reads: a local path or a URL
    branches: list[str] = field(default_factory=list)  # besides the default branch
    exclude_paths: list[str] = field(default_factory=list)  # globs, matched on the path
    # Credentials given in the URL, for this run's git only; never stored or shown.
    auth_header: str | None = field(default=None, repr=False, compare=False)


@dataclass
class SourceProblem:
    """A source that could not be turned into repos: reported per source, others go on."""

    source: str
    message: str


def repo_name_from_url(url: str) -> str:
    tail = re.split(r"[/:@]", redact(url).rstrip("/"))[-1]
    return tail.removesuffix(".git") or "repo"


def _from_url(url: str, name: str | None = None) -> RepoSource:
    clean, auth_header = split_url(url)
    return RepoSource(name or repo_name_from_url(clean), clean, auth_header=auth_header)


def _from_path(path: Path) -> list[RepoSource]:
    if looks_like_repo(path):
        return [RepoSource(path.name.removesuffix(".git"), str(path))]
    repos = []
    for child in sorted(path.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            repos.append(RepoSource(child.name.removesuffix(".git"), str(child)))
    return repos


def _from_config(path: Path) -> tuple[list[RepoSource], list[SourceProblem]]:
    try:
        config = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SourceError(f"{path}: not a valid TOML config: {err}") from err
    base = path.parent
    repos: list[RepoSource] = []
    problems: list[SourceProblem] = []
    for i, entry in enumerate(config.get("sources", [])):
        if "url" in entry:
            found = [_from_url(entry["url"], entry.get("name"))]
        elif "path" in entry:
            found, more = resolve([str((base / entry["path"]).resolve())])
            problems.extend(more)
            if "name" in entry and len(found) == 1:
                found[0].name = entry["name"]
        else:
            problems.append(SourceProblem(str(path), f"sources[{i}] needs `path` or `url`"))
            continue
        for repo in found:
            repo.branches = list(entry.get("branches", []))
            repo.exclude_paths = list(entry.get("exclude_paths", []))
        repos.extend(found)
    per_repo = config.get("repos", {})
    for repo in repos:
        extra = per_repo.get(repo.name, {})
        repo.branches = list(dict.fromkeys(repo.branches + list(extra.get("branches", []))))
        repo.exclude_paths += list(extra.get("exclude_paths", []))
        repo.exclude_paths += list(config.get("exclude_paths", []))
    excluded = list(config.get("exclude", []))
    repos = [r for r in repos if not any(fnmatch.fnmatchcase(r.name, pat) for pat in excluded)]
    return repos, problems


def resolve(sources: list[str]) -> tuple[list[RepoSource], list[SourceProblem]]:
    """All repos named by the sources, unique by name (the first source wins)."""
    repos: list[RepoSource] = []
    problems: list[SourceProblem] = []
    for source in sources:
        path = Path(source).expanduser()
        if _URL.match(source) and not path.exists():
            repos.append(_from_url(source))
        elif path.is_file() and path.suffix == ".toml":
            found, more = _from_config(path)
            repos.extend(found)
            problems.extend(more)
        elif path.is_dir():
            found = _from_path(path.resolve())
            if not found:
                problems.append(SourceProblem(source, "directory holds no repositories"))
            repos.extend(found)
        elif path.exists():
            problems.append(
                SourceProblem(
                    source, "not a git repository, a directory of them, or a .toml config"
                )
            )
        else:
            problems.append(SourceProblem(source, "no such file, directory or URL"))
    unique: dict[str, RepoSource] = {}
    for repo in repos:
        if repo.name in unique and unique[repo.name].url != repo.url:
            problems.append(
                SourceProblem(
                    repo.url, f"repo name {repo.name!r} is taken by {unique[repo.name].url}"
                )
            )
            continue
        unique.setdefault(repo.name, repo)
    return list(unique.values()), problems
