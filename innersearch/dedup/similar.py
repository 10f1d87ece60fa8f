"""'Does this already exist?': the indexed fragments most similar to a snippet or a file.

The snippet is fingerprinted like indexed code; every fragment's signature is compared at
once (numpy), and the best candidates are verified on their token streams.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
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


@dataclass(frozen=True, slots=True)
class Candidate:
    """One fragment among a store's best estimates for a snippet, verified: what a shard
    sends for the merge (`ranked`), so that shards' answers merge into one machine's."""

    estimate: float  # the signature estimate that made it a candidate
    # (blob, its place among the blob's fragments): the fragment's identity and order in
    # every store holding the blob (a blob's fragments are the same rows everywhere).
    order: tuple[int, int]
    is_file: bool
    score: tuple[float, float, int, int] | None  # (similarity, raw, start, end) when alike
    symbol: str
    locations: list[tuple[str, str, str]]  # (repo, branch, path) its reader may see


@dataclass(frozen=True, slots=True)
class SnippetCandidates:
    """A store's candidates for each language the snippet was read as (best parse first),
    or why there are none (`problem`)."""

    tries: list[tuple[str, list[Candidate]]]
    problem: str = ""
    lang: str = ""  # the language an answer with a problem names


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
    found = snippet_candidates(store, snap, snippet, lang)
    return ranked([found], limit, started)


def snippet_candidates(
    store: Store, snap: Snapshot, snippet: str, lang: str | None
) -> SnippetCandidates:
    """The store's verified candidates for `snippet` per language tried; with several
    stores (shards), `ranked` over all their answers equals one store holding them all."""
    if not isinstance(snippet, str) or not snippet.strip():
        return SnippetCandidates([], "the snippet is empty")
    tries, problem = _fingerprints(snippet, lang)
    if not tries:
        return SnippetCandidates([], problem, lang or "")
    frags = _fragments(store, snap)
    return SnippetCandidates([(name, _candidates(store, frags, rec, snap)) for name, rec in tries])


def ranked(answers: list[SnippetCandidates], limit: int, started: float) -> SimilarResponse:
    """The answer from every store's candidates: per language, the CANDIDATES best
    estimates of all (a fragment held by two stores counted once, its locations joined),
    their verified matches best first; the language whose best match scores highest wins
    (a snippet cut anywhere parses with errors in several grammars)."""

    def answer(matches: list[SimilarMatch], error: str = "", used: str = "") -> SimilarResponse:
        took = round(1000 * (time.monotonic() - started), 1)
        return SimilarResponse(matches, took, used or None, error or None)

    failed = [a for a in answers if a.problem]
    if failed or not answers:  # every store reads the snippet alike: the first says why
        return answer([], failed[0].problem, failed[0].lang) if failed else answer([])
    limit = max(1, min(int(limit), 100))
    names = [name for name, _ in answers[0].tries]
    results = []
    for rank, name in enumerate(names):
        merged = [c for a in answers for n, found in a.tries if n == name for c in found]
        results.append((_matches(merged), -rank, name))
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


def _candidates(
    store: Store, frags: Fragments, record: fp.FragmentRecord, snap: Snapshot
) -> list[Candidate]:
    """The CANDIDATES fragments of best estimate for one fingerprinted snippet, verified on
    their token streams. Ties go in fragment order (Candidate.order): a key of the content,
    not of this store, so another store's candidates sort in among them."""
    if len(frags) == 0:
        return []
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
    # Fragments are held in (blob, level, lines, rowid) order (fragments.load): by their
    # index, ties go in Candidate.order.
    order = np.lexsort((np.arange(len(frags)), -estimate))[:CANDIDATES]
    order = [int(i) for i in order if estimate[i] > 0]
    records = load_streams(store, [int(frags.rowid[i]) for i in order])
    mine = verify.Streams(query)
    found = []
    for i in order:
        record_i = records.get(int(frags.rowid[i]))
        if record_i is None:
            continue
        theirs = verify.Streams(record_i)
        if not theirs.raw:
            continue
        raw, lo, hi = _best_window(mine.raw, theirs)
        # Line offsets in a record are relative to the fragment's first line.
        start = int(frags.start[i]) + int(theirs.lines[lo])
        end = int(frags.start[i]) + int(theirs.lines[hi])
        sim = verify.lcs_ratio(mine.abstract, theirs.abstract[lo : hi + 1])
        locations = [
            (f.repo, f.branch, f.path)
            for f in frags.locations.get(int(frags.blob[i]), [])
            if f.repo in snap.repos
        ]
        blob = int(frags.blob[i])
        key = (blob, i - int(np.searchsorted(frags.blob, blob, "left")))
        alike = (sim, raw, start, end) if max(sim, raw) >= MIN_SIMILARITY else None
        is_file = bool(frags.is_file[i])
        found.append(Candidate(float(estimate[i]), key, is_file, alike, frags.symbol[i], locations))
    return found


def _matches(candidates: list[Candidate]) -> tuple[float, list[SimilarMatch]]:
    """(best score, matches best first) of the CANDIDATES best of `candidates`: the
    fragment order breaks ties, as the index of a fragment does in one store."""
    by_key: dict[tuple, Candidate] = {}
    for c in candidates:
        held = by_key.get(c.order)
        if held is not None:  # one blob on two shards: the same fragment, seen twice
            c = replace(c, locations=sorted(set(held.locations) | set(c.locations)))
        by_key[c.order] = c
    best = sorted(by_key.values(), key=lambda c: (-c.estimate, c.order))[:CANDIDATES]
    # Ties: a function before the file window covering the same lines.
    scored = sorted(
        (
            (-(c.score[0] + c.score[1]) / 2, c.is_file, c.order, c)
            for c in best
            if c.score is not None
        ),
        key=lambda row: row[:3],
    )
    matches = []
    seen: set[tuple] = set()
    for _, is_file, _, c in scored:
        sim, raw, start, end = c.score
        for repo, branch, path in c.locations:
            key = (repo, branch, path, start, end)
            if key in seen:
                continue  # a function and its file's best window can be the same lines
            seen.add(key)
            matches.append(
                SimilarMatch(
                    repo=repo,
                    path=path,
                    branch=branch,
                    start_line=start,
                    end_line=end,
                    symbol=c.symbol,
                    similarity=round(sim, 4),
                    raw_similarity=round(raw, 4),
                    level="file" if is_file else "function",
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
