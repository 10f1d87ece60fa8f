"""Fake code-host REST APIs (GitHub, GitLab, Gitea, Bitbucket Cloud) on loopback, for tests.

No real code host can run here. Each fake is a small WSGI app answering the listing routes
with the fields, pagination (Link / X-Next-Page / `next`), 401s and rate-limit answers
(403 or 429 with X-RateLimit-* / Retry-After) each host's REST documentation shows. The
clone URLs point at a real git smart-HTTP server (tests/gitserver.py).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from wsgiref.simple_server import make_server

from tests.gitserver import _QuietHandler, _Server

# The token the fake hosts accept, and the user name each host's git expects with it.
TOKEN = "ghp-Canary-51d0c7"
GIT_USER = {
    "github": "x-access-token",
    "gitlab": "oauth2",
    "gitea": "innersearch",
    "bitbucket": "x-token-auth",
}


@dataclass
class FakeRepo:
    full_name: str
    description: str = ""
    topics: list[str] = field(default_factory=list)
    visibility: str = "public"
    archived: bool = False
    parent: str | None = None  # a fork of this full name
    default_branch: str = "main"
    pushed_at: int = 1_700_000_000
    collaborators: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)  # team slugs (GitLab: group paths)


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class FakeHost:
    """One host of `kind` at http://127.0.0.1:PORT serving `repos`; git at `git_url`."""

    def __init__(self, kind: str, repos: list[FakeRepo], token: str, git_url: str, per_page=2):
        self.kind = kind
        self.repos = repos
        self.token = token
        self.git_url = git_url
        self.per_page = per_page  # small, so that every listing spans pages
        self.requests: list[str] = []  # "METHOD PATH?QUERY status"
        # path -> (status, headers, body) answered once instead of the real answer
        self.fail_once: dict[str, tuple[int, dict[str, str], dict]] = {}
        self.server = make_server(
            "127.0.0.1", 0, self.app, server_class=_Server, handler_class=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHost:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def api_url(self) -> str:
        return {"github": self.url, "gitlab": self.url, "gitea": self.url}.get(
            self.kind, self.url + "/2.0"
        )

    def repo(self, full_name: str) -> FakeRepo:
        return next(r for r in self.repos if r.full_name == full_name)

    # -- WSGI ---------------------------------------------------------------------------

    def app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        status, headers, body = self._answer(environ, path, query)
        self.requests.append(f"{environ['REQUEST_METHOD']} {path} {status}")
        reason = {
            200: "OK",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            429: "Too Many Requests",
        }[status]
        data = json.dumps(body).encode()
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json; charset=utf-8"), *headers.items()],
        )
        return [data]

    def _authorized(self, environ) -> bool:
        if self.kind == "gitlab":
            return environ.get("HTTP_PRIVATE_TOKEN") == self.token
        auth = environ.get("HTTP_AUTHORIZATION", "")
        return auth in (f"token {self.token}", f"Bearer {self.token}")

    def _answer(self, environ, path, query):
        if path in self.fail_once:
            return self.fail_once.pop(path)
        if not self._authorized(environ):
            message = {"github": "Bad credentials", "gitlab": "401 Unauthorized"}
            return 401, {}, {"message": message.get(self.kind, "Unauthorized")}
        handler = getattr(self, f"_{self.kind}")
        found = handler(path, query)
        return found if found is not None else (404, {}, {"message": "Not Found"})

    def _page(self, items: list, query: dict, size_param: str, path: str):
        size = min(int(query.get(size_param, self.per_page)), self.per_page)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * size : page * size]
        more = page * size < len(items)
        base = f"{self.url}{path}"
        headers = {}
        if more:
            nxt = urllib.parse.urlencode({**query, "page": page + 1, size_param: size})
            headers["Link"] = f'<{base}?{nxt}>; rel="next"'
        return chunk, headers, more, page

    # -- GitHub (docs.github.com/rest/repos/repos) ---------------------------------------

    def _gh_repo(self, r: FakeRepo, full: bool) -> dict:
        owner, name = r.full_name.split("/", 1)
        out = {
            "id": abs(hash(r.full_name)) % 10**8,
            "name": name,
            "full_name": r.full_name,
            "owner": {"login": owner, "type": "Organization"},
            "private": r.visibility != "public",
            "html_url": f"https://github.example/{r.full_name}",
            "description": r.description or None,
            "fork": r.parent is not None,
            "url": f"{self.url}/repos/{r.full_name}",
            "clone_url": f"{self.git_url}/{r.full_name}.git",
            "default_branch": r.default_branch,
            "topics": r.topics,
            "visibility": r.visibility,
            "archived": r.archived,
            "pushed_at": _iso(r.pushed_at),
        }
        if full and r.parent:  # only GET /repos/{owner}/{repo} names the parent
            out["parent"] = {"full_name": r.parent, "url": f"{self.url}/repos/{r.parent}"}
        return out

    def _github(self, path: str, query: dict):
        parts = path.strip("/").split("/")
        if parts[0] == "orgs" and len(parts) == 2:
            org = parts[1]
            if not any(r.full_name.startswith(org + "/") for r in self.repos):
                return None
            return 200, {}, {"login": org, "url": f"{self.url}/orgs/{org}"}
        if parts[0] == "orgs" and len(parts) == 3 and parts[2] == "repos":
            mine = [r for r in self.repos if r.full_name.startswith(parts[1] + "/")]
            chunk, headers, _more, _ = self._page(mine, query, "per_page", path)
            headers.update({"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999"})
            return 200, headers, [self._gh_repo(r, False) for r in chunk]
        if parts[0] == "repos" and len(parts) >= 3:
            full = "/".join(parts[1:3])
            try:
                r = self.repo(full)
            except StopIteration:
                return None
            if len(parts) == 3:
                return 200, {}, self._gh_repo(r, True)
            if parts[3] == "collaborators":
                return 200, {}, [{"login": u, "type": "User"} for u in r.collaborators]
            if parts[3] == "teams":
                return 200, {}, [{"slug": t, "name": t.title()} for t in r.teams]
        return None

    # -- GitLab (docs.gitlab.com/api/groups, /api/projects) -----------------------------

    def _gl_project(self, r: FakeRepo) -> dict:
        namespace, _, name = r.full_name.rpartition("/")
        out = {
            "id": self.repos.index(r) + 1,
            "name": name,
            "path": name,
            "path_with_namespace": r.full_name,
            "description": r.description or None,
            "default_branch": r.default_branch,
            "topics": r.topics,
            "visibility": r.visibility,
            "archived": r.archived,
            "last_activity_at": _iso(r.pushed_at),
            "web_url": f"https://gitlab.example/{r.full_name}",
            "http_url_to_repo": f"{self.git_url}/{r.full_name}.git",
            "namespace": {"kind": "group", "full_path": namespace},
            "shared_with_groups": [{"group_full_path": t} for t in r.teams],
        }
        if r.parent:
            out["forked_from_project"] = {"path_with_namespace": r.parent}
        return out

    def _gitlab(self, path: str, query: dict):
        if not path.startswith("/api/v4/"):
            return None
        rest = path.removeprefix("/api/v4/")
        # The path arrives %-decoded: a group or project path holds slashes.
        if rest.startswith("groups/"):
            ident = rest.removeprefix("groups/")
            projects = ident.endswith("/projects")
            ident = ident.removesuffix("/projects")
            group = "platform" if ident == "1" else ident
            mine = [r for r in self.repos if r.full_name.startswith(group + "/")]
            if not mine:
                return None
            if not projects:
                return 200, {}, {"id": 1, "full_path": group, "path": group.rsplit("/")[-1]}
            chunk, headers, more, page = self._page(mine, query, "per_page", path)
            headers.update(
                {"X-Page": str(page), "X-Per-Page": str(self.per_page), "X-Total": str(len(mine))}
            )
            headers["X-Next-Page"] = str(page + 1) if more else ""
            return 200, headers, [self._gl_project(r) for r in chunk]
        if rest.startswith("projects/"):
            ident = rest.removeprefix("projects/")
            members = ident.endswith("/members/all")
            ident = ident.removesuffix("/members/all")
            for i, r in enumerate(self.repos):
                if ident in (str(i + 1), r.full_name):
                    if members:
                        return 200, {}, [{"username": u} for u in r.collaborators]
                    return 200, {}, self._gl_project(r)
        return None

    # -- Gitea (gitea.com/api/swagger) ---------------------------------------------------

    def _gt_repo(self, r: FakeRepo) -> dict:
        return {
            "full_name": r.full_name,
            "description": r.description,
            "private": r.visibility == "private",
            "internal": r.visibility == "internal",
            "archived": r.archived,
            "fork": r.parent is not None,
            "parent": {"full_name": r.parent} if r.parent else None,
            "default_branch": r.default_branch,
            "updated_at": _iso(r.pushed_at),
            "html_url": f"https://gitea.example/{r.full_name}",
            "clone_url": f"{self.git_url}/{r.full_name}.git",
            "topics": r.topics,
        }

    def _gitea(self, path: str, query: dict):
        parts = path.removeprefix("/api/v1/").split("/")
        if parts[0] == "orgs" and len(parts) == 3 and parts[2] == "repos":
            mine = [r for r in self.repos if r.full_name.startswith(parts[1] + "/")]
            if not mine:
                return None
            chunk, headers, _more, _ = self._page(mine, query, "limit", path)
            headers["X-Total-Count"] = str(len(mine))
            return 200, headers, [self._gt_repo(r) for r in chunk]
        if parts[0] == "repos" and len(parts) >= 3:
            try:
                r = self.repo("/".join(parts[1:3]))
            except StopIteration:
                return None
            if len(parts) == 3:
                return 200, {}, self._gt_repo(r)
            if parts[3] == "collaborators":
                return 200, {}, [{"login": u} for u in r.collaborators]
            if parts[3] == "teams":
                return 200, {}, [{"name": t} for t in r.teams]
        return None

    # -- Bitbucket Cloud (developer.atlassian.com/cloud/bitbucket/rest) ------------------

    def _bb_repo(self, r: FakeRepo) -> dict:
        return {
            "type": "repository",
            "full_name": r.full_name,
            "description": r.description,
            "is_private": r.visibility != "public",
            "parent": {"full_name": r.parent} if r.parent else None,
            "mainbranch": {"type": "branch", "name": r.default_branch},
            "updated_on": _iso(r.pushed_at).replace("Z", "+00:00"),
            "links": {
                "html": {"href": f"https://bitbucket.example/{r.full_name}"},
                "clone": [
                    {
                        "name": "https",
                        "href": self.git_url.replace("://", "://someone@", 1)
                        + f"/{r.full_name}.git",
                    },
                    {"name": "ssh", "href": f"git@bitbucket.example:{r.full_name}.git"},
                ],
            },
        }

    def _bitbucket(self, path: str, query: dict):
        parts = path.removeprefix("/2.0/").split("/")
        if parts[0] != "repositories":
            return None
        if len(parts) == 2:
            mine = [r for r in self.repos if r.full_name.startswith(parts[1] + "/")]
            if not mine:
                return None
            chunk, _headers, more, page = self._page(mine, query, "pagelen", path)
            body = {
                "pagelen": self.per_page,
                "page": page,
                "size": len(mine),
                "values": [self._bb_repo(r) for r in chunk],
            }
            if more:
                nxt = urllib.parse.urlencode({**query, "page": page + 1})
                body["next"] = f"{self.url}{path}?{nxt}"
            return 200, {}, body
        try:
            r = self.repo("/".join(parts[1:3]))
        except StopIteration:
            return None
        if len(parts) == 3:
            return 200, {}, self._bb_repo(r)
        if parts[3:] == ["permissions-config", "users"]:
            values = [{"permission": "read", "user": {"nickname": u}} for u in r.collaborators]
            return 200, {}, {"values": values}
        if parts[3:] == ["permissions-config", "groups"]:
            return 200, {}, {"values": [{"group": {"slug": t}} for t in r.teams]}
        return None
