"""Where the bytes of a data dir are: tantivy files by kind, catalog tables, stored fields.

Usage: .venv/bin/python bench/index_size.py DATA_DIR [--fields]
Prints the tantivy index's bytes per segment-file kind (.store, .idx, .pos, .term, .fast,
.fieldnorm, ...), the catalog's bytes per table and index (SQLite's `dbstat` virtual
table), the implementations index, and with --fields the raw bytes of each stored field
summed over every document (before the doc store's compression), all against the indexed
source bytes (the catalog's blob sizes).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]


def tantivy_kinds(index_dir: Path) -> Counter:
    kinds: Counter = Counter()
    for f in index_dir.iterdir():
        if f.is_file():
            kinds[f.suffix or f.name] += f.stat().st_size
    return kinds


def catalog_tables(path: Path) -> tuple[Counter, int]:
    # Read-only, the WAL included: measuring never changes the data dir.
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        indexed = conn.execute("SELECT COALESCE(SUM(size), 0) FROM blobs").fetchone()[0]
    finally:
        conn.close()
    return Counter(dict(rows)), indexed


def stored_fields(index_dir: Path) -> Counter:
    import tantivy

    from innersearch.indexer import schema

    index = schema.open_index(index_dir)
    searcher = index.searcher()
    sizes: Counter = Counter()
    hits = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs, count=False)
    for _, addr in hits.hits:
        doc = searcher.doc(addr).to_dict()
        kind = doc.get(schema.F_DOC_KIND, ["symbol" if schema.F_SYM_NAME in doc else "blob"])
        kind = kind[0] if kind else "?"
        for name, values in doc.items():
            for v in values:
                n = len(v) if isinstance(v, bytes | str) else 8
                sizes[f"{kind}.{name}"] += n
        sizes[f"{kind}.docs"] += 1
    return sizes


def _row(label: str, n: int, indexed: int) -> str:
    return f"| {label} | {n / 2**20:,.1f} MiB | {n / indexed:.3f}x |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", type=Path)
    ap.add_argument("--fields", action="store_true", help="also sum every stored field")
    args = ap.parse_args()
    tables, indexed = catalog_tables(args.data / "catalog.sqlite")
    kinds = tantivy_kinds(args.data / "index")
    impl = sum(f.stat().st_size for f in (args.data / "implementations").rglob("*") if f.is_file())
    cat_files = sum(
        p.stat().st_size for p in args.data.glob("catalog.sqlite*") if p.suffix != ".lock"
    )
    total = sum(kinds.values()) + cat_files + impl
    print(f"indexed source: {indexed / 1e6:,.1f} MB; total {total / indexed:.2f}x")
    print("| part | bytes | of indexed |")
    print("|---|---:|---:|")
    for kind, n in kinds.most_common():
        print(_row(f"tantivy {kind}", n, indexed))
    print(_row("tantivy (all)", sum(kinds.values()), indexed))
    for name, n in tables.most_common():
        print(_row(f"catalog {name}", n, indexed))
    print(_row("catalog files (with WAL)", cat_files, indexed))
    print(_row("implementations index", impl, indexed))
    if args.fields:
        print("| stored field (raw, before compression) | bytes | of indexed |")
        print("|---|---:|---:|")
        for name, n in stored_fields(args.data / "index").most_common():
            if name.endswith(".docs"):
                print(f"| {name} | {n:,} | - |")
            else:
                print(_row(name, n, indexed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
