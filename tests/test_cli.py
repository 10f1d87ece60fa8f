"""The console script's parser: a subcommand imports only its own package's cli, and the
help still lists every subcommand."""

from __future__ import annotations

import subprocess
import sys

from innersearch.cli import COMMAND_MODULES, build_parser


def _imported_after(argv: list[str]) -> set[str]:
    code = (
        "import sys; from innersearch.cli import build_parser; "
        f"build_parser({argv!r}); print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_index_imports_neither_flask_nor_dedup_nor_search():
    loaded = _imported_after(["--data", "/nonexistent", "index", "--quiet"])
    assert "innersearch.indexer.cli" in loaded
    for heavy in ("flask", "innersearch.dedup.api", "innersearch.search.api", "ray"):
        assert heavy not in loaded


def test_index_keeps_the_cluster_options():
    args = build_parser(["index", "--ray", "ray://x:1", "--shards", "2", "repos"]).parse_args(
        ["index", "--ray", "ray://x:1", "--shards", "2", "repos"]
    )
    assert (args.ray, args.shards, args.sources) == ("ray://x:1", 2, ["repos"])


def test_dedup_and_serve_keep_the_ray_option():
    for argv in (["dedup", "--ray", "ray://x:1"], ["serve", "--ray", "ray://x:1"]):
        assert build_parser(argv).parse_args(argv).ray == "ray://x:1"


def test_help_lists_every_subcommand():
    parser = build_parser(["--help"])
    help_text = parser.format_help()
    for command in COMMAND_MODULES:
        assert f"    {command} " in help_text


def test_each_subcommand_parses_alone():
    for command in ("status", "search", "dedup", "serve"):
        argv = ["--data", "d", command] + (["x"] if command == "search" else [])
        args = build_parser(argv).parse_args(argv)
        assert args.command == command and callable(args.handler)
