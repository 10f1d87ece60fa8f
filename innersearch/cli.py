"""The `innersearch` console script: global options, then each package's subcommands.

Every package registers its own subcommands (`register(subparsers)` in its cli module);
a handler takes the parsed args and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__

# Which package's cli registers each subcommand, so that a run imports only its own package:
# `innersearch index` importing Flask, the dedup pipeline and the search layer cost 1.5 s of
# every re-index. Without a known subcommand (--help, a typo) every package registers.
COMMAND_MODULES = {
    "index": "innersearch.indexer.cli",
    "status": "innersearch.indexer.cli",
    "tokens": "innersearch.indexer.cli",
    "search": "innersearch.search.cli",
    "symbols": "innersearch.search.cli",
    "refs": "innersearch.search.cli",
    "find": "innersearch.search.cli",
    "dedup": "innersearch.dedup.cli",
    "serve": "innersearch.web.cli",
}
_CLUSTER_COMMANDS = ("index", "dedup", "serve")  # cluster/cli.py adds --ray to these


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv` (default: sys.argv[1:]): its subcommand's package registered,
    or all of them when `argv` names none."""
    command = _command(sys.argv[1:] if argv is None else argv)
    wanted = [COMMAND_MODULES[command]] if command else list(COMMAND_MODULES.values())
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
    for module in dict.fromkeys(wanted):
        importlib.import_module(module).register(sub)
    if command is None or command in _CLUSTER_COMMANDS:
        from .cluster import cli as cluster_cli  # --ray (Ray itself only imported with it)

        cluster_cli.register(sub)
    return parser


def _command(argv: list[str]) -> str | None:
    """The subcommand `argv` names (the first word after the global options), if known."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--data":
            i += 2
            continue
        if word.startswith("-"):
            if word.startswith("--data="):
                i += 1
                continue
            return None  # --help, --version or an unknown option: the full parser decides
        return word if word in COMMAND_MODULES else None
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
