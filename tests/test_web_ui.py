"""The HTML UI: pages through the test client, then end to end in headless Chromium.

The browser tests run the real waitress server on a loopback port against a real index and
drive Debian's chromium with Playwright: search as you type, open a result, jump to a
definition, open the duplicates report and a side-by-side diff, and search without JavaScript.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from waitress import create_server

from innersearch.web import create_app
from tests.helpers import client_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def client(web_store):
    return client_for(web_store)


# --- pages through the test client ----------------------------------------------------------


def test_search_page_without_javascript(client):
    r = client.get("/?q=RateLimiter")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "billing/charge.py" in html and "payments/limiter.py" in html
    assert "<mark>RateLimiter</mark>" in html
    assert 'href="/?q=RateLimiter+repo:%5Epayments$"' in html  # repo facet


def test_facet_link_narrows_to_one_repo(client):
    html = client.get("/?q=RateLimiter+repo%3A%5Epayments%24").get_data(as_text=True)
    assert "payments/limiter.py" in html and "billing/charge.py" not in html


def test_query_error_is_shown_in_the_page(client):
    r = client.get("/?q=limiter+case:maybe")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Query error" in html and "case: must be one of" in html


def test_results_fragment(client):
    html = client.get("/search/results?q=retry_call").get_data(as_text=True)
    assert "<html" not in html and "payments/retry.py" in html


def test_file_page_links_identifiers_and_outline(client):
    html = client.get("/file?repo=billing&path=billing/charge.py").get_data(as_text=True)
    assert 'id="L3"' in html
    assert 'href="/symbol?name=RateLimiter"' in html
    html = client.get("/file?repo=payments&path=payments/limiter.py").get_data(as_text=True)
    assert 'href="#L5"' in html and ">acquire</a>" in html


def test_symbol_page_groups_uses_by_repo(client):
    html = client.get("/symbol?name=RateLimiter").get_data(as_text=True)
    assert "payments/limiter.py" in html and "billing/charge.py" in html
    assert "Who uses this" in html


def test_repo_page_renders_readme_safely(client):
    html = client.get("/repos/payments").get_data(as_text=True)
    assert "<strong>retries</strong>" in html and "<table>" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "@payments-team" in html and "CONTRIBUTING.md" in html


def test_code_is_escaped_and_undecodable_bytes_do_not_break_pages(client):
    html = client.get("/file?repo=billing&path=notes.txt").get_data(as_text=True)
    assert "<script>alert(" not in html and "&lt;script&gt;" in html
    html = client.get("/?q=notes%27").get_data(as_text=True)
    assert "<script>alert(" not in html
    r = client.get("/file?repo=billing&path=legacy.txt")
    assert r.status_code == 200 and "na\ufffdve" in r.get_data(as_text=True)


def test_highlight_keeps_lines_and_marks_ranges():
    from innersearch.web.highlight import highlight_lines, highlight_snippet

    text = '\n\nx = "<b>"\ndef f():\n    """doc\n    more"""\n'
    lines = highlight_lines(text, "python", "a.py")
    assert len(lines) == 6 and lines[0] == "" and "&lt;b&gt;" in lines[2]
    linked = highlight_lines("f(x)\n", "python", "a.py", lambda n, line, col: f"/s?{n}")
    assert 'href="/s?f"' in linked[0] and 'data-col="0"' in linked[0]
    marked = highlight_snippet("call_retry(fn)", "python", "a.py", [[5, 10]])
    assert "<mark>retry</mark>" in marked
    assert highlight_snippet("plain", "no-such-language", "x.unknown", [])


def test_other_pages_render(client):
    for url in (
        "/repos",
        "/duplicates",
        "/duplicates?repo=billing&page=2",
        "/status",
        "/similar",
        "/highlight.css",
    ):
        assert client.get(url).status_code == 200, url
    html = client.get(
        "/duplicates/compare?a_repo=payments&a_path=payments/retry.py"
        "&b_repo=billing&b_path=billing/util/retrying.py"
    ).get_data(as_text=True)
    assert "op-replace" in html and "op-equal" in html


def test_similar_form_post(client):
    r = client.post("/similar", data={"snippet": "def retry_call(fn):\n    return fn()\n"})
    assert r.status_code == 200
    assert client.post("/similar", data={"snippet": "  "}).status_code == 200


def test_unknown_things_are_html_404_and_bad_input_400(client):
    r = client.get("/file?repo=nope&path=x")
    assert r.status_code == 404 and "Not found" in r.get_data(as_text=True)
    assert client.get("/repos/nope").status_code == 404
    assert client.get("/file?repo=payments").status_code == 400
    assert client.get("/?q=x&offset=minus").status_code == 400


# --- end to end in Chromium -----------------------------------------------------------------


@pytest.fixture(scope="module")
def server(web_store):
    server = create_server(create_app(web_store), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    # Closed in the server's own loop thread: closing its sockets from this one while its
    # select() waits on them raised EBADF there (a warning in the test run, now and then).
    server.trigger.pull_trigger(server.close)
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing in CI (`make test` installs it)")
        pytest.skip("/usr/bin/chromium is not installed: `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path):
    target = Path(os.environ.get("INNERSEARCH_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_search_open_result_and_jump_to_definition(server, browser, shots):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(server + "/")
    page.locator("#q").press_sequentially("RateLimiter", delay=40)
    # Results replace the page as the query grows; the address follows the final query.
    page.wait_for_url(re.compile(r"\?q=RateLimiter$"))
    assert page.locator(".result").count() == 2
    assert page.locator(".facets").get_by_text("payments").count() == 1
    page.screenshot(path=shots / "1-search.png", full_page=True)

    # Keyboard: down from the search box to the first matching line, Enter opens it.
    page.locator("#q").press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/file\?.*#L\d+$"))
    assert page.locator("table.code.file tr:target").count() == 1

    page.goto(server + "/file?repo=billing&path=billing/charge.py")
    page.locator('a.id[data-name="RateLimiter"]').first.click()
    page.locator(".popover a.def-link").first.wait_for()
    page.screenshot(path=shots / "2-definition-popover.png")
    page.locator(".popover a.def-link").first.click()
    page.wait_for_url(re.compile(r"path=payments%2Flimiter\.py.*#L\d+$"))
    target = page.locator("table.code.file tr:target")
    assert "class RateLimiter" in target.inner_text()
    page.screenshot(path=shots / "3-file.png")

    page.goto(server + "/symbol?name=RateLimiter")
    assert page.locator(".usage").count() >= 1
    page.screenshot(path=shots / "4-symbol.png", full_page=True)
    page.close()


def test_duplicates_report_and_diff(server, browser, shots):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(server + "/")
    page.get_by_role("link", name="Duplicates").click()
    page.locator(".clone").first.wait_for()
    page.screenshot(path=shots / "5-duplicates.png", full_page=True)
    page.locator(".clone a.diff-link").first.click()
    page.locator("table.diff").wait_for()
    assert page.locator("table.diff tr.op-equal").count() > 0
    page.screenshot(path=shots / "6-diff.png", full_page=True)
    for name, url in (("7-repo", "/repos/payments"), ("8-status", "/status")):
        page.goto(server + url)
        page.screenshot(path=shots / f"{name}.png", full_page=True)
    page.close()


def test_search_works_without_javascript(server, browser, shots):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/")
    page.locator("#q").fill("retry_call")
    page.locator("#q").press("Enter")
    page.locator(".result").first.wait_for()
    assert "payments/retry.py" in page.content()
    context.close()
