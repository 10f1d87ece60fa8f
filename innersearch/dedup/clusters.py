"""Capability clusters: parallel implementations grouped into one finding per capability
("logging: loguru, structlog in python; winston, pino in javascript"), with what to keep.

Per language, repos join by average linkage of their vocabulary cosines; clusters of several
languages join when their manifest and README words agree. The candidate to keep is the
member most used by other repos, then not archived, owned, with a contribution guide, active.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Container
from dataclasses import dataclass

from innersearch.indexer.store import Snapshot

from .libraries import (
    PairSimilarity,
    cosine,
    purpose_vectors,
    similarities,
)

# Average cosine for two clusters of one language to join, relative to the pair threshold:
# a third library joins a pair when it is, on average, nearly as close to both.
LINK_FACTOR = 0.9
CROSS_LANGUAGE_MIN = 0.2  # cosine of two clusters' manifest+README words (other languages)
NAME_TERMS = 4


@dataclass(frozen=True)
class Usage:
    """Who uses a repo: repos that depend on it and the call sites in them (lines of their
    library code using what they import from it), in total and per using repo."""

    repos: frozenset[str]
    call_sites: int | None
    call_sites_by_repo: dict[str, int] | None = None


def _average_link(
    repos: list[str],
    scores: dict[tuple[str, str], PairSimilarity],
    threshold: float,
    forbidden: set[frozenset],
) -> list[list[str]]:
    """Average-linkage groups of the pair scores (hub-adjusted cosines); a forbidden pair (a
    copy, or one built on the other) never ends up in one group."""
    sim = {
        (a, b): -1e9
        if frozenset((a, b)) in forbidden or (a, b) not in scores
        else scores[(a, b)].score
        for a in repos
        for b in repos
        if a < b
    }
    groups = [[r] for r in repos]
    while True:
        best, pick = threshold, None
        for x in range(len(groups)):
            for y in range(x + 1, len(groups)):
                pairs = [sim[tuple(sorted((a, b)))] for a in groups[x] for b in groups[y]]
                score = sum(pairs) / len(pairs)
                if score >= best:
                    best, pick = score, (x, y)
        if pick is None:
            return [sorted(g) for g in groups]
        x, y = pick
        groups[x] = groups[x] + groups[y]
        del groups[y]


def _doc_centroid(group: list[str], vectors: dict) -> dict[str, float]:
    total: Counter = Counter()
    for r in group:
        for w, v in vectors[r].items():
            if w.startswith(("meta:", "doc:")):
                total[w.split(":", 1)[1]] += v
    norm = math.sqrt(sum(v * v for v in total.values())) or 1.0
    return {w: v / norm for w, v in total.items()}


def _terms(groups: list[list[str]], vectors: dict) -> list[str]:
    """Top words of a capability: package words first (a package's own summary), then API
    and README words, each counted once per member so one verbose repo does not name it."""
    score: Counter = Counter()
    for group in groups:
        for r in group:
            for w, v in sorted(vectors[r].items(), key=lambda kv: -kv[1])[:60]:
                kind, _, word = w.partition(":")
                score[word] += v * {"meta": 3.0, "api": 1.5, "doc": 1.0}.get(kind, 0.5)
    members = sum(len(g) for g in groups)
    spread = Counter()
    for group in groups:
        for r in group:
            spread.update({w.partition(":")[2] for w in vectors[r]})
    # A word of one member only does not describe the capability.
    ranked = [w for w, _ in score.most_common() if members < 2 or spread[w] >= 2]
    return ranked[:NAME_TERMS]


def _member(snap: Snapshot, repo: str, lang: str, usage: Usage, lines: int) -> dict:
    info = snap.repos[repo].info if repo in snap.repos else {}
    host = info.get("host") or {}
    owners = info.get("owners") or {}
    return {
        "repo": repo,
        "language": lang,
        "used_by_repos": sorted(usage.repos),
        "call_sites": usage.call_sites,
        "call_sites_by_repo": dict(usage.call_sites_by_repo or {}),
        "last_commit_at": snap.repos[repo].last_commit_at if repo in snap.repos else None,
        "owners": list(owners.get("codeowners") or []),
        "contributing": bool(info.get("contributing")),
        "archived": bool(host.get("archived")),
        "code_lines": lines,
    }


def _keep(members: list[dict]) -> tuple[dict, list[str]]:
    def rank(m: dict) -> tuple:
        return (
            len(m["used_by_repos"]),
            not m["archived"],
            bool(m["owners"]),
            m["contributing"],
            m["last_commit_at"] or 0,
            m["code_lines"],
            # name order last, reversed so the first name wins the max()
            tuple(-ord(ch) for ch in m["repo"]),
        )

    best = max(members, key=rank)
    reasons = []
    if best["used_by_repos"]:
        reasons.append(f"used by {len(best['used_by_repos'])} repo(s)")
    reasons.append("archived" if best["archived"] else "not archived")
    if best["owners"]:
        reasons.append("owned by " + ", ".join(best["owners"][:3]))
    if best["contributing"]:
        reasons.append("has a contribution guide")
    newest = max((m["last_commit_at"] or 0) for m in members)
    if best["last_commit_at"] and best["last_commit_at"] == newest:
        reasons.append("most recently active")
    return best, reasons


def capabilities(
    snap: Snapshot,
    vectors: dict[str, dict[str, float]],
    langs: dict[str, str],
    pairs: list[dict],
    min_score: float,
    usage: dict[str, Usage],
    lines: dict[str, int],
    forbidden: set[frozenset] | None = None,
    scores: dict[tuple[str, str], PairSimilarity] | None = None,
) -> list[dict]:
    """One entry per capability, biggest consolidation (lines that would go) first.
    `forbidden`: repo pairs that are copies or uses, never parallel; `scores`: the pair
    scores of `libraries.similarities` (computed from `vectors` and the purpose embeddings
    when not given)."""
    forbidden = forbidden or set()
    if scores is None:
        scores = similarities(vectors, langs, purpose_vectors(snap, langs))
    involved: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        if p["relation"] == "parallel":
            for side in ("a", "b"):
                involved[langs.get(p[side]["repo"], "")].add(p[side]["repo"])
    for p in pairs:  # a fork of a member implements the capability too
        if p["relation"] == "fork":
            ra, rb = p["a"]["repo"], p["b"]["repo"]
            for repos in involved.values():
                if ra in repos or rb in repos:
                    repos.update((ra, rb))
    per_lang: list[tuple[str, list[str]]] = []
    for lang, repos in sorted(involved.items()):
        for g in _average_link(sorted(repos), scores, min_score * LINK_FACTOR, forbidden):
            if len(g) > 1:
                per_lang.append((lang, g))
    # Join clusters of different languages that say the same thing about themselves.
    caps: list[list[tuple[str, list[str]]]] = []
    for lang, group in per_lang:
        centroid = _doc_centroid(group, vectors)
        home = None
        best = CROSS_LANGUAGE_MIN
        for cap in caps:
            if any(lang == other for other, _ in cap):
                continue
            score = min(cosine(centroid, _doc_centroid(g, vectors)) for _, g in cap)
            if score >= best:
                best, home = score, cap
        if home is None:
            caps.append([(lang, group)])
        else:
            home.append((lang, group))
    out = []
    for cap in caps:
        terms = _terms([g for _, g in cap], vectors)
        languages = []
        for lang, group in cap:
            members = [
                _member(snap, r, lang, usage.get(r, Usage(frozenset(), 0, {})), lines.get(r, 0))
                for r in group
            ]
            languages.append(_language_entry(lang, members))
        out.append(_capability(terms, languages))
    out.sort(key=lambda c: (-c["impact"], c["id"]))
    return out


def _language_entry(lang: str, members: list[dict]) -> dict:
    """One language's members of a capability, the one to keep and what would migrate."""
    keep, reasons = _keep(members)
    migrate = [
        {
            "from": m["repo"],
            "to": keep["repo"],
            "repos": len(m["used_by_repos"]),
            "call_sites": m["call_sites"],
            "code_lines": m["code_lines"],
            # Moving onto the kept library retires at most about as much code as that
            # library has: an application with a command-line layer keeps the rest of itself.
            "replaceable_lines": min(m["code_lines"], keep["code_lines"]),
        }
        for m in members
        if m is not keep
    ]
    return {
        "language": lang,
        "members": members,
        "keep": {"repo": keep["repo"], "owners": keep["owners"], "reasons": reasons},
        "migrate": migrate,
    }


def _capability(terms: list[str], languages: list[dict]) -> dict:
    repos = [m["repo"] for entry in languages for m in entry["members"]]
    name = terms[0] if terms else "unnamed"
    summary = f"{name}: " + "; ".join(
        f"{', '.join(m['repo'] for m in e['members'])} in {e['language']}" for e in languages
    )
    return {
        "id": "cap-" + hashlib.sha1("\0".join(sorted(repos)).encode()).hexdigest()[:12],
        "name": name,
        "terms": terms,
        "summary": summary,
        "languages": languages,
        "repos": sorted(repos),
        "impact": sum(m["replaceable_lines"] for e in languages for m in e["migrate"]),
    }


def narrowed(cap: dict, readable: Container[str]) -> dict | None:
    """`cap` as a reader of `readable` repos may see it: only when every member is readable,
    with usage counted over readable repos only (the keep choice and counts recomputed)."""
    if not all(r in readable for r in cap["repos"]):
        return None
    languages = []
    for entry in cap["languages"]:
        members = [
            {**m, "used_by_repos": [r for r in m["used_by_repos"] if r in readable]}
            for m in entry["members"]
        ]
        # call sites counted again over readable repos; unknown without the per-repo split
        members = [_readable_sites(m, readable) for m in members]
        languages.append(_language_entry(entry["language"], members))
    return _capability(cap["terms"], languages)


def _readable_sites(m: dict, readable: Container[str]) -> dict:
    by_repo = m.get("call_sites_by_repo")
    if by_repo is None:
        return {**m, "call_sites": None}
    seen = {r: n for r, n in by_repo.items() if r in readable}
    return {**m, "call_sites": sum(seen.values()), "call_sites_by_repo": seen}
