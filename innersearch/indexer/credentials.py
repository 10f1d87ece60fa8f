"""Credentials inside git URLs: taken off before a URL is stored, logged or shown.

A password or token given in a URL reaches git only through its environment, for the run
that was given it; catalog, mirrors, messages and pages see the URL without it.
"""

from __future__ import annotations

import base64
import re
import urllib.parse

# http(s): the whole user-info is secret (`https://TOKEN@host` is a common token form).
_HTTP_USERINFO = re.compile(r"(?i)\b(https?://)[^/@\s]*@")
# Other schemes (ssh://git@host): the user name is needed, only a password is secret.
_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/:@\s]*):[^/@\s]*@")


def redact(text: str) -> str:
    """`text` with the credentials of every URL in it removed."""
    return _PASSWORD.sub(r"\1@", _HTTP_USERINFO.sub(r"\1", text))


def split_url(url: str) -> tuple[str, str | None]:
    """The URL without credentials, and the `http.extraHeader` that carries them to git
    (None when the URL has none)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or "@" not in parts.netloc:
        return redact(url), None
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return redact(url), f"Authorization: Basic {token}"


def git_env(auth_header: str | None) -> dict[str, str]:
    """Environment that hands `auth_header` to git as configuration: never on a command
    line (other users can read those) and never in a config file."""
    if not auth_header:
        return {}
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": auth_header,
    }
