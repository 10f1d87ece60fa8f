"""`innersearch serve`: the web UI and JSON API on waitress, a production WSGI server.

The Store is opened once before serving; a missing or unreadable index stops with a message.
"""

from __future__ import annotations

import argparse
import os
import sys

from innersearch.indexer.store import Store, StoreError

# Slow or idle clients (slowloris) hold a connection, not a thread: waitress reads requests
# asynchronously. Room for many of them, with poll() (select() stops at 1,024 descriptors),
# and idle ones dropped after CHANNEL_TIMEOUT_S.
CONNECTION_LIMIT = 2000
CHANNEL_TIMEOUT_S = 30
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}

# Searching is CPU-bound Python: request threads beyond the cores only fight over the GIL
# (bench/http_load.py measures 8 threads against this default on the same load).
DEFAULT_THREADS = max(2, min(8, os.cpu_count() or 2))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the web UI and the JSON API",
        description="Serve the search UI at / and the JSON API at /api/v1 with waitress.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"request threads (default: the cores, from 2 to 8; here {DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--cache",
        type=int,
        default=None,
        metavar="N",
        help="search results kept per index generation (default 256, 0 disables)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        metavar="NAME",
        help="a host name the server answers to (repeatable; default: any, and only "
        "loopback names when bound to loopback)",
    )
    parser.add_argument(
        "--sync-interval",
        type=float,
        default=0,
        metavar="SECONDS",
        help="poll the remembered sources this often and index webhook pushes in a "
        "background process (default 0: off)",
    )
    parser.set_defaults(handler=serve)


def _start_sync(data_root, interval: float):
    """The one sync process of this server (web workers only queue webhook events)."""
    import subprocess

    cmd = [sys.executable, "-m", "innersearch.indexer.sync", "--data", str(data_root)]
    return subprocess.Popen([*cmd, "--interval", str(interval)])


def serve(args: argparse.Namespace) -> int:
    from waitress import serve as waitress_serve

    from . import DEFAULT_CACHE_ENTRIES, create_app

    if not 0 <= args.port <= 65535:
        print(f"innersearch serve: bad port {args.port}", file=sys.stderr)
        return 2
    if args.cache is not None and args.cache < 0:
        print("innersearch serve: --cache must not be negative", file=sys.stderr)
        return 2
    if args.threads < 1:
        print("innersearch serve: --threads must be at least 1", file=sys.stderr)
        return 2
    if args.sync_interval < 0:
        print("innersearch serve: --sync-interval must not be negative", file=sys.stderr)
        return 2
    try:
        store = Store.open(args.data)
    except StoreError as err:
        print(f"innersearch serve: {err}", file=sys.stderr)
        return 1
    allowed = {h.lower() for h in args.allowed_host} if args.allowed_host else None
    if allowed is None and args.host in LOOPBACK_NAMES:
        allowed = set(LOOPBACK_NAMES)
    app = create_app(
        store,
        cache_entries=DEFAULT_CACHE_ENTRIES if args.cache is None else args.cache,
        allowed_hosts=allowed,
    )
    print(f"serving {store.data.root} on http://{args.host}:{args.port}", flush=True)
    # Webhook events are indexed by the sync process even when polling is off.
    wanted = args.sync_interval > 0 or bool(os.environ.get("INNERSEARCH_WEBHOOK_SECRET"))
    sync = _start_sync(store.data.root, args.sync_interval) if wanted else None
    try:
        waitress_serve(
            app,
            host=args.host,
            port=args.port,
            threads=args.threads,
            ident="innersearch",
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=CHANNEL_TIMEOUT_S,
            asyncore_use_poll=True,
            # Lets waitress see a client hang up during a search (client_disconnected).
            channel_request_lookahead=1,
        )
    except OSError as err:
        print(
            f"innersearch serve: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr
        )
        return 1
    finally:
        if sync is not None:
            sync.terminate()
            sync.wait()
        store.close()
    return 0
