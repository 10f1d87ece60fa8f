"""Scale-out over a Ray cluster: repos sharded by rendezvous hashing, one data dir per shard.

Nothing here is imported without `--ray`; `ray` itself is imported only by `connect()`.
"""

from __future__ import annotations

import os

RAY_ENV = "INNERSEARCH_RAY_ADDRESS"


def ray_address(explicit: str | None) -> str | None:
    """--ray wins, then $INNERSEARCH_RAY_ADDRESS; None: one machine, no Ray at all."""
    return explicit or os.environ.get(RAY_ENV) or None


def connect(address: str):
    """The `ray` module, connected to the cluster at `address` (once per process)."""
    import ray  # only on the cluster path: one machine never pays Ray's import

    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    return ray
