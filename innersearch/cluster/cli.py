"""`--ray ADDRESS` (or $INNERSEARCH_RAY_ADDRESS) on `index`, `dedup` and `serve`: the cluster
path.

Added to the packages' own subcommands after they registered them; without an address the
package's handler runs exactly as before, and nothing of Ray is imported.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from innersearch.indexer import layout

from . import RAY_ENV, ray_address


def register(sub: argparse._SubParsersAction) -> None:
    for name, handler in (("index", cmd_index), ("dedup", cmd_dedup), ("serve", cmd_serve)):
        parser = sub.choices.get(name)
        if parser is None:  # the command line names another package's subcommand
            continue
        parser.add_argument(
            "--ray",
            metavar="ADDRESS",
            default=None,
            help=f"run on the Ray cluster at ADDRESS (default: ${RAY_ENV}; unset: this "
            "machine alone)",
        )
        if name == "index":
            parser.add_argument(
                "--shards",
                type=int,
                default=None,
                metavar="N",
                help="with --ray: the number of shards (default 4, or as before; only grows)",
            )
        parser.set_defaults(handler=_either(parser.get_default("handler"), handler))


def _either(local: Callable, cluster: Callable) -> Callable:
    def run(args: argparse.Namespace) -> int:
        address = ray_address(args.ray)
        if not address:
            return local(args)
        args.local_handler = local
        return cluster(args, address)

    return run


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_index(args: argparse.Namespace, address: str) -> int:
    from .index import index_cluster

    data = layout.resolve_data_dir(args.data)
    try:
        summary = index_cluster(address, data, args.sources, args.shards, say=_say)
    except (ValueError, OSError) as err:
        _say(f"innersearch: {err}")
        return 2
    width = max((len(o.name) for o in summary.outcomes), default=4)
    shard_of = {n: run.shard for run in summary.shards for n in run.repos}
    for o in summary.outcomes:
        detail = f"{o.files} files changed" if o.status == "indexed" else ""
        if o.message:
            detail = (detail + "; " if detail else "") + o.message
        where = shard_of.get(o.name, "-")
        print(f"{o.name:<{width}}  {where:<4} {o.status:<9}  {detail}".rstrip())
    for run in summary.shards:
        state = f"FAILED: {run.error}" if run.summary is None else "ok"
        print(f"shard {run.shard} on node {run.node[:12]}: {len(run.repos)} repos, {state}")
    mb = summary.total("new_bytes") / 1e6
    print(
        f"{len(summary.outcomes)} repos ({len(summary.failed)} failed) over "
        f"{len(summary.shards)} shards, {summary.total('new_blobs')} new files parsed "
        f"({mb:.1f} MB), {summary.seconds:.1f} s"
    )
    for problem in summary.problems:
        print(f"source {problem.source}: {problem.message}")
    return 1 if summary.failed or summary.problems else 0


def cmd_dedup(args: argparse.Namespace, address: str) -> int:
    import json

    from .dedup import find_duplicates_cluster

    if args.changed or args.repo or args.format != "json":
        _say("innersearch dedup: with --ray, only the JSON report (no --changed) for now")
        return 2
    data = layout.resolve_data_dir(args.data)
    try:
        report = find_duplicates_cluster(
            address, data.root, args.min_tokens, args.min_lines, say=_say
        )
    except FileNotFoundError as err:
        _say(f"innersearch dedup: {err}")
        return 1
    text = json.dumps(report, indent=2) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        _say(f"{len(report['clone_classes'])} clone classes -> {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_serve(args: argparse.Namespace, address: str) -> int:
    """The web server's own handler, given a fan-out backend: each worker process opens the
    shard actors (ClusterSearch) after the fork."""
    from .shards import ShardLayout

    root = layout.resolve_data_dir(args.data).root.resolve()
    if ShardLayout.load(root) is None:
        _say(f"innersearch serve: {root}: no cluster index (run `innersearch index --ray`)")
        return 1

    def open_backend():
        from .search import ClusterSearch
        from .shards import hooks_path

        backend = ClusterSearch.open(address, root)
        if hooks_path(root).exists():  # a queue that died with pushes pending indexes them
            backend.hooks()
        return backend

    args.fanout, args.fanout_root, args.fanout_address = open_backend, root, address
    return args.local_handler(args)
