"""The web layer's own small answers: the error body, liveness and a webhook's reply. Typed
like every other answer, so web/openapi.py generates their schemas too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from innersearch.indexer.jsonresult import JsonResult, optional


@dataclass(slots=True)
class Error(JsonResult):
    """Every error under /api (and of /healthz): what went wrong; for a query error,
    `position` is where in the query."""

    error: str
    position: int | None = optional()


@dataclass(slots=True)
class Health(JsonResult):
    """Liveness: the index can be read. Without an identity under auth only `status` (a
    load balancer learns only that it is up)."""

    status: Literal["ok"]
    generation: int | None = optional()
    repos: int | None = optional()  # the repos the caller may read


@dataclass(slots=True)
class HookReply(JsonResult):
    """A verified webhook delivery: queued for the sync process, or of an event it does not
    index; nothing about repos."""

    status: Literal["accepted", "ignored"]
