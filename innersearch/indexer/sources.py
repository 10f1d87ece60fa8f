"""Turning `innersearch index SOURCE...` arguments into the list of repositories to mirror.

A SOURCE is a directory of repos, one repo, a git URL, a code-host organization
(`github:ORG`, `gitlab:GROUP`, `gitea:ORG`, `bitbucket:WORKSPACE`), or a TOML config file
listing sources, extra branches per repo and excludes (format in docs/architecture.md).
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import hosts
from .credentials import redact, split_url
from .gitread import looks_like_repo

# How old a private repo's readers (and a fork's parent) may get before a listing asks the
# host again although nothing was pushed: the bound on how long a reader the host removed
# keeps access. Two requests a private repo an hour stay well inside GitHub's 5,000 an hour
# for an organization of a thousand private repos.
DETAIL_MAX_AGE_S = 3600

_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.I)
_HOST_SHORTHAND = re.compile(r"^(github|gitlab|gitea|bitbucket):([\w.-][\w./-]*)$")


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
    host: dict | None = None  # HostInfo.to_dict() of a repo listed from a code host
    force: bool = False  # fetch even when the host reports no push since the last index


@dataclass
class SourceProblem:
    """A source that could not be turned into repos: reported per source, others go on."""

    source: str
    message: str


@dataclass
class HostListing:
    """How listing one code-host source went: shown per source by `innersearch status`."""

    label: str  # github:acme
    api_url: str
    repos: int = 0
    error: str = ""
    seconds: float = 0.0
    # False when only pushed repos were asked for (a webhook run): `repos` counts those,
    # not the source's, and the source's count from its last full listing stands.
    complete: bool = True


@dataclass
class ResolveOptions:
    """What a run asks of code-host listings beside the sources themselves."""

    only: set[str] | None = None  # just these repos (webhook pushes), fetched in any case
    known_pushes: dict[str, int | None] = field(default_factory=dict)  # stored pushed_at
    known_details: dict[str, int | None] = field(default_factory=dict)  # stored detail_at
    listings: list[HostListing] = field(default_factory=list)  # filled in by resolve()


def _from_host(
    spec: hosts.HostSource, options: ResolveOptions
) -> tuple[list[RepoSource], list[SourceProblem]]:
    """The repos a code host lists for `spec`; a failed listing is a problem of that source."""
    started = time.monotonic()
    listing = HostListing(spec.label, spec.api_url)
    options.listings.append(listing)
    token = os.environ.get(spec.token_env) or None
    only = None
    if options.only is not None:
        listing.complete = False
        prefix = spec.org.lower().rstrip("/") + "/"
        only = {n for n in options.only if n.lower().startswith(prefix)}
        if not only:
            return [], []

    now = int(time.time())
    asked: set[str] = set()

    def needs_detail(name: str, pushed: int | None) -> bool:
        # Details (readers, parent) cost requests per repo: for repos to be fetched, and
        # otherwise once per DETAIL_MAX_AGE_S, so a reader the host removed loses access
        # within that time even when nobody pushes.
        stale = now - (options.known_details.get(name) or 0) >= DETAIL_MAX_AGE_S
        changed = pushed is None or options.known_pushes.get(name) != pushed
        if only is not None or changed or stale:
            asked.add(name)
            return True
        return False

    try:
        found = hosts.list_repos(spec, token, only, needs_detail)
    except hosts.HostError as err:
        listing.error = redact(str(err))
        listing.seconds = time.monotonic() - started
        return [], [SourceProblem(spec.label, listing.error)]
    auth = hosts.git_auth_header(spec.kind, token)
    repos = []
    for r in found:
        if r.info.full_name in asked:
            r.info.detail_at = now
        clean, in_url = split_url(r.clone_url)  # a host may put a user name in clone URLs
        repos.append(
            RepoSource(
                r.info.full_name,
                clean,
                auth_header=auth or in_url,
                host=r.info.to_dict(),
                force=only is not None,
            )
        )
    listing.repos = len(repos)
    listing.seconds = time.monotonic() - started
    return repos, []


def host_source(entry: dict) -> hosts.HostSource | None:
    """The code-host source a config entry names (None: not a code-host entry)."""
    kind = next((k for k in hosts.KINDS if k in entry), None)
    if kind is None:
        return None
    return hosts.HostSource(
        kind,
        str(entry[kind]).strip("/"),
        api_url=str(entry.get("api_url", "")),
        token_env=str(entry.get("token_env", "")),
        include_forks=bool(entry.get("include_forks", False)),
        include_archived=bool(entry.get("include_archived", False)),
        exclude=[str(p) for p in entry.get("exclude", [])],
    )


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


def _from_config(
    path: Path, options: ResolveOptions
) -> tuple[list[RepoSource], list[SourceProblem]]:
    try:
        config = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SourceError(f"{path}: not a valid TOML config: {err}") from err
    base = path.parent
    repos: list[RepoSource] = []
    problems: list[SourceProblem] = []
    for i, entry in enumerate(config.get("sources", [])):
        spec = host_source(entry)
        if spec is not None:
            found, more = _from_host(spec, options)
            problems.extend(more)
        elif "url" in entry:
            found = [_from_url(entry["url"], entry.get("name"))]
        elif "path" in entry:
            found, more = resolve([str((base / entry["path"]).resolve())], options)
            problems.extend(more)
            if "name" in entry and len(found) == 1:
                found[0].name = entry["name"]
        else:
            problems.append(
                SourceProblem(str(path), f"sources[{i}] needs `path`, `url` or a code host")
            )
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


def resolve(
    sources: list[str], options: ResolveOptions | None = None
) -> tuple[list[RepoSource], list[SourceProblem]]:
    """All repos named by the sources, unique by name (the first source wins). With
    `options.only`, just those repos (other sources are not read)."""
    options = options if options is not None else ResolveOptions()
    repos: list[RepoSource] = []
    problems: list[SourceProblem] = []
    for source in sources:
        path = Path(source).expanduser()
        shorthand = _HOST_SHORTHAND.match(source)
        if shorthand and not path.exists():
            found, more = _from_host(hosts.HostSource(shorthand[1], shorthand[2]), options)
            repos.extend(found)
            problems.extend(more)
        elif _URL.match(source) and not path.exists():
            repos.append(_from_url(source))
        elif path.is_file() and path.suffix == ".toml":
            found, more = _from_config(path, options)
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
    found = list(unique.values())
    if options.only is not None:
        found = [r for r in found if r.name in options.only]
        for r in found:
            r.force = True
    return found, problems
