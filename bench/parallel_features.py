"""The signals of the parallel-implementations rule per repo pair, on the tuning orgs, and
how candidate rules would score there (issue 15): for tuning only, never on an org held out.

Usage: .venv/bin/python bench/parallel_features.py --org sample=DATA --org heldout=DATA
       [--org heldout2=DATA] [--corpus ../shared/corpus]
DATA is an index of that org (sample: /tmp/sample-org/repos; heldoutN: bench/heldout_org.py
--org heldoutN builds it). For every pair of repos of one main language: the hub-adjusted
vocabulary score (libraries.similarities without the embedding), the cosine of the TF-IDF
words each repo says it is for (tfidf_purpose) and the cosine of what the two import (TF-IDF of the
top-level module names of repos.info["deps"]["imports"]: libraries built on the same
primitives). Pairs that are copies/forks or "uses" by the truth are left out, as the report
leaves them out. Prints precision and recall per org of the vocabulary rule before the purpose
embedding (VOCABULARY_RULE; libraries.MIN_PARALLEL_SCORE is on a scale with the embedding) and of
score + w x imports >= t, and the true pairs that rule misses with their signals. The
precision here counts every reported pair against the labels, so it differs slightly from
bench/dedup_libraries.py's (which also drops the pairs the report found as copies).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import dedup_libraries  # noqa: E402
import heldout_org  # noqa: E402

from innersearch.dedup import libraries  # noqa: E402
from innersearch.dedup.report import runtime_uses  # noqa: E402
from innersearch.indexer import deps  # noqa: E402
from innersearch.indexer.store import Store  # noqa: E402

# The rule before the purpose embedding: hub-adjusted vocabulary score >= 0.04, and the TF-IDF
# purpose gate below; kept here as the baseline the later rules are compared with.
VOCABULARY_RULE = 0.04
MIN_PURPOSE = 0.02


def tfidf_purpose(snap, repos: list[str]) -> dict[str, dict[str, float]]:
    """repo -> TF-IDF of what the repo says its job is: package description, keywords and
    topics and the opening prose of its README (the purpose signal before the embedding)."""
    bags: dict[str, Counter] = {}
    for repo in repos:
        words = Counter({w: 1 for w in libraries._meta_words(snap, repo)})
        lead = libraries._readme_lead(libraries.readme_text(snap, repo))
        words.update("meta:" + w for w in lead if w not in libraries._STOP)
        bags[repo] = words
    return libraries._tfidf(bags)


def _truth(org: str, corpus: Path) -> tuple[set[frozenset], set[frozenset]]:
    """(parallel pairs, copy/fork pairs) of the labels."""
    if org == "sample":
        copies = {frozenset((c[0], o)) for c, o, _rel in dedup_libraries.TRUTH_COPIES}
        return dedup_libraries.parallel_truth(corpus), copies
    rows = heldout_org.rows(heldout_org.ORGS[org][0])
    copies = {frozenset((c[0], o)) for c, o in heldout_org.copy_truth(rows)}
    return heldout_org.parallel_truth(rows), copies


def profiled(store: Store, snap) -> tuple[dict, dict[str, str], set[frozenset]]:
    """(vocabulary vector, main language) per repo and the "uses" pairs, as the report
    computes them."""
    code = libraries.code_files(snap)
    vocab = libraries.load_api_vocabulary(store, {f.blob_key for r in code.values() for f in r})
    uses = {frozenset(u) for u in runtime_uses(snap, code, deps.graph(snap))}
    _files, vectors, langs = libraries.profile(snap, vocab)
    return vectors, langs, uses


def pair_signals(data: str) -> list[dict]:
    store = Store.open(data)
    try:
        snap = store.snapshot()
        vectors, langs, uses = profiled(store, snap)
        purpose = tfidf_purpose(snap, sorted(vectors))
        imported = {}
        for repo in vectors:
            found = (snap.repos[repo].info.get("deps") or {}).get("imports") or {}
            imported[repo] = Counter(
                {n.split("/")[0]: 1 for names in found.values() for n in names}
            )
        imports = libraries._tfidf(imported)
        out = []
        for (a, b), sim in libraries.similarities(vectors, langs).items():
            pa, pb = purpose.get(a) or {}, purpose.get(b) or {}
            out.append(
                {
                    "pair": frozenset((a, b)),
                    "score": sim.score,
                    "purpose": libraries.cosine(pa, pb) if pa and pb else None,
                    "imports": libraries.cosine(imports.get(a, {}), imports.get(b, {})),
                    "uses": frozenset((a, b)) in uses,
                }
            )
        return out
    finally:
        store.close()


def tuning_pairs(spec: str, corpus: Path) -> tuple[str, tuple[list[dict], int]]:
    """NAME=DATA -> (NAME, (its pairs the report would weigh, each with "truth", and how
    many true parallel pairs the labels hold)); the org held out is refused."""
    name, data = spec.split("=", 1)
    if name == heldout_org.UNSEEN:
        raise SystemExit(f"{name} is the org held out: it is not tuned on")
    parallel, copies = _truth(name, corpus)
    pairs = [p for p in pair_signals(data) if not p["uses"] and p["pair"] not in copies]
    for p in pairs:
        p["truth"] = p["pair"] in parallel
    return name, (pairs, len(parallel))


def gate(p: dict) -> bool:
    """The purpose gate before the embedding: both repos say what they are for and say
    different things."""
    return p["purpose"] is None or p["purpose"] >= MIN_PURPOSE


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--org", action="append", required=True, help="NAME=DATA")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    args = ap.parse_args()
    orgs = dict(tuning_pairs(spec, Path(args.corpus)) for spec in args.org)

    def line(rule) -> str:
        cells = []
        for name, (pairs, truths) in orgs.items():
            reported = [p for p in pairs if gate(p) and rule(p)]
            hits = sum(p["truth"] for p in reported)
            precision = hits / len(reported) if reported else 0.0
            cells.append(f"{name} {precision:.2f} / {hits / truths:.2f}")
        return " | ".join(cells)

    today = VOCABULARY_RULE
    now = line(lambda p: p["score"] >= today)
    print(f"precision / recall per org; the vocabulary rule (score >= {today}): {now}")
    for weight in (0.05, 0.1, 0.15, 0.2):
        for at in (0.04, 0.06, 0.08):
            rule = lambda p, w=weight, t=at: p["score"] + w * p["imports"] >= t  # noqa: E731
            print(f"score + {weight} x imports >= {at}: {line(rule)}")
    print("true pairs the vocabulary rule misses:")
    for name, (pairs, _truths) in orgs.items():
        for p in sorted(pairs, key=lambda p: sorted(p["pair"])):
            if p["truth"] and not (gate(p) and p["score"] >= today):
                purpose = "-" if p["purpose"] is None else f"{p['purpose']:.3f}"
                print(
                    f"  {name}: {' ~ '.join(sorted(p['pair']))}: score {p['score']:.3f}, "
                    f"purpose {purpose}, imports {p['imports']:.3f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
