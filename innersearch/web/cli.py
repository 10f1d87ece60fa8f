"""`innersearch serve`: the web UI and JSON API on waitress, in several worker processes.

The supervisor checks the Store, binds the socket and forks the workers (prefork.py); each
worker opens its own Store and app. A missing or unreadable index stops with a message.
"""

from __future__ import annotations

import argparse
import os
import sys

from innersearch.indexer.store import Store, StoreError

from . import prefork

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
    parser.add_argument(
        "--auth",
        default="none",
        metavar="MODES",
        help="none (default: everyone sees everything), proxy (X-Forwarded-User/-Groups from "
        "a trusted proxy), token (Authorization: Bearer); proxy,token combines them",
    )
    parser.add_argument(
        "--trusted-proxy",
        default=None,
        metavar="ADDR",
        help="addresses or networks (comma-separated) whose X-Forwarded-User is believed "
        "(default: loopback)",
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


def _sync_child(data_root, interval: float) -> prefork.Child:
    """The one sync process of this server (web workers only queue webhook events), run
    and restarted by the supervisor like a worker."""

    def run() -> None:
        cmd = [sys.executable, "-m", "innersearch.indexer.sync", "--data", str(data_root)]
        os.execv(sys.executable, [*cmd, "--interval", str(interval)])

    return prefork.Child("sync", run)


def _app(args: argparse.Namespace, store: Store, auth):
    from . import DEFAULT_CACHE_ENTRIES, create_app

    return create_app(
        store,
        cache_entries=DEFAULT_CACHE_ENTRIES if args.cache is None else args.cache,
        allowed_hosts=_allowed_hosts(args),
        auth=auth,
    )


def serve(args: argparse.Namespace) -> int:
    from .auth import AuthSettings

    if not 0 <= args.port <= 65535:
        print(f"innersearch serve: bad port {args.port}", file=sys.stderr)
        return 2
    if args.cache is not None and args.cache < 0:
        print("innersearch serve: --cache must not be negative", file=sys.stderr)
        return 2
    if args.threads < 1 or args.workers < 1:
        print("innersearch serve: --threads and --workers must be at least 1", file=sys.stderr)
        return 2
    if args.sync_interval < 0:
        print("innersearch serve: --sync-interval must not be negative", file=sys.stderr)
        return 2
    try:
        auth = AuthSettings.parse(args.auth, args.trusted_proxy)
    except ValueError as err:
        print(f"innersearch serve: {err}", file=sys.stderr)
        return 2
    if getattr(args, "fanout", None) is not None:
        return _serve_fanout(args, auth)
    try:
        # Checked here for a clear message, then closed before the fork: a SQLite
        # connection or a tantivy reader must not be shared by processes, so each worker
        # opens its own.
        store = Store.open(args.data)
    except StoreError as err:
        print(f"innersearch serve: {err}", file=sys.stderr)
        return 1
    try:
        _app(args, store, auth)  # the same check for the app (a token file that cannot be read)
    except OSError as err:
        print(f"innersearch serve: {err}", file=sys.stderr)
        return 1
    finally:
        store.close()
    data_root = store.data.root
    del store
    _warn_open(args, auth)
    sock = _listen(args)
    if sock is None:
        return 1
    port = sock.getsockname()[1]
    print(f"serving {data_root} on http://{args.host}:{port} ({args.workers} workers)", flush=True)
    children = _workers(args, sock, auth)
    # Webhook events are indexed by the sync process even when polling is off.
    if args.sync_interval > 0 or os.environ.get("INNERSEARCH_WEBHOOK_SECRET"):
        children.append(_sync_child(data_root, args.sync_interval))
    try:
        return prefork.supervise(children)
    finally:
        sock.close()


def _warn_open(args: argparse.Namespace, auth) -> None:
    if not auth.enabled and args.host not in LOOPBACK_NAMES:
        print(
            f"innersearch serve: WARNING: --auth none on {args.host}: anyone who reaches the "
            "port reads every repository (use --auth proxy or --auth token)",
            file=sys.stderr,
        )


def _listen(args: argparse.Namespace):
    try:
        return prefork.listen(args.host, args.port)
    except OSError as err:
        print(
            f"innersearch serve: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr
        )
        return None


def _workers(args: argparse.Namespace, sock, auth) -> list[prefork.Child]:
    return [
        prefork.Child(f"worker {i + 1}", lambda: _worker(args, sock, auth))
        for i in range(args.workers)
    ]


def _allowed_hosts(args: argparse.Namespace) -> set[str] | None:
    allowed = {h.lower() for h in args.allowed_host} if args.allowed_host else None
    if allowed is None and args.host in LOOPBACK_NAMES:
        allowed = set(LOOPBACK_NAMES)
    return allowed


def _serve_fanout(args: argparse.Namespace, auth) -> int:
    """`serve --ray`: search and symbols fanned out to the shard actors (web/fanout.py).
    `args.fanout` opens the backend; it is called in each worker, after the fork (a Ray
    connection is one process's). No sync process: the index runs with `index --ray`."""
    if args.sync_interval > 0:
        print("innersearch serve: --sync-interval is not supported with --ray", file=sys.stderr)
        return 2
    _warn_open(args, auth)
    sock = _listen(args)
    if sock is None:
        return 1
    port = sock.getsockname()[1]
    print(
        f"serving the shards of {args.fanout_root} on http://{args.host}:{port} "
        f"({args.workers} workers, Ray at {args.fanout_address})",
        flush=True,
    )
    try:
        return prefork.supervise(_workers(args, sock, auth))
    finally:
        sock.close()


def _fanout_app(args: argparse.Namespace, auth):
    from .fanout import create_fanout_app

    return create_fanout_app(args.fanout(), args.fanout_root, _allowed_hosts(args), auth, warm=True)


def _worker(args: argparse.Namespace, sock, auth) -> None:
    """One worker process: its own Store (or fan-out backend) and app, waitress on the
    shared socket."""
    from waitress import serve as waitress_serve

    fanout = getattr(args, "fanout", None) is not None
    waitress_serve(
        _fanout_app(args, auth) if fanout else _app(args, Store.open(args.data), auth),
        sockets=[sock],
        threads=args.threads,
        ident="innersearch",
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=CHANNEL_TIMEOUT_S,
        asyncore_use_poll=True,
        # Lets waitress see a client hang up during a search (client_disconnected).
        channel_request_lookahead=1,
    )
