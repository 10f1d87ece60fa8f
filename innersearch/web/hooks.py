"""Webhook routes: POST /api/v1/hooks/github|gitlab|gitea|bitbucket, checked by signature.

A verified delivery is only queued in the catalog (any web worker may take it); the one sync
loop of `serve --sync-interval` debounces and indexes it. Answers say "accepted" or
"ignored" and nothing about repos. `verified` and `reply` are shared with `serve --ray`'s
routes (fanout_hooks.py), which queue elsewhere.
"""

from __future__ import annotations

import os

from flask import Blueprint, jsonify, request

from innersearch.indexer.hosts import KINDS, webhooks

from . import errors, state
from .bodies import HookReply

bp = Blueprint("hooks", __name__, url_prefix="/api/v1/hooks")
SECRET_ENV = "INNERSEARCH_WEBHOOK_SECRET"


def verified(kind: str) -> webhooks.HookEvent | None:
    """The event of this request's delivery once its signature holds (None: an event that
    indexes nothing). 404 for an unknown host kind, 403 while no secret is set, 401 for a
    missing or wrong signature: raised before anything is queued."""
    if kind not in KINDS:
        raise errors.not_found(f"no webhook route for {kind!r}")
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise errors.ApiError(403, f"webhooks are off: ${SECRET_ENV} is not set")
    body = request.get_data(cache=False)
    if not webhooks.verify(kind, secret, request.headers, body):
        raise errors.ApiError(401, "bad or missing webhook signature")
    return webhooks.parse(kind, request.headers, body)


def reply(status: str):
    """202 with the HookReply: the delivery was taken, indexing follows in the background."""
    return jsonify(HookReply(status).to_json()), 202


@bp.post("/<kind>")
def receive(kind: str):
    event = verified(kind)
    if event is None:
        return reply("ignored")
    store = state.store()
    with store.catalog.write() as tx:
        tx.enqueue_hook(event.kind, event.repo, event.action)
    return reply("accepted")
