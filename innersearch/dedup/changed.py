"""Pull-request mode: only the clones a change BASE..HEAD of one repo introduces, checked
against the indexed default branches of the snapshot's repos ("this already exists in ...").

A function (or a new file) counts as introduced when most of its lines are added by the
change; its matches are verified on token streams by the detector's own rules.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import git
import numpy as np

from innersearch.indexer import classify
from innersearch.indexer import fingerprints as fp
from innersearch.indexer.layout import DataDir
from innersearch.indexer.parse import SUPPORTED_LANGUAGES, parse_source
from innersearch.indexer.store import Snapshot, Store

from . import clones, impact, libraries, verify
from . import fragments as frag_mod

CANDIDATES = 40  # best signature estimates verified per introduced fragment
MAX_MATCHES = 5  # existing places listed per introduced fragment
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_RANGE = re.compile(r"^([^.\s][^\s]*?)\.\.([^.\s][^\s]*)$")


class ChangeError(ValueError):
    """A bad --changed request (unknown repo, bad range, unreadable commits): one message."""


@dataclass(frozen=True)
class Introduced:
    path: str
    lang: str
    record: fp.FragmentRecord
    new_file: bool
    # The file record of the same blob: a function record's token streams are a slice of it.
    file_record: fp.FragmentRecord | None = None


def parse_range(text: str) -> tuple[str, str]:
    found = _RANGE.match(text or "")
    if not found or "..." in text:  # a three-dot range means something else to git
        raise ChangeError(f"expected BASE..HEAD, got {text!r}")
    return found.group(1), found.group(2)


def _git_repo(snap: Snapshot, data: DataDir, repo: str, repo_path: str | None) -> git.Repo:
    """The CI checkout when given, else the indexed source when it is a local directory,
    else the indexer's mirror."""
    candidates = [Path(repo_path)] if repo_path else []
    source = snap.repos[repo].source
    if not repo_path:
        if source and Path(source).is_dir():
            candidates.append(Path(source))
        candidates.append(data.mirror_path(repo))
    for path in candidates:
        try:
            return git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            continue
    raise ChangeError(f"no git repository for {repo!r} at {', '.join(map(str, candidates))}")


def added_lines(diff: str) -> dict[str, tuple[set[int], bool]]:
    """path -> (line numbers added at HEAD, whether the file is new) from `git diff -U0`."""
    out: dict[str, tuple[set[int], bool]] = {}
    path, new = None, False
    for line in diff.splitlines():
        if line.startswith("--- "):
            new = line == "--- /dev/null"
        elif line.startswith("+++ "):
            target = line[4:]
            path = target[2:] if target.startswith("b/") else None
            if path is not None:
                out.setdefault(path, (set(), new))
        elif path is not None:
            hunk = _HUNK.match(line)
            if hunk:
                start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
                out[path][0].update(range(start, start + count))
    return out


def _introduced(
    repo: git.Repo, head: str, changes: dict, min_tokens: int, min_lines: int
) -> list[Introduced]:
    found = []
    for path, (added, new_file) in sorted(changes.items()):
        try:
            data = repo.git.show(f"{head}:{path}", stdout_as_string=False)
        except git.GitCommandError:
            continue  # a submodule or a path git cannot show: nothing to fingerprint
        lang = classify.language(path, data[:128])
        if lang not in SUPPORTED_LANGUAGES or not added:
            continue
        parsed = parse_source(lang, data)
        if parsed is None:
            continue
        records = fp.fragment_records(parsed, data)
        whole = next((r for r in records if r.kind == "file"), None)
        for rec in records:
            span = rec.end_line - rec.start_line + 1
            if rec.tokens < min_tokens or span < min_lines:
                continue
            if rec.kind == "file" and not new_file:
                continue  # a file's own lines already existed; its new functions are checked
            mine = sum(1 for n in range(rec.start_line, rec.end_line + 1) if n in added)
            if mine * 2 > span:
                found.append(Introduced(path, lang, rec, new_file, whole))
    return found


def _owners_text(owners: dict) -> str:
    names = list(owners.get("codeowners") or [])
    if not names:
        names = [c.get("email") or c.get("name", "") for c in owners.get("committers") or []]
    return ", ".join(n for n in names[:3] if n)


def changed_clones(
    store: Store,
    snap: Snapshot,
    repo: str,
    revrange: str,
    repo_path: str | None = None,
    min_tokens: int = 50,
    min_lines: int = 6,
) -> dict:
    """A report (the JSON contract's clone_classes, plus `changed`) of the clones that the
    change introduces: each class is the new code first, then where it already exists."""
    started = time.monotonic()
    if repo not in snap.repos:
        raise ChangeError(f"unknown repository {repo!r}")
    base, head = parse_range(revrange)
    gr = _git_repo(snap, store.data, repo, repo_path)
    try:
        head_sha = gr.git.rev_parse("--verify", f"{head}^{{commit}}")
        base_sha = gr.git.rev_parse("--verify", f"{base}^{{commit}}")
        diff = gr.git.diff("-U0", "--no-color", "--no-ext-diff", base_sha, head_sha)
    except git.GitCommandError as err:
        raise ChangeError(f"cannot read {revrange} in {repo}: {err.stderr.strip()}") from err
    changes = added_lines(diff)
    introduced = _introduced(gr, head_sha, changes, min_tokens, min_lines)
    classes = []
    if introduced:
        frags = frag_mod.load(store, snap, min_tokens, min_lines)
        streams_cache: dict[int, verify.Streams] = {}
        for item in introduced:
            found = _matches(store, frags, item, repo, set(changes), streams_cache)
            if found:
                classes.append(_class(snap, frags, item, found, repo))
    classes.sort(key=lambda c: (-c["impact"], c["members"][0]["path"], c["id"]))
    return {
        "format": 2,
        "generation": snap.generation,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {"min_tokens": min_tokens, "min_lines": min_lines},
        "changed": {
            "repo": repo,
            "base": base_sha,
            "head": head_sha,
            "files": len(changes),
            "introduced_fragments": len(introduced),
        },
        "clone_classes": classes,
        "libraries": [],
        "stats": {"clone_classes": len(classes), "seconds": round(time.monotonic() - started, 3)},
    }


def _matches(
    store: Store,
    frags: frag_mod.Fragments,
    item: Introduced,
    repo: str,
    changed_paths: set[str],
    cache: dict,
) -> list[tuple[int, verify.Verdict, list]]:
    if len(frags) == 0:
        return []
    parent = fp.decode_record(item.file_record.data) if item.file_record else None
    query = fp.decode_record(item.record.data, parent)
    level = item.record.kind == "file"
    estimate = np.maximum(
        (frags.abs_sig == query.abs_sig).mean(axis=1), (frags.raw_sig == query.raw_sig).mean(axis=1)
    )
    estimate[frags.is_file != level] = 0.0
    order = [int(i) for i in np.argsort(-estimate, kind="stable")[:CANDIDATES] if estimate[i] > 0]
    records = frag_mod.load_streams(store, [int(frags.rowid[i]) for i in order if i not in cache])
    mine = verify.Streams(query)
    out = []
    for i in order:
        if i not in cache:
            rec = records.get(int(frags.rowid[i]))
            if rec is None:
                continue
            cache[i] = verify.Streams(rec)
        verdict = verify.compare(mine, cache[i])
        if not verdict.clone_type:
            continue
        # The old version of a file this change edits is not "already existing" code.
        where = [
            f
            for f in frags.locations.get(int(frags.blob[i]), [])
            if not (f.repo == repo and f.path in changed_paths)
        ]
        if where:
            out.append((i, verdict, where))
    out.sort(key=lambda t: (-t[1].similarity, -t[1].raw_similarity, t[2][0].repo, t[2][0].path))
    return out[:MAX_MATCHES]


def _class(
    snap: Snapshot, frags: frag_mod.Fragments, item: Introduced, found: list, repo: str
) -> dict:
    rec = item.record
    new = {
        "repo": repo,
        "path": item.path,
        "branch": "",
        "start_line": rec.start_line,
        "end_line": rec.end_line,
        "symbol": rec.symbol,
        "tokens": rec.tokens,
        "lang": item.lang,
        "vendored": False,
        "test": False,
        "new": True,
    }
    members = [new]
    for i, verdict, where in found:
        keep = {(f.repo, f.path) for f in where}
        for m in [m for m in clones.members_of(frags, i) if (m["repo"], m["path"]) in keep][:2]:
            owners = libraries._owners(snap, m["repo"], m["path"])
            m.update(
                similarity=round(verdict.similarity, 4),
                type=verdict.clone_type,
                owners=owners,
                owners_text=_owners_text(owners),
            )
            members.append(m)
    worst = max((v for _, v, _ in found), key=lambda v: v.clone_type)  # "T3" > "T2" > "T1"
    digest = hashlib.sha1(f"{repo}\0{item.path}\0{rec.symbol}\0{rec.kind}".encode()).hexdigest()
    c = {
        "id": "pr-" + digest[:12],
        "level": rec.kind,
        "type": worst.clone_type,
        "similarity": round(min(v.similarity for _, v, _ in found), 4),
        "raw_similarity": round(min(v.raw_similarity for _, v, _ in found), 4),
        "tokens": rec.tokens,
        "members": members,
    }
    return impact.annotate_class(c)
