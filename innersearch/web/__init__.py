"""The web layer: a Flask app factory serving the JSON API (/api/v1) and the HTML UI (/).

create_app(store) wires the blueprints, error handlers and security headers around one Store.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from flask import Flask, Response, jsonify, request

from innersearch.indexer.store import Store
from innersearch.indexer.tokens import open_tokens

from . import errors, state
from .auth import AuthSettings
from .auth import install as install_auth
from .bodies import Health

# Search results kept per index generation; enough for the queries a team repeats.
DEFAULT_CACHE_ENTRIES = 256


def _host_name(host: str) -> str:
    """The name in a Host header, without its port: `[::1]:8080` -> `::1`."""
    if host.startswith("["):
        return host[1 : host.find("]")].lower()
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


def create_app(
    store: Store | None = None,
    data_dir: str | Path | None = None,
    cache_entries: int = DEFAULT_CACHE_ENTRIES,
    allowed_hosts: set[str] | None = None,
    auth: AuthSettings | None = None,
) -> Flask:
    """The app serving `store` (or the Store opened from `data_dir`; raises StoreError).
    `cache_entries` bounds the search result cache (0 disables it); `allowed_hosts` (host
    names, without port) are the only Host headers answered (None: any); `auth`: who the
    requests act for (None: no authentication, every repo shown)."""
    from . import api, hooks, jsonprovider, pages, ui

    app = Flask(__name__)
    jsonprovider.install(app)
    app.config["MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024  # a pasted snippet, not an upload
    store = store if store is not None else Store.open(data_dir)
    auth = auth or AuthSettings()
    state.attach(app, store, cache_entries, auth)
    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(hooks.bp)
    ui.install(app, pages.LocalPages())

    install_guards(app, allowed_hosts)
    tokens = open_tokens(store.data) if "token" in auth.modes else None
    install_auth(app, auth, tokens)

    @app.get("/healthz")
    def healthz():
        if not state.signed_in():  # public: a load balancer learns only that it is up
            return jsonify(Health("ok").to_json())
        snap = state.snapshot()
        return jsonify(Health("ok", snap.generation, len(snap.repos)).to_json())

    return app


def install_guards(app: Flask, allowed_hosts: set[str] | None) -> None:
    """What every app of this package refuses (foreign Host headers, query strings that are
    not UTF-8) and the security headers on every response."""

    @app.before_request
    def _refuse_foreign_hosts_and_bad_utf8():
        # DNS rebinding: a page of another site that resolves its name to 127.0.0.1 must not
        # read a local instance, so a server on loopback answers only loopback names.
        if allowed_hosts is not None and _host_name(request.host) not in allowed_hosts:
            raise errors.ApiError(400, f"unknown Host header {request.host!r}")
        try:  # a %-escape that is not UTF-8 (werkzeug would turn it into U+FFFD silently)
            urllib.parse.parse_qsl(request.query_string.decode("latin-1"), errors="strict")
        except UnicodeDecodeError:
            raise errors.bad_request("the query string is not valid UTF-8") from None

    @app.after_request
    def _headers(response: Response) -> Response:
        # Everything is served from here: no inline script, no third-party origin.
        response.headers.setdefault(
            "Content-Security-Policy",
            # img-src without https: a README's remote image would tell a third party who
            # reads it; images from this server (the repo's own files) still show.
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
