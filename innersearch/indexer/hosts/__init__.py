"""Code hosts (GitHub, GitLab, Gitea/Forgejo, Bitbucket Cloud): what a host says about a repo.

HostInfo is the typed form of the catalog's `repos.info["host"]`; file_url() links a file at
an indexed commit on its host; list_repos() lists an organization through the host's module.
"""

from __future__ import annotations

import base64
import fnmatch
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

KINDS = ("github", "gitlab", "gitea", "bitbucket")
DEFAULT_API_URLS = {
    "github": "https://api.github.com",
    "gitlab": "https://gitlab.com",
    "gitea": "https://gitea.com",
    "bitbucket": "https://api.bitbucket.org/2.0",
}
DEFAULT_TOKEN_ENV = {k: f"{k.upper()}_TOKEN" for k in KINDS}
# The user name each host expects beside a token in HTTP Basic auth for git.
_GIT_USER = {
    "github": "x-access-token",
    "gitlab": "oauth2",
    "gitea": "innersearch",
    "bitbucket": "x-token-auth",
}
VISIBILITIES = ("public", "internal", "private")


class HostError(RuntimeError):
    """Listing a source failed (bad token, unreachable host, unknown org): that source's error."""


class RateLimited(HostError):
    """The host asked to wait longer than a run waits: the source resumes next cycle."""

    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


@dataclass
class HostInfo:
    """What the code host knows about one repo (`repos.info["host"]` in the catalog)."""

    kind: str
    full_name: str
    description: str = ""
    topics: list[str] = field(default_factory=list)
    visibility: str = "public"  # public | internal | private
    archived: bool = False
    fork: bool = False
    parent: str | None = None  # full name of the repo it was forked from
    default_branch: str | None = None
    pushed_at: int | None = None  # unix time of the last push, as the host reports it
    web_url: str = ""
    # Who may read a private repo: logins, and groups "<kind>:<org>/<team-slug>".
    readers: dict[str, list[str]] = field(default_factory=lambda: {"users": [], "groups": []})
    detail_at: int | None = None  # unix time readers and parent were last asked of the host

    @classmethod
    def from_info(cls, info: dict | None) -> HostInfo | None:
        """The host part of a repo's info JSON, or None for a repo not from a code host."""
        raw = (info or {}).get("host")
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
            return None
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        host = cls(**known)
        host.topics = list(host.topics or [])
        host.readers = {
            "users": list((host.readers or {}).get("users", [])),
            "groups": list((host.readers or {}).get("groups", [])),
        }
        return host

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class HostRepo:
    """One repo of a listing: what the host says, and where git clones it from."""

    info: HostInfo
    clone_url: str  # the API's https clone URL, without credentials


@dataclass
class HostSource:
    """One `[[sources]]` entry naming a code-host organization (or `github:ORG`)."""

    kind: str
    org: str
    api_url: str = ""
    token_env: str = ""
    include_forks: bool = False
    include_archived: bool = False
    exclude: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.api_url = (self.api_url or DEFAULT_API_URLS[self.kind]).rstrip("/")
        self.token_env = self.token_env or DEFAULT_TOKEN_ENV[self.kind]

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.org}"

    def wanted(self, info: HostInfo) -> bool:
        if info.fork and not self.include_forks:
            return False
        if info.archived and not self.include_archived:
            return False
        short = info.full_name.rsplit("/", 1)[-1]
        return not any(
            fnmatch.fnmatchcase(info.full_name, p) or fnmatch.fnmatchcase(short, p)
            for p in self.exclude
        )


# Whether the listing should ask the host for details a listing lacks (readers, parent):
# called with (full_name, pushed_at); False for a repo unchanged since it was last indexed.
NeedsDetail = Callable[[str, "int | None"], bool]


def list_repos(
    source: HostSource,
    token: str | None,
    only: set[str] | None = None,
    needs_detail: NeedsDetail | None = None,
) -> list[HostRepo]:
    """The repos of `source` the config wants (`only`: just these full names, each asked for
    directly, for webhooks). Raises HostError when the listing fails."""
    from . import bitbucket, gitea, github, gitlab

    module = {"github": github, "gitlab": gitlab, "gitea": gitea, "bitbucket": bitbucket}
    detail = needs_detail or (lambda _name, _pushed: True)
    found = module[source.kind].list_repos(source, token, only, detail)
    if only is not None:
        return [r for r in found if r.info.full_name in only]
    return [r for r in found if source.wanted(r.info)]


def git_auth_header(kind: str, token: str | None) -> str | None:
    """The `http.extraHeader` that hands the token to git (see credentials.git_env)."""
    if not token:
        return None
    pair = f"{_GIT_USER[kind]}:{token}".encode()
    return "Authorization: Basic " + base64.b64encode(pair).decode()


def file_url(host: HostInfo | None, commit: str, path: str, line: int | None = None) -> str | None:
    """The page of `path` at `commit` (and `line`) on the code host, or None."""
    if host is None or not host.web_url or not commit:
        return None
    base = host.web_url.rstrip("/")
    quoted = urllib.parse.quote(path, safe="/")
    if host.kind == "github":
        url, anchor = f"{base}/blob/{commit}/{quoted}", "#L{}"
    elif host.kind == "gitlab":
        url, anchor = f"{base}/-/blob/{commit}/{quoted}", "#L{}"
    elif host.kind == "gitea":
        url, anchor = f"{base}/src/commit/{commit}/{quoted}", "#L{}"
    elif host.kind == "bitbucket":
        url, anchor = f"{base}/src/{commit}/{quoted}", "#lines-{}"
    else:
        return None
    return url + (anchor.format(line) if line else "")


def unix_time(value) -> int | None:
    """An ISO 8601 string or datetime from a host's JSON as unix seconds (None if absent)."""
    import datetime as dt

    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp())
