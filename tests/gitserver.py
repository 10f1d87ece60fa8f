"""Git's smart HTTP protocol served on loopback by `git http-backend`, behind Basic auth.

Tests clone and fetch from it exactly as from a code host, credentials included.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from tests.helpers import make_repo

_PASSED_HEADERS = ("CONTENT_TYPE", "HTTP_CONTENT_ENCODING", "HTTP_GIT_PROTOCOL", "QUERY_STRING")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args) -> None:
        pass


class GitHttpServer:
    """Serves the bare repos under `root` at http://127.0.0.1:PORT/<path>.git to one user."""

    def __init__(self, root: Path, user: str, password: str) -> None:
        self.root = root
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.requests: list[str] = []  # "METHOD PATH status" of every request
        self.server = make_server(
            "127.0.0.1", 0, self.app, server_class=_Server, handler_class=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GitHttpServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def app(self, environ, start_response):
        line = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        if environ.get("HTTP_AUTHORIZATION") != self.expected:
            self.requests.append(f"{line} 401")
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b"authentication required\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.root),
            "REQUEST_METHOD": environ["REQUEST_METHOD"],
            "PATH_INFO": environ.get("PATH_INFO", ""),
            "REMOTE_USER": "git-user",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            **{k: environ[k] for k in _PASSED_HEADERS if k in environ},
        }
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        ).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = "200 OK", []
        for raw in head.decode("latin-1").split("\r\n"):
            name, _, value = raw.partition(":")
            if name.lower() == "status":
                status = value.strip()
            elif name:
                headers.append((name, value.strip()))
        self.requests.append(f"{line} {status.split()[0]}")
        start_response(status, headers)
        return [payload]


def serve_repos(tmp_path: Path, names: list[str]) -> dict[str, Path]:
    """A work tree per full name, and its bare copy under tmp_path/served (what git serves)."""
    works = {}
    for name in names:
        short = name.replace("/", "_")
        work = make_repo(
            tmp_path / "work",
            short,
            {
                "README.md": f"# {name}\n",
                "src/main.py": f"def handler_{short}():\n    return 'marker-{short}'\n",
            },
        )
        works[name] = work
        publish(tmp_path, name, work)
    return works


def publish(tmp_path: Path, name: str, work: Path) -> None:
    bare = tmp_path / "served" / f"{name}.git"
    if bare.exists():
        subprocess.run(
            ["git", "-C", str(work), "push", "-q", "--force", str(bare), "main"],
            check=True,
            capture_output=True,
        )
        return
    bare.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
