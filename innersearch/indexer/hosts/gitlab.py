"""GitLab (gitlab.com or self-managed) through python-gitlab: a group's projects, subgroups in.

python-gitlab follows the Link/X-Next-Page pagination; rate limits are waited out (or end the
listing) by the shared session of http.py.
"""

from __future__ import annotations

import gitlab
import requests

from . import HostError, HostInfo, HostRepo, HostSource, NeedsDetail, unix_time
from .http import TIMEOUT_S, session


def _client(source: HostSource, token: str | None) -> gitlab.Gitlab:
    base = source.api_url.removesuffix("/api/v4")
    return gitlab.Gitlab(
        base,
        private_token=token or None,
        session=session(),  # waits out rate limits before python-gitlab sees a 429
        per_page=100,
        timeout=TIMEOUT_S,
    )


def _readers(gl: gitlab.Gitlab, attrs: dict) -> dict[str, list[str]]:
    """Members (inherited ones too) as users; the owning and sharing groups as groups."""
    groups = []
    namespace = attrs.get("namespace") or {}
    if namespace.get("kind") == "group":
        groups.append(f"gitlab:{namespace['full_path']}")
    groups += [f"gitlab:{g['group_full_path']}" for g in attrs.get("shared_with_groups") or []]
    users: list[str] = []
    try:
        project = gl.projects.get(attrs["id"], lazy=True)
        users = sorted(m.username for m in project.members_all.list(iterator=True))
    except gitlab.exceptions.GitlabError as err:
        if getattr(err, "response_code", None) not in (403, 404):
            raise
    return {"users": users, "groups": sorted(set(groups))}


def _host_repo(gl, attrs: dict, detail: NeedsDetail) -> HostRepo:
    pushed = unix_time(attrs.get("last_activity_at"))
    parent = (attrs.get("forked_from_project") or {}).get("path_with_namespace")
    info = HostInfo(
        kind="gitlab",
        full_name=attrs["path_with_namespace"],
        description=attrs.get("description") or "",
        topics=list(attrs.get("topics") or attrs.get("tag_list") or []),
        visibility=attrs.get("visibility") or "private",
        archived=bool(attrs.get("archived")),
        fork=parent is not None,
        parent=parent,
        default_branch=attrs.get("default_branch"),
        pushed_at=pushed,
        web_url=attrs.get("web_url") or "",
    )
    if info.visibility != "public" and detail(info.full_name, pushed):
        info.readers = _readers(gl, attrs)
    return HostRepo(info, attrs["http_url_to_repo"])


def list_repos(source: HostSource, token, only, detail) -> list[HostRepo]:
    gl = _client(source, token)
    try:
        if only is not None:
            found = []
            for name in sorted(only):
                try:
                    found.append(_host_repo(gl, gl.projects.get(name).attributes, detail))
                except gitlab.exceptions.GitlabGetError as err:
                    if err.response_code != 404:
                        raise
            return found
        group = gl.groups.get(source.org)
        projects = group.projects.list(include_subgroups=True, iterator=True)
        return [_host_repo(gl, p.attributes, detail) for p in projects]
    except gitlab.exceptions.GitlabAuthenticationError as err:
        raise HostError(f"{source.label}: 401 Unauthorized (bad or missing token)") from err
    except gitlab.exceptions.GitlabGetError as err:
        if err.response_code == 404:
            raise HostError(f"{source.label}: no such group") from err
        raise HostError(f"{source.label}: HTTP {err.response_code}") from err
    except gitlab.exceptions.GitlabError as err:
        raise HostError(f"{source.label}: HTTP {getattr(err, 'response_code', '?')}") from err
    except requests.RequestException as err:
        raise HostError(f"{source.label}: cannot reach {source.api_url}") from err
