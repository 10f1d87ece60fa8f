"""Lineage the repos state: one says it is a fork, port or renamed successor of the other, or
the two open their READMEs with the same long passage (a project republished under a new name).

Code evidence misses a fork rewritten in another style (a TypeScript port, a rename rebuilt on
another engine); such a pair looks like two implementations of one job, and is not one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Words of one README opening that two independently written projects do not share; a
# project renamed or forked with its README shares them all. Measured on seven labelled
# orgs (docs/benchmarks/dedup.md): forks share runs of 23-60 words, true parallel
# implementations and sibling packages of one project at most 14.
SHARED_LEAD_WORDS = 18
README_HEAD_CHARS = 3000  # where a README says what it comes from: its opening

# "<phrase> NAME": NAME is the other repo's name; the phrase ties it to this one. "Inspired
# by" and "based on" are left out: they name an idea or a dependency, not an ancestor.
_FROM_PHRASES = (
    r"(?:a\s+)?(?:hard\s+)?fork\s+(?:of|from)",
    r"(?:a\s+)?(?:typescript\s+|python\s+|go\s+)?port\s+of",
    r"(?:a\s+)?(?:rewrite|re-?implementation)\s+of",
    r"renamed\s+from",
    r"formerly(?:\s+known\s+as)?",
    r"successor\s+(?:of|to)",
    r"continuation\s+of",
)
_TO_PHRASES = (
    r"renamed\s+to",
    r"moved\s+to",
    r"superseded\s+by",
    r"replaced\s+by",
    r"deprecated\s+in\s+favou?r\s+of",
    # "use X instead" alone is advice that may name a parallel library; a deprecation
    # notice names the successor
    r"(?:deprecated|unmaintained|no\s+longer\s+maintained)\W+(?:please\s+)?"
    r"(?:use|switch\s+to|migrate\s+to)",
)


@dataclass(frozen=True)
class Lineage:
    """`repo` says `named` is its origin or its successor ("declared"), or the two READMEs
    open with the same `shared_words` words ("shared-readme": no direction, `repo` is the
    first in name order, `named_is` is ""); `said` is the sentence or the shared words."""

    repo: str
    named: str
    kind: str  # "declared" | "shared-readme"
    said: str
    named_is: str = ""  # "origin" | "successor" | ""
    shared_words: int = 0


def _plain(text: str) -> str:
    """Markdown and reStructuredText markup dropped (links keep their text, code fences and
    images go), lower case, one line per line of text."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)  # images (badges)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](url) -> text
    text = re.sub(r"`([^`<]*?)\s*<[^>]*>`_", r"\1", text)  # rst `text <url>`_
    text = re.sub(r"[*_`\"'#>]+", "", text)
    return "\n".join(" ".join(line.split()) for line in text.lower().splitlines())


def _name_pattern(names: Iterable[str]) -> str | None:
    usable = sorted({n.lower() for n in names if len(n) >= 2}, key=len, reverse=True)
    if not usable:
        return None
    return r"(?<![\w@/.-])(?:" + "|".join(re.escape(n) for n in usable) + r")(?![\w-])"


def _declares(text: str, names: Iterable[str]) -> tuple[str, str] | None:
    """(the sentence of `text` that ties its repo to one of `names`, "origin" or
    "successor"), or None."""
    name = _name_pattern(names)
    if name is None:
        return None
    plain = _plain(text)
    origin = re.compile(rf"\b(?:{'|'.join(_FROM_PHRASES)})\s+(?:the\s+)?(?:original\s+)?{name}")
    successor = re.compile(rf"\b(?:{'|'.join(_TO_PHRASES)})\s+(?:the\s+)?{name}")
    found = [(m, "origin") for m in [origin.search(plain)] if m]
    found += [(m, "successor") for m in [successor.search(plain)] if m]
    if not found:
        return None
    m, named_is = min(found, key=lambda f: f[0].start())
    start = max(plain.rfind(c, 0, m.start()) for c in ".!?\n:") + 1
    ends = [e for c in ".!?\n" if (e := plain.find(c, m.end())) >= 0]
    return plain[start : min(ends, default=len(plain))].strip(), named_is


def _longest_shared_run(a: list[str], b: list[str], at_least: int) -> list[str]:
    """The longest run of words `a` and `b` share, if it has `at_least` words (else [])."""
    if len(a) < at_least or len(b) < at_least:
        return []
    starts: dict[tuple[str, ...], list[int]] = {}
    for j in range(len(a) - at_least + 1):
        starts.setdefault(tuple(a[j : j + at_least]), []).append(j)
    best: list[str] = []
    for i in range(len(b) - at_least + 1):
        for j in starts.get(tuple(b[i : i + at_least]), ()):
            n = at_least
            while i + n < len(b) and j + n < len(a) and a[j + n] == b[i + n]:
                n += 1
            if n > len(best):
                best = a[j : j + n]
    return best


def find(
    pairs: Iterable[tuple[str, str]],
    names: Mapping[str, set[str]],
    texts: Mapping[str, list[str]],
    leads: Mapping[str, list[str]],
) -> list[Lineage]:
    """The lineage of each pair (repo_a, repo_b) that has one. `names`: what each repo is
    called (repo and package names); `texts`: what it says of itself (its README's opening,
    its package and host descriptions); `leads`: its README's opening prose words
    (`libraries._readme_lead`)."""
    found = []
    for a, b in pairs:
        lineage = None
        for repo, named in ((a, b), (b, a)):
            for text in texts.get(repo, ()):
                if said := _declares(text, names.get(named, ())):
                    lineage = Lineage(repo, named, "declared", said[0], said[1])
                    break
            if lineage:
                break
        if lineage is None:
            la, lb = leads.get(a, []), leads.get(b, [])
            if run := _longest_shared_run(la, lb, SHARED_LEAD_WORDS):
                lineage = Lineage(a, b, "shared-readme", " ".join(run), shared_words=len(run))
        if lineage is not None:
            found.append(lineage)
    return found
