"""`serve --ray`: the webhook routes, checked and answered as on one machine (hooks.py's
`verified` and `reply`); a verified delivery goes to the cluster's webhook queue.

The backend's `hooks()` is that queue (cluster/hooks.py): it debounces the pushes and
re-indexes each pushed repo on the node of the shard that owns it. The request only waits
for the queue to hold the event (a 503 when it does not in time: the code host retries).
"""

from __future__ import annotations

from flask import Blueprint, Flask

from . import errors
from .fanout_calls import backend
from .hooks import reply, verified

bp = Blueprint("hooks", __name__, url_prefix="/api/v1/hooks")


@bp.post("/<kind>")
def receive(kind: str):
    event = verified(kind)
    if event is None:
        return reply("ignored")
    try:
        backend().hooks().enqueue(event)
    except ConnectionError as err:
        raise errors.ApiError(503, str(err)) from err
    return reply("accepted")


def install(app: Flask) -> None:
    app.register_blueprint(bp)
