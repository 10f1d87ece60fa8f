"""Bitbucket Cloud: a workspace's repositories over the 2.0 REST API.

A thin client over requests (Atlassian's Python client is for the Server edition); pages
follow the `next` link in each JSON page.
"""

from __future__ import annotations

import base64

from . import HostError, HostInfo, HostRepo, HostSource, NeedsDetail, unix_time
from .http import NotFound, get_json, session


def _auth(token: str | None) -> dict[str, str] | None:
    """A workspace/repository access token (Bearer), or `user:app-password` (Basic)."""
    if not token:
        return None
    if ":" in token:
        return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}
    return {"Authorization": f"Bearer {token}"}


def _pages(s, url: str, params: dict | None = None) -> list[dict]:
    items: list[dict] = []
    next_url: str | None = url
    while next_url:
        page, _ = get_json(s, next_url, params)
        items.extend(page.get("values", []))
        next_url = page.get("next")
        params = None  # `next` is a complete URL
    return items


def _readers(s, api: str, full_name: str) -> dict[str, list[str]]:
    """Users and groups with explicit permissions (admin rights needed; else none)."""
    ws = full_name.split("/", 1)[0]
    base = f"{api}/repositories/{full_name}/permissions-config"
    try:
        users = sorted(p["user"]["nickname"] for p in _pages(s, f"{base}/users"))
        groups = sorted(f"bitbucket:{ws}/{p['group']['slug']}" for p in _pages(s, f"{base}/groups"))
    except (NotFound, HostError, KeyError):
        return {"users": [], "groups": []}
    return {"users": users, "groups": groups}


def _host_repo(s, api: str, r: dict, detail: NeedsDetail) -> HostRepo:
    pushed = unix_time(r.get("updated_on"))
    clone = next(
        (c["href"] for c in r.get("links", {}).get("clone", []) if c.get("name") == "https"), ""
    )
    info = HostInfo(
        kind="bitbucket",
        full_name=r["full_name"],
        description=r.get("description") or "",
        visibility="private" if r.get("is_private") else "public",
        fork=r.get("parent") is not None,
        parent=(r.get("parent") or {}).get("full_name"),
        default_branch=(r.get("mainbranch") or {}).get("name"),
        pushed_at=pushed,
        web_url=r.get("links", {}).get("html", {}).get("href", ""),
    )
    if info.visibility != "public" and detail(info.full_name, pushed):
        info.readers = _readers(s, api, info.full_name)
    return HostRepo(info, clone)


def list_repos(source: HostSource, token, only, detail) -> list[HostRepo]:
    s = session(_auth(token))
    api = source.api_url
    if only is not None:
        found = []
        for name in sorted(only):
            try:
                r, _ = get_json(s, f"{api}/repositories/{name}")
            except NotFound:
                continue
            found.append(_host_repo(s, api, r, detail))
        return found
    try:
        repos = _pages(s, f"{api}/repositories/{source.org}", {"pagelen": 100})
    except NotFound as err:
        raise NotFound(f"{source.label}: no such workspace") from err
    return [_host_repo(s, api, r, detail) for r in repos]
