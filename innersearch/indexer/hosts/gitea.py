"""Gitea and Forgejo: an organization's (or a user's) repos over the REST API (/api/v1).

No well-kept Python client exists; this is a thin one over requests. Pages follow the Link
header (rel="next").
"""

from __future__ import annotations

from . import HostInfo, HostRepo, HostSource, NeedsDetail, unix_time
from .http import NotFound, get_json, session


def _api(source: HostSource) -> str:
    base = source.api_url
    return base if base.endswith("/api/v1") else base + "/api/v1"


def _pages(s, url: str) -> list[dict]:
    items: list[dict] = []
    next_url: str | None = url
    params: dict | None = {"limit": 50}
    while next_url:
        page, response = get_json(s, next_url, params)
        items.extend(page)
        next_url = response.links.get("next", {}).get("url")
        params = None  # the next link carries the query
    return items


def _readers(s, api: str, full_name: str) -> dict[str, list[str]]:
    org = full_name.split("/", 1)[0]
    users: list[str] = []
    groups: list[str] = []
    try:
        users = sorted(u["login"] for u in _pages(s, f"{api}/repos/{full_name}/collaborators"))
        teams = _pages(s, f"{api}/repos/{full_name}/teams")
        groups = sorted(f"gitea:{org}/{t['name']}" for t in teams)
    except NotFound:
        pass  # not an organization repo, or a token without admin rights
    return {"users": users, "groups": groups}


def _host_repo(s, api: str, r: dict, detail: NeedsDetail) -> HostRepo:
    pushed = unix_time(r.get("updated_at"))
    visibility = "private" if r.get("private") else "internal" if r.get("internal") else "public"
    info = HostInfo(
        kind="gitea",
        full_name=r["full_name"],
        description=r.get("description") or "",
        topics=list(r.get("topics") or []),
        visibility=visibility,
        archived=bool(r.get("archived")),
        fork=bool(r.get("fork")),
        parent=(r.get("parent") or {}).get("full_name"),
        default_branch=r.get("default_branch"),
        pushed_at=pushed,
        web_url=r.get("html_url") or "",
    )
    if visibility != "public" and detail(info.full_name, pushed):
        info.readers = _readers(s, api, info.full_name)
    return HostRepo(info, r["clone_url"])


def list_repos(source: HostSource, token, only, detail) -> list[HostRepo]:
    s = session({"Authorization": f"token {token}"} if token else None)
    api = _api(source)
    if only is not None:
        found = []
        for name in sorted(only):
            try:
                found.append(_host_repo(s, api, get_json(s, f"{api}/repos/{name}")[0], detail))
            except NotFound:
                continue
        return found
    try:
        repos = _pages(s, f"{api}/orgs/{source.org}/repos")
    except NotFound:
        try:
            repos = _pages(s, f"{api}/users/{source.org}/repos")
        except NotFound as err:
            raise NotFound(f"{source.label}: no such organization or user") from err
    return [_host_repo(s, api, r, detail) for r in repos]
