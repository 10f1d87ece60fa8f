"""The indexing progress bar on a terminal: one bar per repo branch, files/s and MB/s.

Silent when not enabled (not a terminal), so logs and tests stay clean.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self._bar = (
            tqdm(
                total=total,
                desc=label,
                unit="file",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
            if enabled and total
            else None
        )
        self._bytes = 0

    def advance(self, nbytes: int) -> None:
        if self._bar is not None:
            self._bytes += nbytes
            self._bar.update(1)
            self._bar.set_postfix_str(f"{self._bytes / 1e6:.1f} MB", refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
