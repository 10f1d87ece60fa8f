"""`innersearch search`, `innersearch symbols` and `innersearch refs`: the search commands.

Human output is grep-like (repo/path:line:text); --json prints the API's dict.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from ..indexer.store import Snapshot, Store, StoreError
from . import api, implementations
from .query import QueryError
from .results import SupportsJson


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search code (see docs/query-language.md)")
    # REMAINDER: query words may start with "-" (`foo -repo:legacy`); see _split_options.
    p.add_argument(
        "query", nargs=argparse.REMAINDER, metavar="QUERY", help="query words, joined by spaces"
    )
    p.add_argument("--json", action="store_true", help="print the JSON result")
    p.add_argument("--limit", type=int, default=20, help="files to show (0 = all; default 20)")
    p.add_argument("--offset", type=int, default=0, help="files to skip (pagination)")
    p.add_argument("--context", type=int, default=0, help="context lines around each match")
    p.set_defaults(handler=cmd_search)
    p = sub.add_parser("symbols", help="find symbol definitions by name")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.add_argument("--kind", help="class, function, method, ...")
    p.add_argument("--lang", help="python, go, javascript, ...")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cmd_symbols)
    p = sub.add_parser("refs", help="where a name is used, grouped by repository")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=1000, help="reference lines to show (0 = all)")
    p.set_defaults(handler=cmd_refs)
    p = sub.add_parser(
        "find", help="does anyone have a ...? repos that implement what WORDS describe"
    )
    p.add_argument("words", nargs="+", metavar="WORDS", help='e.g. "rate limiter"')
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=10, help="repos to show (default 10)")
    p.set_defaults(handler=cmd_find)


def _answer(
    args: argparse.Namespace, text: str, call: Callable[[Snapshot], SupportsJson]
) -> tuple[Snapshot, dict] | int:
    """Open the index and run `call` on one snapshot; prints the JSON answer with --json.
    Returns the snapshot and the answer for a human listing, or the exit code when there is
    nothing more to print."""
    try:
        snap = Store.open(args.data).snapshot()
    except StoreError as err:
        print(f"innersearch: {err}", file=sys.stderr)
        return 1
    try:
        out = call(snap).to_json()
    except QueryError as err:
        print(format_query_error(text, err), file=sys.stderr)
        return 2
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    return snap, out


def format_query_error(query: str, err: QueryError) -> str:
    """The message with the query and a caret under the offending position."""
    lines = [f"innersearch: bad query: {err.message}"]
    if err.position is not None:
        lines.append(f"  {query}")
        lines.append("  " + " " * min(err.position, len(query)) + "^")
    return "\n".join(lines)


_VALUE_OPTIONS = ("--limit", "--offset", "--context")


def _split_options(args: argparse.Namespace) -> list[str]:
    """Query words, taking out this command's options written after the query and a `--`."""
    words: list[str] = []
    tokens = list(args.query)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        name, eq, value = tok.partition("=")
        if tok == "--json":
            args.json = True
        elif name in _VALUE_OPTIONS and eq and value.isdigit():
            setattr(args, name[2:], int(value))
        elif tok in _VALUE_OPTIONS and i + 1 < len(tokens) and tokens[i + 1].isdigit():
            setattr(args, tok[2:], int(tokens[i + 1]))
            i += 1
        elif tok == "--" and not words:
            pass
        else:
            words.append(tok)
        i += 1
    return words


def cmd_search(args: argparse.Namespace) -> int:
    words = _split_options(args)
    if not words:
        print("innersearch: search needs a QUERY", file=sys.stderr)
        return 2
    query = " ".join(words)
    if args.limit < 0 or args.offset < 0 or args.context < 0:
        print("innersearch: --limit, --offset and --context must be >= 0", file=sys.stderr)
        return 2
    answer = _answer(
        args,
        query,
        lambda snap: api.search(
            snap, query, limit=args.limit, offset=args.offset, context=args.context
        ),
    )
    if isinstance(answer, int):
        return answer
    snap, out = answer
    repos = snap.repos
    for r in out["results"]:
        where = f"{r['repo']}/{r['path']}"
        info = repos.get(r["repo"])
        if info is not None and info.default_branch and r["branch"] != info.default_branch:
            where += f"@{r['branch']}"
        if not r["line_matches"]:
            print(where)
            continue
        for m in r["line_matches"]:
            for c in m.get("before", []):
                print(f"{where}-{c['line']}-{c['text']}")
            print(f"{where}:{m['line']}:{m['text']}")
            for c in m.get("after", []):
                print(f"{where}-{c['line']}-{c['text']}")
    bound = "at least " if out["limit_hit"] else ""
    shown = len(out["results"])
    print(
        f"-- {bound}{out['total_matches']} matching lines in {bound}{out['total_files']} files "
        f"(showing {shown} from {out['offset']}; {out['took_ms']:.1f} ms)",
        file=sys.stderr,
    )
    return 0


def cmd_symbols(args: argparse.Namespace) -> int:
    answer = _answer(
        args,
        args.name,
        lambda snap: api.symbols(snap, args.name, kind=args.kind, lang=args.lang, limit=args.limit),
    )
    if isinstance(answer, int):
        return answer
    _, out = answer
    for s in out["symbols"]:
        container = f"{s['container']}." if s["container"] else ""
        print(
            f"{s['repo']}/{s['path']}:{s['line']}: {s['kind']} {container}{s['name']}"
            f"  {s['signature']}"
        )
    print(f"-- {out['total']} definitions ({out['took_ms']:.1f} ms)", file=sys.stderr)
    return 0


def cmd_refs(args: argparse.Namespace) -> int:
    answer = _answer(
        args, args.name, lambda snap: api.references(snap, args.name, limit=args.limit)
    )
    if isinstance(answer, int):
        return answer
    _, out = answer
    for d in out["definitions"]:
        print(f"defined: {d['repo']}/{d['path']}:{d['line']}: {d['signature']}")
    for r in out["repos"]:
        print(f"{r['repo']} ({r['count']} uses)")
        for f in r["files"]:
            for line in f["lines"]:
                print(f"  {f['path']}:{line['line']}:{line['text']}")
    print(
        f"-- {out['total']} uses in {len(out['repos'])} repos ({out['took_ms']:.1f} ms)",
        file=sys.stderr,
    )
    return 0


def cmd_find(args: argparse.Namespace) -> int:
    text = " ".join(args.words)
    if args.limit < 1:
        print("innersearch: --limit must be >= 1", file=sys.stderr)
        return 2
    answer = _answer(
        args,
        text,
        lambda snap: implementations.find(snap, text, limit=args.limit),
    )
    if isinstance(answer, int):
        return answer
    _, out = answer
    for impl in out["implementations"]:
        print(format_implementation(impl))
    print(
        f"-- {len(out['implementations'])} implementations of "
        f"{' '.join(out['terms']) or '(no words)'} ({out['took_ms']:.1f} ms)",
        file=sys.stderr,
    )
    return 0


def format_implementation(impl: dict) -> str:
    """A repo, its status marks, whom to ask, activity and use, then its best modules."""
    marks = [m for m in ("archived", "deprecated") if impl[m]]
    head = f"{impl['repo']}" + (f" [{', '.join(marks)}]" if marks else "")
    if impl["description"]:
        head += f" — {impl['description']}"
    owners = ", ".join(o["name"] for o in impl["owners"][:3]) or "no owners named"
    act = impl["activity"]
    lines = [
        head,
        f"  owners: {owners}",
        "  contributions: "
        + (f"accepted ({impl['contributing']})" if impl["accepts_contributions"] else "no guide"),
        f"  activity: {_count(act['commits'], 'commit')} by {_count(act['authors'], 'author')}"
        f" in {act['window']};"
        f" activity score {act['score']}",
        f"  used by {_count(impl['used_by_count'], 'repo')}"
        + (": " + ", ".join(d["repo"] for d in impl["used_by"][:5]) if impl["used_by"] else ""),
    ]
    for mod in impl["modules"]:
        lines.append(f"  {mod['path']}" + (f"  {mod['doc'].splitlines()[0]}" if mod["doc"] else ""))
        for fn in mod["functions"]:
            lines.append(f"    {fn['path']}:{fn['line']}: {fn['kind']} {fn['name']}")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
