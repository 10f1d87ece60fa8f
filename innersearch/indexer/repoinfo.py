"""The typed form of the catalog's `repos.info` column: what indexing found about a repo
(owners, README, guide, languages; describe.py's parts) and what its code host said.

RepoInfo writes the column's JSON as the indexer always wrote it (same keys, same order);
RepoOwners and Committer are served as they are (GET /api/v1/repos/NAME, the dedup report).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from .jsonresult import JsonResult, field_types, from_json, optional


@dataclass(slots=True)
class CodeownersRule(JsonResult):
    """One line of a CODEOWNERS file: a path pattern and who owns what it matches."""

    pattern: str
    owners: list[str]


@dataclass(slots=True)
class Committer(JsonResult):
    """One of the most active authors of the year before the indexed commit."""

    name: str
    email: str
    commits: int


@dataclass(slots=True)
class RepoOwners(JsonResult):
    """Who owns a repo, as indexer/owners.py recorded it in the repo's info."""

    codeowners: list[str]  # the owners of everything (or every owner CODEOWNERS names)
    codeowners_rules: list[CodeownersRule]  # the first 200 rules, in file order
    committers: list[Committer]

    @classmethod
    def read(cls, value: Any) -> RepoOwners:
        """The owners of a repos.info["owners"] value; empty lists for what it lacks (a repo
        whose default branch is not indexed yet) or holds in another shape."""
        value = value if isinstance(value, dict) else {}
        parts = {
            name: value.get(name) or [] for name in ("codeowners", "codeowners_rules", "committers")
        }
        try:
            return from_json(cls, parts)
        except ValueError:
            return cls([], [], [])


# The keys owners.py writes together: present with `owners`, null when not found.
_WITH_OWNERS = ("readme", "contributing")


@dataclass(slots=True, kw_only=True)
class RepoInfo(JsonResult):
    """A repo's info: every part absent until something found it (a repo listed by its host
    but never indexed has only `host`). The fields are in the order the indexer writes
    them, so the column's text is what it always was."""

    owners: RepoOwners | None = optional()
    readme: str | None = None  # path of the README (written with `owners`)
    contributing: str | None = None  # path of the contribution guide (written with `owners`)
    languages: dict[str, float] | None = optional()  # language -> share of the code, in %
    language_bytes: dict[str, int] | None = optional()  # language ("" none) -> bytes
    # describe.py's parts (their shapes are describe.py's and implindex.py's own)
    about: dict[str, Any] | None = optional()
    deps: dict[str, Any] | None = optional()
    activity: dict[str, Any] | None = optional()
    described: dict[str, Any] | None = optional()  # {"commit", "host"} last described at
    at: str | None = optional()  # the commit this info was made at: the next diff's base
    host: dict[str, Any] | None = optional()  # what the code host said (hosts.HostInfo)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)  # keys of no field

    def to_json(self) -> dict:
        out = JsonResult.to_json(self)
        del out["extra"]
        if self.owners is None:
            for key in _WITH_OWNERS:
                del out[key]  # a repo not indexed yet has neither
        return {**out, **self.extra}

    def to_column(self) -> str:
        return json.dumps(self.to_json())

    @classmethod
    def from_column(cls, text: str | None) -> RepoInfo:
        """The info stored as `text` ({} for a new repo). A part of another shape than its
        field (a catalog written by another version) is left out, so what is made from it
        is made again; a key no field names is kept as it is."""
        value = info_object(text)
        hints = field_types(cls)
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        parts: dict[str, Any] = {}
        for key, item in value.items():
            if key not in known:
                continue
            try:
                parts[key] = from_json(hints[key], item)
            except ValueError:
                continue
        if parts.get("owners") is None:
            for key in _WITH_OWNERS:
                parts.pop(key, None)
        extra = {k: v for k, v in value.items() if k not in known}
        return cls(**parts, extra=extra)


def info_object(text: str | None) -> dict:
    """The column's JSON object; {} for a new repo and for a column that is not a JSON
    object (a damaged catalog), so one repo's broken info cannot stop every snapshot: the
    next index of its default branch writes it again."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
