"""Library-level relations: copies and forks from clone pairs, parallel implementations from
API vocabulary and what each repo says it is for; each pair with a score, evidence, the
canonical side and both sides' owners.
"""

from __future__ import annotations

import bisect
import fnmatch
import functools
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path

import numpy as np

from innersearch.indexer import fingerprints as fp
from innersearch.indexer.catalog import FLAG_GENERATED, FLAG_TEST, FLAG_VENDORED, FileRow
from innersearch.indexer.identifiers import identifier_words
from innersearch.indexer.parse import SUPPORTED_LANGUAGES
from innersearch.indexer.store import Snapshot, Store

from . import lineage, purpose_embedding
from .clones import CloneClass
from .fragments import Fragments, load_vocabulary
from .verify import Verdict

# A directory pair is a copy/fork when at least this share of the smaller side's code files
# has a clone on the other side.
MIN_COPY_COVERAGE = 0.5
NEAR_IDENTICAL = 0.9
# Parallel implementations: cosine of the repos' API+doc vocabularies (TF-IDF), less
# HUB_WEIGHT x the mean "hubness" of the two repos (the mean cosine of each to its
# HUB_NEIGHBOURS closest repos of its language; cross-domain similarity local scaling), plus
# PURPOSE_WEIGHT x how much closer the sentence embeddings of what the two say they are for
# (purpose_embedding) are than each one's usual closeness: their cosine less
# PURPOSE_HUB_WEIGHT x the mean purpose hubness of the two (the same local scaling, on the
# embedding). A broad repo (an installer with its own command layer, network code and
# progress bars; a terminal toolkit with tables, markdown and logging) is close to many
# libraries at once, in code words and in what it says: its closeness to one of them says
# less than the same closeness between two narrow libraries that are close to nothing
# else. The embedding joins libraries that name one job in different words ("simplified
# HTTP request client" / "promise based HTTP client"); its hubness parts neighbouring jobs
# that every description of a field is close to (a markdown parser and an HTML parser, a
# deep-merge and a deep-clone). Chosen on the sample org and five held-out orgs
# (bench/parallel_rules.py, docs/benchmarks/dedup.md); a sixth, bench/heldout6_org.tsv, was
# run once on it afterwards, and bench/heldout7_org.tsv is kept for the next change.
MIN_PARALLEL_SCORE = 0.06
HUB_WEIGHT = 0.2
HUB_NEIGHBOURS = 3
PURPOSE_WEIGHT = 0.8
PURPOSE_HUB_WEIGHT = 1.0
META_WEIGHT = 3  # repeats of a manifest/host word in the vocabulary (tuned on the sample org)
MAX_CLASS_FOR_LINKS = 60  # bigger classes are boilerplate, not evidence of a copy
_DOC_WORD = re.compile(r"[A-Za-z][a-z]{2,}")
_STOP = frozenset(
    {"the", "and", "for", "with", "this", "that", "from", "are", "you", "your", "can", "not"}
    | {"but", "have", "has", "will", "use", "used", "using", "all", "any", "its", "one"}
    | {"also", "get", "set", "new", "see", "more", "when", "which", "into", "then", "than"}
)


@dataclass
class _Link:
    files_a: set = field(default_factory=set)
    files_b: set = field(default_factory=set)
    near_identical: set = field(default_factory=set)
    functions: set = field(default_factory=set)
    examples: dict = field(default_factory=dict)


def code_files(snap: Snapshot) -> dict[str, list[FileRow]]:
    """repo -> its default branch's non-generated files in a parsed language (once per
    generation: a report asks several times)."""

    def compute() -> dict[str, list[FileRow]]:
        out: dict[str, list[FileRow]] = defaultdict(list)
        for f in snap.default_files():
            if not f.flags & FLAG_GENERATED and f.lang in SUPPORTED_LANGUAGES:
                out[f.repo].append(f)
        return out

    return snap.view.derived("code_files", compute)


def _aligned_dirs(pa: str, pb: str) -> tuple[str, str]:
    """The package directories two copied files live in: strip the common path suffix and
    keep its top directory, so pipenv/vendor/dotenv/main.py ~ src/dotenv/main.py gives
    (pipenv/vendor/dotenv, src/dotenv)."""
    a, b = _parts(pa), _parts(pb)
    common = 0
    while common < min(len(a), len(b)) and a[-1 - common] == b[-1 - common]:
        common += 1
    if common >= 2:
        return "/".join(a[: len(a) - common + 1]), "/".join(b[: len(b) - common + 1])
    return "/".join(a[:-1]), "/".join(b[:-1])


def _parts(path: str) -> list[str]:
    """PurePosixPath(path).parts of a repo-relative git path, without making one (a kernel
    report aligns the directories of millions of member pairs)."""
    return [p for p in path.split("/") if p and p != "."]


def _under(path: str, directory: str) -> bool:
    return not directory or path.startswith(directory + "/")


def files_under(snap: Snapshot) -> Callable[[str, str], list[FileRow]]:
    """(repo, directory) -> the repo's code files under it, in `code_files` order, found by
    bisection of the sorted paths: scanning every file per directory pair was quadratic
    (27 s of a 120 MB kernel slice, hours on the kernel)."""
    files = code_files(snap)
    ordered: dict[str, tuple[list[str], list[int]]] = {}

    def under(repo: str, directory: str) -> list[FileRow]:
        rows = files.get(repo, [])
        if not directory:
            return list(rows)
        if repo not in ordered:
            order = sorted(range(len(rows)), key=lambda k: rows[k].path)
            ordered[repo] = ([rows[k].path for k in order], order)
        paths, order = ordered[repo]
        # paths starting with "dir/" sort between "dir/" and "dir0" ("0" follows "/")
        lo = bisect.bisect_left(paths, directory + "/")
        hi = bisect.bisect_left(paths, directory + "0", lo)
        return [rows[k] for k in sorted(order[lo:hi])]

    return under


def _file_links(
    frags: Fragments, classes: list[CloneClass], edges: list[tuple[int, int, Verdict]]
) -> dict[tuple, _Link]:
    """(repo_a, dir_a, repo_b, dir_b) -> the cloned files between the two directories."""
    sims: dict[frozenset, float] = {}
    for i, j, verdict in edges:
        sims[frozenset((i, j))] = verdict.similarity
    links: dict[tuple, _Link] = defaultdict(_Link)
    for c in classes:
        if len(c.members) > MAX_CLASS_FOR_LINKS:
            continue
        members = c.members
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                ma, mb = members[x], members[y]
                if (ma["repo"], ma["path"]) > (mb["repo"], mb["path"]):
                    ma, mb = mb, ma
                if ma["repo"] == mb["repo"] and ma["path"] == mb["path"]:
                    continue
                da, db = _aligned_dirs(ma["path"], mb["path"])
                if ma["repo"] == mb["repo"] and (_under(ma["path"], db) or _under(mb["path"], da)):
                    continue  # nested directories of one repo
                link = links[(ma["repo"], da, mb["repo"], db)]
                link.files_a.add(ma["path"])
                link.files_b.add(mb["path"])
                if c.level == "file":
                    if c.similarity >= NEAR_IDENTICAL:
                        link.near_identical.add((ma["path"], mb["path"]))
                    link.examples[(ma["path"], mb["path"])] = round(c.similarity, 3)
                elif ma["symbol"]:
                    link.functions.add(ma["symbol"])
    return links


def _owners(snap: Snapshot, repo: str, path: str) -> dict:
    info = snap.repos[repo].info if repo in snap.repos else {}
    owners = info.get("owners") or {}
    matched: list[str] = []
    for rule in owners.get("codeowners_rules") or []:
        pattern = str(rule.get("pattern", "")).strip("/")
        probe = (path or "x").strip("/")
        if (
            not pattern
            or pattern == "*"
            or probe.startswith(pattern)
            or fnmatch.fnmatch(probe, pattern)
        ):
            matched = list(rule.get("owners") or [])  # last matching rule wins, as on GitHub
    return {
        "codeowners": matched or list(owners.get("codeowners") or []),
        "committers": [
            {"name": c.get("name", ""), "email": c.get("email", ""), "commits": c.get("commits", 0)}
            for c in (owners.get("committers") or [])[:3]
        ],
    }


def copies(
    snap: Snapshot,
    frags: Fragments,
    classes: list[CloneClass],
    edges: list[tuple[int, int, Verdict]],
    lines: dict[int, int] | None = None,
) -> list[dict]:
    """Directory pairs copied from one another; `lines` (blob -> lines) sizes each copy."""
    lines = lines or {}
    files = code_files(snap)
    by_repo_dir: dict[str, list[FileRow]] = files
    under = files_under(snap)
    found = []
    for (ra, da, rb, db), link in _file_links(frags, classes, edges).items():
        side_a, side_b = under(ra, da), under(rb, db)
        if not side_a or not side_b:
            continue
        matched_a, matched_b = len(link.files_a), len(link.files_b)
        small = min(len(side_a), len(side_b))
        coverage = min(matched_a, matched_b) / small
        if coverage < MIN_COPY_COVERAGE or not _enough(link, min(matched_a, matched_b), small):
            continue
        vendored_a = sum(bool(f.flags & FLAG_VENDORED) for f in side_a) > len(side_a) / 2
        vendored_b = sum(bool(f.flags & FLAG_VENDORED) for f in side_b) > len(side_b) / 2
        share_a = len(side_a) / max(1, len(by_repo_dir.get(ra, [])))
        share_b = len(side_b) / max(1, len(by_repo_dir.get(rb, [])))
        whole_projects = share_a >= 0.5 and share_b >= 0.5 and ra != rb
        relation = "fork" if whole_projects and not (vendored_a or vendored_b) else "copy"
        canonical, reason = _canonical(snap, ra, rb, side_a, side_b, vendored_a, vendored_b)
        copy_side, orig_side = ("b", "a") if canonical == "a" else ("a", "b")
        names = {"a": (ra, da), "b": (rb, db)}
        copied = link.files_a if copy_side == "a" else link.files_b
        # near-identical file pairs, counted as the copy's files (two identical files on
        # each side make four pairs)
        near = len({pair[0 if copy_side == "a" else 1] for pair in link.near_identical})
        dup_lines = sum(
            lines.get(f.blob_key, 0)
            for f in (side_a if copy_side == "a" else side_b)
            if f.path in copied
        )
        summary = (
            f"{_label(*names[copy_side])} is a {relation} of {_label(*names[orig_side])}: "
            f"{near} of {len(side_a if copy_side == 'a' else side_b)} files near-identical, "
            f"{min(matched_a, matched_b)} with clones"
        )
        found.append(
            {
                "a": {"repo": ra, "path": da},
                "b": {"repo": rb, "path": db},
                "relation": relation,
                "score": round(coverage, 3),
                "canonical": canonical,
                "canonical_reason": reason,
                "owners": {"a": _owners(snap, ra, da), "b": _owners(snap, rb, db)},
                "evidence": {
                    "summary": summary,
                    "files_a": len(side_a),
                    "files_b": len(side_b),
                    "matched_files_a": matched_a,
                    "matched_files_b": matched_b,
                    "near_identical_files": near,
                    "duplicated_lines": dup_lines,
                    "shared_functions": sorted(link.functions)[:30],
                    "shared_function_count": len(link.functions),
                    "file_pairs": [
                        {"a": pa, "b": pb, "similarity": s}
                        for (pa, pb), s in sorted(link.examples.items())[:20]
                    ],
                },
            }
        )
    return _drop_nested(found)


def _enough(link: _Link, matched: int, small: int) -> bool:
    """One shared helper function is a coincidence, not a copied package: ask for whole
    near-identical files, or several files sharing several functions."""
    near = len(link.near_identical)
    if small <= 2:
        return near >= 1
    return matched >= 2 and (near >= 1 or len(link.functions) >= 3)


def _label(repo: str, path: str) -> str:
    return f"{repo}:{path or '/'}"


def _host_parent(snap: Snapshot, repo: str) -> str:
    """The repo the code host records this one as forked from ("owner/name" or a URL),
    from repos.info["host"] when a code host supplied it; "" otherwise."""
    info = snap.repos[repo].info if repo in snap.repos else {}
    host = info.get("host") if isinstance(info.get("host"), dict) else {}
    parent = host.get("parent") if host.get("fork") or host.get("parent") else ""
    if isinstance(parent, dict):  # a host may give the parent as an object
        parent = parent.get("full_name") or parent.get("name") or ""
    return str(parent or "")


def _is_parent(snap: Snapshot, child: str, parent: str) -> bool:
    found = _host_parent(snap, child).rstrip("/")
    return bool(found) and (found == parent or found.rsplit("/", 1)[-1] == parent)


def _canonical(snap, ra, rb, side_a, side_b, vendored_a, vendored_b) -> tuple[str, str]:
    if _is_parent(snap, ra, rb):
        return "b", "the code host records a as a fork of b"
    if _is_parent(snap, rb, ra):
        return "a", "the code host records b as a fork of a"
    if vendored_a != vendored_b:
        return ("b", "a is vendored") if vendored_a else ("a", "b is vendored")
    if len(side_a) != len(side_b):
        bigger = "a" if len(side_a) > len(side_b) else "b"
        return bigger, "more complete (more code files)"
    ta = (snap.repos[ra].last_commit_at or 0) if ra in snap.repos else 0
    tb = (snap.repos[rb].last_commit_at or 0) if rb in snap.repos else 0
    if ta != tb:
        return ("a", "more recently maintained") if ta > tb else ("b", "more recently maintained")
    return "a", "tie (first in name order)"


def _drop_nested(found: list[dict]) -> list[dict]:
    """A pair inside another pair of the same repos (a sub-package of a copied package)
    repeats its evidence."""
    kept = []
    for p in found:
        inside = any(
            q is not p
            and q["a"]["repo"] == p["a"]["repo"]
            and q["b"]["repo"] == p["b"]["repo"]
            and _under(p["a"]["path"], q["a"]["path"])
            and _under(p["b"]["path"], q["b"]["path"])
            and (q["a"]["path"], q["b"]["path"]) != (p["a"]["path"], p["b"]["path"])
            for q in found
        )
        if not inside:
            kept.append(p)
    return kept


def _vocabulary(
    snap: Snapshot,
    files: dict[str, list[FileRow]],
    vocab: dict[int, list],
) -> dict[str, Counter]:
    """repo -> API words (public definitions and signatures), documentation words and what
    the package manifest and code host say the repo is (description, keywords, topics)."""
    out: dict[str, Counter] = {}
    for repo, rows in files.items():
        words: Counter = Counter()
        for f in rows:
            if f.flags & (FLAG_VENDORED | FLAG_TEST):
                continue
            names, counts = vocab.get(f.blob_key, ((), ()))
            for w, n in zip(names, counts, strict=True):
                words[w] += n
        words.update("doc:" + w for w in _readme_words(snap, repo))
        words.update(_meta_words(snap, repo))
        out[repo] = words
    return out


def vocabulary_words(entries: list) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The API words one file's vocabulary entries ([kind, name, container, signature])
    add to its repo's (`_vocabulary`), in the order they are first counted, with their
    counts: what is kept per blob instead of the entries (the kernel's entries as lists
    took gigabytes), and counting these in file order gives the same Counter, order too."""
    counts: dict[str, int] = {}
    for kind, name, _container, signature in entries:
        # The kind check is for records written before the indexer kept only API_KINDS.
        if kind not in fp.API_KINDS or name.startswith("_") or name.lower().startswith("test"):
            continue
        for w in _api_words(name):
            counts[w] = counts.get(w, 0) + 2
        for w in _signature_words(signature):
            counts[w] = counts.get(w, 0) + 1
    return tuple(counts), tuple(counts.values())


# Names and signatures repeat (prototypes, overloads, copies): each is split once while
# it is recent (the regex split was half of `_vocabulary` on a kernel slice).
@functools.lru_cache(maxsize=1 << 16)
def _api_words(name: str) -> tuple[str, ...]:
    return tuple(sys.intern("api:" + w) for w in identifier_words(name) if len(w) > 2)


@functools.lru_cache(maxsize=1 << 16)
def _signature_words(signature: str) -> tuple[str, ...]:
    # a set, as before: its order is the order ties in shared words were ranked in
    return tuple(sys.intern("sig:" + w) for w in set(identifier_words(signature)) if len(w) > 2)


def load_api_vocabulary(store: Store, blobs: set[int]) -> dict[int, tuple]:
    """blob_key -> `vocabulary_words` of its file record: what `profile` and `parallels`
    take as `vocab`."""
    return load_vocabulary(store, blobs, vocabulary_words)


def _read(snap: Snapshot, repo: str, path: str | None) -> str:
    row = snap.file(repo, path) if path else None
    data = snap.content(row.blob_key) if row else None
    return data[:20000].decode("utf-8", "replace") if data else ""


def readme_text(snap: Snapshot, repo: str) -> str:
    """The repo's README, else the long description of its package metadata (a wheel or an
    sdist without a README at the root says what it is in METADATA / PKG-INFO)."""
    readme, about_readme, long_description = readme_paths(snap, repo)
    for path in (readme, about_readme):
        text = _read(snap, repo, path)
        if text:
            return text
    text = _read(snap, repo, long_description)
    return str(HeaderParser().parsestr(text).get_payload() or "") if text else ""


def readme_paths(snap: Snapshot, repo: str) -> tuple[str | None, str | None, str | None]:
    """The files readme_text reads, in its order: the README, the package metadata's README
    and its long description."""
    info = snap.repos[repo].info if repo in snap.repos else {}
    about = info.get("about") if isinstance(info.get("about"), dict) else {}
    return info.get("readme"), about.get("readme_path"), about.get("long_description_path")


def _readme_words(snap: Snapshot, repo: str) -> list[str]:
    text = readme_text(snap, repo)
    # Code blocks repeat the API; prose says what the library is for.
    return [w.lower() for w in _DOC_WORD.findall(text) if w.lower() not in _STOP]


def _about(snap: Snapshot, repo: str) -> tuple[list[str], list[str]]:
    """(descriptions, tags) the repo gives of itself: the package's description and keywords,
    read at index time into repos.info["about"], and the code host's description and topics."""
    info = snap.repos[repo].info if repo in snap.repos else {}
    host = info.get("host") if isinstance(info.get("host"), dict) else {}
    about = info.get("about") if isinstance(info.get("about"), dict) else {}
    texts = [str(host.get("description") or ""), str(about.get("description") or "")]
    tags = [str(t) for t in (host.get("topics") or []) + (about.get("keywords") or [])]
    return [t for t in texts if t], tags


def purpose_text(snap: Snapshot, repo: str) -> str:
    """One sentence of what the repo says it is for, the text purpose_embedding embeds: its
    name, descriptions and tags (a README's prose was tried and cost more precision than it
    brought, docs/benchmarks/dedup.md)."""
    texts, tags = _about(snap, repo)
    parts = [repo.rsplit("/", 1)[-1], *texts, ", ".join(tags)]
    return ". ".join(p for p in parts if p)


def _meta_words(snap: Snapshot, repo: str) -> Counter:
    """What the repo says it is (`_about`) weighs more than a README's every word: a package
    chose those few words to say what it is for."""
    words: Counter = Counter()
    texts, tags = _about(snap, repo)
    # The package's own name counts: "Package uuid generates UUIDs" and "Package backoff
    # implements backoff" name the job (dropping them lost Go packages whose doc is all
    # they say).
    for text in texts:
        for w in _DOC_WORD.findall(text):
            if w.lower() not in _STOP:
                words["meta:" + w.lower()] += META_WEIGHT
    for tag in tags:
        for w in identifier_words(tag):
            if len(w) > 2 and w not in _STOP:
                words["meta:" + w] += META_WEIGHT
    return words


README_LEAD_WORDS = 60  # prose words of a README's opening that say what the repo is


def _readme_lead(text: str) -> list[str]:
    """The opening prose of a README: badges, headings, images, markup and code blocks
    (fenced or indented) left out."""
    words: list[str] = []
    fenced = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if (
            fenced
            or not line
            or raw.startswith(("    ", "\t"))
            or line.startswith(("#", "..", "[!", "![", "<", "|", ":", "=", "-", "*", ">>>", "$"))
            or set(line) <= set("=-~^*#`")
        ):
            continue
        words += [w.lower() for w in _DOC_WORD.findall(re.sub(r"\(http[^)]*\)", "", line))]
        if len(words) >= README_LEAD_WORDS:
            break
    return words[:README_LEAD_WORDS]


def _tfidf(vocabs: dict[str, Counter]) -> dict[str, dict[str, float]]:
    df: Counter = Counter()
    for words in vocabs.values():
        df.update(words.keys())
    n = len(vocabs)
    vectors = {}
    for repo, words in vocabs.items():
        vec = {
            w: (1 + math.log(c)) * math.log((1 + n) / (1 + df[w]))
            for w, c in words.items()
            if df[w] < n
        }
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors[repo] = {w: v / norm for w, v in vec.items()}
    return vectors


def _main_language(rows: list[FileRow]) -> str:
    counts = Counter(
        {"tsx": "typescript", "typescript": "javascript"}.get(f.lang, f.lang)
        for f in rows
        if not f.flags & (FLAG_VENDORED | FLAG_TEST)
    )
    return counts.most_common(1)[0][0] if counts else ""


def profile(
    snap: Snapshot, vocab: dict[int, list]
) -> tuple[dict[str, list[FileRow]], dict[str, dict[str, float]], dict[str, str]]:
    """(code files, TF-IDF vocabulary vector, main language) per repo of the snapshot."""
    files = code_files(snap)
    vectors = _tfidf(_vocabulary(snap, files, vocab))
    return files, vectors, {repo: _main_language(rows) for repo, rows in files.items()}


def parallels(
    snap: Snapshot,
    vocab: dict[int, list],
    related: set[frozenset],
    function_links: Counter,
    min_score: float = MIN_PARALLEL_SCORE,
    uses: set[frozenset] | None = None,
    scores: dict[tuple[str, str], PairSimilarity] | None = None,
    profiled: tuple | None = None,
) -> list[dict]:
    """Independently written libraries for one job: same main language, close vocabularies
    and purposes (`similarities`, computed here unless given). A pair where one imports the other
    (`uses`, from the dependency graph) is a user and its library, not two implementations.
    `profiled`: `profile(snap, vocab)` if the caller has it (the report needs it again;
    computing it twice was 2.6 s of a kernel slice)."""
    files, vectors, langs = profiled or profile(snap, vocab)
    uses = uses or set()
    if scores is None:
        scores = similarities(vectors, langs, purpose_vectors(snap, langs))
    found = []
    for (ra, rb), sim in sorted(scores.items()):
        if frozenset((ra, rb)) in related or sim.score < min_score:
            continue
        if frozenset((ra, rb)) in uses:
            continue
        va, vb = vectors[ra], vectors[rb]
        if len(va) > len(vb):
            va, vb = vb, va
        shared = {w: va[w] * vb[w] for w in va if w in vb}
        top = sorted(shared, key=lambda w: (-shared[w], w))
        found.append(
            {
                "a": {"repo": ra, "path": ""},
                "b": {"repo": rb, "path": ""},
                "relation": "parallel",
                "score": round(sim.score, 3),
                "canonical": _bigger(files, ra, rb),
                "canonical_reason": "more complete (more code files)",
                "owners": {"a": _owners(snap, ra, ""), "b": _owners(snap, rb, "")},
                "evidence": {
                    "language": langs[ra],
                    "shared_api_words": [w[4:] for w in top if w.startswith("api:")][:15],
                    "shared_signature_words": [w[4:] for w in top if w.startswith("sig:")][:10],
                    "shared_doc_words": [w[4:] for w in top if w.startswith("doc:")][:15],
                    "shared_package_words": [w[5:] for w in top if w.startswith("meta:")][:10],
                    "shared_functions": function_links.get(frozenset((ra, rb)), 0),
                    "cosine": round(sim.cosine, 3),
                    "hubness": [round(sim.hub_a, 3), round(sim.hub_b, 3)],
                    "purpose_cosine": round(sim.purpose, 3),
                    "purpose_hubness": [round(sim.purpose_hub_a, 3), round(sim.purpose_hub_b, 3)],
                },
            }
        )
    return found


def _names(snap: Snapshot, repo: str) -> set[str]:
    """What a repo is called: its name, its package names, the names it offers to import."""
    info = snap.repos[repo].info if repo in snap.repos else {}
    about = info.get("about") if isinstance(info.get("about"), dict) else {}
    provides = (info.get("deps") or {}).get("provides") or {}
    found = {repo.rsplit("/", 1)[-1], *(about.get("packages") or [])}
    found |= {n for eco, names in provides.items() if eco != "python" for n in names}
    return {str(n) for n in found if n}


def declared_forks(
    snap: Snapshot,
    scores: dict[tuple[str, str], PairSimilarity],
    skip: set[frozenset],
    lines: dict[int, int] | None = None,
    min_score: float = MIN_PARALLEL_SCORE,
) -> list[dict]:
    """Pairs the parallel rule would report (score >= `min_score`, not in `skip`) that are
    one project twice by what the repos say (`lineage.find`): reported as forks."""
    candidates = [
        (a, b)
        for (a, b), sim in sorted(scores.items())
        if sim.score >= min_score and frozenset((a, b)) not in skip
    ]
    repos = sorted({r for pair in candidates for r in pair})
    names = {r: _names(snap, r) for r in repos}
    readmes = {r: readme_text(snap, r) for r in repos}
    texts = {r: [readmes[r][: lineage.README_HEAD_CHARS], *_about(snap, r)[0]] for r in repos}
    leads = {r: _readme_lead(readmes[r]) for r in repos}
    files = code_files(snap)
    lines = lines or {}
    found = []
    for link in lineage.find(candidates, names, texts, leads):
        a, b = sorted((link.repo, link.named))
        if link.kind == "declared":
            told = "comes from" if link.named_is == "origin" else "is superseded by"
            summary = f'{link.repo} {told} {link.named}: it says "{link.said}"'
            # the origin, as for a fork the code host records; the successor it points to
            keep = "a" if link.named == a else "b"
            reason = f"{link.repo} names {link.named} as its {link.named_is}"
        else:
            summary = (
                f"{a} and {b} open their READMEs with the same {link.shared_words} words: "
                f'"{link.said}"'
            )
            keep, reason = _canonical(snap, a, b, files.get(a, []), files.get(b, []), False, False)
        derived = b if keep == "a" else a
        found.append(
            {
                "a": {"repo": a, "path": ""},
                "b": {"repo": b, "path": ""},
                "relation": "fork",
                "score": round(scores[(a, b)].score, 3),
                "canonical": keep,
                "canonical_reason": reason,
                "owners": {"a": _owners(snap, a, ""), "b": _owners(snap, b, "")},
                "evidence": {
                    "summary": summary,
                    "lineage": link.kind,
                    "shared_readme_words": link.shared_words,
                    # the whole derived project duplicates the job: its code is what goes
                    "duplicated_lines": sum(
                        lines.get(f.blob_key, 0) for f in files.get(derived, [])
                    ),
                    "files_a": len(files.get(a, [])),
                    "files_b": len(files.get(b, [])),
                },
            }
        )
    return found


@dataclass(frozen=True)
class PairSimilarity:
    """Two repos' vocabulary cosine and each one's hubness, their purpose cosine and each
    one's purpose hubness, and the score a pair is judged by."""

    cosine: float
    hub_a: float
    hub_b: float
    purpose: float = 0.0
    purpose_hub_a: float = 0.0
    purpose_hub_b: float = 0.0

    @property
    def score(self) -> float:
        return self.weighted(HUB_WEIGHT, PURPOSE_WEIGHT, PURPOSE_HUB_WEIGHT)

    def weighted(self, hub: float, purpose: float, purpose_hub: float) -> float:
        """The score with other weights (the benchmarks compare rules with it)."""
        purpose_excess = self.purpose - purpose_hub * (self.purpose_hub_a + self.purpose_hub_b) / 2
        return self.cosine - hub * (self.hub_a + self.hub_b) / 2 + purpose * purpose_excess


def similarities(
    vectors: dict[str, dict[str, float]],
    langs: dict[str, str],
    purpose: dict[str, np.ndarray] | None = None,
) -> dict[tuple[str, str], PairSimilarity]:
    """(repo_a, repo_b) in name order -> similarity, for every pair of one main language.
    `purpose`: the repos' purpose embeddings (`purpose_vectors`); without them the purpose
    term is 0."""
    repos = sorted(vectors)
    purpose = purpose or {}
    cosines: dict[tuple[str, str], float] = {}
    purposes: dict[tuple[str, str], float] = {}
    for x, ra in enumerate(repos):
        for rb in repos[x + 1 :]:
            if not langs.get(ra) or langs.get(ra) != langs.get(rb):
                continue
            cosines[(ra, rb)] = cosine(vectors[ra], vectors[rb])
            purposes[(ra, rb)] = purpose_embedding.cosine(purpose, ra, rb)
    hub, purpose_hub = _hubness(cosines), _hubness(purposes)
    return {
        (a, b): PairSimilarity(c, hub[a], hub[b], purposes[(a, b)], purpose_hub[a], purpose_hub[b])
        for (a, b), c in cosines.items()
    }


def _hubness(
    pairs: dict[tuple[str, str], float], neighbours: int = HUB_NEIGHBOURS
) -> dict[str, float]:
    """repo -> mean of its `neighbours` highest similarities to the others."""
    near: dict[str, list[float]] = defaultdict(list)
    for (a, b), value in pairs.items():
        near[a].append(value)
        near[b].append(value)
    return {
        r: sum(top) / len(top)
        for r, found in near.items()
        if (top := sorted(found, reverse=True)[:neighbours])
    }


def peered(langs: dict[str, str]) -> list[str]:
    """The repos whose main language another repo shares: the only ones a pair can hold."""
    count = Counter(lang for lang in langs.values() if lang)
    return sorted(r for r, lang in langs.items() if lang and count[lang] > 1)


def purpose_vectors(
    snap: Snapshot, langs: dict[str, str], cache: Path | None = None
) -> dict[str, np.ndarray]:
    """repo -> embedding of `purpose_text`, for the repos `peered` names (an org of one
    repo per language never loads the model); `cache`: purpose_embedding.embed's."""
    return purpose_embedding.embed({r: purpose_text(snap, r) for r in peered(langs)}, cache)


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b[w] for w, v in a.items() if w in b)


def _bigger(files: dict[str, list[FileRow]], ra: str, rb: str) -> str:
    return "a" if len(files.get(ra, [])) >= len(files.get(rb, [])) else "b"


def repo_function_links(classes: list[CloneClass]) -> Counter:
    """frozenset({repo_a, repo_b}) -> number of function clone classes joining them."""
    links: Counter = Counter()
    for c in classes:
        if c.level != "function":
            continue
        repos = sorted({m["repo"] for m in c.members})
        for x, ra in enumerate(repos):
            for rb in repos[x + 1 :]:
                links[frozenset((ra, rb))] += 1
    return links
