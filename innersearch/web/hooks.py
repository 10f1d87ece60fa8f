"""Webhook routes: POST /api/v1/hooks/github|gitlab|gitea|bitbucket, checked by signature.

A verified delivery is only queued in the catalog (any web worker may take it); the one sync
loop of `serve --sync-interval` debounces and indexes it. Answers say "accepted" or
"ignored" and nothing about repos.
"""

from __future__ import annotations

import os

from flask import Blueprint, jsonify, request

from innersearch.indexer.hosts import KINDS, webhooks

from . import errors, state
from .bodies import HookReply

bp = Blueprint("hooks", __name__, url_prefix="/api/v1/hooks")
SECRET_ENV = "INNERSEARCH_WEBHOOK_SECRET"


@bp.post("/<kind>")
def receive(kind: str):
    if kind not in KINDS:
        raise errors.not_found(f"no webhook route for {kind!r}")
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise errors.ApiError(403, f"webhooks are off: ${SECRET_ENV} is not set")
    body = request.get_data(cache=False)
    if not webhooks.verify(kind, secret, request.headers, body):
        raise errors.ApiError(401, "bad or missing webhook signature")
    event = webhooks.parse(kind, request.headers, body)
    if event is None:
        return jsonify(HookReply("ignored").to_json()), 202
    store = state.store()
    with store.catalog.write() as tx:
        tx.enqueue_hook(event.kind, event.repo, event.action)
    return jsonify(HookReply("accepted").to_json()), 202
