"""The HTML pages: search, file, symbol, repos, duplicates, "does this exist?", status.

Pages render the documents the JSON API returns, read from the app's page source (pages.py:
one Store, or the shards under `serve --ray`), and work without JavaScript; static/app.js
adds search as you type, keyboard navigation and definition popups.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from markdown_it import MarkdownIt
from markupsafe import Markup
from pygments.formatters import HtmlFormatter

from innersearch.search import implementations
from innersearch.search.api import QueryError
from innersearch.search.query import Filter, tokenize

from . import answers, params
from .errors import ApiError
from .highlight import highlight_lines, highlight_snippet
from .pages import PageSource, register, source

bp = Blueprint("ui", __name__)

PAGE_SIZE = 20
UI_CONTEXT = 2  # lines shown around each match
MATCHES_SHOWN = 5  # per file; the rest are a click away on the file page
IMPLEMENTATIONS_SHOWN = 5  # repos above the file results of a plain-words query
# README rendering: CommonMark plus tables; raw HTML in the README is shown as text.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def install(app: Flask, pages: PageSource) -> None:
    """The HTML pages on `app`, reading the documents `pages` answers."""
    register(app, pages)
    app.register_blueprint(bp)
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["short"] = lambda commit: (commit or "")[:10]
    app.jinja_env.filters["bytes"] = human_bytes
    app.jinja_env.globals["kind_letter"] = kind_letter
    app.jinja_env.globals["api_url"] = api_url


def api_url(route: str, **values) -> str:
    """The URL of the JSON API's `route` (its view's name): the pages link to the JSON they
    show, whichever blueprint serves it on this app (one per part of the API over shards)."""
    for endpoint in current_app.view_functions:
        if endpoint.startswith("api") and endpoint.endswith("." + route):
            return url_for(endpoint, **values)
    raise LookupError(f"no JSON route {route!r} on this app")


_KIND_LETTERS = {
    "class": "C",
    "function": "F",
    "method": "M",
    "interface": "I",
    "struct": "S",
    "type": "T",
    "enum": "E",
    "module": "N",
    "constant": "K",
    "field": "P",
    "variable": "V",
}


def kind_letter(kind: str) -> str:
    """The one-letter badge of a symbol kind in outlines (N for namespace/module)."""
    return _KIND_LETTERS.get(kind, (kind or "?")[:1].upper())


def when(value: int | str | None) -> str:
    """A timestamp (unix seconds or ISO string) as 'YYYY-MM-DD HH:MM UTC'."""
    if value in (None, ""):
        return "never"
    if isinstance(value, str):
        try:
            value = int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return value
    return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d %H:%M UTC")


def human_bytes(n: int | None) -> str:
    size = float(n or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


# --- search -------------------------------------------------------------------------------


def _chunks(match: dict, lang: str, path: str) -> list[list[dict]]:
    """A result's matching lines and their context as runs of consecutive lines (new
    dicts: the result itself may be a shared cached document)."""
    lines: dict[int, dict] = {}
    for lm in match["line_matches"]:
        for ctx in (*lm.get("before", ()), *lm.get("after", ())):
            lines.setdefault(
                ctx["line"], {"line": ctx["line"], "text": ctx["text"], "ranges": None}
            )
        lines[lm["line"]] = {"line": lm["line"], "text": lm["text"], "ranges": lm["ranges"]}
    runs: list[list[dict]] = []
    for number in sorted(lines):
        item = lines[number]
        item["html"] = highlight_snippet(item["text"], lang, path, item["ranges"] or [])
        item["match"] = item["ranges"] is not None
        if runs and runs[-1][-1]["line"] == number - 1:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _path_html(result: dict) -> Markup:
    ranges = result.get("path_ranges") or []
    return (
        highlight_snippet(result["path"], "text", "", ranges)
        if ranges
        else Markup.escape(result["path"])
    )


def search_view(q: str | None, offset: int) -> dict:
    """What the search page and the results fragment render."""
    view: dict = {"q": q or "", "offset": offset, "page_size": PAGE_SIZE, "result": None}
    pages = source()
    if not q:
        view["indexed"] = pages.indexed()
        return view
    try:
        result = pages.search(q, PAGE_SIZE, offset, UI_CONTEXT).to_json()
    except QueryError as err:
        view["error"] = {"message": err.message, "position": err.position}
        return view
    items = []
    for found in result["results"]:
        shown = found["line_matches"][:MATCHES_SHOWN]
        more = len(found["line_matches"]) - len(shown)
        item = {**found, "line_matches": shown, "more_matches": more}
        if more:
            item["more_line"] = found["line_matches"][MATCHES_SHOWN]["line"]
        item["chunks"] = _chunks(item, found.get("lang", ""), found["path"])
        item["path_html"] = _path_html(found)
        items.append(item)
    view["items"] = items
    facets = result.get("facets") or {}
    view["facets"] = {
        key: sorted((facets.get(key) or {}).items(), key=lambda kv: (-kv[1], kv[0]))[:15]
        for key in ("repo", "lang")
    }
    view["result"] = result
    if not offset and implementations.plain_words(q):  # plain words: who implements them?
        try:
            view["implementations"] = pages.implementations(q, IMPLEMENTATIONS_SHOWN).to_json()
        except ApiError as err:  # over shards, a silent shard: the file results still show
            view["implementations_note"] = err.message
    return view


def facet_query(q: str, key: str, value: str) -> str:
    """The query narrowed to one repo or language (replacing an earlier filter of that key).
    Any repo name works: the filter is an anchored regex, quoted when it must be."""
    try:
        kept = [
            q[t.pos : t.end]
            for t in tokenize(q)
            if not (isinstance(t.node, Filter) and t.node.name == key)
        ]
    except QueryError:
        kept = [q]
    if key == "repo":
        value = "^" + "".join(c if c.isalnum() or c in "-_/ " else "\\" + c for c in value)
        value += "$"
    if any(c.isspace() or c == '"' for c in value):
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return " ".join([*kept, f"{key}:{value}"])


@bp.get("/")
def index():
    view = search_view(params.text("q"), params.integer("offset", 0, 0, 10_000_000))
    return render_template("search.html", facet_query=facet_query, **view)


@bp.get("/search/results")
def results_fragment():
    view = search_view(params.text("q"), params.integer("offset", 0, 0, 10_000_000))
    return render_template("_results.html", facet_query=facet_query, **view)


# --- files and symbols --------------------------------------------------------------------


@bp.get("/file")
def file_page():
    repo = params.text("repo", required=True)
    path = params.text("path", required=True)
    doc = source().file(repo, path, params.text("branch"))
    defined = {s.name for s in doc.symbols}
    used = {(name, line) for name, lines in doc.references.items() for line in lines}

    def link(name: str, line: int, col: int) -> str | None:
        if name in defined or (name, line) in used:
            return url_for("ui.symbol_page", name=name)
        return None

    lines = highlight_lines(doc.content, doc.lang, doc.path, link)
    return render_template("file.html", doc=doc, lines=lines)


def _occurrences(text: str, name: str) -> list[list[int]]:
    """Where `name` occurs in a line as a whole identifier (for highlighting a use)."""
    out, start = [], 0
    while (i := text.find(name, start)) >= 0:
        end = i + len(name)
        before = text[i - 1] if i else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            out.append([i, end])
        start = end
    return out


@bp.get("/symbol")
def symbol_page():
    name = params.text("name", required=True)
    refs = source().references(name, 1000).to_json()
    for repo in refs["repos"]:
        for f in repo["files"]:
            for line in f["lines"]:
                line["html"] = highlight_snippet(
                    line["text"], "", f["path"], _occurrences(line["text"], name)
                )
    return render_template("symbol.html", name=name, refs=refs)


# --- repos --------------------------------------------------------------------------------


@bp.get("/repos")
def repos_page():
    found = source().repos().to_json()
    return render_template("repos.html", repos=found["repos"], listed=found)


@bp.get("/repos/<path:name>")
def repo_page(name: str):
    # The templates read the JSON documents: the page shows what the API answers.
    pages = source()
    doc = pages.repo(name).to_json()
    readme_html = render_readme(doc["readme"]) if doc["readme"] else None
    dups = pages.duplicates().involving(name).to_json()
    return render_template("repo.html", repo=doc, readme_html=readme_html, duplicates=dups)


def render_readme(readme: dict) -> Markup:
    """Markdown READMEs rendered (raw HTML off); other formats shown as plain text."""
    text = readme["text"]
    if not text:
        return Markup("")
    if (
        readme["path"].lower().endswith((".md", ".markdown", ".mdown"))
        or "." not in readme["path"].rsplit("/", 1)[-1]
    ):
        return Markup(_MARKDOWN.render(text))
    return Markup('<pre class="plain-readme">') + Markup.escape(text) + Markup("</pre>")


# --- duplicates ---------------------------------------------------------------------------


def compare_url(a: dict, b: dict) -> str:
    args = {}
    for prefix, side in (("a", a), ("b", b)):
        args[f"{prefix}_repo"] = side["repo"]
        args[f"{prefix}_path"] = side["path"]
        if side.get("branch"):
            args[f"{prefix}_branch"] = side["branch"]
        if side.get("start_line"):
            args[f"{prefix}_start"] = side["start_line"]
            args[f"{prefix}_end"] = side["end_line"]
    return url_for("ui.compare_page", **args)


CLONES_PER_PAGE = 50


@bp.get("/duplicates")
def duplicates_page():
    pages = source()
    found = pages.duplicates()
    repo = params.text("repo")
    page = params.integer("page", 1, 1, 1_000_000)
    report, narrowed = found.to_json(), found.involving(repo).to_json()
    libraries, clones = narrowed["libraries"], narrowed["clone_classes"]
    start = (page - 1) * CLONES_PER_PAGE
    shown = clones[start : start + CLONES_PER_PAGE]
    # The files the page may link to, asked for at once (over shards: one round).
    present = pages.files_present(_sides(libraries, shown))

    def is_file(side: dict) -> bool:
        return (side["repo"], side.get("path") or "") in present.files

    return render_template(
        "duplicates.html",
        report=report,
        libraries=libraries,
        clones=shown,
        clones_total=len(clones),
        clones_from=start,
        page=page,
        repo_filter=repo or "",
        repo_names=pages.repo_names(),
        compare_url=compare_url,
        is_file=is_file,
        present=present,
    )


def _sides(libraries: list[dict], clones: list[dict]) -> set[tuple[str, str]]:
    """The (repo, path) the duplicates page may link to as files: each library's side and
    file pairs, each shown clone class' members (duplicates.html's `is_file` calls)."""
    out = set()
    for lib in libraries:
        out |= {(lib[k]["repo"], lib[k]["path"]) for k in ("a", "b") if lib[k].get("path")}
        for fp in lib["evidence"].get("file_pairs") or ():
            out |= {(lib["a"]["repo"], fp["a"]), (lib["b"]["repo"], fp["b"])}
    out |= {(m["repo"], m["path"]) for c in clones for m in c["members"] if m.get("path")}
    return out


@bp.get("/duplicates/compare")
def compare_page():
    a, b = answers.compare_sides()
    doc = source().compare(a, b).to_json()
    for row in doc["rows"]:
        marks = {"a": [], "b": []}
        if row["op"] == "replace" and row["a"] and row["b"]:
            marks = changed_ranges(row["a"]["text"], row["b"]["text"])
        for side, meta in (("a", doc["a"]), ("b", doc["b"])):
            if row[side] is not None:
                row[side]["html"] = highlight_snippet(
                    row[side]["text"], meta["lang"], meta["path"], marks[side]
                )
    return render_template("compare.html", doc=doc)


def changed_ranges(a: str, b: str) -> dict[str, list[list[int]]]:
    """The character ranges that differ between two aligned lines, per side."""
    out: dict[str, list[list[int]]] = {"a": [], "b": []}
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if op != "equal":
            if a1 > a0:
                out["a"].append([a0, a1])
            if b1 > b0:
                out["b"].append([b0, b1])
    return out


# --- does this already exist? -------------------------------------------------------------


@bp.route("/similar", methods=["GET", "POST"])
def similar_page():
    pages = source()
    snippet = request.form.get("snippet", "") if request.method == "POST" else ""
    lang = request.form.get("lang", "") if request.method == "POST" else ""
    found, error = None, None
    if request.method == "POST":
        try:
            found = pages.similar(snippet, lang or None, 10).to_json()
        except ApiError as err:
            error = err.message
    return render_template("similar.html", snippet=snippet, lang=lang, found=found, error=error)


# --- status -------------------------------------------------------------------------------


@bp.get("/status")
def status_page():
    report = source().status().to_json()
    return render_template("status.html", report=report)


@bp.get("/favicon.ico")
def favicon():
    return Response(status=204)


@bp.get("/highlight.css")
def highlight_css():
    # Generated by Pygments at run time rather than copied into static/.
    css = HtmlFormatter(style="default").get_style_defs(".code")
    return Response(css, mimetype="text/css", headers={"Cache-Control": "max-age=3600"})
