"""A small organization for the web tests: payments (a rate limiter, a retry helper) and
billing (uses the limiter, holds a copied retry helper), shared by the API, OpenAPI and UI
tests (no tests here)."""

from __future__ import annotations

from pathlib import Path

from innersearch.dedup import api as dedup
from innersearch.indexer.store import Store
from tests.helpers import build_index, commit_files, make_repo

RETRY = '''\
import time


def retry_call(fn, attempts=3, delay=0.5, factor=2.0):
    """Call fn until it succeeds, sleeping longer after each failure."""
    last_error = None
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            last_error = exc
            time.sleep(delay * (factor ** attempt))
    raise RuntimeError(f"gave up after {attempts} attempts") from last_error
'''

LIMITER = '''\
import threading
import time


class RateLimiter:
    """A token bucket shared by threads."""

    def __init__(self, rate, burst):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.lock = threading.Lock()
        self.stamp = time.monotonic()

    def acquire(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False
'''

USES_LIMITER = """\
from payments.limiter import RateLimiter

LIMIT = RateLimiter(10, 20)


def charge(card, amount):
    if not LIMIT.acquire():
        raise RuntimeError("slow down")
    return {"card": card, "amount": amount}
"""

README = """\
# payments

Charges cards and **retries** politely.

<script>alert("owned")</script>

| setting | default |
|---------|---------|
| delay   | 0.5     |
"""


def build_org(root: Path) -> Path:
    """Two repos: payments (limiter, retry) and billing (uses the limiter, copied retry)."""
    org = root / "org"
    org.mkdir()
    payments = make_repo(
        org,
        "payments",
        {
            "README.md": README,
            "CONTRIBUTING.md": "Send a merge request.\n",
            "CODEOWNERS": "* @payments-team\n",
            "payments/__init__.py": "",
            "payments/limiter.py": LIMITER,
            "payments/retry.py": RETRY,
        },
    )
    commit_files(payments, {"payments/limiter.py": LIMITER + "\n# tuned\n"}, "tune")
    make_repo(
        org,
        "billing",
        {
            "billing/charge.py": USES_LIMITER,
            "billing/util/retrying.py": RETRY.replace("retry_call", "call_with_retries"),
            "notes.txt": "<script>alert('notes')</script> & more\n",
            "legacy.txt": b"caf\xe9 na\xefve latin-1 text\n",
        },
    )
    return org


def open_web_store(root: Path) -> Store:
    """The test org indexed, with a persisted dedup report small enough to hold its clones."""
    opened = Store.open(build_index(root, build_org(root)).root)
    dedup.find_duplicates(opened, min_tokens=20, min_lines=4)
    return opened
