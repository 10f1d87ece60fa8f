"""Splitting identifiers into words, so `rate limiter` finds RateLimiter and rate_limiter.

Used when symbols are indexed and when symbol queries are parsed: one definition for both.
"""

from __future__ import annotations

import re

# An upper-case run before a capitalised word (HTTPServer -> HTTP, Server), a capitalised
# or lower-case word, or digits.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def identifier_words(name: str) -> list[str]:
    """Lower-case words of an identifier or phrase: 'parseHTTPRequest_v2' -> parse, http,
    request, v, 2."""
    return [w.lower() for w in _WORD.findall(name)]


def squashed(name: str) -> str:
    """The identifier with style removed: 'rate_limiter' and 'RateLimiter' -> 'ratelimiter'."""
    return "".join(identifier_words(name))


def name_terms(name: str) -> tuple[str, list[str]]:
    """(squashed, distinct words) of a symbol name, as its index document holds them: one
    regex pass for both (the indexer's workers compute them for every definition)."""
    words = identifier_words(name)
    return "".join(words), list(dict.fromkeys(words))
