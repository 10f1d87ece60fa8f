"""Which parallel-implementations rule, built from the signals `libraries.similarities` has
with the purpose embedding, does best on every tuning org at once (issue 15)? Tuning only.

Usage: .venv/bin/python bench/parallel_rules.py --org sample=DATA --org heldout=DATA
       --org heldout2=DATA … [--corpus ../shared/corpus] [--purpose-neighbours N]
DATA is an index of that org (bench/heldout_org.py builds the held-out ones); the org
heldout_org.UNSEEN names is refused. The purpose vectors come from the dedup job's cache in
DATA (computed and cached there on the first run). Per pair of one main language (copies,
forks and "uses" pairs left out, as bench/parallel_features.py leaves them), rules of the
form libraries.PairSimilarity.weighted(h, w, v) >= t: vocabulary cosine - h x hubness
+ w x (purpose cosine - v x purpose hubness), where purpose hubness is the embedding's own
local scaling (a repo whose description is close to every other one's says little about
any one pair), over a grid of h, w, v and t, some also asking that the pair be among one
side's k best. Prints precision / recall per org for the rule before the purpose hubness
(v = 0) and for the one in `libraries` now, the best rules by the worst org's F1, every rule
at precision >= 0.9 and recall >= 0.8 on every org, and the false and missed pairs of the
best. --purpose-neighbours N takes each repo's purpose hubness over its N nearest instead of
libraries.HUB_NEIGHBOURS (in a group of N + 1 or more libraries of one job, the N nearest
descriptions are the group's own, so the purpose term of its true pairs is ~0).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import defaultdict
from dataclasses import dataclass
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import parallel_features  # noqa: E402

from innersearch.dedup import libraries, purpose_embedding  # noqa: E402
from innersearch.dedup.state import dedup_dir  # noqa: E402
from innersearch.indexer.store import Store  # noqa: E402


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    sim: libraries.PairSimilarity
    truth: bool

    def score(self, hub_weight: float, purpose_weight: float, purpose_hub_weight: float) -> float:
        return self.sim.weighted(hub_weight, purpose_weight, purpose_hub_weight)


def org_pairs(
    name: str, data: str, corpus: Path, purpose_neighbours: int | None = None
) -> tuple[list[Pair], int]:
    """The org's pairs the report weighs, and how many true parallel pairs its labels hold.
    With `purpose_neighbours`, each repo's purpose hubness is the mean of that many of its
    highest purpose cosines instead of libraries.HUB_NEIGHBOURS."""
    if name == parallel_features.heldout_org.UNSEEN:
        raise SystemExit(f"{name} is the org held out: it is not tuned on")
    parallel, copies = parallel_features._truth(name, corpus)
    store = Store.open(data)
    try:
        snap = store.snapshot()
        vectors, langs, uses = parallel_features.profiled(store, snap)
        cache = dedup_dir(store.data) / purpose_embedding.CACHE_NAME
        sims = libraries.similarities(vectors, langs, libraries.purpose_vectors(snap, langs, cache))
    finally:
        store.close()
    if purpose_neighbours is not None:
        sims = _purpose_hubness_over(sims, purpose_neighbours)
    out = []
    for (a, b), sim in sims.items():
        key = frozenset((a, b))
        if key not in uses and key not in copies:
            out.append(Pair(a, b, sim, key in parallel))
    return out, len(parallel)


def _purpose_hubness_over(
    sims: dict[tuple[str, str], libraries.PairSimilarity], neighbours: int
) -> dict[tuple[str, str], libraries.PairSimilarity]:
    """The same pairs with each repo's purpose hubness taken over `neighbours` nearest."""
    hub = libraries._hubness({key: sim.purpose for key, sim in sims.items()}, neighbours)
    return {
        (a, b): dataclasses.replace(sim, purpose_hub_a=hub[a], purpose_hub_b=hub[b])
        for (a, b), sim in sims.items()
    }


def top_ranked(pairs: list[Pair], score, k: int) -> set[tuple[str, str]]:
    """The pairs among the k best by `score` of at least one side."""
    mine: dict[str, list[tuple[float, tuple[str, str]]]] = defaultdict(list)
    for p in pairs:
        s = score(p)
        mine[p.a].append((s, (p.a, p.b)))
        mine[p.b].append((s, (p.a, p.b)))
    return {key for found in mine.values() for _s, key in sorted(found, reverse=True)[:k]}


def evaluate(
    orgs: dict[str, tuple[list[Pair], int]], rule, ranked: list[set] | None = None
) -> list[tuple[float, float]]:
    """Precision and recall per org of `rule`; with `ranked` (per org, the pairs `top_ranked`
    keeps), only those pairs count."""
    cells = []
    for n, (pairs, truths) in enumerate(orgs.values()):
        reported = [p for p in pairs if rule(p)]
        if ranked is not None:
            reported = [p for p in reported if (p.a, p.b) in ranked[n]]
        hits = sum(p.truth for p in reported)
        cells.append((hits / len(reported) if reported else 0.0, hits / truths if truths else 0.0))
    return cells


def worst_f1(cells: list[tuple[float, float]]) -> float:
    return min(2 * p * r / (p + r) if p + r else 0.0 for p, r in cells)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--org", action="append", required=True, help="NAME=DATA")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--top", type=int, default=20, help="rules to print")
    ap.add_argument(
        "--purpose-neighbours",
        type=int,
        help=f"purpose hubness over this many nearest (default {libraries.HUB_NEIGHBOURS})",
    )
    args = ap.parse_args()
    orgs = {}
    for spec in args.org:
        name, data = spec.split("=", 1)
        orgs[name] = org_pairs(name, data, Path(args.corpus), args.purpose_neighbours)

    def show(label: str, cells: list[tuple[float, float]]) -> None:
        text = " | ".join(f"{n} {p:.2f} / {r:.2f}" for n, (p, r) in zip(orgs, cells, strict=True))
        print(f"{label:<44} {text}  (worst F1 {worst_f1(cells):.2f})")

    # The rule of 2026-12-04 morning (no purpose hubness), and the one in libraries now.
    before = (0.6, 0.25, 0.0, 0.15)
    today = (
        libraries.HUB_WEIGHT,
        libraries.PURPOSE_WEIGHT,
        libraries.PURPOSE_HUB_WEIGHT,
        libraries.MIN_PARALLEL_SCORE,
    )
    neighbours = args.purpose_neighbours or libraries.HUB_NEIGHBOURS
    print(
        "precision / recall per org (" + ", ".join(orgs) + "); "
        f"purpose hubness over the {neighbours} nearest"
    )

    def rule_of(hub_w, purpose_w, purpose_hub_w, at):
        return lambda p: p.score(hub_w, purpose_w, purpose_hub_w) >= at

    for label, (h, w, v, at) in (("before", before), ("libraries now", today)):
        show(
            f"{label}: cos-{h:.2f}hub+{w:.2f}(purpose-{v:.2f}phub)>={at:.2f}",
            evaluate(orgs, rule_of(h, w, v, at)),
        )
    grid = []
    for hub_w, purpose_w, purpose_hub_w in product(
        (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
        (0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0),
        (0.0, 0.5, 0.75, 1.0, 1.25, 1.5),
    ):
        weights = (hub_w, purpose_w, purpose_hub_w)
        # The top-2 pairs of each side depend on the weights only: ranked once per weights.
        top2 = [
            top_ranked(pairs, lambda p, w=weights: p.score(*w), 2) for pairs, _ in orgs.values()
        ]
        for at, k in product(
            (-0.04, -0.02, 0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.18, 0.2), (0, 2)
        ):
            cells = evaluate(orgs, rule_of(*weights, at), top2 if k else None)
            grid.append((worst_f1(cells), (*weights, at, k), cells))
    grid.sort(key=lambda g: (-g[0], g[1]))
    print(
        f"best {args.top} of {len(grid)} rules by the worst org's F1 "
        "(hub weight, purpose weight, purpose-hub weight, threshold; top k of a side, 0: any):"
    )
    for _f1, params, cells in grid[: args.top]:
        h, w, v, at, k = params
        show(f"cos-{h:.2f}hub+{w:.2f}(purpose-{v:.2f}phub)>={at:.2f} k{k}", cells)
    meets = [g for g in grid if all(p >= 0.9 and r >= 0.8 for p, r in g[2])]
    print(f"rules at precision >= 0.9 and recall >= 0.8 on every org: {len(meets)}")
    for _f1, (h, w, v, at, k), cells in meets:
        show(f"cos-{h:.2f}hub+{w:.2f}(purpose-{v:.2f}phub)>={at:.2f} k{k}", cells)
    best = grid[0][1]
    print("the best rule's false pairs (F) and misses (M):")
    for name, (pairs, _) in orgs.items():
        chosen = {(p.a, p.b) for p in pairs if rule_of(*best[:4])(p)}
        if best[4]:
            chosen &= top_ranked(pairs, lambda p: p.score(*best[:3]), best[4])
        for p in sorted(pairs, key=lambda p: (p.a, p.b)):
            if ((p.a, p.b) in chosen) != p.truth:
                print(
                    f"  {name} {'M' if p.truth else 'F'} {p.a} ~ {p.b}: cos {p.sim.cosine:.3f} "
                    f"hub {p.sim.hub_a:.3f}/{p.sim.hub_b:.3f} purpose {p.sim.purpose:.3f} "
                    f"phub {p.sim.purpose_hub_a:.3f}/{p.sim.purpose_hub_b:.3f} "
                    f"score {p.score(*best[:3]):.3f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
