"""Assembling the dedup report (the JSON contract of DESIGN.md plus extra fields).

Order and ids are deterministic: the same index gives the same report, byte for byte,
apart from `generated_at` and `stats.seconds`.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path

from innersearch.indexer import deps
from innersearch.indexer.catalog import FLAG_TEST, FLAG_VENDORED
from innersearch.indexer.store import Snapshot, Store

from . import clones, clusters, impact, libraries, purpose_embedding
from .detect import Detection, detect
from .fragments import blob_lines
from .state import dedup_dir

REPORT_FORMAT = 2  # 2: findings, capabilities, in_repo; impact order


def duplicated_lines(snap, classes: list[clones.CloneClass], lines: dict[int, int]) -> list[dict]:
    """Per repo, SonarQube-style: lines of code files inside any duplicated block, over all
    lines of those files, default branch only."""
    covered: dict[tuple[str, str], set[int]] = defaultdict(set)
    for c in classes:
        for m in c.members:
            covered[(m["repo"], m["path"])].update(range(m["start_line"], m["end_line"] + 1))
    out = []
    for repo, rows in sorted(libraries.code_files(snap).items()):
        total = sum(lines.get(f.blob_key, 0) for f in rows)
        dup = sum(
            len({n for n in covered.get((repo, f.path), ()) if n <= lines.get(f.blob_key, 0)})
            for f in rows
        )
        out.append(
            {
                "repo": repo,
                "duplicated_lines": dup,
                "lines": total,
                "duplicated_lines_percent": round(100.0 * dup / total, 2) if total else 0.0,
            }
        )
    return out


def _code_lines(files: dict, lines: dict[int, int]) -> dict[str, int]:
    """repo -> lines of its own code (not vendored, not tests): what a migration retires."""
    return {
        repo: sum(
            lines.get(f.blob_key, 0) for f in rows if not f.flags & (FLAG_VENDORED | FLAG_TEST)
        )
        for repo, rows in files.items()
    }


def runtime_uses(snap, files: dict, graph: deps.DepGraph) -> set[tuple[str, str]]:
    """(user, provider) edges of the dependency graph that the user's own library code makes:
    a benchmark or test importing a rival library to compare against does not make the two
    "user and library" (mistune's benchmark imports markdown; they are still parallel)."""
    return set(runtime_call_sites(snap, files, graph))


def runtime_call_sites(snap, files: dict, graph: deps.DepGraph) -> dict[tuple[str, str], int]:
    """(user, provider) -> call sites: lines of the user's library code that use what it
    imports from the provider (`impact.call_sites`), for every edge `runtime_uses` keeps."""
    out: dict[tuple[str, str], int] = {}
    for user, edges in sorted(graph.uses_map.items()):
        rows = [
            f
            for f in files.get(user, [])
            if not f.flags & (FLAG_VENDORED | FLAG_TEST) and not impact.is_scaffolding(f.path)
        ]
        texts = []
        for f in rows:
            data = snap.content(f.blob_key)
            if data:
                text = data.decode("utf-8", "replace")
                texts.append((f.lang, text, deps.imports_in(f.lang, text)))
        for provider, names in sorted(edges.items()):
            wanted = set(names)
            found = [(lang, text) for lang, text, imported in texts if wanted & imported]
            if found:
                out[(user, provider)] = sum(impact.call_sites(lg, t, wanted) for lg, t in found)
    return out


def _usage(snap, sites: dict[tuple[str, str], int]) -> dict[str, clusters.Usage]:
    users: dict[str, dict[str, int]] = defaultdict(dict)
    for (user, provider), n in sites.items():
        if user in snap.repos and provider in snap.repos:
            users[provider][user] = n
    return {
        repo: clusters.Usage(frozenset(found), sum(found.values()), dict(sorted(found.items())))
        for repo, found in users.items()
    }


def _both_vendored(files: dict, p: dict) -> bool:
    """Whether most code files of both sides of a pair are vendored (the indexer's flag)."""
    for side in (p["a"], p["b"]):
        rows = [f for f in files.get(side["repo"], []) if libraries._under(f.path, side["path"])]
        if not rows or sum(bool(f.flags & FLAG_VENDORED) for f in rows) * 2 <= len(rows):
            return False
    return True


def _covered_by(c: dict, pairs: list[dict]) -> dict | None:
    """The cross-repo library copy whose two directories hold every member of the class."""
    for p in pairs:
        sides = [(p["a"]["repo"], p["a"]["path"]), (p["b"]["repo"], p["b"]["path"])]
        if all(
            any(m["repo"] == r and libraries._under(m["path"], d) for r, d in sides)
            for m in c["members"]
        ):
            return p
    return None


def findings(pairs: list[dict], caps: list[dict], classes: list[dict]) -> list[dict]:
    """The first page: cross-repo copies and forks, capability clusters and cross-repo clone
    classes outside those copies, by impact (lines that consolidation would remove)."""
    found = []
    copies = [p for p in pairs if p["scope"] == "cross-repo" and p["relation"] != "parallel"]
    for p in copies:
        found.append(
            {
                "kind": p["relation"],
                "impact": p["impact"],
                "title": p["evidence"].get("summary", ""),
                "library": {"a": p["a"], "b": p["b"]},
            }
        )
    for cap in caps:
        found.append(
            {
                "kind": "capability",
                "impact": cap["impact"],
                "title": "parallel implementations of " + cap["summary"],
                "capability": cap["id"],
            }
        )
    for c in classes:
        if c["scope"] != "cross-repo" or c.get("library") or c["boilerplate"]:
            continue
        first = c["members"][0]
        what = f"function {first['symbol']}" if first.get("symbol") else first["path"]
        found.append(
            {
                "kind": "clone",
                "impact": c["impact"],
                "title": f"{what} ({c['lines']} lines) is copied in {len(c['members']) - 1} "
                f"other place(s) across {len({m['repo'] for m in c['members']})} repos",
                "clone_class": c["id"],
            }
        )
    order = {"copy": 0, "fork": 1, "capability": 2, "clone": 3}
    found.sort(key=lambda f: (-f["impact"], order[f["kind"]], f["title"]))
    return found


def in_repo(pairs: list[dict], classes: list[dict]) -> list[dict]:
    """Copies inside one repo, grouped by repo and kind (build output, generated tables,
    test scaffolding, docs): listed apart, collapsed by default in the HTML report."""
    groups: dict[tuple[str, str], dict] = {}

    def group(repo: str, kind: str) -> dict:
        return groups.setdefault(
            (repo, kind),
            {"repo": repo, "kind": kind, "impact": 0, "clone_classes": [], "library_pairs": []},
        )

    for p in pairs:
        if p["scope"] == "in-repo":
            g = group(p["a"]["repo"], p["in_repo_kind"])
            g["impact"] += p["impact"]
            g["library_pairs"].append({"a": p["a"]["path"], "b": p["b"]["path"]})
    for c in classes:
        if c["scope"] == "in-repo":
            g = group(c["members"][0]["repo"], c["in_repo_kind"])
            g["impact"] += c["impact"]
            g["clone_classes"].append(c["id"])
    return sorted(groups.values(), key=lambda g: (-g["impact"], g["repo"], g["kind"]))


def build_report(
    store: Store,
    min_tokens: int = 50,
    min_lines: int = 6,
    use_cache: bool = True,
    snap: Snapshot | None = None,
) -> dict:
    """The report of every repo at `snap` (an unrestricted snapshot; default: the store's
    current state)."""
    started = time.monotonic()
    snap = snap if snap is not None else store.snapshot()
    found = detect(store, snap, min_tokens, min_lines, use_cache=use_cache)
    files = libraries.code_files(snap)
    blobs = {f.blob_key for rows in files.values() for f in rows}
    lines = blob_lines(store, blobs)
    sites = runtime_call_sites(snap, files, deps.graph(snap))
    vocab = libraries.load_api_vocabulary(store, blobs)
    cache = dedup_dir(store.data) / purpose_embedding.CACHE_NAME
    report = assemble(snap, found, lines, sites, vocab, cache)
    report["settings"] = {"min_tokens": min_tokens, "min_lines": min_lines}
    report["stats"]["seconds"] = round(time.monotonic() - started, 3)
    return report


def assemble(
    snap,
    found: Detection,
    lines: dict[int, int],
    sites: dict[tuple[str, str], int],
    vocab: dict[int, list],
    purpose_cache: Path | None = None,
) -> dict:
    """The report from what was read and detected (code files' line counts, runtime call
    sites, vocabularies): shared by the one-machine job and the cluster's, which reads them
    from its shards; `snap` is only read for catalog rows and READMEs (snap.content)."""
    listed, covered = clones.drop_covered(found.classes)
    files = libraries.code_files(snap)
    copies = libraries.copies(snap, found.fragments, found.classes, found.edges, lines)
    related = {frozenset((p["a"]["repo"], p["b"]["repo"])) for p in copies}
    uses = set(sites)
    profiled = libraries.profile(snap, vocab)
    _, vectors, langs = profiled
    purpose = libraries.purpose_vectors(snap, langs, purpose_cache)
    scores = libraries.similarities(vectors, langs, purpose)
    # A fork rewritten past what clones find still says where it comes from.
    said = libraries.declared_forks(snap, scores, related | {frozenset(u) for u in uses}, lines)
    copies += said
    related |= {frozenset((p["a"]["repo"], p["b"]["repo"])) for p in said}
    parallel = libraries.parallels(
        snap,
        vocab,
        related,
        libraries.repo_function_links(found.classes),
        uses={frozenset(u) for u in uses},
        scores=scores,
        profiled=profiled,
    )
    del vocab  # the file records' vocabularies: most of the job's memory after detection
    pairs = [impact.annotate_pair(p, _both_vendored(files, p)) for p in copies + parallel]
    pairs.sort(
        key=lambda p: (
            p["scope"] != "cross-repo",
            {"copy": 0, "fork": 0, "parallel": 1}[p["relation"]],
            -p["impact"],
            -p["score"],
            p["a"]["repo"],
            p["a"]["path"],
            p["b"]["repo"],
            p["b"]["path"],
        ),
    )
    classes = [impact.annotate_class(c.to_json()) for c in listed]
    cross_copies = [p for p in pairs if p["scope"] == "cross-repo" and p["relation"] != "parallel"]
    for c in classes:
        home = _covered_by(c, cross_copies) if c["scope"] == "cross-repo" else None
        if home is not None:
            c["library"] = {"a": home["a"], "b": home["b"]}
    classes.sort(key=lambda c: (c["scope"] != "cross-repo", -c["impact"], c["id"]))
    caps = clusters.capabilities(
        snap,
        vectors,
        langs,
        pairs,
        libraries.MIN_PARALLEL_SCORE,
        _usage(snap, sites),
        _code_lines(files, lines),
        # A fork is the same implementation twice (one capability); a vendored directory or
        # a dependency is not a second implementation.
        {frozenset((p["a"]["repo"], p["b"]["repo"])) for p in copies if p["relation"] == "copy"}
        | {frozenset(u) for u in uses},
        scores,
    )
    types = Counter((c.level, c.clone_type) for c in listed)
    return {
        "format": REPORT_FORMAT,
        "generation": snap.generation,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {},
        "findings": findings(pairs, caps, classes),
        "capabilities": caps,
        "in_repo": in_repo(pairs, classes),
        "clone_classes": classes,
        "libraries": pairs,
        "uses": [{"repo": a, "uses": b} for a, b in sorted(uses)],
        "repos": duplicated_lines(snap, found.classes, lines),
        "stats": {
            **found.stats,
            "clone_classes": len(listed),
            "function_classes_inside_file_classes": covered,
            "by_type": {f"{level}/{t}": n for (level, t), n in sorted(types.items())},
            "seconds": 0.0,
        },
    }
