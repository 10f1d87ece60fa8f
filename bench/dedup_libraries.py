"""Library-level relations on the sample organization against its ground truth.

Usage: .venv/bin/python bench/dedup_libraries.py [--repos /tmp/sample-org/repos]
       [--corpus ../shared/corpus] [--data DIR]
Truth: the known copies and forks listed in the corpus README (TRUTH_COPIES below, written
from it) and categories.tsv, where repos of one category and language are parallel
implementations (pairs already known as forks are not counted as parallel). Prints whether
every copy and fork is found, precision and recall of the parallel pairs at the default
threshold and over a sweep of thresholds, and every other pair found, for reading.
Writes bench/out/dedup_libraries.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from innersearch.dedup import api, libraries  # noqa: E402
from innersearch.dedup.detect import detect  # noqa: E402
from innersearch.dedup.fragments import load_vocabulary  # noqa: E402
from innersearch.indexer import layout  # noqa: E402
from innersearch.indexer.run import index_sources  # noqa: E402
from innersearch.indexer.store import Store  # noqa: E402

OUT = ROOT / "bench" / "out"
# From the corpus README: (repo, path prefix) of the copy, the original repo, relation.
# tomlkit and packaging are vendored too, but their originals are not in the organization.
TRUTH_COPIES = [
    (("py-pipenv", "pipenv/vendor/dotenv"), "py-python-dotenv", "copy"),
    (("py-pipenv", "pipenv/vendor/shellingham"), "py-shellingham", "copy"),
    (("go-uuid-gofrs", ""), "go-uuid-satori", "fork"),
    (("go-pflag-spf13", ""), "go-pflag-ogier", "fork"),
]


def parallel_truth(corpus: Path) -> set[frozenset]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    with open(corpus / "categories.tsv", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            groups[(row["kind"], row["category"])].append(row["name"])
    pairs = {frozenset(p) for names in groups.values() for p in combinations(sorted(names), 2)}
    forks = {frozenset((c[0], orig)) for c, orig, rel in TRUTH_COPIES if rel == "fork"}
    return pairs - forks


def side_matches(side: dict, repo: str, prefix: str) -> bool:
    return side["repo"] == repo and (not prefix or side["path"].startswith(prefix))


def copy_found(pairs: list[dict], truth: tuple) -> dict | None:
    (repo, prefix), original, _ = truth
    for p in pairs:
        if p["relation"] == "parallel":
            continue
        for a, b in ((p["a"], p["b"]), (p["b"], p["a"])):
            if side_matches(a, repo, prefix) and b["repo"] == original:
                return p
    return None


def score_parallel(found: list[dict], truth: set[frozenset]) -> dict:
    reported = {frozenset((p["a"]["repo"], p["b"]["repo"])) for p in found}
    hits = reported & truth
    return {
        "reported": len(reported),
        "correct": len(hits),
        "truth": len(truth),
        "precision": round(len(hits) / len(reported), 3) if reported else None,
        "recall": round(len(hits) / len(truth), 3) if truth else None,
        "false_positives": sorted(" ~ ".join(sorted(p)) for p in reported - truth),
        "missed": sorted(" ~ ".join(sorted(p)) for p in truth - reported),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repos", default="/tmp/sample-org/repos")
    shared_corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    ap.add_argument("--corpus", default=str(shared_corpus))
    ap.add_argument("--data", help="an existing index of --repos (default: index into a temp dir)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dedup-libs-"))
    try:
        data = layout.DataDir(Path(args.data)) if args.data else layout.DataDir(work / "data")
        if not args.data:
            index_sources(data, [args.repos], say=lambda _m: None)
        store = Store.open(data.root)
        report = api.find_duplicates(store)
        pairs = report["libraries"]
        truth = parallel_truth(Path(args.corpus))

        copies = []
        for t in TRUTH_COPIES:
            p = copy_found(pairs, t)
            copies.append(
                {
                    "copy": f"{t[0][0]}:{t[0][1] or '/'}",
                    "original": t[1],
                    "expected": t[2],
                    "found": p is not None,
                    "relation": p["relation"] if p else None,
                    "score": p["score"] if p else None,
                    "summary": p["evidence"].get("summary") if p else None,
                }
            )
        parallel = [p for p in pairs if p["relation"] == "parallel"]
        strict = score_parallel(parallel, truth)
        # Lenient recall: a parallel pair reported as copy/fork is still a pair brought to
        # the reader (google/pborman uuid share code, so they come out as a fork).
        lenient = score_parallel(pairs, truth)

        # Threshold sweep over the same vocabulary (no re-detection of copies).
        snap = store.snapshot()
        found = detect(store, snap, 50, 6)
        blobs = {f.blob_key for rows in libraries.code_files(snap).values() for f in rows}
        vocab = load_vocabulary(store, blobs)
        related = {
            frozenset((p["a"]["repo"], p["b"]["repo"]))
            for p in pairs
            if p["relation"] != "parallel"
        }
        links = libraries.repo_function_links(found.classes)
        sweep = []
        for threshold in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4):
            at = libraries.parallels(snap, vocab, related, links, min_score=threshold)
            s = score_parallel(at, truth)
            sweep.append(
                {
                    "min_score": threshold,
                    **{k: s[k] for k in ("reported", "correct", "precision", "recall")},
                }
            )
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    others = [
        {
            "relation": p["relation"],
            "a": f"{p['a']['repo']}:{p['a']['path'] or '/'}",
            "b": f"{p['b']['repo']}:{p['b']['path'] or '/'}",
            "score": p["score"],
            "summary": p["evidence"].get("summary", ""),
        }
        for p in pairs
        if p["relation"] != "parallel"
    ]
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "copies_and_forks": copies,
        "parallel_strict": strict,
        "parallel_lenient": lenient,
        "parallel_sweep": sweep,
        "all_copy_fork_pairs": others,
    }
    print("Known copies and forks:")
    for c in copies:
        mark = "FOUND " if c["found"] else "MISSED"
        print(
            f"  {mark} {c['copy']} <- {c['original']} ({c['expected']}): {c['relation']} "
            f"score {c['score']}"
        )
    print(f"  {sum(c['found'] for c in copies)}/{len(copies)} found")
    print(
        f"Parallel (relation=parallel): precision {strict['precision']} "
        f"({strict['correct']}/{strict['reported']}), recall {strict['recall']} "
        f"({strict['correct']}/{strict['truth']})"
    )
    print(
        f"Parallel pairs reported with any relation: recall {lenient['recall']} "
        f"({lenient['correct']}/{lenient['truth']})"
    )
    print("  false positives:", ", ".join(strict["false_positives"]) or "-")
    print("  missed:", ", ".join(strict["missed"]) or "-")
    print("Threshold sweep (min_score: precision / recall):")
    for s in sweep:
        print(
            f"  {s['min_score']}: {s['precision']} / {s['recall']} ({s['correct']}/{s['reported']})"
        )
    print("All copy/fork pairs found:")
    for o in others:
        print(f"  {o['relation']:5} {o['score']:.3f} {o['a']} ~ {o['b']}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dedup_libraries.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"-> {OUT / 'dedup_libraries.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
