"""CPU seconds per MB of each step of a blob's analysis, over the files of one tree.

Usage: .venv/bin/python bench/analysis_stages.py DIR [--lang c] [--suffixes .c,.h]
In one process, collector off as in the workers: tree-sitter parse, the tags query and
definitions, the token stream, fingerprints (shingles, MinHash, packing), then the whole
`analyze_blob` again (which adds the stored content, references and classification). The
per-step split is what bounds indexing speed per core (bench/index_threads.py gives the
whole run's split by thread).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from innersearch.indexer import analyze, fingerprints, parse  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--lang", default="c")
    ap.add_argument("--suffixes", default=".c,.h")
    args = ap.parse_args()
    suffixes = tuple(args.suffixes.split(","))
    files = sorted(p for p in args.dir.rglob("*") if p.is_file() and p.suffix in suffixes)
    datas = [p.read_bytes() for p in files]
    mb = sum(map(len, datas)) / 1e6
    state, parser = parse._lang(args.lang), parse._parser(args.lang)
    spent: dict[str, float] = {}

    def timed(step: str, work, *args):
        started = time.process_time()
        out = work(*args)
        spent[step] = spent.get(step, 0.0) + time.process_time() - started
        return out

    load = os.getloadavg()[0]
    gc.disable()  # as analyze_blob runs (parse.collector_paused)
    for data in datas:
        root = timed("tree-sitter parse", lambda d: parser.parse(d).root_node, data)
        result = parse.ParseResult()
        timed("tags query + definitions", parse._extract_tags, state, root, data, result)
        result.tokens = timed("token stream", parse._tokens, state, root, data)
        timed("fingerprints", fingerprints.fragment_records, result, data)
    gc.enable()
    started = time.process_time()
    for i, (path, data) in enumerate(zip(files, datas, strict=True)):
        analyze.analyze_blob((f"{i:040x}", str(path), args.lang, data))
    spent["whole analyze_blob"] = time.process_time() - started
    print(f"{len(files)} files, {mb:.1f} MB; load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print("| step | CPU s | s per MB |")
    print("|---|---:|---:|")
    for step, seconds in spent.items():
        print(f"| {step} | {seconds:.2f} | {seconds / mb:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
