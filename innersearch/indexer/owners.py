"""What a contributor from another team needs first about a repo: owners, README, guide.

Owners come from CODEOWNERS and from the most active committers of the last year.
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath

import git

from . import gitread

CODEOWNERS_PATHS = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


def parse_codeowners(text: str) -> list[dict]:
    """[{pattern, owners}] in file order; comments, blank lines and sections are skipped."""
    rules = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("["):
            continue
        pattern, *owners = line.split()
        if owners:
            rules.append({"pattern": pattern, "owners": owners})
    return rules


def _first(paths: list[str], stems: tuple[str, ...], dirs: tuple[str, ...]) -> str | None:
    """The first of `paths` in `dirs` (in that order) whose stem is one of `stems`."""
    # A string split per path, and a PurePosixPath only for the few in `dirs`: this runs on
    # every re-index of the default branch, and the kernel has 78k paths.
    by_dir: dict[str, list[str]] = {d: [] for d in dirs}
    for p in paths:
        parent = p.rpartition("/")[0]
        if parent in by_dir:
            by_dir[parent].append(p)
    for d in dirs:
        for p in by_dir[d]:
            if PurePosixPath(p).stem.upper() in stems:
                return p
    return None


def repo_info(repo: git.Repo, commit: str, paths: list[str], language_bytes: Counter) -> dict:
    """The catalog's repos.info for one indexed commit of the default branch."""
    codeowners: list[dict] = []
    for candidate in CODEOWNERS_PATHS:
        if candidate in paths:
            data = gitread.read_blob_at(repo, commit, candidate) or b""
            codeowners = parse_codeowners(data.decode("utf-8", "replace"))
            break
    everyone = [
        o for rule in codeowners if rule["pattern"] in ("*", "/*", "/") for o in rule["owners"]
    ]
    if not everyone:
        everyone = list(dict.fromkeys(o for rule in codeowners for o in rule["owners"]))
    total = sum(language_bytes.values()) or 1
    return {
        "owners": {
            "codeowners": list(dict.fromkeys(everyone)),
            "codeowners_rules": codeowners[:200],
            "committers": gitread.top_committers(repo, commit),
        },
        "readme": _first(paths, ("README",), ("", "docs", ".github")),
        "contributing": _first(paths, ("CONTRIBUTING",), ("", ".github", "docs")),
        "languages": {
            lang: round(100 * n / total, 1)
            for lang, n in language_bytes.most_common(8)
            if lang and 100 * n / total >= 0.5
        },
    }
