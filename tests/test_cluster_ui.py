"""The HTML pages under `serve --ray`, on a real Ray cluster on loopback: each page equals one
machine's for the same reader and org, a private repo's name is on no page of a reader
without access, a silent shard is named on the search page (and costs only the
implementations box, not the file results).

The org, its cluster index and the apps are test_cluster.py's (its fixture, built again for
this module: its own shards and actors).
"""

from __future__ import annotations

import re
import threading
import urllib.parse

import pytest
from waitress import create_server

from innersearch.cluster.dedup import find_duplicates_cluster
from innersearch.dedup.api import find_duplicates
from innersearch.web import create_app
from innersearch.web.fanout import create_fanout_app
from tests.test_cluster import DUP, READERS, _apps, _as, _kill_actor, org  # noqa: F401
from tests.test_web_ui import browser  # noqa: F401

q = urllib.parse.quote

# What differs between two indexes of the same repos built seconds apart, and between a
# search in one process and one over shards: the time taken, when each was written, the
# size on disk (one data dir against five).
_VOLATILE = [
    (re.compile(r'<span class="muted">· [\d.]+ ms</span>'), ""),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"), "WHEN"),
    (re.compile(r'<span class="big">[^<]*</span><span class="label">index size'), "SIZE"),
]
ALPHA = 'href="/repos/alpha"'  # a link to alpha, on every page that lists it
_IMPLEMENTATIONS = re.compile(r'<section class="implementations".*?</section>', re.S)


@pytest.fixture(scope="module")
def reports(org, ray_cluster):  # noqa: F811
    """The duplicate reports both apps serve: one machine's, and the one `dedup --ray` saved."""
    cluster, _ray = ray_cluster
    find_duplicates(org["one"])
    return find_duplicates_cluster(cluster.address, org["data"].root)


def _html(client, url: str, who: dict) -> tuple[int, str]:
    got = client.get(url, headers=who)
    text = got.get_data(as_text=True)
    for pattern, instead in _VOLATILE:
        text = pattern.sub(instead, text)
    return got.status_code, text


def _page_urls(snap) -> list[str]:
    """Every page of the UI for the org: searches (plain words, filters, a second page, a
    malformed query, the results fragment), each repo's page and first files, symbols,
    duplicates (whole, by repo, a comparison), status; and unknown things (404, 400)."""
    urls = ["/", "/?q=hello", "/?q=needle&offset=20", "/?q=RateLimiter", "/?q=repo%3Agamma+e"]
    urls += ["/?q=logging+levels", "/?q=rate+limiter", "/similar"]
    urls += ["/?q=type%3Arepo+a", "/?q=limiter+case%3Amaybe", "/search/results?q=hello"]
    urls += ["/repos", "/status", "/duplicates", "/duplicates?repo=gamma", "/duplicates?page=2"]
    urls += ["/symbol?name=step_3", "/symbol?name=RateLimiter", "/symbol?name=nothing"]
    urls += ["/repos/nope", "/file?repo=nope&path=x", "/file?repo=alpha&path=missing.txt"]
    urls += ["/file?repo=beta&path=feature.txt&branch=feature", "/file?repo=alpha"]
    urls += [
        "/duplicates/compare?a_repo=gamma&a_path=lib/core.py&b_repo=delta&b_path=vendor/core.py"
    ]
    urls += ["/duplicates/compare?a_repo=alpha&a_path=nope&b_repo=gamma&b_path=lib/core.py"]
    urls += ["/highlight.css", "/favicon.ico"]
    for name in sorted(snap.repos):
        urls.append(f"/repos/{q(name)}")
        for f in snap.default_files_by_repo().get(name, [])[:3]:
            urls.append(f"/file?repo={q(name)}&path={q(f.path)}")
    return urls


@pytest.mark.parametrize("user,groups", READERS)
def test_every_page_over_shards_equals_one_machines(org, reports, user, groups):  # noqa: F811
    one, many = _apps(org)
    who = _as(user, groups)
    answered = set()
    for url in _page_urls(org["one"].snapshot()):
        want, got = _html(one, url, who), _html(many, url, who)
        assert got[0] == want[0], (url, got[1][-600:])
        assert got[1] == want[1], url
        answered.add(got[0])
    assert answered == {200, 204, 400, 404}
    # The pages show results, not only their frames: the search, the duplicates, the diff.
    page = many.get("/?q=hello", headers=who).get_data(as_text=True)
    assert page.count('<article class="result">') >= 5 and "<mark>hello</mark>" in page
    dups = many.get("/duplicates", headers=who).get_data(as_text=True)
    assert dups.count('<article class="lib">') >= 1 and "No duplicated libraries" not in dups
    assert '<article class="clone">' in dups and "diff-link" in dups  # files found on shards


def test_the_implementations_box_and_similar_code_over_shards(org, reports):  # noqa: F811
    one, many = _apps(org)
    who = _as("carol", "core")
    html = many.get("/?q=logging+levels", headers=who).get_data(as_text=True)
    assert '<section class="implementations"' in html and "js-lumber" in html
    # "Does it exist?" with a snippet of a blob held in gamma and delta (two shards).
    snippet = {"snippet": DUP.split("\n\n")[3] + "\n", "lang": "python"}
    want = _html_post(one, "/similar", snippet, who)
    got = _html_post(many, "/similar", snippet, who)
    assert got == want and "gamma" in got[1] and "delta" in got[1]
    bad = _html_post(many, "/similar", {"snippet": "x", "lang": "cobol"}, who)
    assert bad == _html_post(one, "/similar", {"snippet": "x", "lang": "cobol"}, who)


def _html_post(client, url: str, form: dict, who: dict) -> tuple[int, str]:
    got = client.post(url, data=form, headers=who)
    text = got.get_data(as_text=True)
    for pattern, instead in _VOLATILE:
        text = pattern.sub(instead, text)
    return got.status_code, text


def test_a_reader_without_access_never_sees_a_private_repos_name(org, reports):  # noqa: F811
    # gamma and delta are readable by the `core` group only; bob is not in it.
    _one, many = _apps(org)
    bob, carol = _as("bob"), _as("carol", "core")
    urls = ["/", "/?q=hello", "/?q=hello+or+step_3", "/search/results?q=rate", "/repos"]
    urls += ["/status", "/duplicates", "/duplicates?repo=gamma", "/symbol?name=step_3"]
    urls += ["/?q=type%3Arepo+a", "/?q=type%3Asymbol+step", "/symbol?name=hello"]
    for url in urls:
        got = many.get(url, headers=bob)
        html = got.get_data(as_text=True)
        assert got.status_code == 200, url
        assert "gamma" not in html and "delta" not in html, url
    snippet = {"snippet": DUP, "lang": "python"}  # gamma's and delta's file, whole
    html = many.post("/similar", data=snippet, headers=bob).get_data(as_text=True)
    assert "gamma" not in html and "delta" not in html
    seen = "".join(many.get(u, headers=carol).get_data(as_text=True) for u in urls)
    seen += many.post("/similar", data=snippet, headers=carol).get_data(as_text=True)
    assert "gamma" in seen and "delta" in seen  # the same pages show them to a reader of both
    # A private repo's page and file are the 404 of a repo that does not exist.
    for private, missing in (
        ("/repos/gamma", "/repos/nope"),
        ("/file?repo=gamma&path=lib/core.py", "/file?repo=nope&path=lib/core.py"),
        (
            "/duplicates/compare?a_repo=gamma&a_path=lib/core.py&b_repo=epsilon&b_path=app.js",
            "/duplicates/compare?a_repo=nope&a_path=lib/core.py&b_repo=epsilon&b_path=app.js",
        ),
    ):
        got, nope = many.get(private, headers=bob), many.get(missing, headers=bob)
        assert got.status_code == nope.status_code == 404, private
        text = got.get_data(as_text=True)
        assert text == nope.get_data(as_text=True).replace("nope", "gamma"), private
        assert many.get(private, headers=carol).status_code == 200, private


def test_pages_need_a_sign_in_as_on_one_machine(org):  # noqa: F811
    one, many = _apps(org)
    for url in ("/", "/?q=hello", "/repos", "/status", "/duplicates", "/file?repo=alpha&path=a"):
        want, got = one.get(url), many.get(url)
        assert got.status_code == want.status_code == 401, url
        assert got.get_data(as_text=True) == want.get_data(as_text=True), url
        assert "Sign in required" in got.get_data(as_text=True)
        assert got.headers.get("Content-Type", "").startswith("text/html")
    for url in ("/highlight.css", "/static/app.css", "/static/app.js", "/healthz"):
        assert many.get(url).status_code == one.get(url).status_code == 200, url
    # With --auth none, everyone reads every repo: the pages as one machine's, unsigned.
    open_many = create_fanout_app(org["search"], org["data"].root).test_client()
    open_one = create_app(org["one"], cache_entries=0).test_client()
    for url in ("/?q=hello", "/repos"):
        assert _html(open_many, url, {}) == _html(open_one, url, {}), url


def test_a_killed_shard_is_named_on_the_search_page(org, ray_cluster):  # noqa: F811
    _cluster, ray = ray_cluster
    searcher = org["search"]
    shard = searcher.owner("alpha")  # its repos are missing from a partial page
    _one, many = _apps(org)
    who = _as("carol", "core")
    whole = _html(many, "/?q=hello", who)
    assert "Partial:" not in whole[1] and ALPHA in whole[1]

    _kill_actor(ray, searcher, shard)
    got = many.get("/?q=hello", headers=who)
    html = got.get_data(as_text=True)
    assert got.status_code == 200 and "Partial:" in html, html[-2000:]
    notice = re.search(r'<div class="notice partial".*?</div>', html, re.S).group(0)
    assert f'<span class="mono">{shard}</span>' in notice
    # Its file results are missing, the others' are there. (The implementations box above
    # them comes from the org-wide index the gateway holds, which may still answer.)
    files = _IMPLEMENTATIONS.sub("", html)
    assert ALPHA not in files and '<article class="result">' in files
    # Whether the box can answer or not, the page is the search results, never an error.
    _kill_actor(ray, searcher, shard)
    got = many.get("/?q=rate+limiter", headers=who)
    html = got.get_data(as_text=True)
    assert got.status_code == 200 and "Partial:" in html and '<article class="result">' in html
    assert "implementations-note" in html or '<section class="implementations"' in html
    # The next request starts the actor again: whole.
    assert _html(many, "/?q=hello", who) == whole

    # The results fragment (search as you type) says it too, and the status, repos and
    # symbol pages; a repo's page on the silent shard is a 503 naming it.
    pages = {"/search/results?q=hello": ALPHA, "/status": ALPHA, "/repos": ALPHA}
    pages["/symbol?name=RateLimiter"] = '<span class="repo">alpha</span>'  # a definition
    for url, alpha in pages.items():
        _kill_actor(ray, searcher, shard)
        got = many.get(url, headers=who)
        html = got.get_data(as_text=True)
        assert got.status_code == 200 and "Partial:" in html and shard in html, url
        assert alpha not in _IMPLEMENTATIONS.sub("", html), url
        assert alpha in many.get(url, headers=who).get_data(as_text=True), url
    _kill_actor(ray, searcher, shard)
    got = many.get("/repos/alpha", headers=who)
    assert got.status_code == 503 and shard in got.get_data(as_text=True)
    assert many.get("/repos/alpha", headers=who).status_code == 200


def test_a_killed_shard_is_named_on_the_duplicates_page(org, reports, ray_cluster):  # noqa: F811
    _cluster, ray = ray_cluster
    searcher = org["search"]
    _one, many = _apps(org)
    who = _as("carol", "core")
    link = '<a class="path" href="/file?repo=gamma&amp;path=lib/core.py'  # a side's file
    whole = _html(many, "/duplicates", who)
    assert "Partial:" not in whole[1] and link in whole[1]
    shard = searcher.owner("gamma")
    _kill_actor(ray, searcher, shard)
    got = many.get("/duplicates", headers=who)
    html = got.get_data(as_text=True)
    # The report is whole (the gateway holds it); the silent shard's files lose their links,
    # and the page says which shard and why.
    assert got.status_code == 200 and "Partial:" in html, html[-2000:]
    notice = re.search(r'<div class="notice partial".*?</div>', html, re.S).group(0)
    assert f'<span class="mono">{shard}</span>' in notice and "without links" in notice
    assert link not in html and '<span class="path">lib/core.py/</span>' in html
    assert _html(many, "/duplicates", who) == whole  # the actor is started again


@pytest.fixture(scope="module")
def fanout_server(org):  # noqa: F811
    """The fan-out app (--auth none) on waitress on a loopback port, as `serve --ray` runs it."""
    app = create_fanout_app(org["search"], org["data"].root)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.trigger.pull_trigger(server.close)  # in its loop thread (see test_web_ui.py)
    thread.join(timeout=5)


def test_search_as_you_type_in_a_browser_over_shards(fanout_server, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(fanout_server + "/")
    page.locator("#q").press_sequentially("RateLimiter", delay=40)
    page.wait_for_url(re.compile(r"\?q=RateLimiter$"))
    page.locator(".result").first.wait_for()
    repos = set(page.locator(".result a.repo").all_inner_texts())
    assert {"alpha", "zeta"} <= repos and page.locator(".notice.partial").count() == 0
    # Keyboard: down to the first matching line, Enter opens the file page from its shard.
    page.locator("#q").press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/file\?.*#L\d+$"))
    assert "RateLimiter" in page.locator("table.code.file tr:target").inner_text()
    page.close()
