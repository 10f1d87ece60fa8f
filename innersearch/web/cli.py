"""`innersearch serve`: the web UI and JSON API on waitress, in several worker processes.

The supervisor checks the Store, binds the socket and forks the workers (prefork.py); each
worker opens its own Store and app. A missing or unreadable index stops with a message.
"""

from __future__ import annotations

import argparse
import os
import sys

from innersearch.indexer import layout
from innersearch.indexer.store import Store, StoreError

# Slow or idle clients (slowloris) hold a connection, not a thread: waitress reads requests
# asynchronously. Room for many of them, with poll() (select() stops at 1,024 descriptors),
# and idle ones dropped after CHANNEL_TIMEOUT_S.
CONNECTION_LIMIT = 2000
CHANNEL_TIMEOUT_S = 30
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}

# Searching is CPU-bound Python: one process per core gets round the GIL; in each, a second
# thread overlaps one request's I/O with another's search (bench/http_load.py measures both).
DEFAULT_WORKERS = max(1, os.cpu_count() or 1)
DEFAULT_THREADS = 2


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
        help=f"request threads per worker process (default {DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"worker processes sharing the port (default: the cores; here {DEFAULT_WORKERS})",
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
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    from . import prefork

    if not 0 <= args.port <= 65535:
        print(f"innersearch serve: bad port {args.port}", file=sys.stderr)
        return 2
    if args.cache is not None and args.cache < 0:
        print("innersearch serve: --cache must not be negative", file=sys.stderr)
        return 2
    if args.threads < 1 or args.workers < 1:
        print("innersearch serve: --threads and --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        # Checked here for a clear message; closed before the fork: a SQLite connection or a
        # tantivy reader must not be shared by processes, so each worker opens its own.
        Store.open(args.data).close()
    except StoreError as err:
        print(f"innersearch serve: {err}", file=sys.stderr)
        return 1
    try:
        sock = prefork.listen(args.host, args.port)
    except OSError as err:
        print(
            f"innersearch serve: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr
        )
        return 1
    port = sock.getsockname()[1]
    data_root = layout.resolve_data_dir(str(args.data) if args.data else None).root
    print(f"serving {data_root} on http://{args.host}:{port} ({args.workers} workers)", flush=True)
    workers = [
        prefork.Child(f"worker {i + 1}", lambda: _worker(args, sock)) for i in range(args.workers)
    ]
    try:
        return prefork.supervise(workers)
    finally:
        sock.close()


def _worker(args: argparse.Namespace, sock) -> None:
    """One worker process: its own Store and app, waitress on the shared socket."""
    from waitress import serve as waitress_serve

    from . import DEFAULT_CACHE_ENTRIES, create_app

    store = Store.open(args.data)
    allowed = {h.lower() for h in args.allowed_host} if args.allowed_host else None
    if allowed is None and args.host in LOOPBACK_NAMES:
        allowed = set(LOOPBACK_NAMES)
    app = create_app(
        store,
        cache_entries=DEFAULT_CACHE_ENTRIES if args.cache is None else args.cache,
        allowed_hosts=allowed,
    )
    waitress_serve(
        app,
        sockets=[sock],
        threads=args.threads,
        ident="innersearch",
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=CHANNEL_TIMEOUT_S,
        asyncore_use_poll=True,
        # Lets waitress see a client hang up during a search (client_disconnected).
        channel_request_lookahead=1,
    )
