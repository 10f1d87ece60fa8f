"""Clone classes: verified pairs grouped into N-way classes with stable ids and order.

A class is a connected component of verified clone pairs of one level, plus every fragment
whose blob sits at several locations (identical files are one blob in git).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from innersearch.indexer.catalog import FLAG_TEST, FLAG_VENDORED

from .fragments import Fragments
from .verify import Verdict

_TYPE_RANK = {"T1": 1, "T2": 2, "T3": 3}


@dataclass
class CloneClass:
    id: str
    level: str  # "function" | "file"
    clone_type: str
    similarity: float
    raw_similarity: float
    fragments: list[int]  # fragment indexes
    members: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "level": self.level,
            "type": self.clone_type,
            "similarity": round(self.similarity, 4),
            "raw_similarity": round(self.raw_similarity, 4),
            "tokens": max((m["tokens"] for m in self.members), default=0),
            "members": self.members,
        }


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def members_of(frags: Fragments, i: int) -> list[dict]:
    out = []
    for f in frags.locations.get(int(frags.blob[i]), []):
        out.append(
            {
                "repo": f.repo,
                "path": f.path,
                "branch": f.branch,
                "start_line": int(frags.start[i]),
                "end_line": int(frags.end[i]),
                "symbol": frags.symbol[i],
                "tokens": int(frags.tokens[i]),
                "lang": f.lang,
                "vendored": bool(f.flags & FLAG_VENDORED),
                "test": bool(f.flags & FLAG_TEST),
            }
        )
    return out


def build(frags: Fragments, edges: list[tuple[int, int, Verdict]]) -> list[CloneClass]:
    uf = _UnionFind()
    for i, j, _ in edges:
        uf.union(i, j)
    for i in range(len(frags)):
        if len(frags.locations.get(int(frags.blob[i]), [])) > 1:
            uf.find(i)
    groups: dict[int, list[int]] = defaultdict(list)
    for x in list(uf.parent):
        groups[uf.find(x)].append(x)
    verdicts: dict[int, list[Verdict]] = defaultdict(list)
    for i, j, verdict in edges:
        verdicts[uf.find(i)].append(verdict)
        del j

    classes: list[CloneClass] = []
    for root, indexes in groups.items():
        indexes.sort()
        members = [m for i in indexes for m in members_of(frags, i)]
        if len(members) < 2:
            continue
        members.sort(key=lambda m: (m["repo"], m["path"], m["start_line"], m["end_line"]))
        found = verdicts.get(root, [])
        worst = max(found, key=lambda v: _TYPE_RANK[v.clone_type], default=None)
        classes.append(
            CloneClass(
                id="",
                level="file" if frags.is_file[indexes[0]] else "function",
                clone_type=worst.clone_type if worst else "T1",
                similarity=min((v.similarity for v in found), default=1.0),
                raw_similarity=min((v.raw_similarity for v in found), default=1.0),
                fragments=indexes,
                members=members,
            )
        )
    _assign_ids(classes)
    classes.sort(key=lambda c: (c.level != "file", -_weight(c), c.id))
    return classes


def _weight(c: CloneClass) -> int:
    return sum(m["end_line"] - m["start_line"] + 1 for m in c.members)


def _assign_ids(classes: list[CloneClass]) -> None:
    """Ids from the first member's location by name, not line, so edits elsewhere in the
    file or new members joining the class keep the id; collisions get a suffix."""
    seen: dict[str, int] = {}
    ordered = sorted(
        classes,
        key=lambda c: (
            c.level,
            c.members[0]["repo"],
            c.members[0]["path"],
            c.members[0]["symbol"],
            c.members[0]["start_line"],
        ),
    )
    for c in ordered:
        first = c.members[0]
        basis = "\0".join((c.level, first["repo"], first["path"], first["symbol"]))
        digest = hashlib.sha1(basis.encode()).hexdigest()[:12]
        n = seen.get(digest, 0)
        seen[digest] = n + 1
        c.id = f"{c.level[:2]}-{digest}" + (f"-{n + 1}" if n else "")


def drop_covered(classes: list[CloneClass]) -> tuple[list[CloneClass], int]:
    """Function classes whose files are exactly the files of one file class add nothing to
    the report (the whole file is the clone); they are counted, not listed."""
    file_sets = {
        frozenset((m["repo"], m["path"]) for m in c.members) for c in classes if c.level == "file"
    }
    kept, dropped = [], 0
    for c in classes:
        if c.level == "function":
            files = frozenset((m["repo"], m["path"]) for m in c.members)
            if len(files) > 1 and files in file_sets:
                dropped += 1
                continue
        kept.append(c)
    return kept, dropped
