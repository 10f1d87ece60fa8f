"""The inner-source portal entry of one repo: what it is, whom to talk to, how to contribute,
whether it is alive (activity, InnerSource Commons' repository activity score, archived or
deprecated), who uses it and what it uses.

Built from a Snapshot's repos.info (indexer/describe.py, owners.py, the code host's "host"
part) and its dependency graph, so a filtered snapshot shows only what its user may see.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import ClassVar

from innersearch.indexer import deps
from innersearch.indexer.jsonresult import JsonResult

DAY = 86400


@dataclass(frozen=True)
class Owner(JsonResult):
    """Someone to talk to about the repo, and where the portal learnt it."""

    name: str
    source: str  # CODEOWNERS | catalog-info.yaml | innersource.json | commits


@dataclass(frozen=True)
class Activity(JsonResult):
    """How alive the repo is: its commits and authors before the newest commit."""

    commits: int  # in the window
    authors: int  # distinct author e-mails in the window
    days: int
    window_end: int | None  # unix time the window ends at: the newest commit's time
    last_commit_at: int | None
    score: int  # InnerSource Commons' repository activity score, computed at `now`
    json_properties: ClassVar[tuple[str, ...]] = ("window",)

    @property
    def window(self) -> str:
        return f"the {self.days} days before the newest commit"


@dataclass
class Portal:
    repo: str
    description: str
    owners: list[Owner]
    contributing: str | None  # path of the contribution guide
    readme: str | None
    lifecycle: str  # Backstage spec.lifecycle ("" when not said)
    archived: bool
    activity: Activity
    uses: list[deps.Dependency] = field(default_factory=list)
    used_by: list[deps.Dependency] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    json_properties: ClassVar[tuple[str, ...]] = (
        "accepts_contributions",
        "deprecated",
        "used_by_count",
    )

    @property
    def accepts_contributions(self) -> bool:
        return self.contributing is not None

    @property
    def deprecated(self) -> bool:
        return self.lifecycle.lower() == "deprecated"

    @property
    def used_by_count(self) -> int:
        return len(self.used_by)

    def to_json(self) -> dict:
        return {
            "repo": self.repo,
            "description": self.description,
            "owners": [o.to_json() for o in self.owners],
            "contributing": self.contributing,
            "accepts_contributions": self.accepts_contributions,
            "readme": self.readme,
            "lifecycle": self.lifecycle,
            "deprecated": self.deprecated,
            "archived": self.archived,
            "activity": self.activity.to_json(),
            "used_by_count": self.used_by_count,
            "used_by": [d.to_json() for d in self.used_by],
            "uses": [d.to_json() for d in self.uses],
            "topics": self.topics,
            "keywords": self.keywords,
            "packages": self.packages,
        }


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _strings(value) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _number(value) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def activity_score(
    host: dict,
    last_update: int | None,
    created: int | None,
    commits_90_days: int | None,
    description: str,
    has_guidelines: bool,
    now: float,
) -> int:
    """InnerSource Commons' "Repository Activity Score" pattern (the InnerSource Portal's
    formula): forks, watchers, stars and open issues from the host (0 when unknown), scaled
    by recency and by commits per week of the last 13 weeks, a boost for new repos, +50 for
    a meaningful description, +100 for contribution guidelines, log-scaled above 3000."""
    score = 50.0
    score += _number(host.get("forks_count", host.get("forks"))) * 5
    score += _number(host.get("watchers_count", host.get("subscribers_count")))
    score += _number(host.get("stargazers_count", host.get("stars"))) / 3
    score += _number(host.get("open_issues_count", host.get("open_issues"))) / 5
    since_update = (now - last_update) / DAY if last_update else 365.0
    score *= (1 + (100 - min(since_update, 100))) / 100
    if commits_90_days is not None:
        per_week = commits_90_days / 13
        score *= (1 + min(max(per_week - 3, 0), 7)) / 7
    boost = 1000 - min(since_update, 365) * 2.74
    since_creation = (now - created) / DAY if created else 365.0
    boost *= (365 - min(since_creation, 365)) / 365
    score += boost
    score += 50 if len(description) > 30 else 0
    score += 100 if has_guidelines else 0
    if score > 3000:
        score = 3000 + math.log(score) * 100
    return round(score - 50)


def portal(snap, repo: str, now: float | None = None) -> Portal:
    """The portal entry of `repo`, a name in snap.repos (KeyError otherwise)."""
    row = snap.repos[repo]
    info = row.info or {}
    about = _dict(info.get("about"))
    host = _dict(info.get("host"))
    act = _dict(info.get("activity"))
    owners_info = _dict(info.get("owners"))
    owners = [Owner(o, "CODEOWNERS") for o in owners_info.get("codeowners") or []]
    owners += [
        Owner(str(o.get("name")), str(o.get("source")))
        for o in about.get("owners") or []
        if isinstance(o, dict) and o.get("name")
    ]
    owners += [
        Owner(f"{c.get('name')} <{c.get('email')}>", "commits")
        for c in owners_info.get("committers") or []
        if isinstance(c, dict)
    ]
    description = about.get("description") or host.get("description") or ""
    contributing = info.get("contributing") or about.get("contributing_path")
    last_update = host.get("pushed_at") or row.last_commit_at
    commits = act.get("commits")
    activity = Activity(
        commits=int(commits or 0),
        authors=int(act.get("authors") or 0),
        days=int(act.get("days") or 90),
        window_end=act.get("until"),
        last_commit_at=row.last_commit_at,
        score=activity_score(
            host,
            last_update if isinstance(last_update, int) else None,
            act.get("first_commit_at"),
            commits if isinstance(commits, int) else None,
            description if isinstance(description, str) else "",
            contributing is not None,
            time.time() if now is None else now,
        ),
    )
    graph = deps.graph(snap)
    return Portal(
        repo=repo,
        description=description if isinstance(description, str) else "",
        owners=list(dict.fromkeys(owners)),
        contributing=contributing,
        readme=info.get("readme") or about.get("readme_path"),
        lifecycle=str(about.get("lifecycle") or ""),
        archived=host.get("archived") is True,
        activity=activity,
        uses=graph.uses(repo),
        used_by=graph.used_by(repo),
        topics=_strings(host.get("topics")),
        keywords=_strings(about.get("keywords")),
        packages=_strings(about.get("packages")),
    )
