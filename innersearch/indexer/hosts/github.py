"""GitHub and GitHub Enterprise through PyGithub: an organization's (or a user's) repos.

Pagination follows the Link headers (PyGithub's PaginatedList); a rate limit restarts the
listing after the wait, or ends it with RateLimited when the wait is long.
"""

from __future__ import annotations

import requests
from github import Auth, Github, GithubException, UnknownObjectException

from . import HostError, HostInfo, HostRepo, HostSource, NeedsDetail, unix_time
from .http import MAX_RETRIES, TIMEOUT_S, rate_limit_wait, wait_or_raise


def _client(source: HostSource, token: str | None) -> Github:
    return Github(
        auth=Auth.Token(token) if token else None,
        base_url=source.api_url,
        per_page=100,
        timeout=TIMEOUT_S,
        retry=None,  # rate limits are handled here, with a bound on the wait
        seconds_between_requests=None,
        user_agent="innersearch",
    )


def _readers(repo, org: str) -> dict[str, list[str]]:
    """Collaborators and teams of a private repo (empty, so nobody extra, if not allowed)."""
    users: list[str] = []
    groups: list[str] = []
    try:
        users = sorted(c.login for c in repo.get_collaborators())
        groups = sorted(f"github:{org}/{t.slug}" for t in repo.get_teams())
    except UnknownObjectException:
        pass  # a token without admin rights on the repo: no readers beyond the rules
    except GithubException as err:
        if err.status not in (403, 404):
            raise
    return {"users": users, "groups": groups}


def _host_repo(repo, source: HostSource, detail: NeedsDetail) -> HostRepo:
    pushed = unix_time(repo.pushed_at)
    visibility = repo.visibility or ("private" if repo.private else "public")
    info = HostInfo(
        kind="github",
        full_name=repo.full_name,
        description=repo.description or "",
        topics=list(repo.topics or []),
        visibility=visibility,
        archived=bool(repo.archived),
        fork=bool(repo.fork),
        default_branch=repo.default_branch,
        pushed_at=pushed,
        web_url=repo.html_url or "",
    )
    if detail(info.full_name, pushed):
        if info.fork:  # the listing names no parent; the repo's own page does
            info.parent = repo.parent.full_name if repo.parent else None
        if info.visibility != "public":
            info.readers = _readers(repo, repo.full_name.split("/", 1)[0])
    return HostRepo(info, repo.clone_url)


def _list_once(source, token, only, detail) -> list[HostRepo]:
    gh = _client(source, token)
    if only is not None:
        found = []
        for name in sorted(only):
            try:
                found.append(_host_repo(gh.get_repo(name), source, detail))
            except UnknownObjectException:
                continue  # deleted meanwhile: the next full listing removes it
        return found
    try:
        repos = gh.get_organization(source.org).get_repos(type="all")
        out = [_host_repo(r, source, detail) for r in repos]
    except UnknownObjectException:
        repos = gh.get_user(source.org).get_repos(type="owner")
        out = [_host_repo(r, source, detail) for r in repos]
    return out


def list_repos(source: HostSource, token, only, detail) -> list[HostRepo]:
    for attempt in range(MAX_RETRIES + 1):
        try:
            return _list_once(source, token, only, detail)
        except UnknownObjectException as err:
            raise HostError(f"{source.label}: no such organization or user") from err
        except GithubException as err:
            wait = rate_limit_wait(err.status, err.headers or {})
            if wait is None:
                message = (err.data or {}).get("message", "") if isinstance(err.data, dict) else ""
                raise HostError(f"{source.label}: HTTP {err.status} {message}".rstrip()) from err
            wait_or_raise(wait, source.label, attempt)
        except requests.RequestException as err:
            raise HostError(f"{source.label}: cannot reach {source.api_url}") from err
    raise AssertionError("unreachable")  # wait_or_raise raises on the last attempt
