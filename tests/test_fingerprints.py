"""Fingerprint records written at index time: noise filtering, sizes, views, stability.

Sources go through the real tree-sitter parser; one test builds a ParseResult by hand.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from innersearch.indexer import fingerprints as fp
from innersearch.indexer.parse import parse_source
from innersearch.indexer.records import FunctionSpan, ParseResult, Token, TokenStream

PY = b"""import os
from collections import (
    OrderedDict,
    defaultdict,
)

def summarize_orders(orders, currency):
    totals = {}
    count = 0
    for order in orders:
        if order.currency != currency:
            continue
        totals[order.customer] = totals.get(order.customer, 0) + order.amount
        count += 1
    return {"totals": totals, "count": count}

def tiny(a):
    return a
"""

RENAMED = (
    PY.replace(b"summarize_orders", b"group_payments")
    .replace(b"order", b"pay")
    .replace(b"totals", b"sums")
)


def records(lang: str, source: bytes) -> list[fp.FragmentRecord]:
    parsed = parse_source(lang, source)
    assert parsed is not None
    return fp.fragment_records(parsed, source)


def token_texts(record: fp.FragmentRecord, source_tokens: dict[int, str]) -> list[str]:
    hashes = fp.decode_record(record.data).streams()[0]
    return [source_tokens.get(int(h), "?") for h in hashes]


def test_file_and_function_records_python():
    recs = records("python", PY)
    kinds = [(r.kind, r.symbol) for r in recs]
    assert kinds[0] == ("file", "")
    assert ("function", "summarize_orders") in kinds
    assert ("function", "tiny") not in kinds, "below the index minimum size"
    fn = next(r for r in recs if r.symbol == "summarize_orders")
    assert (fn.start_line, fn.end_line) == (7, 15)
    assert fn.tokens >= fp.INDEX_MIN_TOKENS


def test_imports_are_not_tokens():
    parsed = parse_source("python", PY)
    known = {fp.token_hash(t.text): t.text for t in parsed.tokens}
    file_rec = records("python", PY)[0]
    texts = token_texts(file_rec, known)
    assert "import" not in texts and "OrderedDict" not in texts and "os" not in texts
    assert file_rec.start_line == 7, "the file record starts after the imports"


@pytest.mark.parametrize(
    ("lang", "source", "imported"),
    [
        (
            "javascript",
            b'import { a,\n  b } from "lib";\nconst fs = require("fs");\n'
            b"function f(x) {\n  return a(x) + b(x);\n}\n",
            {"lib", "fs", "require"},
        ),
        (
            "go",
            b'package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\n'
            b"func main() {\n\tfmt.Println(os.Args)\n}\n",
            {"package", '"fmt"', '"os"'},
        ),
        (
            "typescript",
            b'import type { Opts } from "./opts";\nexport function g(o: Opts): number {\n'
            b"  return o.n * 2;\n}\n",
            {'"./opts"'},
        ),
    ],
)
def test_imports_dropped_per_language(lang, source, imported):
    parsed = parse_source(lang, source)
    known = {fp.token_hash(t.text): t.text for t in parsed.tokens}
    texts = token_texts(fp.fragment_records(parsed, source)[0], known)
    assert not imported & set(texts), texts
    assert texts, "code after the imports is kept"


def test_renamed_copy_has_the_same_abstract_signature():
    a = next(r for r in records("python", PY) if r.kind == "function")
    b = next(r for r in records("python", RENAMED) if r.kind == "function")
    da, db = fp.decode_record(a.data), fp.decode_record(b.data)
    assert np.array_equal(da.abs_sig, db.abs_sig)
    assert not np.array_equal(da.raw_sig, db.raw_sig)


def test_records_are_deterministic_across_processes():
    here = records("python", PY)[1].data
    code = (
        "import sys; from innersearch.indexer.parse import parse_source;"
        "from innersearch.indexer.fingerprints import fragment_records;"
        "src = sys.stdin.buffer.read();"
        "sys.stdout.buffer.write(fragment_records(parse_source('python', src), src)[1].data)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=PY, capture_output=True, check=True
    ).stdout
    assert out == here


def test_hand_built_parse_result():
    tokens = []
    for line in range(1, 11):
        for col, (text, cat) in enumerate(
            [("x", "identifier"), ("=", "punct"), (str(line), "literal"), (";", "punct")]
        ):
            tokens.append(Token(text, cat, line, line * 100 + col))
    parsed = ParseResult(
        tokens=TokenStream.of(tokens), functions=[FunctionSpan("body", 2, 9, 200, 1000)]
    )
    recs = fp.fragment_records(parsed, b"")
    assert [r.kind for r in recs] == ["file", "function"]
    assert recs[0].tokens == 40 and recs[1].tokens == 32
    whole = fp.decode_record(recs[0].data)
    hashes, cats, lines, vocab = fp.decode_record(recs[1].data, parent=whole).streams()
    assert len(hashes) == len(cats) == len(lines) == 32
    assert int(lines[0]) == 0 and vocab == []
    # The function record stores no streams of its own: they are its file record's slice.
    assert len(recs[1].data) < len(recs[0].data)
    assert hashes.tolist() == whole.streams()[0][4:36].tolist()
    with pytest.raises(ValueError):
        fp.decode_record(recs[1].data).streams()


def _datasketch_signature(stream: np.ndarray, k: int) -> np.ndarray:
    """The signature as datasketch computes it (the reference for the vectorised one)."""
    m = MinHash(
        num_perm=fp.NUM_PERM,
        seed=fp.SEED,
        hashfunc=lambda v: v,
        permutations=fp.PERMUTATIONS,
        scheme="affine32",
    )
    shingles = fp.shingle_hashes(stream, k)
    if len(shingles):
        m.update_batch(shingles.tolist())
    return m.hashvalues.astype(np.uint32)


def test_range_signatures_equal_datasketch():
    rng = np.random.default_rng(5)
    stream = rng.integers(0, 50, size=9000).astype(np.uint32)  # more than one chunk
    ranges = [(0, 9000), (10, 40), (0, 3), (8000, 8990), (4000, 4200), (4100, 4150), (7, 7)]
    got = fp.range_signatures(stream, fp.RAW_K, ranges)
    for (lo, hi), sig in zip(ranges, got, strict=True):
        assert sig.tolist() == _datasketch_signature(stream[lo:hi], fp.RAW_K).tolist(), (lo, hi)


def test_no_tokens_no_records():
    assert fp.fragment_records(ParseResult(), b"") == []
    only_imports = b"import os\nimport sys\n"
    assert records("python", only_imports) == []


def test_bad_record_is_rejected():
    with pytest.raises(ValueError):
        fp.decode_record(b"nonsense")
    with pytest.raises(ValueError):
        fp.decode_record(b"XX" + bytes(200))


def test_record_keeps_low_16_bits_of_datasketch_and_exact_streams():
    rng = np.random.default_rng(11)
    hashes = rng.integers(0, 1 << 32, size=500, dtype=np.uint64).astype(np.uint32)
    cats = rng.integers(0, 4, size=500).astype(np.uint8)
    lines = np.sort(rng.integers(0, 300, size=500)).astype(np.uint32)
    lines[100] = 2  # a line going back is still stored exactly
    # The file record as fragment_records writes it, from a stream made up here.
    whole = [(0, len(hashes))]
    raw = fp.range_signatures(hashes, fp.RAW_K, whole)[0]
    abstracted = fp.range_signatures(fp.abstract_stream(hashes, cats), fp.ABS_K, whole)[0]
    record = fp._record(raw, abstracted, len(hashes), fp._pack(hashes, cats, lines, None))
    decoded = fp.decode_record(record)
    want = _datasketch_signature(hashes, fp.RAW_K) & 0xFFFF
    assert decoded.raw_sig.tolist() == want.tolist()
    got_hashes, got_cats, got_lines, _ = decoded.streams()
    assert got_hashes.tolist() == hashes.tolist()
    assert got_cats.tolist() == cats.tolist()
    assert got_lines.tolist() == lines.tolist()


C_API = b"""#define QUEUE_DEPTH 64
struct ring_queue {
    int head;
    int tail;
};

int ring_queue_push(struct ring_queue *q, int value)
{
    q->tail = (q->tail + 1) % QUEUE_DEPTH;
    return value;
}
"""


def test_file_record_vocabulary_keeps_only_the_api_definitions():
    # Constants and struct fields are most of a C tree's symbols and no reader of the
    # record uses them (the search index has them): the record keeps types and callables.
    parsed = parse_source("c", C_API)
    assert {s.kind for s in parsed.symbols} >= {"constant", "field", "struct", "function"}
    vocab = fp.decode_record(records("c", C_API)[0].data).streams()[3]
    assert sorted((kind, name) for kind, name, _c, _s in vocab) == [
        ("function", "ring_queue_push"),
        ("struct", "ring_queue"),
    ]


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 9000),
    cuts=st.lists(st.integers(0, 9000), max_size=60),
    nested=st.lists(st.tuples(st.integers(0, 9000), st.integers(0, 300)), max_size=3),
)
def test_range_signatures_equal_one_signature_per_range(size, cuts, nested):
    """Many disjoint ranges (a file's functions, folded in one reduceat per chunk), the
    whole stream and a few nested ones give each range the signature of its own windows."""
    stream = np.random.default_rng(size).integers(0, 40, size=size).astype(np.uint32)
    edges = sorted({min(c, size) for c in cuts})
    ranges = [(0, size)] + [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=False)]
    ranges += [(min(lo, size), min(lo + n, size)) for lo, n in nested]
    got = fp.range_signatures(stream, fp.RAW_K, ranges)
    for (lo, hi), sig in zip(ranges, got, strict=True):
        if hi - lo <= 0:
            assert sig.tolist() == fp._EMPTY_SIG.tolist()
            continue
        windows = fp.window_hashes(stream[lo:hi], fp.RAW_K)
        assert sig.tolist() == fp._signature_of(windows).tolist(), (lo, hi)
