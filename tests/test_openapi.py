"""The OpenAPI document is valid OpenAPI 3.1 and real responses match its schemas.

Every documented route is called against a real index; each answer is checked against the
schema the document gives for its path, method and status code.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from innersearch.dedup import api as dedup
from innersearch.dedup.results import DuplicateReport
from innersearch.dedup.state import dedup_dir
from innersearch.search import results
from innersearch.web.openapi import generated_schemas, openapi_document
from tests.helpers import client_for
from tests.schemas import closed_registry, schema_errors
from tests.web_org import RETRY

DOC_URI = "urn:innersearch:openapi"


@pytest.fixture(scope="module")
def client(web_store):
    return client_for(web_store)


def test_document_is_valid_openapi():
    validate(openapi_document())


def test_served_document_is_the_same(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.get_json() == openapi_document()


def _check(response, path: str, method: str = "get") -> None:
    doc = openapi_document()
    operation = doc["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path}: undocumented status {status}"
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    ref = schema.get("$ref")
    root = {"$ref": DOC_URI + ref} if ref else schema
    errors = list(Draft202012Validator(root, registry=registry).iter_errors(response.get_json()))
    assert not errors, f"{method} {path} {status}: {errors[0].message} at {list(errors[0].path)}"


CASES = [
    ("/healthz", "/healthz"),
    ("/api/v1/search", "/api/v1/search?q=RateLimiter&context=2"),
    ("/api/v1/search", "/api/v1/search?q=type:path%20retry"),
    ("/api/v1/search", "/api/v1/search?q=(unbalanced"),
    ("/api/v1/search", "/api/v1/search?q=x&limit=abc"),
    ("/api/v1/symbols", "/api/v1/symbols?q=acquire"),
    ("/api/v1/symbols", "/api/v1/symbols"),
    ("/api/v1/refs", "/api/v1/refs?name=RateLimiter"),
    (
        "/api/v1/definition",
        "/api/v1/definition?repo=billing&path=billing/charge.py&line=3&column=8",
    ),
    ("/api/v1/definition", "/api/v1/definition?repo=nope&path=x&line=1&column=0"),
    ("/api/v1/outline", "/api/v1/outline?repo=payments&path=payments/limiter.py"),
    ("/api/v1/outline", "/api/v1/outline?repo=payments&path=missing.py"),
    ("/api/v1/file", "/api/v1/file?repo=payments&path=payments/limiter.py"),
    ("/api/v1/file", "/api/v1/file?repo=payments"),
    ("/api/v1/file", "/api/v1/file?repo=nope&path=x"),
    ("/api/v1/implementations", "/api/v1/implementations?q=rate%20limiter"),
    ("/api/v1/implementations", "/api/v1/implementations?q=rate&limit=0"),
    ("/api/v1/implementations", "/api/v1/implementations"),
    ("/api/v1/repos", "/api/v1/repos"),
    ("/api/v1/repos/{name}", "/api/v1/repos/payments"),
    ("/api/v1/repos/{name}", "/api/v1/repos/billing"),
    ("/api/v1/repos/{name}", "/api/v1/repos/nope"),
    ("/api/v1/duplicates", "/api/v1/duplicates"),
    (
        "/api/v1/compare",
        "/api/v1/compare?a_repo=payments&a_path=payments/retry.py"
        "&b_repo=billing&b_path=billing/util/retrying.py&b_start=3&b_end=9",
    ),
    ("/api/v1/compare", "/api/v1/compare?a_repo=payments"),
    ("/api/v1/status", "/api/v1/status"),
]


@pytest.mark.parametrize(("path", "url"), CASES)
def test_get_responses_match_schema(client, path, url):
    _check(client.get(url), path)


def test_webhook_answers_match_their_schemas(client, monkeypatch):
    """Off (403), a bad signature (401), an unknown host (404): Error; a verified delivery
    of an event nothing indexes: HookReply "ignored" (202)."""
    hooks = "/api/v1/hooks/{host}"
    monkeypatch.delenv("INNERSEARCH_WEBHOOK_SECRET", raising=False)
    off = client.post("/api/v1/hooks/github", data=b"{}")
    assert off.status_code == 403
    _check(off, hooks, "post")
    monkeypatch.setenv("INNERSEARCH_WEBHOOK_SECRET", "s")
    unsigned = client.post("/api/v1/hooks/gitlab", data=b"{}")
    assert unsigned.status_code == 401
    _check(unsigned, hooks, "post")
    unknown = client.post("/api/v1/hooks/svn", data=b"{}")
    assert unknown.status_code == 404
    _check(unknown, hooks, "post")
    body = b'{"zen": "Keep it logically awesome."}'
    signature = hmac.new(b"s", body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "ping", "X-Hub-Signature-256": f"sha256={signature}"}
    ping = client.post("/api/v1/hooks/github", data=body, headers=headers)
    assert (ping.status_code, ping.get_json()) == (202, {"status": "ignored"})
    _check(ping, hooks, "post")
    assert not schema_errors(closed_registry(), "HookReply", ping.get_json())


def test_similar_response_matches_schema(client):
    _check(client.post("/api/v1/similar", json={"snippet": RETRY}), "/api/v1/similar", "post")
    _check(client.post("/api/v1/similar", json={"snippet": ""}), "/api/v1/similar", "post")


def test_every_documented_path_is_exercised():
    exercised = {path for path, _ in CASES} | {"/api/v1/similar", "/api/v1/openapi.json"}
    exercised.add("/api/v1/hooks/{host}")
    assert set(openapi_document()["paths"]) == exercised


def test_search_schemas_are_generated_from_the_result_classes(client):
    """Every field a typed result writes is in its schema: closed to extra properties, the
    generated components still accept real answers of each search kind."""
    doc = copy.deepcopy(openapi_document())
    generated = generated_schemas()
    assert set(generated) <= set(doc["components"]["schemas"])
    assert list(generated["FileResult"]["properties"]) == [
        f.name for f in dataclasses.fields(results.FileResult)
    ]
    for name in generated:
        doc["components"]["schemas"][name]["additionalProperties"] = False
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    for url, schema in [
        ("/api/v1/search?q=RateLimiter&context=2", "SearchResponse"),
        ("/api/v1/search?q=type:path%20retry", "SearchResponse"),
        ("/api/v1/search?q=type:symbol%20acquire", "SearchResponse"),
        ("/api/v1/symbols?q=acquire", "SymbolsResponse"),
        ("/api/v1/refs?name=RateLimiter", "RefsResponse"),
        ("/api/v1/outline?repo=payments&path=payments/limiter.py", "OutlineResponse"),
        ("/api/v1/file?repo=payments&path=payments/limiter.py", "FileView"),
    ]:
        answer = client.get(url).get_json()
        root = {"$ref": f"{DOC_URI}#/components/schemas/{schema}"}
        errors = list(Draft202012Validator(root, registry=registry).iter_errors(answer))
        assert not errors, f"{url}: {errors[0].message} at {list(errors[0].path)}"


# Every answer of the API is a typed result: its schema is generated.
GENERATED_ANSWERS = [
    ("/healthz", "Health"),
    ("/api/v1/repos/nope", "Error"),
    ("/api/v1/search?q=(unbalanced", "Error"),
    ("/api/v1/implementations?q=rate%20limiter", "ImplementationsResponse"),
    ("/api/v1/repos", "ReposResponse"),
    ("/api/v1/repos/payments", "RepoResponse"),
    ("/api/v1/repos/billing", "RepoResponse"),
    ("/api/v1/duplicates", "DuplicateReport"),
    ("/api/v1/duplicates?repo=billing", "DuplicateReport"),
    (
        "/api/v1/compare?a_repo=payments&a_path=payments/retry.py"
        "&b_repo=billing&b_path=billing/util/retrying.py&b_start=3&b_end=9",
        "CompareResponse",
    ),
    ("/api/v1/status", "StatusReport"),
]


def _url_of(schema: str) -> str:
    return next(url for url, name in GENERATED_ANSWERS if name == schema)


def test_only_the_request_body_is_written_by_hand():
    """Every response body of every route, errors, liveness and webhook replies too, is a
    generated component; one shape of committer is one component (the repo page's and the
    dedup report's owners)."""
    schemas = openapi_document()["components"]["schemas"]
    assert set(schemas) - set(generated_schemas()) == {"SimilarRequest"}
    for path, methods in openapi_document()["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                ref = response["content"]["application/json"]["schema"].get("$ref", "")
                if path == "/api/v1/openapi.json":
                    continue  # the document itself: an object
                assert ref.rsplit("/", 1)[1] in generated_schemas(), (method, path, status)
    committer = {"$ref": "#/components/schemas/Committer"}
    assert schemas["RepoOwners"]["properties"]["committers"]["items"] == committer
    assert schemas["SideOwners"]["properties"]["committers"]["items"] == committer
    assert schemas["Migration"]["required"][0] == "from"  # its JSON key, not `from_`


def test_every_answer_matches_its_closed_generated_schema(client):
    """Closed to the fields the classes declare, the generated schemas accept real answers
    of every route; a schema missing one field the answer has does not."""
    registry = closed_registry()
    for url, schema in GENERATED_ANSWERS:
        answer = client.get(url).get_json()
        errors = schema_errors(registry, schema, answer)
        assert not errors, f"{url}: {errors[0].message} at {list(errors[0].path)}"
    similar = client.post("/api/v1/similar", json={"snippet": RETRY}).get_json()
    assert similar["matches"] and not schema_errors(registry, "SimilarResponse", similar)
    for drop, url in [
        (("RepoSummary", "languages"), "/api/v1/repos"),
        (("Portal", "used_by_count"), "/api/v1/repos/payments"),
        (("CloneMember", "tokens"), "/api/v1/duplicates"),
        (("LibraryPair", "canonical"), "/api/v1/duplicates"),
        (("RepoStatus", "skipped"), "/api/v1/status"),
        (("StatusTotals", "symbols"), "/api/v1/status"),
        (("CompareRow", "op"), _url_of("CompareResponse")),
        (("Implementation", "lifecycle"), _url_of("ImplementationsResponse")),
        (("Committer", "commits"), "/api/v1/repos/payments"),
        (("CodeownersRule", "pattern"), "/api/v1/repos/payments"),
        (("CopyEvidence", "file_pairs"), "/api/v1/duplicates"),
        (("ReportSettings", "min_lines"), "/api/v1/duplicates"),
        (("ReportStats", "seconds"), "/api/v1/duplicates"),
        (("Health", "generation"), "/healthz"),
        (("Error", "error"), "/api/v1/repos/nope"),
    ]:
        schema = next(s for u, s in GENERATED_ANSWERS if u == url)
        assert schema_errors(closed_registry(drop), schema, client.get(url).get_json()), drop
    drop = ("SimilarMatch", "raw_similarity")
    assert schema_errors(closed_registry(drop), "SimilarResponse", similar)


def test_the_dedup_report_reads_back_typed_and_unchanged(dedup_report, dedup_store):
    """The dedup organization's report read back as a DuplicateReport gives the same JSON,
    within the closed schema; what is served is the persisted report; a key no class
    declares is refused (tests/test_dedup_consolidate.py does the same for capabilities)."""
    assert dedup_report["clone_classes"] and dedup_report["libraries"]
    # The same JSON text: values and the order of the keys.
    assert json.dumps(DuplicateReport.from_json(dedup_report).to_json()) == json.dumps(dedup_report)
    assert not schema_errors(closed_registry(), "DuplicateReport", dedup_report)
    served = dedup.report_for(dedup_store, dedup_store.snapshot())
    assert served.to_json() == dedup.latest_report(dedup_store)
    with pytest.raises(ValueError, match="no field 'surprise'"):
        DuplicateReport.from_json({**dedup_report, "surprise": 1})
    # A persisted report another version wrote (a field more) is computed again, not a 500.
    persisted = dedup_dir(dedup_store.data) / "report.json"
    persisted.write_text(json.dumps({**dedup.latest_report(dedup_store), "surprise": 1}))
    again = dedup.report_for(dedup_store, dedup_store.snapshot())
    assert "surprise" not in again.to_json() and "surprise" not in persisted.read_text()
    assert again.clone_classes == served.clone_classes
    member = dedup_report["clone_classes"][0]["members"][0]
    with pytest.raises(ValueError, match="without 'tokens'"):
        DuplicateReport.from_json(
            {
                **dedup_report,
                "clone_classes": [
                    {
                        **dedup_report["clone_classes"][0],
                        "members": [{k: v for k, v in member.items() if k != "tokens"}],
                    }
                ],
            }
        )
