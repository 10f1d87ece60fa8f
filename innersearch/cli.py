"""The `innersearch` console script: global options, then each package's subcommands.

Every package registers its own subcommands (`register(subparsers)` in its cli module);
a handler takes the parsed args and returns the exit code.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    from .cluster import cli as cluster_cli
    from .dedup import cli as dedup_cli
    from .indexer import cli as indexer_cli
    from .search import cli as search_cli
    from .web import cli as web_cli

    parser = argparse.ArgumentParser(
        prog="innersearch",
        description="Organization-wide code search and duplicate detection.",
    )
    parser.add_argument("--version", action="version", version=f"innersearch {__version__}")
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="data directory (default: $INNERSEARCH_DATA, else ./.innersearch)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (indexer_cli, search_cli, dedup_cli, web_cli):
        module.register(sub)
    cluster_cli.register(sub)  # --ray on index and dedup (Ray itself only imported with it)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
