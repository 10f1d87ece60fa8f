"""Permissions end to end: a private repo's canary never reaches a user who may not read it.

A real organization (git repos, index, dedup report) with code-host info written into the
catalog as the host sync would; every route of the app (enumerated from url_map) is walked
as users with and without access, with proxy and with token authentication.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from innersearch.cli import main as cli_main
from innersearch.dedup import api as dedup
from innersearch.indexer import access, layout
from innersearch.indexer.access import AccessRules, Principal
from innersearch.indexer.catalog import RepoRow
from innersearch.indexer.status import status_report
from innersearch.indexer.store import Store
from innersearch.indexer.tokens import open_tokens
from innersearch.web import auth as web_auth
from innersearch.web import create_app
from innersearch.web.auth import AuthSettings
from tests.helpers import make_repo, run_index

# Everything only the private repo holds contains "zqx" (any case); nothing else does.
PRIVATE = "acme/zqxvault"
CANARY = "ZQX_CANARY_7731"
TRAILER = "ZQX_TRAILER_4410"  # on the canary's line; never sent in a request
SYMBOL = "UnsealZqxDoor"
SECRET_PATH = "zqxcanarypath/unseal_zqx.py"
PUBLIC_PATH = "lib/payload.py"

SHARED = '''\
def normalize_payload(payload, required, defaults):
    """Fill in defaults, check required keys and strip blank strings."""
    result = dict(defaults)
    for key, value in payload.items():
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        result[key] = value
    missing = [key for key in required if key not in result]
    if missing:
        raise ValueError("missing keys: " + ", ".join(sorted(missing)))
    return result
'''

SECRET = f'''\
SECRET_MARKER = "{CANARY} {TRAILER}"


class {SYMBOL}:
    """Opens the door."""

    def open(self, code):
        return normalize_payload({{"code": code}}, ["code"], {{}})


{SHARED}

DOOR = {SYMBOL}()
'''

PUBLIC = f"""\
{SHARED}

def handle(request):
    return normalize_payload(request, ["id"], {{"kind": "plain"}})
"""


COMMON = '''\
import time


def retry_forever(action, pause=0.25, ceiling=8.0, log=print):
    """Call action until it returns, doubling the pause up to a ceiling."""
    wait = pause
    while True:
        try:
            return action()
        except OSError as err:
            log(f"retrying in {wait:.2f}s after {err!r}")
            time.sleep(wait)
            wait = min(ceiling, wait * 2)
'''


def _set_host(data: layout.DataDir, name: str, host: dict) -> None:
    """What the code-host sync stores in repos.info["host"] (simulated: no host client)."""
    conn = sqlite3.connect(data.catalog_path)
    with conn:
        conn.execute(
            "UPDATE repos SET info = json_set(info, '$.host', json(?)) WHERE name = ?",
            (json.dumps(host), name),
        )
    conn.close()


def build(root: Path, access_toml: str = "") -> layout.DataDir:
    org = root / "org"
    # common/retry.py is the same blob in both repos: one index entry, two locations.
    make_repo(
        org,
        "zqxvault",
        {SECRET_PATH: SECRET, "README.md": "# zqx vault\n", "common/retry.py": COMMON},
    )
    make_repo(
        org,
        "public-lib",
        {PUBLIC_PATH: PUBLIC, "README.md": "# public lib\n", "common/retry.py": COMMON},
    )
    make_repo(org, "notes", {"notes.md": "plain notes\n"})
    make_repo(org, "secret-plans", {"plans.txt": "plans for the security team\n"})
    config = root / "org.toml"
    config.write_text(
        "\n".join(
            f'[[sources]]\npath = "org/{d}"\nname = "{n}"\n{extra}\n'
            for d, n, extra in (
                # A missing branch: an error naming the private repo in the status.
                ("zqxvault", PRIVATE, 'branches = ["zqx-missing"]'),
                ("public-lib", "acme/public-lib", ""),
                ("notes", "notes", ""),
                ("secret-plans", "secret-plans", ""),
            )
        )
        + access_toml
    )
    data = layout.DataDir(root / "data")
    run_index(data, config)
    _set_host(
        data,
        PRIVATE,
        {
            "kind": "github",
            "full_name": PRIVATE,
            "visibility": "private",
            "readers": {"users": ["carol"], "groups": ["github:acme/zqx-team"]},
        },
    )
    _set_host(
        data,
        "acme/public-lib",
        {"kind": "github", "full_name": "acme/public-lib", "visibility": "public"},
    )
    return data


RULES = """
[access]
default = "everyone"
[[access.rules]]
repos = ["secret-*"]
groups = ["security"]
"""


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    data = build(tmp_path_factory.mktemp("perms"), RULES)
    store = Store.open(data.root)
    dedup.find_duplicates(store, min_tokens=20, min_lines=4)
    yield store
    store.close()


@pytest.fixture(scope="module")
def apps(org):
    """One app per authentication mode, and a token per user for the token app."""
    tokens = open_tokens(org.data)
    issued = {
        "carol": tokens.create("carol", []),
        "team": tokens.create("dave", ["github:acme/zqx-team"]),
        "admin": tokens.create("root", ["admin"]),
        "bob": tokens.create("bob", ["developers"]),
        "security": tokens.create("sam", ["security"]),
    }
    tokens.close()
    made = {}
    for mode in ("proxy", "token"):
        app = create_app(org, auth=AuthSettings.parse(mode))
        app.testing = True
        made[mode] = app
    return made, issued


USERS = {
    "carol": Principal("carol"),
    "team": Principal("dave", frozenset({"github:acme/zqx-team"})),
    "admin": Principal("root", frozenset({"admin"})),
    "bob": Principal("bob", frozenset({"developers"})),
    "security": Principal("sam", frozenset({"security"})),
}


def headers_for(mode: str, who: str, issued: dict) -> dict:
    if mode == "token":
        return {"Authorization": f"Bearer {issued[who]}"}
    p = USERS[who]
    return {"X-Forwarded-User": p.user, "X-Forwarded-Groups": ",".join(sorted(p.groups))}


def _q(**args) -> str:
    return urllib.parse.urlencode(args)


def _position(text: str, needle: str) -> dict:
    """line (1-based) and column (0-based) of the first `needle` on a line not defining it."""
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line and not line.lstrip().startswith(("def ", "class ")):
            return {"line": n, "column": line.index(needle) + 2}
    raise AssertionError(needle)


# Every route that shows repository data: how to aim it at the private repo, and what a
# reader with access must then see (a marker never sent in the request). A route that is
# neither here nor public (auth.is_public) fails test_every_route_is_walked.
SIDES = _q(a_repo=PRIVATE, a_path=SECRET_PATH, b_repo="acme/public-lib", b_path=PUBLIC_PATH)
WALKS: dict[str, list[tuple[str, str, dict | None, str | None]]] = {
    "api.search_route": [
        ("GET", "/api/v1/search?" + _q(q=CANARY), None, TRAILER),
        ("GET", "/api/v1/search?" + _q(q="repo:zqxvault"), None, SECRET_PATH),
        ("GET", "/api/v1/search?" + _q(q="type:path unseal"), None, SECRET_PATH),
        ("GET", "/api/v1/search?" + _q(q=f"type:symbol {SYMBOL}"), None, SECRET_PATH),
        ("GET", "/api/v1/search?" + _q(q="normalize_payload"), None, PRIVATE),
        ("GET", "/api/v1/search?" + _q(q="/ZQX_[A-Z]+_\\d+/"), None, TRAILER),
    ],
    "api.symbols_route": [("GET", "/api/v1/symbols?" + _q(q=SYMBOL), None, SECRET_PATH)],
    "api.refs_route": [
        ("GET", "/api/v1/refs?" + _q(name=SYMBOL), None, SECRET_PATH),
        ("GET", "/api/v1/refs?" + _q(name="normalize_payload"), None, PRIVATE),
    ],
    "api.definition_route": [
        (
            "GET",
            "/api/v1/definition?"
            + _q(repo=PRIVATE, path=SECRET_PATH, **_position(SECRET, f"{SYMBOL}()")),
            None,
            SYMBOL,
        ),
        (
            "GET",
            "/api/v1/definition?"
            + _q(
                repo="acme/public-lib",
                path=PUBLIC_PATH,
                **_position(PUBLIC, "normalize_payload(request"),
            ),
            None,
            PRIVATE,
        ),
    ],
    "api.outline_route": [
        ("GET", "/api/v1/outline?" + _q(repo=PRIVATE, path=SECRET_PATH), None, SYMBOL)
    ],
    "api.file_route": [
        ("GET", "/api/v1/file?" + _q(repo=PRIVATE, path=SECRET_PATH), None, TRAILER)
    ],
    "api.repos_route": [("GET", "/api/v1/repos", None, PRIVATE)],
    "api.repo_route": [("GET", f"/api/v1/repos/{PRIVATE}", None, SECRET_PATH)],
    "api.duplicates_route": [
        ("GET", "/api/v1/duplicates", None, PRIVATE),
        ("GET", "/api/v1/duplicates?" + _q(repo=PRIVATE), None, SECRET_PATH),
    ],
    "api.compare_route": [("GET", "/api/v1/compare?" + SIDES, None, TRAILER)],
    "api.similar_route": [
        ("POST", "/api/v1/similar", {"json": {"snippet": SHARED}}, PRIVATE),
        ("POST", "/api/v1/similar", {"json": {"snippet": COMMON}}, PRIVATE),
    ],
    "api.status_route": [("GET", "/api/v1/status", None, PRIVATE)],
    "api.implementations_route": [  # the discovery helper's route, when it is there
        ("GET", "/api/v1/implementations?" + _q(q="unseal door"), None, None)
    ],
    "ui.index": [
        ("GET", "/?" + _q(q=CANARY), None, TRAILER),
        ("GET", "/?" + _q(q="normalize_payload"), None, PRIVATE),
    ],
    "ui.results_fragment": [("GET", "/search/results?" + _q(q=CANARY), None, TRAILER)],
    "ui.file_page": [("GET", "/file?" + _q(repo=PRIVATE, path=SECRET_PATH), None, TRAILER)],
    "ui.symbol_page": [("GET", "/symbol?" + _q(name=SYMBOL), None, SECRET_PATH)],
    "ui.repos_page": [("GET", "/repos", None, PRIVATE)],
    "ui.repo_page": [("GET", f"/repos/{PRIVATE}", None, SECRET_PATH)],
    "ui.duplicates_page": [
        ("GET", "/duplicates", None, PRIVATE),
        ("GET", "/duplicates?" + _q(repo=PRIVATE), None, SECRET_PATH),
    ],
    "ui.compare_page": [("GET", "/duplicates/compare?" + SIDES, None, TRAILER)],
    "ui.similar_page": [
        ("POST", "/similar", {"data": {"snippet": SHARED}}, PRIVATE),
        ("POST", "/similar", {"data": {"snippet": COMMON}}, PRIVATE),
    ],
    "ui.status_page": [("GET", "/status", None, PRIVATE)],
}


def _echoes(url: str, body: dict | None) -> list[str]:
    """The request's own values (and their zqx words), as a page may echo them back."""
    values = [urllib.parse.unquote(urllib.parse.urlsplit(url).path)]
    values += [v for _, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)]
    for part in (body or {}).values():
        values += [str(v) for v in part.values()]
    words = [w for v in values for w in re.findall(r"[\w.-]+", v) if "zqx" in w.lower()]
    out = []
    for v in [*values, *words]:
        out += [v, html.escape(v), html.escape(v, quote=False), json.dumps(v)[1:-1]]
        out += [urllib.parse.quote(v, safe=""), urllib.parse.quote_plus(v)]
        out += [urllib.parse.quote(v, safe="/")]
    return sorted(set(out), key=len, reverse=True)


def leaked(text: str, url: str, body: dict | None) -> list[str]:
    """What of the private repo a response shows beyond the request's own words."""
    for echo in _echoes(url, body):
        text = text.replace(echo, "")
    return sorted({m.lower() for m in re.findall(r"[\w./-]*zqx[\w./-]*", text, re.I)})


def fetch(client, method: str, url: str, body: dict | None, headers: dict):
    if method == "POST":
        return client.post(url, headers=headers, **(body or {}))
    return client.get(url, headers=headers)


def _walks(app) -> list[tuple[str, str, str, dict | None, str | None]]:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    return [
        (endpoint, *walk)
        for endpoint, walks in WALKS.items()
        if endpoint in endpoints
        for walk in walks
    ]


def test_every_route_is_walked(apps):
    """A route added later must be aimed at the canary here, or be public on purpose."""
    for app in apps[0].values():
        missing = [
            rule.rule
            for rule in app.url_map.iter_rules()
            if not web_auth.is_public(rule.endpoint, rule.rule) and rule.endpoint not in WALKS
        ]
        assert not missing, f"routes the permission canary does not walk: {missing}"


@pytest.mark.parametrize("mode", ["proxy", "token"])
def test_canary_visible_with_access_and_nowhere_without(apps, mode):
    made, issued = apps
    client = made[mode].test_client()
    walks = _walks(made[mode])
    assert len(walks) >= 25
    # Readers first: their answers are in the result cache when the others ask.
    for who in ("carol", "team", "admin"):
        for endpoint, method, url, body, marker in walks:
            r = fetch(client, method, url, body, headers_for(mode, who, issued))
            assert r.status_code == 200, (who, endpoint, url, r.status_code)
            if marker:
                assert marker in r.get_data(as_text=True), (who, endpoint, url, marker)
    for who in ("bob", "security"):
        for endpoint, method, url, body, _marker in walks:
            r = fetch(client, method, url, body, headers_for(mode, who, issued))
            assert r.status_code in (200, 404), (who, endpoint, url, r.status_code)
            assert not leaked(r.get_data(as_text=True), url, body), (who, endpoint, url)


@pytest.mark.parametrize("mode", ["proxy", "token"])
def test_counts_leave_the_private_repo_out(apps, mode):
    made, issued = apps
    client = made[mode].test_client()

    def get(url: str, who: str) -> dict:
        r = client.get(url, headers=headers_for(mode, who, issued))
        assert r.status_code == 200
        return r.get_json()

    everyone = {"acme/public-lib", "notes"}
    names = {r["name"] for r in get("/api/v1/repos", "bob")["repos"]}
    assert names == everyone
    assert {r["name"] for r in get("/api/v1/repos", "admin")["repos"]} == everyone | {
        PRIVATE,
        "secret-plans",
    }
    assert get("/healthz", "bob")["repos"] == 2
    full, mine = get("/api/v1/status", "admin"), get("/api/v1/status", "bob")
    assert mine["totals"]["repos"] == 2
    assert mine["totals"]["repos_failed"] == 0 and full["totals"]["repos_failed"] == 1
    files = {r["name"]: r["files"] for r in full["repos"]}
    assert mine["totals"]["files"] == files["acme/public-lib"] + files["notes"]
    assert mine["totals"]["unique_blobs"] < full["totals"]["unique_blobs"]
    assert mine["index_bytes"] is None and full["index_bytes"] > 0
    found = get("/api/v1/search?q=normalize_payload", "bob")
    assert found["total_files"] == 1 and set(found["facets"]["repo"]) == {"acme/public-lib"}
    assert get("/api/v1/search?q=normalize_payload", "carol")["total_files"] == 2
    assert get("/api/v1/symbols?q=normalize_payload", "bob")["total"] == 1
    assert get("/api/v1/symbols?q=normalize_payload", "carol")["total"] == 2
    # The shared function's clone class has one readable member left: not shown at all.
    report = get("/api/v1/duplicates", "bob")
    assert not any(
        any(m["repo"] == "acme/public-lib" for m in c["members"]) for c in report["clone_classes"]
    )
    assert report["stats"]["clone_classes"] == len(report["clone_classes"])
    public = [r for r in report["repos"] if r["repo"] == "acme/public-lib"]
    assert public and public[0]["duplicated_lines"] == 0
    carols = get("/api/v1/duplicates", "carol")
    assert any(
        {m["repo"] for m in c["members"]} == {PRIVATE, "acme/public-lib"}
        for c in carols["clone_classes"]
    )


def test_status_errors_of_unreadable_repos_are_left_out(org):
    with org.catalog.write() as tx:
        private_id = next(r.id for r in tx.repos() if r.name == PRIVATE)
        tx.record_error(private_id, "mirror", "zqx: fetch failed")
        tx.record_error(None, "mirror", "source zqx-source unreadable")
        tx.record_host_listing("github:acme", "https://api.github.com", 4, "", 0.1)
    snap = org.snapshot()
    everything = status_report(org, snapshot=snap).to_json()
    bobs = status_report(org, snapshot=snap.for_principal(USERS["bob"])).to_json()
    assert len(everything["errors"]) == 2
    assert bobs["errors"] == [] and "zqx" not in json.dumps(bobs).lower()
    # A host source's repo count and webhooks span private repos too.
    assert [x["repos"] for x in everything["sources"]] == [4] and bobs["sources"] == []


@pytest.mark.parametrize("mode", ["proxy", "token"])
def test_public_routes_answer_without_identity_and_show_no_repo(apps, mode):
    client = apps[0][mode].test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    for rule in apps[0][mode].url_map.iter_rules():
        if web_auth.is_public(rule.endpoint, rule.rule) and "<" not in rule.rule:
            r = client.open(rule.rule, method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0])
            assert "zqx" not in r.get_data(as_text=True).lower(), rule.rule


@pytest.mark.parametrize("mode", ["proxy", "token"])
def test_no_identity_is_401_json_on_api_and_a_page_on_the_ui(apps, mode):
    client = apps[0][mode].test_client()
    r = client.get("/api/v1/search?q=" + CANARY)
    assert r.status_code == 401 and r.is_json and "sign in" in r.get_json()["error"]
    r = client.get("/")
    assert r.status_code == 401 and r.mimetype == "text/html"
    assert "Sign in required" in r.get_data(as_text=True)
    for endpoint, method, url, body, _ in _walks(apps[0][mode]):
        r = fetch(client, method, url, body, {})
        assert r.status_code == 401, (endpoint, url)
        assert not leaked(r.get_data(as_text=True), url, body)


def test_proxy_headers_from_an_untrusted_address_are_ignored(apps):
    client = apps[0]["proxy"].test_client()
    headers = {"X-Forwarded-User": "root", "X-Forwarded-Groups": "admin"}
    outside = {"REMOTE_ADDR": "10.1.2.3"}
    assert (
        client.get("/api/v1/repos", headers=headers, environ_overrides=outside).status_code == 401
    )
    assert client.get("/api/v1/repos", headers=headers).status_code == 200


def test_trusted_proxy_addresses_are_configurable(org):
    app = create_app(org, auth=AuthSettings.parse("proxy", "10.0.0.0/8"))
    client = app.test_client()
    headers = {"X-Forwarded-User": "bob"}
    assert client.get("/api/v1/repos", headers=headers).status_code == 401  # loopback now not
    inside = {"REMOTE_ADDR": "10.9.8.7"}
    assert client.get("/api/v1/repos", headers=headers, environ_overrides=inside).status_code == 200


def _altered(token: str) -> str:
    """The token with its last character changed (so never the token itself)."""
    return token[:-1] + ("B" if token.endswith("A") else "A")


def test_a_bad_or_revoked_token_is_401_in_every_process_at_once(org, capsys):
    app = create_app(org, auth=AuthSettings.parse("token"))
    other = Store.open(org.data.root)  # a second worker process has its own Store
    other_app = create_app(other, auth=AuthSettings.parse("proxy,token"))
    assert cli_main(["--data", str(org.data.root), "tokens", "create", "eve", "--groups", "x"]) == 0
    token = capsys.readouterr().out.strip()
    auth = {"Authorization": f"Bearer {token}"}
    for a in (app, other_app):
        assert a.test_client().get("/api/v1/repos", headers=auth).status_code == 200
    assert (
        app.test_client()
        .get("/api/v1/repos", headers={"Authorization": "Bearer " + _altered(token)})
        .status_code
        == 401
    )
    # A wrong token is no identity even beside a proxy's headers.
    wrong = {"Authorization": "Bearer ist_0000000000000000_" + "A" * 43, "X-Forwarded-User": "root"}
    assert other_app.test_client().get("/api/v1/repos", headers=wrong).status_code == 401
    assert cli_main(["--data", str(org.data.root), "tokens", "revoke", token]) == 0
    for a in (app, other_app):
        assert a.test_client().get("/api/v1/repos", headers=auth).status_code == 401
    assert cli_main(["--data", str(org.data.root), "tokens", "revoke", token]) == 1
    other.close()


def test_only_a_hash_of_the_token_is_stored(org, capsys):
    assert cli_main(["--data", str(org.data.root), "tokens", "create", "frank"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("ist_")
    raw = org.data.tokens_path.read_bytes()
    for side in Path(str(org.data.tokens_path) + "-wal"), org.data.tokens_path:
        if side.exists():
            assert token[len("ist_") + 17 :].encode() not in side.read_bytes()
    assert token[len("ist_") + 17 :].encode() not in raw
    assert oct(org.data.tokens_path.stat().st_mode & 0o777) == "0o600"
    assert cli_main(["--data", str(org.data.root), "tokens", "create", "bad name"]) == 2


def test_group_rules_admit_their_groups_only(apps):
    made, issued = apps
    client = made["token"].test_client()

    def names(who: str) -> set[str]:
        got = client.get("/api/v1/repos", headers=headers_for("token", who, issued))
        return {r["name"] for r in got.get_json()["repos"]}

    assert "secret-plans" in names("security") and "secret-plans" in names("admin")
    assert "secret-plans" not in names("bob") and "secret-plans" not in names("carol")
    assert PRIVATE in names("carol") and PRIVATE in names("team") and PRIVATE in names("admin")


def test_default_nobody_hides_local_repos_no_rule_names(tmp_path):
    data = build(
        tmp_path,
        '[access]\ndefault = "nobody"\n[[access.rules]]\nrepos = ["notes"]\nusers = ["bob"]\n',
    )
    store = Store.open(data.root)
    app = create_app(store, auth=AuthSettings.parse("proxy"))
    client = app.test_client()

    def names(user: str, groups: str = "") -> set[str]:
        got = client.get(
            "/api/v1/repos", headers={"X-Forwarded-User": user, "X-Forwarded-Groups": groups}
        )
        return {r["name"] for r in got.get_json()["repos"]}

    assert names("bob") == {"acme/public-lib", "notes"}  # public on the host, and the rule
    assert names("alice") == {"acme/public-lib"}
    assert names("root", "admin") == {"acme/public-lib", "notes", "secret-plans", PRIVATE}
    store.close()


def test_auth_none_shows_everything(org):
    client = create_app(org).test_client()
    names = {r["name"] for r in client.get("/api/v1/repos").get_json()["repos"]}
    assert PRIVATE in names and "secret-plans" in names


def test_a_bad_access_table_stops_the_index_run_and_changes_nothing(tmp_path, capsys):
    data = build(tmp_path, RULES)
    before = Store.open(data.root)
    generation = before.snapshot().generation
    before.close()
    config = tmp_path / "org.toml"
    config.write_text(config.read_text().replace('default = "everyone"', 'default = "maybe"'))
    assert cli_main(["--data", str(data.root), "index", "--quiet", str(config)]) == 2
    assert 'default must be "everyone" or "nobody"' in capsys.readouterr().err
    after = Store.open(data.root)
    assert after.snapshot().generation == generation
    assert after.snapshot().view.access.rules[0].groups == frozenset({"security"})
    after.close()


def test_changed_rules_take_effect_with_a_new_generation(tmp_path):
    data = build(tmp_path, RULES)
    store = Store.open(data.root)
    first = store.snapshot().generation
    config = tmp_path / "org.toml"
    config.write_text(config.read_text().replace('groups = ["security"]', 'users = ["bob"]'))
    run_index(data, config)
    snap = store.snapshot()
    assert snap.generation == first + 1
    assert "secret-plans" in snap.view.readable_names(Principal("bob"))
    store.close()


def _repo(name: str, host: object = None) -> RepoRow:
    info = {} if host is None else {"host": host}
    return RepoRow(1, name, "src", "main", "ok", "", None, None, info)


def test_readable_decides_from_host_info_and_rules():
    rules = AccessRules.from_table(
        {"default": "nobody", "rules": [{"repos": ["acme/*"], "groups": ["platform"]}]}, "t"
    )
    alice, platform = Principal("alice"), Principal("pat", frozenset({"platform"}))
    private = {"visibility": "private", "readers": {"users": ["alice"], "groups": []}}
    assert access.readable(alice, _repo("acme/x", private), rules)
    assert access.readable(platform, _repo("acme/x", private), rules)  # a rule adds readers
    assert not access.readable(Principal("eve"), _repo("acme/x", private), rules)
    for visibility in ("public", "internal"):
        assert access.readable(Principal("eve"), _repo("acme/x", {"visibility": visibility}), rules)
    # What the host did not say clearly is private (fail closed).
    assert not access.readable(alice, _repo("other/y", {"visibility": "secret"}), rules)
    assert not access.readable(alice, _repo("other/y", {"readers": "alice"}), rules)
    # Not a dict: a local repo, under the rules and the default.
    assert not access.readable(alice, _repo("local", "junk"), rules)
    assert access.readable(Principal("r", frozenset({"admin"})), _repo("local"), rules)


@pytest.mark.parametrize(
    "table, message",
    [
        ({"default": "some"}, "default must be"),
        ({"rules": [{"repos": ["x"]}]}, "name the `groups` or `users`"),
        ({"rules": [{"groups": ["g"]}]}, "at least one glob"),
        ({"rules": [{"repos": ["x"], "groups": [""]}]}, "non-empty strings"),
        ({"rules": [{"repos": ["x"], "users": ["u"], "team": ["t"]}]}, "unknown keys"),
        ({"defaults": "nobody"}, "unknown [access] keys"),
        ({"rules": {"repos": ["x"]}}, "list of tables"),
    ],
)
def test_bad_access_tables_are_refused_with_a_message(table, message):
    with pytest.raises(access.AccessConfigError, match=re.escape(message)):
        AccessRules.from_table(table, "org.toml")


@pytest.mark.parametrize(
    "auth, trusted, message",
    [
        ("none,token", None, "cannot be combined"),
        ("ldap", None, "choose from"),
        ("", None, "choose from"),
        ("proxy", "not-an-address", "--trusted-proxy"),
    ],
)
def test_bad_auth_flags_are_refused(auth, trusted, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        AuthSettings.parse(auth, trusted)


def test_serve_refuses_bad_auth_flags(org, capsys):
    assert cli_main(["--data", str(org.data.root), "serve", "--auth", "none,proxy"]) == 2
    assert "cannot be combined" in capsys.readouterr().err


def test_tokens_list_shows_ids_and_users_never_tokens(org, capsys):
    assert (
        cli_main(["--data", str(org.data.root), "tokens", "create", "gina", "--groups", "a"]) == 0
    )
    token = capsys.readouterr().out.strip()
    assert cli_main(["--data", str(org.data.root), "tokens", "list"]) == 0
    listed = capsys.readouterr().out
    assert token.split("_")[1] in listed and "gina" in listed
    assert token[len("ist_") + 17 :] not in listed
    assert cli_main(["--data", str(org.data.root), "tokens", "revoke", token.split("_")[1]]) == 0


@pytest.mark.parametrize(
    "host, auth, warned", [("0.0.0.0", "none", True), ("127.0.0.1", "none", False)]
)
def test_serve_warns_when_auth_none_is_bound_beyond_loopback(
    org, capsys, monkeypatch, host, auth, warned
):
    import socket

    from innersearch.web import prefork

    # No port is bound and no worker forked: the warning comes before either.
    monkeypatch.setattr(prefork, "listen", lambda host, port: socket.socket())
    monkeypatch.setattr(prefork, "supervise", lambda children: 0)
    args = ["--data", str(org.data.root), "serve", "--host", host, "--auth", auth]
    assert cli_main(args) == 0
    assert ("WARNING: --auth none" in capsys.readouterr().err) is warned


def _member(repo: str, used_by: list[str]) -> dict:
    return {
        "repo": repo,
        "language": "python",
        "used_by_repos": used_by,
        "call_sites": 7,
        "last_commit_at": 1,
        "owners": [],
        "contributing": False,
        "archived": False,
        "code_lines": 100,
    }


def test_capabilities_and_first_page_are_rebuilt_for_a_restricted_reader():
    from types import SimpleNamespace

    from innersearch.dedup import clusters

    def cap(repos: list[str], used_by: dict[str, list[str]]) -> dict:
        members = [_member(r, used_by.get(r, [])) for r in repos]
        return clusters._capability(["retry"], [clusters._language_entry("python", members)])

    shared = cap(
        ["pub-a", "pub-b"], {"pub-a": ["pub-c"], "pub-b": ["pub-c", "secret-x", "secret-y"]}
    )
    private = cap(["pub-a", "secret-x"], {})
    report = {
        "format": 2,
        "capabilities": [shared, private],
        "clone_classes": [],
        "libraries": [],
        "uses": [{"repo": "secret-x", "uses": "pub-b"}, {"repo": "pub-c", "uses": "pub-a"}],
        "findings": [{"kind": "capability", "title": private["summary"], "impact": 1}],
        "in_repo": [],
        "repos": [],
    }
    assert shared["languages"][0]["keep"]["repo"] == "pub-b"  # used by 3, counting private
    snap = SimpleNamespace(
        scope=frozenset({"pub-a", "pub-b", "pub-c"}), repos={"pub-a": 0, "pub-b": 0, "pub-c": 0}
    )
    seen = dedup.restrict_report(report, snap)
    text = json.dumps(seen)
    assert "secret" not in text
    (kept,) = seen["capabilities"]
    entry = kept["languages"][0]
    assert {m["repo"]: m["used_by_repos"] for m in entry["members"]} == {
        "pub-a": ["pub-c"],
        "pub-b": ["pub-c"],
    }
    assert all(m["call_sites"] is None for m in entry["members"])
    assert [f["capability"] for f in seen["findings"]] == [kept["id"]]
    assert seen["uses"] == [{"repo": "pub-c", "uses": "pub-a"}]


def _fetch(url: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.mark.parametrize("mode", ["token", "proxy"])
def test_a_real_server_process_enforces_access(org, apps, mode):
    """The same rules through `innersearch serve` and its worker processes, over HTTP."""
    import subprocess
    import sys

    from tests.helpers import free_port, wait_until_serving

    _, issued = apps
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "innersearch.cli", "--data", str(org.data.root), "serve"]
        + ["--port", str(port), "--workers", "2", "--auth", mode],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def who(name: str) -> dict[str, str]:
        if mode == "token":
            return {"Authorization": f"Bearer {issued[name]}"}
        user = USERS[name]
        return {"X-Forwarded-User": user.user, "X-Forwarded-Groups": ",".join(user.groups)}

    try:
        wait_until_serving(proc, base)
        search = f"{base}/api/v1/search?q={CANARY}"
        status, body = _fetch(search, {})
        assert status == 401 and CANARY not in body
        status, body = _fetch(search, who("bob"))
        found = json.loads(body)
        assert status == 200 and found["total_files"] == 0 and found["results"] == []
        assert TRAILER not in body  # the canary's line is never sent to bob
        status, body = _fetch(search, who("carol"))
        assert status == 200 and json.loads(body)["results"][0]["repo"] == PRIVATE
        assert TRAILER in body
    finally:
        proc.terminate()
        proc.wait(timeout=15)
