"""`python -m innersearch.demo [--dest .demo] [--offline]`: build the demo organization.

Downloads what is not cached into DEST/archives, then builds DEST/repos; exit 1 if no repo.
`--tour URL` prints what to try on a server at URL instead.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.parse
from pathlib import Path

from .build import build_org
from .fetch import NPM_URL, PYPI_URL, download_all
from .packages import PACKAGES, TOUR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m innersearch.demo", description=__doc__)
    parser.add_argument("--dest", type=Path, default=Path(".demo"), help="default .demo")
    parser.add_argument(
        "--offline", action="store_true", help="use only archives already in DEST/archives"
    )
    parser.add_argument("--tour", metavar="URL", help="print what to try on the server at URL")
    args = parser.parse_args(argv)
    if args.tour:
        print_tour(args.tour.rstrip("/"))
        return 0
    start = time.perf_counter()
    archives, repos = args.dest / "archives", args.dest / "repos"
    problems = []
    if not args.offline:
        print(
            f"downloading {sum(len(p.versions) for p in PACKAGES)} release archives "
            f"from {PYPI_URL} and {NPM_URL} (cached in {archives})",
            flush=True,
        )
        problems = download_all(PACKAGES, archives)
    report = build_org(PACKAGES, archives, repos)
    for problem in problems + report.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    print(
        f"demo organization in {repos}: {len(report.built)} repos built, "
        f"{len(report.cached)} cached, {len(problems) + len(report.problems)} problems "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return 0 if report.built or report.cached else 1


def print_tour(url: str) -> None:
    print(f"\nThe demo organization is served on {url} (Ctrl-C stops). Try:")
    for query, shows in TOUR:
        print(f"  {url}/?q={urllib.parse.quote_plus(query)}\n      {query}: {shows}")
    print(f"  {url}/duplicates\n      vendored copies, forks and parallel implementations\n")


if __name__ == "__main__":
    sys.exit(main())
