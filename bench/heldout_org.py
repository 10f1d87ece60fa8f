"""Builds the held-out organization of bench/heldout_org.tsv (PyPI sdists, npm tarballs) the
way `innersearch demo` builds its own, and reads that file's ground truth.

Usage: .venv/bin/python bench/heldout_org.py [--tsv bench/heldout_org.tsv]
       [--dest /var/tmp/dupreport/heldout]
Repos go to DEST/repos/<repo>, archives are cached in DEST/archives. The second held-out
organization: --tsv bench/heldout2_org.tsv (default DEST /var/tmp/dupreport2). Each truth
file was written down before the detector ran on its organization.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from innersearch.demo.build import build_org  # noqa: E402
from innersearch.demo.fetch import download_all  # noqa: E402
from innersearch.demo.packages import DemoPackage  # noqa: E402

TSV = ROOT / "bench" / "heldout_org.tsv"
DEFAULT_DEST = Path("/var/tmp/dupreport/heldout")
# The second held-out organization, labelled and committed before its first run (issue 15).
TSV2 = ROOT / "bench" / "heldout2_org.tsv"
DEFAULT_DEST2 = Path("/var/tmp/dupreport2")


@dataclass(frozen=True)
class Row:
    repo: str
    registry: str
    name: str
    version: str
    category: str
    uses: tuple[str, ...]
    copy_of: tuple[tuple[str, str], ...]  # (original repo, path of the copy in this repo)
    team: str | None


def rows(path: Path = TSV) -> list[Row]:
    with open(path, newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    out = []
    for r in csv.DictReader(lines, delimiter="\t"):
        copies = []
        for item in filter(None, (r.get("copy_of") or "").split(",")):
            original, _, prefix = item.partition(":")
            copies.append((original, prefix))
        out.append(
            Row(
                r["repo"],
                r["registry"],
                r["name"],
                r["version"],
                r["category"],
                tuple(filter(None, (r.get("uses") or "").split(","))),
                tuple(copies),
                r.get("team") or None,
            )
        )
    return out


def packages(found: list[Row]) -> list[DemoPackage]:
    return [
        DemoPackage(r.repo, r.registry, r.name, (r.version,), r.category, team=r.team)
        for r in found
    ]


def parallel_truth(found: list[Row]) -> set[frozenset]:
    """Same category and registry, minus "uses" pairs and copies/forks."""
    not_parallel = {frozenset((r.repo, u)) for r in found for u in r.uses}
    not_parallel |= {frozenset((r.repo, orig)) for r in found for orig, _ in r.copy_of}
    groups: dict[tuple[str, str], list[str]] = {}
    for r in found:
        groups.setdefault((r.registry, r.category), []).append(r.repo)
    pairs = {frozenset(p) for names in groups.values() for p in combinations(sorted(names), 2)}
    return pairs - not_parallel


def copy_truth(found: list[Row]) -> list[tuple[tuple[str, str], str]]:
    """[((copying repo, path prefix), original repo)]."""
    return [((r.repo, prefix), orig) for r in found for orig, prefix in r.copy_of]


def uses_pairs(found: list[Row]) -> set[frozenset]:
    return {frozenset((r.repo, u)) for r in found for u in r.uses}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tsv", type=Path, default=TSV)
    ap.add_argument("--dest", type=Path, help="default: by --tsv, " + str(DEFAULT_DEST))
    args = ap.parse_args()
    if args.dest is None:
        same = args.tsv.resolve() == TSV2.resolve()
        args.dest = DEFAULT_DEST2 if same else DEFAULT_DEST
    found = rows(args.tsv)
    pkgs = packages(found)
    problems = download_all(pkgs, args.dest / "archives")
    report = build_org(pkgs, args.dest / "archives", args.dest / "repos")
    for p in problems + report.problems:
        print(f"problem: {p}", file=sys.stderr)
    print(f"built {len(report.built)}, cached {len(report.cached)} -> {args.dest / 'repos'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
