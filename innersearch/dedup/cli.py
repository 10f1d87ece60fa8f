"""`innersearch dedup`: compute the duplicate report and write it as JSON, SARIF, CSV or HTML.

The report is also persisted under the data dir for the web app (see api.latest_report).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from innersearch.indexer.store import Store, StoreError

from .api import FORMATS, find_duplicates, write_report
from .changed import ChangeError, changed_clones


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "dedup",
        help="find duplicated code and duplicated libraries",
        description="Clone classes (Type-1/2/3, function and file level) and library pairs "
        "(copy, fork, parallel) across every repository's default branch.",
    )
    p.add_argument("--format", choices=FORMATS, default="json", help="output format (json)")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--min-tokens",
        type=_positive,
        default=50,
        metavar="N",
        help="ignore fragments under N significant tokens (50)",
    )
    p.add_argument(
        "--min-lines",
        type=_positive,
        default=6,
        metavar="N",
        help="ignore fragments under N lines (6)",
    )
    p.add_argument(
        "--changed",
        metavar="BASE..HEAD",
        help="pull-request mode: report only the clones this change of --repo introduces",
    )
    p.add_argument("--repo", metavar="NAME", help="the indexed repository of --changed")
    p.add_argument(
        "--repo-path",
        metavar="DIR",
        help="the git checkout holding BASE and HEAD (default: the indexed source or mirror)",
    )
    p.set_defaults(handler=run)


def run(args) -> int:
    try:
        store = Store.open(args.data)
    except StoreError as err:
        print(f"innersearch dedup: {err}", file=sys.stderr)
        return 1
    try:
        if args.changed or args.repo:
            if not (args.changed and args.repo):
                print("innersearch dedup: --changed and --repo go together", file=sys.stderr)
                return 2
            try:
                report = changed_clones(
                    store,
                    store.snapshot(),
                    args.repo,
                    args.changed,
                    args.repo_path,
                    args.min_tokens,
                    args.min_lines,
                )
            except ChangeError as err:
                print(f"innersearch dedup: {err}", file=sys.stderr)
                return 2
        else:
            report = find_duplicates(store, args.min_tokens, args.min_lines)
    finally:
        store.close()
    if not args.out:
        write_report(report, args.format, sys.stdout)
        return 0
    target = Path(args.out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write_report(report, args.format, fh)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is meant to be shared
        os.replace(tmp, target)
    except OSError as err:
        print(f"innersearch dedup: cannot write {target}: {err.strerror or err}", file=sys.stderr)
        return 1
    stats = report["stats"]
    print(
        f"{stats['clone_classes']} clone classes, {len(report['libraries'])} library pairs "
        f"-> {target}",
        file=sys.stderr,
    )  # in --changed mode the classes are the ones the change introduces
    return 0
