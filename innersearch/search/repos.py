"""type:repo: repositories whose name, description or topics match the query's terms.

Content terms match those texts; repo: and the fork:/archived:/visibility: modifiers narrow
the repos; terms about files (file:, lang:, sym:) match no repository.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..indexer.catalog import FileRow
from ..indexer.hosts import HostInfo
from ..indexer.store import Snapshot
from .plan import Atom, Plan, repo_scope
from .results import Facets, FileResult, RepoHit, SearchResponse

# A name match says more than a topic, a topic more than a word in the description.
_WEIGHTS = {"name": 3.0, "topics": 2.0, "description": 1.0}


def _texts(name: str, host: HostInfo | None) -> dict[str, str]:
    return {
        "name": name,
        "topics": " ".join(host.topics) if host else "",
        "description": host.description if host else "",
    }


@dataclass
class RepoTarget:
    """A repository: content atoms match its texts; file and sym atoms match nothing."""

    row: FileRow  # the repo as a row of its default branch, for repo: and branch:
    texts: dict[str, str]

    def content(self, atom: Atom) -> bool:
        if atom.kind != "content":
            return False
        return any(atom.matcher.matches_text(t) for t in self.texts.values() if t)


def search_repos(snap: Snapshot, plan: Plan, limit: int, offset: int) -> SearchResponse:
    scope = repo_scope(plan, snap)
    matched = []
    for name, repo in snap.repos.items():
        if scope is not None and name not in scope:
            continue
        host = HostInfo.from_info(repo.info)
        texts = _texts(name, host)
        row = FileRow(name, repo.default_branch or "", "", 0, "", 0)
        if not plan.matches(RepoTarget(row, texts)):
            continue
        score = sum(
            w
            for field, w in _WEIGHTS.items()
            for a in plan.positive
            if a.kind == "content" and texts[field] and a.matcher.matches_text(texts[field])
        )
        matched.append((score, name, host))
    matched.sort(key=lambda m: (-m[0], m[1]))
    page = matched[offset : offset + limit] if limit > 0 else matched[offset:]
    results: list[FileResult | RepoHit] = [
        RepoHit(
            repo=name,
            path="",  # the result shape of other types, so every renderer copes
            lang="",
            branch=snap.repos[name].default_branch or "",
            commit="",
            score=round(score, 3),
            description=host.description if host else "",
            topics=host.topics if host else [],
            visibility=host.visibility if host else None,
            fork=host.fork if host else False,
            archived=host.archived if host else False,
            url=host.web_url if host and host.web_url else None,
        )
        for score, name, host in page
    ]
    return SearchResponse(
        results=results,
        total_files=0,
        total_matches=len(matched),
        limit_hit=False,
        facets=Facets({name: 1 for _s, name, _h in matched}, {}),
    )
