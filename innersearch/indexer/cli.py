"""`innersearch index` and `innersearch status`: the indexer's commands.

Index prints a per-repo summary (and a progress bar on a terminal); status reads the catalog.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import layout, tokens
from .run import default_progress, index_sources
from .status import status_report
from .store import Store, StoreError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "index",
        help="mirror and index repositories",
        description="SOURCE: a directory of git repos, one repo, a git URL, a code-host "
        "organization (github:ORG, gitlab:GROUP, gitea:ORG, bitbucket:WORKSPACE; the token "
        "in $GITHUB_TOKEN etc.), or a .toml config. "
        "The sources are the complete set: repos indexed before and not named now are "
        "removed. Without SOURCE, the sources of the previous run are indexed again.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE")
    p.add_argument("--quiet", action="store_true", help="no progress bar, summary only")
    p.set_defaults(handler=cmd_index)
    p = sub.add_parser("status", help="what is indexed, when, and what failed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)
    p = sub.add_parser(
        "tokens",
        help="API tokens for `serve --auth token`",
        description="Tokens are printed once at creation; the data dir keeps only a hash.",
    )
    tsub = p.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)
    t = tsub.add_parser("create", help="issue a token for USER (printed once)")
    t.add_argument("user", metavar="USER")
    t.add_argument("--groups", default="", help="comma-separated groups, e.g. platform,admin")
    t.set_defaults(handler=cmd_tokens_create)
    t = tsub.add_parser("revoke", help="revoke a token (the token itself, or its id)")
    t.add_argument("token", metavar="TOKEN")
    t.set_defaults(handler=cmd_tokens_revoke)
    t = tsub.add_parser("list", help="the tokens' ids, users and groups (never the tokens)")
    t.set_defaults(handler=cmd_tokens_list)


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_index(args: argparse.Namespace) -> int:
    data = layout.resolve_data_dir(args.data)
    try:
        summary = index_sources(
            data, args.sources, say=_say, progress=default_progress() and not args.quiet
        )
    except layout.IndexBusyError as err:
        _say(f"innersearch: {err}")
        return 1
    except ValueError as err:
        _say(f"innersearch: {err}")
        return 2
    width = max((len(o.name) for o in summary.outcomes), default=4)
    for o in summary.outcomes:
        detail = f"{o.files} files changed" if o.status == "indexed" else ""
        if o.message:
            detail = (detail + "; " if detail else "") + o.message
        print(f"{o.name:<{width}}  {o.status:<9}  {detail}".rstrip())
    mb = summary.new_bytes / 1e6
    rate = mb / summary.seconds if summary.seconds else 0.0
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(summary.skipped.items()))
    print(
        f"{len(summary.outcomes)} repos ({len(summary.failed)} failed), "
        f"{summary.new_blobs} new files parsed ({mb:.1f} MB, {rate:.1f} MB/s), "
        f"skipped: {skipped or 'none'}, {summary.seconds:.1f} s"
    )
    for problem in summary.problems:
        print(f"source {problem.source}: {problem.message}")
    return 1 if summary.failed or summary.problems else 0


def _when(ts: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts)) if ts else "-"


def _tokens(args: argparse.Namespace) -> tokens.Tokens | None:
    try:
        return tokens.open_tokens(layout.resolve_data_dir(args.data))
    except OSError as err:
        _say(f"innersearch tokens: {err}")
        return None


def cmd_tokens_create(args: argparse.Namespace) -> int:
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    store = _tokens(args)
    if store is None:
        return 1
    try:
        token = store.create(args.user.strip(), groups)
    except ValueError as err:
        _say(f"innersearch tokens: {err}")
        return 2
    finally:
        store.close()
    print(token)
    _say(f"token for {args.user} (groups: {', '.join(groups) or 'none'}); it is not shown again")
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    store = _tokens(args)
    if store is None:
        return 1
    revoked = store.revoke(args.token.strip())
    store.close()
    if not revoked:
        _say("innersearch tokens: no such token")
        return 1
    _say("revoked")
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    store = _tokens(args)
    if store is None:
        return 1
    for row in store.list():
        print(f"{row.id}  {row.user:<20} {','.join(row.groups) or '-':<30} {_when(row.created_at)}")
    store.close()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    try:
        store = Store.open(args.data)
    except StoreError as err:
        _say(f"innersearch: {err}")
        return 1
    report = status_report(store).to_json()  # printed as the JSON document or from it
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    t = report["totals"]
    skipped = ", ".join(f"{n} {r}" for r, n in sorted(t["skipped"].items())) or "none"
    print(
        f"{t['repos']} repos ({t['repos_failed']} with errors), {t['commits']} indexed commits, "
        f"{t['files']} files ({t['unique_blobs']} unique, {t['source_bytes'] / 1e6:.1f} MB), "
        f"{t['symbols']} symbols, skipped: {skipped}, parse errors: {t['parse_errors']}, "
        f"index size {report['index_bytes'] / 1e6:.1f} MB"
    )
    for src in report["sources"]:
        line = f"  source {src['source']:<21} {src['status']:<6} {src['repos']:>6} repos"
        line += f"  listed {_when(src['last_sync_at'])}"
        if src["next_sync_at"]:
            line += f"  next {_when(int(src['next_sync_at']))}"
        if src["last_webhook_at"]:
            line += f"  webhook {_when(int(src['last_webhook_at']))}"
        if src["webhook_lag_seconds"] is not None:
            line += f" (lag {src['webhook_lag_seconds']:.1f} s)"
        if src["error"]:
            line += f"  ERROR: {src['error']}"
        print(line)
    for r in report["repos"]:
        branches = ", ".join(f"{b['name']}@{b['commit'][:10]}" for b in r["branches"]) or "-"
        line = f"  {r['name']:<28} {r['status']:<6} {r['files']:>6} files  {branches}"
        line += f"  indexed {_when(r['indexed_at'])}"
        if r["error"]:
            line += f"  ERROR: {r['error']}"
        print(line)
    return 0
