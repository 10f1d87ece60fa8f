"""Reading request parameters: integers in range, required strings, with 400 on bad input.

Shared by the API and the HTML pages so both refuse the same things the same way.
"""

from __future__ import annotations

from flask import request

from .errors import bad_request


def text(name: str, required: bool = False, default: str | None = None) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"missing parameter {name!r}")
        return default
    if "\x00" in value:
        raise bad_request(f"parameter {name!r} contains a NUL character")
    return value


def integer(
    name: str,
    default: int | None,
    low: int = 0,
    high: int = 1_000_000,
    required: bool = False,
) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise bad_request(f"missing parameter {name!r}")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"parameter {name!r} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise bad_request(f"parameter {name!r} must be between {low} and {high}, got {value}")
    return value
