"""What a contributor from another team needs first about a repo: owners, README, guide.

Owners come from CODEOWNERS and from the most active committers of the last year.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import PurePosixPath

import git

from . import gitread
from .changes import BranchState
from .repoinfo import CodeownersRule, RepoInfo, RepoOwners

CODEOWNERS_PATHS = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


def parse_codeowners(text: str) -> list[CodeownersRule]:
    """The rules in file order; comments, blank lines and sections are skipped."""
    rules = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("["):
            continue
        pattern, *owners = line.split()
        if owners:
            rules.append(CodeownersRule(pattern, owners))
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


def looks_at(path: str) -> bool:
    """True when repo_info() reads this path or depends on its presence: CODEOWNERS, the
    README and the contributing guide are looked for at the root, in docs/, .github/ and
    .gitlab/ only."""
    return path.rpartition("/")[0] in ("", "docs", ".github", ".gitlab")


def repo_info(
    repo: git.Repo,
    commit: str,
    whole: Callable[[], BranchState],
    state: BranchState,
    old: RepoInfo,
    changed: list[tuple[str, str]] | None = None,
) -> RepoInfo:
    """The catalog's repos.info for one indexed commit of the default branch. `state`: the
    branch's new state, `whole()` the whole branch it arrives at (a pass over the branch);
    `changed`: the (path, language) pairs a diff touched since `old` (the info so far) was
    made, when it was made at the diff's base. Then what no touched path can change carries
    over (the owners, README and guide found, the bytes per language plus the change); the
    describe.py parts are the caller's."""
    kept = old.owners
    language_bytes: Counter
    if changed is not None and old.language_bytes is not None:
        language_bytes = Counter(old.language_bytes)
        language_bytes.update(state.lang_bytes)
        language_bytes = +language_bytes  # a language no file has any more goes
    else:
        language_bytes = whole().lang_bytes
    # The README and guide are written with the owners (null when not found).
    if changed is not None and kept is not None and not any(looks_at(path) for path, _ in changed):
        everyone, codeowners = kept.codeowners, kept.codeowners_rules
        readme, contributing = old.readme, old.contributing
    else:
        paths = whole().paths
        everyone, codeowners = _codeowners(repo, commit, set(paths))
        readme = _first(paths, ("README",), ("", "docs", ".github"))
        contributing = _first(paths, ("CONTRIBUTING",), ("", ".github", "docs"))
    total = sum(language_bytes.values()) or 1
    return RepoInfo(
        owners=RepoOwners(everyone, codeowners, gitread.top_committers(repo, commit)),
        readme=readme,
        contributing=contributing,
        languages={
            lang: round(100 * n / total, 1)
            for lang, n in language_bytes.most_common(8)
            if lang and 100 * n / total >= 0.5
        },
        language_bytes=_json_bytes(language_bytes),
    )


def _json_bytes(language_bytes: Counter) -> dict[str, int]:
    """Sorted, so a diff and a listing of one commit store the same text; a file of no
    language counts under "" (a JSON key, not "None")."""
    out: Counter = Counter()
    for lang, n in language_bytes.items():
        out[lang or ""] += n
    return dict(sorted(out.items()))


def _codeowners(
    repo: git.Repo, commit: str, paths: set[str]
) -> tuple[list[str], list[CodeownersRule]]:
    """(the owners of everything, the first 200 rules) of the first CODEOWNERS file."""
    codeowners: list[CodeownersRule] = []
    for candidate in CODEOWNERS_PATHS:
        if candidate in paths:
            data = gitread.read_blob_at(repo, commit, candidate) or b""
            codeowners = parse_codeowners(data.decode("utf-8", "replace"))
            break
    everyone = [o for rule in codeowners if rule.pattern in ("*", "/*", "/") for o in rule.owners]
    if not everyone:
        everyone = list(dict.fromkeys(o for rule in codeowners for o in rule.owners))
    return list(dict.fromkeys(everyone)), codeowners[:200]
