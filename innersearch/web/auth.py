"""Who a request acts for (`serve --auth`): a trusted proxy's headers or a bearer token.

With auth on, every route but the public ones (health, OpenAPI, static files, webhooks that
carry their own signature) answers 401 to a request without an identity.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from flask import Flask, g, request

from innersearch.indexer.access import Principal
from innersearch.indexer.tokens import Tokens

from .errors import ApiError

MODES = ("none", "proxy", "token")
LOOPBACK = ("127.0.0.0/8", "::1/128")
USER_HEADER = "X-Forwarded-User"
GROUPS_HEADER = "X-Forwarded-Groups"
# Routes anyone may reach: they show nothing of any repository.
PUBLIC_ENDPOINTS = frozenset(
    {"static", "healthz", "api.openapi_route", "ui.favicon", "ui.highlight_css"}
)
# Webhooks are authenticated by the code host's signature, not by a user.
PUBLIC_PREFIXES = ("/api/v1/hooks/",)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AuthSettings:
    """`--auth` and `--trusted-proxy`: no modes means no authentication (everything shown)."""

    modes: frozenset[str] = frozenset()
    trusted_proxies: tuple[Network, ...] = field(
        default_factory=lambda: tuple(ipaddress.ip_network(n) for n in LOOPBACK)
    )

    @property
    def enabled(self) -> bool:
        return bool(self.modes)

    @classmethod
    def parse(cls, auth: str, trusted: str | None = None) -> AuthSettings:
        """From the flags' text; ValueError with a message for a bad mode or address."""
        modes = {m.strip() for m in auth.split(",") if m.strip()}
        unknown = modes - set(MODES)
        if unknown or not modes:
            raise ValueError(f"--auth: choose from {', '.join(MODES)} (got {auth!r})")
        if "none" in modes and len(modes) > 1:
            raise ValueError("--auth none cannot be combined with proxy or token")
        networks = []
        for item in trusted.split(",") if trusted else LOOPBACK:
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(f"--trusted-proxy: not an address or network: {item!r}") from None
        return cls(frozenset(modes - {"none"}), tuple(networks))


def is_public(endpoint: str | None, path: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or path.startswith(PUBLIC_PREFIXES)


def _from_proxy(settings: AuthSettings) -> Principal | None:
    user = (request.headers.get(USER_HEADER) or "").strip()
    if not user:
        return None
    try:
        peer = ipaddress.ip_address((request.remote_addr or "").split("%")[0])
    except ValueError:
        return None
    if not any(peer in net for net in settings.trusted_proxies):
        return None  # anyone can send the header; only the proxy's copy counts
    groups = (request.headers.get(GROUPS_HEADER) or "").split(",")
    return Principal(user, frozenset(g.strip() for g in groups if g.strip()))


def identify(settings: AuthSettings, tokens: Tokens | None) -> Principal | None:
    """The request's principal, or None. A bearer token that does not verify is no identity
    at all (the proxy's headers do not rescue it)."""
    header = request.headers.get("Authorization", "")
    if "token" in settings.modes and tokens is not None and header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return tokens.principal(value.strip())
    if "proxy" in settings.modes:
        return _from_proxy(settings)
    return None


def install(app: Flask, settings: AuthSettings, tokens: Tokens | None) -> None:
    """Sets g.principal for every request, and refuses (401) the non-public ones without."""

    @app.before_request
    def _authenticate():
        g.principal = identify(settings, tokens) if settings.enabled else None
        if (
            settings.enabled
            and g.principal is None
            and not is_public(request.endpoint, request.path)
        ):
            raise ApiError(401, "sign in: this server needs an identity (see docs/web.md)")

    @app.after_request
    def _challenge(response):
        if response.status_code == 401 and "token" in settings.modes:
            response.headers.setdefault("WWW-Authenticate", 'Bearer realm="innersearch"')
        return response
