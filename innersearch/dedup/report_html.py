"""A self-contained HTML report: inline CSS, no script, no external URL; every value escaped."""

from __future__ import annotations

from html import escape
from typing import TextIO

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3}.num{text-align:right}
code{font:12px ui-monospace,monospace}.tag{font-size:11px;background:#eee;padding:0 .3em;
border-radius:3px;margin-left:.3em}details{margin:.3em 0}h3{font-size:1em}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _member(m: dict) -> str:
    tags = "".join(
        f'<span class="tag">{name}</span>' for name in ("vendored", "test") if m.get(name)
    )
    symbol = f" <code>{_e(m['symbol'])}</code>" if m.get("symbol") else ""
    return (
        f"<li><code>{_e(m['repo'])}/{_e(m['path'])}:{m['start_line']}-{m['end_line']}</code>"
        f"{symbol}{tags}</li>"
    )


def _owners(side: dict) -> str:
    names = list(side.get("codeowners") or [])
    names += [c.get("name") or c.get("email", "") for c in side.get("committers") or []]
    return _e(", ".join(dict.fromkeys(n for n in names if n)) or "-")


FIRST_PAGE = 20  # findings shown before the rest is folded away


def _finding_row(n: int, f: dict) -> str:
    return (
        f"<tr><td class=num>{n}</td><td>{_e(f['kind'])}</td>"
        f"<td class=num>{_e(f['impact'])}</td><td>{_e(f['title'])}</td></tr>\n"
    )


def _findings(report: dict, w) -> None:
    found = report.get("findings", [])
    w("<h2>What to consolidate first</h2>\n<p>Cross-repo copies, forks, parallel ")
    w("implementations and copied code, by impact: lines that consolidation would remove.</p>")
    w("\n<table><tr><th>#</th><th>Kind</th><th>Impact (lines)</th><th>Finding</th></tr>\n")
    w("".join(_finding_row(n, f) for n, f in enumerate(found[:FIRST_PAGE], 1)))
    w("</table>\n")
    if len(found) > FIRST_PAGE:
        w(f"<details><summary>{len(found) - FIRST_PAGE} more findings</summary><table>\n")
        w("".join(_finding_row(n, f) for n, f in enumerate(found[FIRST_PAGE:], FIRST_PAGE + 1)))
        w("</table></details>\n")


def _capabilities(report: dict, w) -> None:
    caps = report.get("capabilities", [])
    if not caps:
        return
    w("<h2>Capabilities implemented more than once</h2>\n")
    for cap in caps:
        w(f"<h3>{_e(cap['name'])} <small>({_e(', '.join(cap.get('terms', [])))})</small></h3>\n")
        w("<table><tr><th>Language</th><th>Keep</th><th>Why</th><th>Migrate from</th></tr>\n")
        for entry in cap.get("languages", []):
            keep = entry.get("keep", {})
            moves = "; ".join(
                f"{m['from']} ({m['repos']} repos"
                + (f", {m['call_sites']} call sites" if m.get("call_sites") is not None else "")
                + f", {m['code_lines']} lines)"
                for m in entry.get("migrate", [])
            )
            w(
                f"<tr><td>{_e(entry['language'])}</td><td><code>{_e(keep.get('repo', ''))}</code>"
                f"</td><td>{_e(', '.join(keep.get('reasons', [])))}</td><td>{_e(moves)}</td></tr>\n"
            )
        w("</table>\n")


def _in_repo(report: dict, w) -> None:
    groups = report.get("in_repo", [])
    if not groups:
        return
    total = sum(g["impact"] for g in groups)
    w(
        f"<h2>Copies inside one repository</h2>\n<details><summary>{len(groups)} groups, "
        f"{total} lines (build outputs, generated tables, test scaffolding, docs)</summary>\n"
        "<table><tr><th>Repository</th><th>Kind</th><th>Impact (lines)</th>"
        "<th>Clone classes</th><th>Directory pairs</th></tr>\n"
    )
    for g in groups:
        dirs = ", ".join(f"{p['a'] or '/'} ~ {p['b'] or '/'}" for p in g["library_pairs"])
        w(
            f"<tr><td>{_e(g['repo'])}</td><td>{_e(g['kind'])}</td>"
            f"<td class=num>{_e(g['impact'])}</td><td class=num>{len(g['clone_classes'])}</td>"
            f"<td>{_e(dirs)}</td></tr>\n"
        )
    w("</table></details>\n")


def write_html(report: dict, out: TextIO) -> None:
    w = out.write
    w('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
    w("<title>innersearch duplicate report</title>")
    w(f"<style>{_STYLE}</style></head><body>\n")
    w("<h1>innersearch duplicate report</h1>\n")
    stats = report.get("stats", {})
    w(
        f"<p>Index generation {_e(report.get('generation', '?'))}, generated "
        f"{_e(report.get('generated_at', ''))}: {len(report.get('clone_classes', []))} clone "
        f"classes, {len(report.get('libraries', []))} library pairs"
        f"{', ' + _e(stats.get('fragments')) + ' fragments' if 'fragments' in stats else ''}.</p>\n"
    )
    _findings(report, w)
    _capabilities(report, w)
    w("<h2>Library pairs</h2>\n<table><tr><th>Relation</th><th>Score</th><th>A</th>")
    w("<th>B</th><th>Canonical</th><th>Evidence</th><th>Owners A</th><th>Owners B</th></tr>\n")
    for p in report.get("libraries", []):
        if p.get("scope") == "in-repo":
            continue  # listed in its own section below
        ev = p.get("evidence", {})
        detail = ev.get("summary") or ", ".join(
            ev.get("shared_api_words", [])[:10] + ev.get("shared_doc_words", [])[:5]
        )
        owners = p.get("owners", {})
        w(
            f"<tr><td>{_e(p['relation'])}</td><td class=num>{_e(p['score'])}</td>"
            f"<td><code>{_e(p['a']['repo'])}:{_e(p['a']['path'] or '/')}</code></td>"
            f"<td><code>{_e(p['b']['repo'])}:{_e(p['b']['path'] or '/')}</code></td>"
            f"<td>{_e(p.get('canonical', ''))} {_e(p.get('canonical_reason', ''))}</td>"
            f"<td>{_e(detail)}</td><td>{_owners(owners.get('a', {}))}</td>"
            f"<td>{_owners(owners.get('b', {}))}</td></tr>\n"
        )
    w("</table>\n")
    _in_repo(report, w)
    w("<h2>Duplicated lines per repository</h2>\n<table><tr><th>Repository</th>")
    w("<th>Duplicated lines</th><th>Lines</th><th>%</th></tr>\n")
    for r in sorted(report.get("repos", []), key=lambda r: -r["duplicated_lines_percent"]):
        w(
            f"<tr><td>{_e(r['repo'])}</td><td class=num>{r['duplicated_lines']}</td>"
            f"<td class=num>{r['lines']}</td>"
            f"<td class=num>{r['duplicated_lines_percent']}</td></tr>\n"
        )
    w("</table>\n<h2>Clone classes</h2>\n")
    for c in report.get("clone_classes", []):
        scope = f", {_e(c['scope'])}" if c.get("scope") else ""
        w(
            f"<details><summary><code>{_e(c['id'])}</code> {_e(c['level'])} "
            f"{_e(c.get('type', ''))}, similarity {_e(c['similarity'])}, "
            f"{len(c['members'])} members{scope}</summary><ul>"
        )
        w("".join(_member(m) for m in c["members"]))
        w("</ul></details>\n")
    w("</body></html>\n")
