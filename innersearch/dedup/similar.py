"""'Does this already exist?': the indexed fragments most similar to a snippet or a file.

The snippet is fingerprinted like indexed code; every fragment's signature is compared at
once (numpy), and the best candidates are verified on their token streams.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np

from innersearch.indexer import classify
from innersearch.indexer import fingerprints as fp
from innersearch.indexer.parse import SUPPORTED_LANGUAGES, parse_source
from innersearch.indexer.store import Snapshot, Store

from . import verify
from .fragments import Fragments, load, load_streams
from .results import SimilarMatch, SimilarResponse

MIN_SIMILARITY = 0.5  # measured; below it a "match" is not worth an engineer's time
CANDIDATES = 60  # best signature estimates verified on token streams
GUESSES = 3  # languages tried for a snippet without one, best parses first
# Languages tried, in order, when the caller does not say (a snippet has no file name).
_GUESS_ORDER = (
    "python",
    "javascript",
    "typescript",
    "go",
    "java",
    "rust",
    "ruby",
    "php",
    "csharp",
    "kotlin",
    "cpp",
    "c",
    "tsx",
)

_NUMBER = re.compile(r"\d+")  # our own fixed pattern, never user input


def _fragments(store: Store, snap: Snapshot) -> Fragments:
    """All fragments of the index minimum size, owned by the snapshot's generation (every
    permission set of it shares them; they go with the generation)."""
    full = snap.unrestricted()
    return full.view.derived(
        "similar_fragments", lambda: load(store, full, fp.INDEX_MIN_TOKENS, fp.INDEX_MIN_LINES)
    )


def _error_lines(error: str) -> int:
    """How many lines the parser's error summary names ("syntax errors at lines 3, 9
    (+4 more)" -> 6); 0 for a clean parse."""
    if not error:
        return 0
    listed, _, more = error.partition("(+")
    count = len(_NUMBER.findall(listed))
    extra = _NUMBER.match(more)
    return max(1, count + (int(extra.group()) if extra else 0))


def _fingerprints(
    snippet: str, lang: str | None
) -> tuple[list[tuple[str, fp.FragmentRecord]], str]:
    """([(language, the snippet's record)], problem). Without a language, the GUESSES best
    parses: fewest error lines, then more definitions found."""
    data = snippet.encode("utf-8")
    if lang:
        if lang not in SUPPORTED_LANGUAGES:
            known = ", ".join(sorted(SUPPORTED_LANGUAGES))
            return [], f"language {lang!r} is not supported (supported: {known})"
        tries = [lang]
    else:
        tries = list(_GUESS_ORDER)
    ranked: list[tuple[tuple, str, fp.FragmentRecord]] = []
    for order, candidate in enumerate(tries):
        if candidate == "php" and not lang and b"<?php" not in data:
            continue  # PHP's grammar takes any text outside <?php as valid template text
        parsed = parse_source(candidate, data)
        if parsed is None or not parsed.tokens:
            continue
        records = fp.fragment_records(parsed, data)
        if not records:
            continue
        rank = (_error_lines(parsed.error), -len(parsed.functions), -len(parsed.symbols), order)
        ranked.append((rank, candidate, records[0]))
    if not ranked:
        return [], "the snippet has no code tokens (only imports or comments?)"
    ranked.sort(key=lambda item: item[0])
    return [(name, record) for _, name, record in ranked[:GUESSES]], ""


def _best_window(mine: list[int], theirs: verify.Streams) -> tuple[float, int, int]:
    """(similarity, first token, last token) of the best snippet-sized window of a longer
    fragment: a snippet cut from a file should find that file, not score against all of it."""
    size = len(mine)
    stream = theirs.raw
    best = (verify.lcs_ratio(mine, stream), 0, len(stream) - 1)
    if len(stream) <= size * 3 // 2:
        return best
    step = max(1, size // 4)
    for lo in range(0, len(stream) - size + step, step):
        window = stream[lo : lo + size]
        sim = verify.lcs_ratio(mine, window)
        if sim > best[0]:
            best = (sim, lo, lo + len(window) - 1)
    return best


def similar_to(
    store: Store,
    snippet: str,
    lang: str | None = None,
    limit: int = 10,
    snapshot: Snapshot | None = None,
) -> SimilarResponse:
    """The fragments most like `snippet`, among the files of `snapshot` (default: all, at
    the store's current state)."""
    started = time.monotonic()
    snap = snapshot if snapshot is not None else store.snapshot()

    def answer(matches: list[SimilarMatch], error: str = "", used: str = "") -> SimilarResponse:
        took = round(1000 * (time.monotonic() - started), 1)
        return SimilarResponse(matches, took, used or None, error or None)

    if not isinstance(snippet, str) or not snippet.strip():
        return answer([], "the snippet is empty")
    limit = max(1, min(int(limit), 100))
    tries, problem = _fingerprints(snippet, lang)
    if not tries:
        return answer([], problem, lang or "")
    frags = _fragments(store, snap)
    if len(frags) == 0:
        return answer([], "", tries[0][0])
    # A snippet cut anywhere parses with errors in several grammars: the language whose
    # tokens match the index best wins.
    results = [
        (_match(store, frags, record, snap), -rank, name)
        for rank, (name, record) in enumerate(tries)
    ]
    (_, matches), _, used = max(results, key=lambda r: (r[0][0], r[1]))
    return answer(matches[:limit], "", used)


def _visible(frags: Fragments, snap: Snapshot | None) -> np.ndarray | None:
    """Which fragments a restricted snapshot shows (a blob with a file in its repos), so
    the best candidates are chosen among those only; None: all of them."""
    if snap is None or snap.scope is None:
        return None

    def compute() -> np.ndarray:
        keys = np.fromiter({f.blob_key for f in snap.files}, dtype=frags.blob.dtype)
        return np.isin(frags.blob, keys)

    return snap.view.derived("similar_visible", compute)  # frags: this generation's


def _match(
    store: Store, frags: Fragments, record: fp.FragmentRecord, snap: Snapshot | None
) -> tuple[float, list[SimilarMatch]]:
    """(best score, matches best first) of one fingerprinted snippet."""
    visible = _visible(frags, snap)
    query = fp.decode_record(record.data)
    # Rank by the larger of the estimated Jaccard and the estimated containment of the
    # snippet in the fragment (sizes from token counts): a snippet cut from a long file
    # shares few of the file's shingles but most of its own.
    jaccard = np.maximum(
        (frags.abs_sig == query.abs_sig).mean(axis=1), (frags.raw_sig == query.raw_sig).mean(axis=1)
    )
    size = max(1, record.tokens)
    containment = np.minimum(1.0, jaccard * (size + frags.tokens) / ((1 + jaccard) * size))
    estimate = np.maximum(jaccard, containment)
    if visible is not None:
        estimate = np.where(visible, estimate, 0.0)
    order = np.lexsort((np.arange(len(frags)), -estimate))[:CANDIDATES]
    order = [int(i) for i in order if estimate[i] > 0]
    records = load_streams(store, [int(frags.rowid[i]) for i in order])
    mine = verify.Streams(query)
    scored = []
    for i in order:
        found = records.get(int(frags.rowid[i]))
        if found is None:
            continue
        theirs = verify.Streams(found)
        if not theirs.raw:
            continue
        raw, lo, hi = _best_window(mine.raw, theirs)
        # Line offsets in a record are relative to the fragment's first line.
        start = int(frags.start[i]) + int(theirs.lines[lo])
        end = int(frags.start[i]) + int(theirs.lines[hi])
        sim = verify.lcs_ratio(mine.abstract, theirs.abstract[lo : hi + 1])
        if max(sim, raw) >= MIN_SIMILARITY:
            # Ties: a function before the file window covering the same lines.
            scored.append((-(sim + raw) / 2, bool(frags.is_file[i]), i, sim, raw, start, end))
    scored.sort()
    matches = []
    seen: set[tuple] = set()
    for _, _, i, sim, raw, start, end in scored:
        for f in frags.locations.get(int(frags.blob[i]), []):
            if snap is not None and f.repo not in snap.repos:
                continue
            key = (f.repo, f.branch, f.path, start, end)
            if key in seen:
                continue  # a function and its file's best window can be the same lines
            seen.add(key)
            matches.append(
                SimilarMatch(
                    repo=f.repo,
                    path=f.path,
                    branch=f.branch,
                    start_line=start,
                    end_line=end,
                    symbol=frags.symbol[i],
                    similarity=round(sim, 4),
                    raw_similarity=round(raw, 4),
                    level="file" if frags.is_file[i] else "function",
                )
            )
    return (-scored[0][0] if scored else 0.0), matches


def similar_to_file(store: Store, path: str | Path, limit: int = 10) -> SimilarResponse:
    """The same for a file on disk, its language from its name."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        return SimilarResponse([], 0.0, error=f"cannot read {p}: {err.strerror}")
    lang = classify.language(p.name, data[:128]) or None
    return similar_to(store, data.decode("utf-8", "replace"), lang=lang, limit=limit)
