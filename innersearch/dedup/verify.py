"""Measuring the similarity of two fragments on their real token streams.

Similarity is 2*LCS/(|a|+|b|) over token streams (rapidfuzz's Indel similarity, exact and
bit-parallel), on the abstracted stream (Type-2/3) and on the raw stream (Type-1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Indel

from innersearch.indexer import fingerprints as fp

# Minimum measured similarity of the abstracted streams for a Type-3 clone: MIN_SIMILARITY
# from LARGE tokens up, rising linearly to SMALL_SIMILARITY at SMALL tokens. In small
# fragments a few differing statements leave only a shared idiom (an __init__ assigning
# fields, an __eq__ comparing them), which reading the reports showed are not copies.
MIN_SIMILARITY = 0.75
SMALL_SIMILARITY = 0.85
SMALL, LARGE = 50, 100
# Unrelated code written in one style shares structure: a Type-3 pair must also share this
# much of its raw tokens (identifiers included) unless it is structurally near-identical.
MIN_RAW_FOR_T3 = 0.5
STRUCTURE_ONLY = 0.9
# A small pair that also shares this much of its raw tokens (identifiers and literals
# included) is a copy-edit, not a shared idiom (those differ in their names): it needs only
# MIN_SIMILARITY. Three edited lines in a 60-token function leave about 0.8 (issue 15).
COPY_EDIT_RAW = 0.75
# NiCad's view of a near-miss clone (Roy and Cordy: lines compared, up to 30% different): a
# pair whose source lines mostly stand again in the other, letter for letter and in order,
# was copied and edited, even where the edits leave the token measures under the rules
# above (three edited lines in a 60-token function: abstracted 0.72-0.83, raw 0.6-0.75).
# Shared idioms differ in their names on every line, so they keep far fewer lines (issue 15:
# all 38 sample-org pairs these two thresholds add were copy-edits on reading).
COPY_EDIT_LINES = 0.6
LINES_FLOOR = 0.7


CLONE_TYPES = ("", "T1", "T2", "T3")  # a verdict's clone_type; "" is not a clone


@dataclass(frozen=True)
class Verdict:
    clone_type: str  # "T1" | "T2" | "T3" | "" (not a clone)
    similarity: float  # abstracted view (a non-clone's: 0.0 or a lower bound's worth)
    raw_similarity: float  # a non-clone's: 0.0 when not measured


class Streams:
    """The decoded token streams of one fragment, as sequences for the LCS routine: lists
    of token hashes, or str of a group's token numbers (`group_streams`)."""

    __slots__ = ("raw_array", "abstract_array", "raw", "abstract", "lines", "_line_keys")

    def __init__(
        self, record: fp.Fingerprint, encode: Callable[[np.ndarray], str] | None = None
    ) -> None:
        hashes, cats, lines = record.token_streams()
        abstract = fp.abstract_stream(hashes, cats)
        raw_seq = encode(hashes) if encode else hashes.tolist()
        self._set(
            hashes, abstract, lines, raw_seq, encode(abstract) if encode else abstract.tolist()
        )

    @classmethod
    def coded(
        cls,
        raw_array: np.ndarray,
        abstract_array: np.ndarray,
        lines: np.ndarray,
        raw: str,
        abstract: str,
    ) -> Streams:
        """Streams whose LCS sequences the caller has already numbered (group_streams)."""
        made = cls.__new__(cls)
        made._set(raw_array, abstract_array, lines, raw, abstract)
        return made

    def _set(self, raw_array, abstract_array, lines, raw, abstract) -> None:
        self.lines = lines  # per token, relative to the fragment's first line
        self.raw_array = raw_array
        self.abstract_array = abstract_array
        self.raw: Sequence[int] | str = raw
        self.abstract: Sequence[int] | str = abstract
        self._line_keys: list[int] | None = None

    def line_keys(self) -> list[int]:
        """One key per source line holding tokens: the hash of its raw tokens (computed
        once, on demand: only pairs the token rules leave undecided need it). Slices of
        the raw stream are hashed (a str's in C); keys are compared within one process."""
        if self._line_keys is None:
            lines = np.asarray(self.lines)
            cuts = (np.flatnonzero(lines[1:] != lines[:-1]) + 1).tolist()
            raw = self.raw if isinstance(self.raw, str) else tuple(self.raw)
            spans = zip([0, *cuts], [*cuts, len(lines)], strict=True)
            self._line_keys = [hash(raw[lo:hi]) for lo, hi in spans if hi > lo]
        return self._line_keys


# Code points a group's tokens can be numbered with, surrogates skipped.
_CODES = 0x110000 - 0x800


def group_streams(records: dict[int, fp.Fingerprint]) -> dict[int, Streams]:
    """Streams of records that are compared only with each other, their tokens numbered
    over the group and held as str: rapidfuzz compares a str natively but converts a list
    element by element (3x slower on kernel functions), and a list of ints takes 18x the
    memory. Numbering keeps equality, so every LCS is the same. The group is numbered in
    one np.unique (a searchsorted per stream was an eighth of the kernel's verification)."""
    decoded = {k: r.token_streams() for k, r in records.items()}
    placeholders = np.array([fp.ABS_IDENT, fp.ABS_LITERAL], dtype=np.uint32)
    every = np.concatenate([placeholders, *(hashes for hashes, _c, _l in decoded.values())])
    vocab, codes = np.unique(every, return_inverse=True)
    if len(vocab) > _CODES:
        return {k: Streams(r) for k, r in records.items()}
    codes = codes.astype("<u4")
    codes[codes >= 0xD800] += 0x800  # str cannot hold the surrogates
    ident, literal = codes[0], codes[1]
    out = {}
    at = len(placeholders)
    for k, (hashes, cats, lines) in decoded.items():
        raw = codes[at : at + len(hashes)]
        at += len(hashes)
        # The abstracted stream's numbers, as numbering fp.abstract_stream's values gives.
        abstract = np.where(
            cats == fp.CAT_IDENT, ident, np.where(cats == fp.CAT_LITERAL, literal, raw)
        )
        out[k] = Streams.coded(
            hashes,
            fp.abstract_stream(hashes, cats),
            lines,
            raw.tobytes().decode("utf-32-le"),
            abstract.astype("<u4").tobytes().decode("utf-32-le"),
        )
    return out


def lcs_ratio(a: Sequence[int] | str, b: Sequence[int] | str, cutoff: float = 0.0) -> float:
    """2 * longest common subsequence / (len(a) + len(b)); 0.0 when that is below `cutoff`
    (rapidfuzz then stops early: a bounded band of the LCS matrix)."""
    if not a and not b:
        return 0.0
    return float(Indel.normalized_similarity(a, b, score_cutoff=cutoff))


def required_similarity(tokens: int) -> float:
    """The Type-3 threshold for a pair whose smaller side has `tokens` tokens."""
    if tokens >= LARGE:
        return MIN_SIMILARITY
    share = (LARGE - max(tokens, SMALL)) / (LARGE - SMALL)
    return MIN_SIMILARITY + share * (SMALL_SIMILARITY - MIN_SIMILARITY)


def compare(a: Streams, b: Streams, min_similarity: float | None = None) -> Verdict:
    if min_similarity is None:
        min_similarity = required_similarity(min(len(a.raw), len(b.raw)))
    if np.array_equal(a.raw_array, b.raw_array):
        return Verdict("T1", 1.0, 1.0)
    if np.array_equal(a.abstract_array, b.abstract_array):
        return Verdict("T2", 1.0, lcs_ratio(a.raw, b.raw))
    # Below `floor` on the abstracted view no rule makes a clone, whatever the raw view
    # says: most candidate pairs end here after one LCS (measuring the raw view first was
    # half of the kernel's verification). Their similarities are then not exact (see
    # Verdict); only clones' reach the report.
    token_floor = min(min_similarity, MIN_SIMILARITY)  # where the token rules start
    floor = min(token_floor, LINES_FLOOR)
    sim = lcs_ratio(a.abstract, b.abstract, cutoff=floor - 1e-9)
    if sim < floor:
        return Verdict("", sim, 0.0)
    if sim < token_floor:
        # only the line rule can make a clone of it: the raw view is measured for clones
        if not copied_lines(a, b):
            return Verdict("", sim, 0.0)
        return Verdict("T3", sim, lcs_ratio(a.raw, b.raw))
    raw = lcs_ratio(a.raw, b.raw)
    if sim >= min_similarity and (raw >= MIN_RAW_FOR_T3 or sim >= STRUCTURE_ONLY):
        return Verdict("T3", sim, raw)
    if raw >= COPY_EDIT_RAW:  # sim >= token_floor here
        return Verdict("T3", sim, raw)
    if copied_lines(a, b):
        return Verdict("T3", sim, raw)
    return Verdict("", sim, raw)


def copied_lines(a: Streams, b: Streams) -> bool:
    """At least COPY_EDIT_LINES of the two fragments' lines are the same, in order."""
    return lcs_ratio(a.line_keys(), b.line_keys(), cutoff=COPY_EDIT_LINES - 1e-9) > 0
