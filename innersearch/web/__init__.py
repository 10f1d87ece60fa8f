"""The web layer: a Flask app factory serving the JSON API (/api/v1) and the HTML UI (/).

create_app(store) wires the blueprints, error handlers and security headers around one Store.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, jsonify

from innersearch.indexer.store import Store

from . import errors, state

# Search results kept per index generation; enough for the queries a team repeats.
DEFAULT_CACHE_ENTRIES = 256


def create_app(
    store: Store | None = None,
    data_dir: str | Path | None = None,
    cache_entries: int = DEFAULT_CACHE_ENTRIES,
) -> Flask:
    """The app serving `store` (or the Store opened from `data_dir`; raises StoreError).
    `cache_entries` bounds the search result cache (0 disables it)."""
    from . import api, ui

    app = Flask(__name__)
    app.json.sort_keys = False  # keep the documented field order; it also saves time
    app.config["MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024  # a pasted snippet, not an upload
    state.attach(app, store if store is not None else Store.open(data_dir), cache_entries)
    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(ui.bp)
    ui.register_filters(app)

    @app.get("/healthz")
    def healthz():
        snap = state.snapshot()
        return jsonify({"status": "ok", "generation": snap.generation, "repos": len(snap.repos)})

    @app.after_request
    def _headers(response: Response) -> Response:
        # Everything is served from here: no inline script, no third-party origin.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
            "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
