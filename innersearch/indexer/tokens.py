"""API tokens for `serve --auth token`: issued once, stored only as a hash, revoked at once.

A token is `ist_<id>_<secret>`; tokens.sqlite keeps the id, the sha256 of the whole token,
the user and groups. Every request reads the file, so a revocation holds in every process.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time

from . import catalog, layout
from .access import Principal

PREFIX = "ist"
_TOKEN = re.compile(r"^ist_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")
_ID = re.compile(r"^[0-9a-f]{16}$")
_NAME = re.compile(r"^[^\s,]+$")  # no spaces or commas: X-Forwarded-Groups is comma-separated


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"bad {kind} name {name!r}: no spaces or commas")
    return name


class Tokens:
    """The token file of a data dir; thread-safe (catalog.TokenFile serializes)."""

    def __init__(self, data: layout.DataDir) -> None:
        with layout.private_files():
            self._file = catalog.TokenFile(data.tokens_path)

    def create(self, user: str, groups: list[str]) -> str:
        """A new token for `user` (returned once: only its hash is kept)."""
        check_name("user", user)
        for group in groups:
            check_name("group", group)
        token_id = secrets.token_hex(8)
        token = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
        row = catalog.TokenRow(
            token_id, _digest(token), user, tuple(dict.fromkeys(groups)), int(time.time())
        )
        self._file.add(row)
        return token

    def principal(self, token: str) -> Principal | None:
        """Who `token` belongs to, or None for a malformed, unknown or revoked token."""
        match = _TOKEN.match(token)
        if not match:
            return None
        row = self._file.find(match.group(1))
        # The id only finds the row; the hash decides, compared in constant time.
        if row is None or not hmac.compare_digest(row.hash, _digest(token)):
            return None
        return Principal(row.user, frozenset(row.groups))

    def revoke(self, token_or_id: str) -> bool:
        """Revoke by the token itself or by its id (as `tokens list` shows it)."""
        match = _TOKEN.match(token_or_id)
        if match:
            row = self._file.find(match.group(1))
            if row is None or not hmac.compare_digest(row.hash, _digest(token_or_id)):
                return False
            token_id = row.id
        elif _ID.match(token_or_id):
            token_id = token_or_id
        else:
            return False
        return self._file.delete(token_id)

    def list(self) -> list[catalog.TokenRow]:
        return self._file.all()

    def close(self) -> None:
        self._file.close()


def open_tokens(data: layout.DataDir) -> Tokens:
    """The token file, created (0600) when missing; OSError/sqlite3.Error when impossible."""
    data.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        return Tokens(data)
    except sqlite3.Error as err:
        raise OSError(f"cannot open {data.tokens_path}: {err}") from err
