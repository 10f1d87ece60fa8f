"""Webhook deliveries: each host's signature check, and the event they ask the sync to follow.

A push names one repo to re-index; repository created/deleted/renamed/archived events ask
for the whole source to be listed again ("list").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class HookEvent:
    kind: str  # github | gitlab | gitea | bitbucket
    repo: str  # full name on the host
    action: str  # push (re-index the repo) | list (list its source again)


def _hmac256(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(kind: str, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether the delivery carries the signature the host makes with `secret`."""
    if not secret:
        return False
    if kind == "gitlab":  # GitLab sends the secret itself
        return hmac.compare_digest(headers.get("X-Gitlab-Token", "").encode(), secret.encode())
    if kind == "gitea":  # hex HMAC-SHA256, no prefix
        given = headers.get("X-Gitea-Signature", "")
        return hmac.compare_digest(given.encode(), _hmac256(secret, body).encode())
    name = {"github": "X-Hub-Signature-256", "bitbucket": "X-Hub-Signature"}.get(kind)
    if name is None:
        return False
    given = headers.get(name, "")
    return hmac.compare_digest(given.encode(), f"sha256={_hmac256(secret, body)}".encode())


_LIST_ACTIONS = {
    "github": {
        "created",
        "deleted",
        "renamed",
        "archived",
        "unarchived",
        "transferred",
        "publicized",
        "privatized",
    },
    "gitea": {"created", "deleted"},
}
_GITLAB_SYSTEM = {
    "project_create",
    "project_destroy",
    "project_rename",
    "project_transfer",
    "project_update",
}
_BITBUCKET_LIST = {"repo:created", "repo:deleted", "repo:updated", "repo:transfer"}


def parse(kind: str, headers: Mapping[str, str], body: bytes) -> HookEvent | None:
    """The event of a verified delivery, or None for one the sync does not follow."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict):
        return None
    if kind in ("github", "gitea"):
        event = headers.get("X-GitHub-Event" if kind == "github" else "X-Gitea-Event", "")
        name = (payload.get("repository") or {}).get("full_name")
        if event == "push" and name:
            return HookEvent(kind, name, "push")
        if event == "repository" and payload.get("action") in _LIST_ACTIONS[kind]:
            return HookEvent(kind, name or "", "list")
        return None
    if kind == "gitlab":
        name = (payload.get("project") or {}).get("path_with_namespace")
        if payload.get("object_kind") == "push" and name:
            return HookEvent(kind, name, "push")
        if payload.get("event_name") in _GITLAB_SYSTEM:
            return HookEvent(kind, payload.get("path_with_namespace", ""), "list")
        return None
    if kind == "bitbucket":
        event = headers.get("X-Event-Key", "")
        name = (payload.get("repository") or {}).get("full_name")
        if event == "repo:push" and name:
            return HookEvent(kind, name, "push")
        if event in _BITBUCKET_LIST:
            return HookEvent(kind, name or "", "list")
    return None
