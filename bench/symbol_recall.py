"""Symbol recall benchmark: our tree-sitter definitions against universal-ctags.

Usage: python bench/symbol_recall.py [REPOS_DIR] [--json OUT] [--examples N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

# Runnable from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from innersearch.indexer.parse import parse_source

DEFAULT_REPOS = "/tmp/sample-org/repos"
CTAGS = "/usr/bin/ctags"
EXTENSIONS = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".go": "go",
}
# ctags kinds that are definitions we promise to find (variables, imports, fields,
# packages and constants are out of scope); Python methods are ctags "member"s.
CTAGS_KINDS = {
    "python": {"class", "function", "member"},
    "javascript": {"class", "function", "method", "generator", "getter", "setter"},
    "go": {"func", "struct", "interface", "type", "talias"},
}
# ctags JavaScript tags that are not definitions of the benchmarked kinds are counted and
# reported, not scored: names it makes up for anonymous functions; "classes" that are object
# literals (`var opts = {...}`) or inferred from `Foo.prototype.x` on a line that does not
# define Foo; and methods/functions tagged where the name is only used
# (`return Base.prototype.get.call(this)`).
ANONYMOUS = re.compile(r"^AnonymousFunction[0-9a-f]+$")
SKIP_DIRS = {".git", "node_modules"}
MAX_BYTES = 1 << 20  # the indexer's limit for text files


def source_files(repo: Path, max_bytes: int) -> list[tuple[str, str]]:
    """(path relative to the repo, language) of the benchmarked files in a working tree."""
    found = []
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for filename in sorted(filenames):
            lang = EXTENSIONS.get(os.path.splitext(filename)[1])
            path = os.path.join(dirpath, filename)
            if lang is None or os.path.islink(path) or os.path.getsize(path) > max_bytes:
                continue
            found.append((os.path.relpath(path, repo), lang))
    return found


def ctags_definitions(repo: Path, paths: list[str]) -> list[dict]:
    """ctags tags of the given files, run once per repository."""
    if not paths:
        return []
    proc = subprocess.run(
        [CTAGS, "--output-format=json", "--fields=+nKzn", "-f", "-", "-L", "-"],
        cwd=repo,
        input="\n".join(paths) + "\n",
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    tags = []
    for line in proc.stdout.splitlines():
        try:
            tag = json.loads(line)
        except json.JSONDecodeError:
            continue
        if tag.get("_type") == "tag":
            tags.append(tag)
    return tags


def artifact(lang: str, tag: dict, line: str) -> str | None:
    """Why a ctags tag is not scored, or None when it is a real definition."""
    if lang != "javascript":
        return None
    name = re.escape(tag["name"].lstrip("#"))
    if ANONYMOUS.match(tag["name"]):
        return "anonymous function"
    if tag["kind"] == "class":
        defines = (
            rf"\bclass\s+{name}\b"
            rf"|\bfunction\s*\*?\s*{name}\s*\("
            rf"|\b{name}\s*=\s*(class|function)\b"
        )
        return None if re.search(defines, line) else "object literal or use as class"
    if not re.search(rf"{name}['\"\]]*\s*(=|:|\()", line):
        return "use as method/function"
    return None


def normalize(name: str) -> str:
    # ctags drops the `#` of JS private names; we keep the name as written.
    return name.lstrip("#")


def spread(items: list[dict], limit: int) -> list[dict]:
    """Up to `limit` items, one file at a time, so a single odd file cannot fill the list."""
    by_file: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_file[item["file"]].append(item)
    queues = [by_file[f] for f in sorted(by_file)]
    chosen: list[dict] = []
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


def run(repos_dir: Path, examples: int, max_bytes: int) -> dict:
    started = time.monotonic()
    expected: dict[str, set[tuple[str, str, int]]] = defaultdict(set)
    kinds: dict[tuple[str, str, int], str] = {}
    ours: dict[str, set[tuple[str, str, int]]] = defaultdict(set)
    files = defaultdict(int)
    parse_errors = defaultdict(int)
    excluded: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    unscored: dict[str, set[tuple[str, str, int]]] = defaultdict(set)
    lines_of: dict[str, list[bytes]] = {}
    repos = sorted(p for p in repos_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for repo in repos:
        listed = source_files(repo, max_bytes)
        for path, lang in listed:
            data = (repo / path).read_bytes()
            result = parse_source(lang, data)
            if result is None:
                continue
            files[lang] += 1
            if result.error:
                parse_errors[lang] += 1
            rel = f"{repo.name}/{path}"
            lines_of[rel] = data.split(b"\n")
            for symbol in result.symbols:
                ours[lang].add((rel, normalize(symbol.name), symbol.line))
        lang_of = dict(listed)
        for tag in ctags_definitions(repo, [path for path, _ in listed]):
            lang = lang_of.get(tag.get("path", ""))
            if lang is None or tag.get("kind") not in CTAGS_KINDS[lang]:
                continue
            rel, line = f"{repo.name}/{tag['path']}", int(tag["line"])
            source = lines_of.get(rel, [])
            text = source[line - 1] if 0 < line <= len(source) else b""
            reason = artifact(lang, tag, text.decode("utf-8", errors="replace"))
            key = (rel, normalize(tag["name"]), line)
            if reason:
                excluded[lang][reason] += 1
                unscored[lang].add(key)
                continue
            expected[lang].add(key)
            kinds[key] = tag["kind"]

    report: dict = {"repos_dir": str(repos_dir), "repos": len(repos), "languages": {}}
    total_expected = total_found = 0
    for lang in CTAGS_KINDS:
        missed = sorted(expected[lang] - ours[lang])
        found = len(expected[lang]) - len(missed)
        total_expected += len(expected[lang])
        total_found += found
        missed_items = []
        for rel, name, line in missed:
            source = lines_of.get(rel, [])
            text = source[line - 1] if 0 < line <= len(source) else b""
            missed_items.append(
                {
                    "file": rel,
                    "line": line,
                    "name": name,
                    "ctags_kind": kinds[(rel, name, line)],
                    "text": text.decode("utf-8", errors="replace").strip()[:160],
                }
            )
        report["languages"][lang] = {
            "files": files[lang],
            "files_with_syntax_errors": parse_errors[lang],
            "ctags_definitions": len(expected[lang]),
            "ctags_excluded": dict(sorted(excluded[lang].items())),
            "found": found,
            "recall": found / len(expected[lang]) if expected[lang] else 1.0,
            "missed": len(missed),
            # Recall if ctags' made-up tags counted too, for comparison.
            "recall_including_not_scored": (
                (found + len(unscored[lang] & ours[lang])) / (len(expected[lang] | unscored[lang]))
                if expected[lang] | unscored[lang]
                else 1.0
            ),
            "ours_not_in_ctags": len(ours[lang] - expected[lang]),
            "missed_by_ctags_kind": dict(
                sorted(
                    (kind, sum(1 for m in missed_items if m["ctags_kind"] == kind))
                    for kind in {m["ctags_kind"] for m in missed_items}
                )
            ),
            "missed_examples": spread(missed_items, examples),
        }
    report["overall"] = {
        "ctags_definitions": total_expected,
        "found": total_found,
        "recall": total_found / total_expected if total_expected else 1.0,
    }
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def markdown(report: dict) -> str:
    rows = [
        "| language | files | ctags defs | found | recall | missed | ours not in ctags "
        "| ctags tags not scored |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for lang, r in report["languages"].items():
        excluded = ", ".join(f"{n} {why}" for why, n in r["ctags_excluded"].items())
        if excluded:
            excluded += f" (recall with them: {r['recall_including_not_scored']:.2%})"
        else:
            excluded = "-"
        rows.append(
            f"| {lang} | {r['files']} | {r['ctags_definitions']} | {r['found']} "
            f"| {r['recall']:.2%} | {r['missed']} | {r['ours_not_in_ctags']} | {excluded} |"
        )
    o = report["overall"]
    rows.append(
        f"| **overall** | | {o['ctags_definitions']} | {o['found']} | **{o['recall']:.2%}** | | | |"
    )
    out = [
        f"Symbol recall against universal-ctags: {report['repos']} repos in "
        f"{report['repos_dir']} ({report['seconds']} s)",
        "",
        *rows,
    ]
    for lang, r in report["languages"].items():
        if not r["missed_examples"]:
            continue
        out += ["", f"Missed {lang} definitions by ctags kind: {r['missed_by_ctags_kind']}", ""]
        out += ["| file:line | name | ctags kind | source |", "|---|---|---|---|"]
        for m in r["missed_examples"]:
            text = m["text"].replace("|", "\\|")
            out.append(f"| {m['file']}:{m['line']} | {m['name']} | {m['ctags_kind']} | `{text}` |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="?", default=DEFAULT_REPOS, help="directory of git repos")
    parser.add_argument("--json", dest="json_out", help="also write the report as JSON here")
    parser.add_argument("--examples", type=int, default=20, help="missed examples per language")
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES, help="skip larger files")
    args = parser.parse_args(argv)
    repos_dir = Path(args.repos)
    if not repos_dir.is_dir() or not any(repos_dir.iterdir()):
        print(f"no repositories in {repos_dir}", file=sys.stderr)
        return 2
    report = run(repos_dir, args.examples, args.max_bytes)
    print(markdown(report))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
