"""HTTP for the host clients: one requests session per listing that waits out rate limits.

A 429, or a 403 with no requests left, is waited out when the host asks for at most
MAX_WAIT_S; a longer wait raises RateLimited (the source resumes next cycle).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import requests

from . import HostError, RateLimited

MAX_WAIT_S = 30.0  # longer waits are left to the next sync cycle, not slept through
MAX_RETRIES = 3
TIMEOUT_S = 20


def rate_limit_wait(status: int, headers: Mapping[str, str], now: float | None = None):
    """Seconds the host asks to wait before the next request, or None when the response is
    not a rate limit (a 403 that is a plain refusal stays an error)."""
    now = time.time() if now is None else now
    lower = {k.lower(): v for k, v in headers.items()}
    retry_after = lower.get("retry-after")
    remaining = lower.get("x-ratelimit-remaining", lower.get("ratelimit-remaining"))
    reset = lower.get("x-ratelimit-reset", lower.get("ratelimit-reset"))
    if status == 429 or (status == 403 and (retry_after is not None or remaining == "0")):
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after)
        if reset is not None and reset.strip().isdigit():
            return max(0.0, float(reset) - now)
        return 60.0  # GitHub's advice for a secondary limit without headers
    return None


def wait_or_raise(wait: float, what: str, attempt: int) -> None:
    """Sleep `wait` seconds, or raise RateLimited when that is too long or retries ran out."""
    if wait > MAX_WAIT_S or attempt >= MAX_RETRIES:
        retry_at = time.time() + wait
        when = time.strftime("%H:%M:%S UTC", time.gmtime(retry_at))
        raise RateLimited(f"{what}: rate limited until {when}; resumes next cycle", retry_at)
    time.sleep(wait)


def session(headers: dict[str, str] | None = None) -> requests.Session:
    """A session whose responses wait out short rate limits (python-gitlab uses it too)."""
    s = requests.Session()
    s.headers.update({"User-Agent": "innersearch", **(headers or {})})

    def _hook(response: requests.Response, *args, **kwargs):
        attempt = getattr(response.request, "_innersearch_attempt", 0)
        wait = rate_limit_wait(response.status_code, response.headers)
        if wait is None:
            return response
        wait_or_raise(wait, response.request.url.split("?")[0], attempt)
        again = response.request.copy()
        again._innersearch_attempt = attempt + 1  # type: ignore[attr-defined]
        return s.send(again, **kwargs)

    s.hooks["response"].append(_hook)
    return s


def get_json(s: requests.Session, url: str, params: dict | None = None):
    """GET `url` -> (parsed JSON, response); HostError for anything but a 2xx JSON answer."""
    try:
        r = s.get(url, params=params, timeout=TIMEOUT_S)
    except requests.RequestException as err:
        raise HostError(f"cannot reach {url.split('?')[0]}: {type(err).__name__}") from err
    if r.status_code == 401:
        raise HostError(f"{url.split('?')[0]}: 401 Unauthorized (bad or missing token)")
    if r.status_code == 404:
        raise NotFound(f"{url.split('?')[0]}: 404 Not Found")
    if not r.ok:
        raise HostError(f"{url.split('?')[0]}: HTTP {r.status_code}")
    try:
        return r.json(), r
    except ValueError as err:
        raise HostError(f"{url.split('?')[0]}: the answer is not JSON") from err


class NotFound(HostError):
    """The host has no such organization or repo."""
