"""How long one request may work: a deadline, and whether its client is still waiting.

Every search loop asks `expired()` every few files, so an abandoned or slow request stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Budget:
    deadline: float  # time.monotonic() value
    client_gone: Callable[[], bool] = _never  # e.g. waitress' client_disconnected

    @classmethod
    def of(cls, milliseconds: int, client_gone: Callable[[], bool] | None = None) -> Budget:
        return cls(time.monotonic() + max(1, milliseconds) / 1000.0, client_gone or _never)

    def expired(self) -> bool:
        return time.monotonic() > self.deadline or self.client_gone()
