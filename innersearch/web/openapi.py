"""The OpenAPI 3.1 document of the JSON API: every answer's schema generated from its typed
result (field types -> JSON schema), the error, liveness and webhook bodies too (bodies.py);
only the request bodies are written here.

tests/test_openapi.py validates the document and checks real responses against its schemas;
fields may be added to responses (additionalProperties stays open), never renamed.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing

from innersearch import __version__
from innersearch.dedup.results import DuplicateReport, SimilarResponse
from innersearch.indexer.jsonresult import field_types, json_key
from innersearch.indexer.status import StatusReport
from innersearch.search import results
from innersearch.search.implementations import ImplementationsResponse

from .bodies import Error, Health, HookReply
from .data import CompareResponse, FileView, RepoResponse, ReposResponse


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: dict, optional: dict | None = None) -> dict:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
_CLASS_OF: dict[str, type] = {}  # component name -> the one class it describes


def _type_schema(tp: object, components: dict[str, dict]) -> dict:
    """The JSON schema of a field type; dataclasses become components referred to by name."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is typing.Any:
        return {}  # any JSON value (what the field's comment says it holds)
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}  # type: ignore[index]
    if origin is typing.Literal:
        return {"type": "string", "enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        nullable = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if all(a in _SCALARS for a in rest):
            kinds = [_SCALARS[a] for a in rest] + (["null"] if nullable else [])
            return {"type": kinds[0] if len(kinds) == 1 else kinds}
        options = [_type_schema(a, components) for a in rest]
        return {"anyOf": options + ([{"type": "null"}] if nullable else [])}
    if origin is list:
        return {"type": "array", "items": _type_schema(args[0], components)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type_schema(args[1], components)}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        # A component is named after its class: two classes of one name (two shapes) would
        # make one schema describe both. One shape is one class (indexer/repoinfo.Committer
        # serves the repo page and the dedup report).
        if _CLASS_OF.setdefault(tp.__name__, tp) is not tp:
            raise TypeError(f"two result classes are named {tp.__name__}: rename one")
        if tp.__name__ not in components:
            components[tp.__name__] = {}  # placeholder: a class may refer to itself
            components[tp.__name__] = _class_schema(tp, components)
        return _ref(tp.__name__)
    raise TypeError(f"no JSON schema for field type {tp!r}")


def _members(cls: type, components: dict[str, dict]) -> tuple[dict[str, dict], list[str]]:
    """(properties, required) of a class's JSON object: its fields (a FLATTEN field's
    members in its place), then its `json_properties` typed by their return annotation."""
    hints = field_types(cls)
    properties: dict[str, dict] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("flatten"):
            inner, inner_required = _members(hints[f.name], components)
            for name, schema in inner.items():
                properties.setdefault(name, schema)
            required += [n for n in inner_required if n not in required]
            continue
        key = json_key(f)
        properties[key] = _type_schema(hints[f.name], components)
        if not f.metadata.get("omit_none") and key not in required:
            required.append(key)
    for name in getattr(cls, "json_properties", ()):
        returns = typing.get_type_hints(getattr(cls, name).fget)["return"]
        properties[name] = _type_schema(returns, components)
        required.append(name)
    return properties, required


def _class_schema(cls: type, components: dict[str, dict]) -> dict:
    """An object with one property per field; required: the fields to_json always writes."""
    properties, required = _members(cls, components)
    out = {"type": "object", "required": required, "properties": properties}
    if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):  # not the generated one
        out["description"] = " ".join(cls.__doc__.split())
    return out


# The answers of the API, in the order the document lists them.
_RESULT_TYPES = (
    results.SearchResponse,
    results.SymbolsResponse,
    results.RefsResponse,
    results.DefinitionResponse,
    results.OutlineResponse,
    FileView,
    ImplementationsResponse,
    ReposResponse,
    RepoResponse,
    DuplicateReport,
    CompareResponse,
    SimilarResponse,
    StatusReport,
    Error,
    Health,
    HookReply,
)


@functools.cache
def generated_schemas() -> dict[str, dict]:
    """The components of every class reachable from _RESULT_TYPES' fields."""
    components: dict[str, dict] = {}
    for cls in _RESULT_TYPES:
        _type_schema(cls, components)
    return components


# What is no answer: the request body of /similar (its bounds are the route's checks).
_SCHEMAS: dict[str, dict] = {
    "SimilarRequest": _obj(
        {"snippet": {"type": "string", "minLength": 1}},
        {"lang": NSTR, "limit": {"type": "integer", "minimum": 1, "maximum": 100}},
    ),
}


def _param(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _json(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_ERR400 = _json("Error", "A bad parameter; for a query error `position` is where it went wrong.")
_ERR404 = _json("Error", "Unknown repo, branch or path.")

_REPO = _param("repo", STR, "Repository name.", True)
_PATH = _param("path", STR, "File path inside the repository.", True)
_BRANCH = _param("branch", STR, "Branch (default: the repo's default branch).")


def _get(summary: str, response: str, parameters: list, not_found: bool = False) -> dict:
    responses = {"200": _json(response, summary), "400": _ERR400}
    if not_found:
        responses["404"] = _ERR404
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def _compare_params() -> list[dict]:
    out = []
    for side in ("a", "b"):
        out += [
            _param(f"{side}_repo", STR, f"Side {side}: repository.", True),
            _param(f"{side}_path", STR, f"Side {side}: file path.", True),
            _param(f"{side}_branch", STR, f"Side {side}: branch."),
            _param(f"{side}_start", {"type": "integer", "minimum": 1}, f"Side {side}: first line."),
            _param(f"{side}_end", {"type": "integer", "minimum": 1}, f"Side {side}: last line."),
        ]
    return out


_PATHS: dict[str, dict] = {
    "/healthz": {
        "get": {
            "summary": "Liveness: the index can be read.",
            "responses": {"200": _json("Health", "Serving.")},
        }
    },
    "/api/v1/search": _get(
        "Search code with the query language (literals, /regex/, repo:, lang:, sym:, ...).",
        "SearchResponse",
        [
            _param("q", STR, "The query.", True),
            _param("limit", {"type": "integer", "minimum": 0}, "Files per page (0 = all)."),
            _param("offset", {"type": "integer", "minimum": 0}, "Files to skip."),
            _param("context", {"type": "integer", "minimum": 0, "maximum": 20}, "Context lines."),
        ],
    ),
    "/api/v1/symbols": _get(
        "Find definitions by name.",
        "SymbolsResponse",
        [
            _param("q", STR, "Symbol name or part of it.", True),
            _param("kind", STR, "function, class, method, ..."),
            _param("lang", STR, "Language id."),
            _param("limit", {"type": "integer", "minimum": 1}, "Maximum symbols."),
        ],
    ),
    "/api/v1/refs": _get(
        "A symbol's definitions and every use, grouped by repo (who uses this).",
        "RefsResponse",
        [
            _param("name", STR, "Symbol name.", True),
            _param("limit", {"type": "integer", "minimum": 1}, "Maximum uses."),
        ],
    ),
    "/api/v1/definition": _get(
        "The definition(s) of the identifier at a position in a file.",
        "DefinitionResponse",
        [
            _REPO,
            _PATH,
            _param("line", {"type": "integer", "minimum": 1}, "1-based line.", True),
            _param("column", {"type": "integer", "minimum": 0}, "0-based column.", True),
            _BRANCH,
        ],
        not_found=True,
    ),
    "/api/v1/outline": _get(
        "The symbols defined in a file.", "OutlineResponse", [_REPO, _PATH, _BRANCH], True
    ),
    "/api/v1/file": _get(
        "A file's content, language, commit and symbols.",
        "FileView",
        [_REPO, _PATH, _BRANCH],
        True,
    ),
    "/api/v1/implementations": _get(
        "Does anyone have a ...? Repos, modules and functions whose names, docstrings,"
        " comments, README and package metadata describe the words; with owners, activity,"
        " contribution guide and used-by counts.",
        "ImplementationsResponse",
        [
            _param("q", STR, "Plain words describing what the code does.", True),
            _param("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Repos."),
        ],
    ),
    "/api/v1/repos": _get("Every indexed repository.", "ReposResponse", []),
    "/api/v1/repos/{name}": {
        "get": {
            "summary": "One repository: owners, README, CONTRIBUTING, languages, branches.",
            "parameters": [
                {
                    "name": "name",
                    "in": "path",
                    "required": True,
                    "schema": STR,
                    "description": "Repository name.",
                }
            ],
            "responses": {"200": _json("RepoResponse", "The repository."), "404": _ERR404},
        }
    },
    "/api/v1/duplicates": _get(
        "The last duplicate report: clone classes and library pairs.", "DuplicateReport", []
    ),
    "/api/v1/compare": _get(
        "Two file fragments side by side, aligned line by line.",
        "CompareResponse",
        _compare_params(),
        True,
    ),
    "/api/v1/similar": {
        "post": {
            "summary": "Does this already exist? Code similar to a snippet.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("SimilarRequest")}},
            },
            "responses": {"200": _json("SimilarResponse", "Similar code."), "400": _ERR400},
        }
    },
    "/api/v1/status": _get("What is indexed, when, and what failed.", "StatusReport", []),
    "/api/v1/hooks/{host}": {
        "post": {
            "summary": "A code host's webhook delivery, checked by its signature and queued.",
            "parameters": [
                {
                    "name": "host",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["github", "gitlab", "gitea", "bitbucket"]},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "202": _json("HookReply", "Accepted (queued for the sync process) or ignored."),
                "401": _json("Error", "Missing or wrong signature."),
                "403": _json("Error", "Webhooks are off ($INNERSEARCH_WEBHOOK_SECRET unset)."),
                "404": _json("Error", "No webhook route for this host."),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This document.",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "innersearch",
            "version": __version__,
            "description": "Organization-wide code search and duplicate detection.",
        },
        "paths": _PATHS,
        "components": {
            "schemas": {**generated_schemas(), **_SCHEMAS},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`serve --auth token`: a token from `innersearch tokens "
                    "create`. With `--auth proxy` a trusted proxy sets X-Forwarded-User and "
                    "X-Forwarded-Groups instead. Without an identity under auth: 401 (Error).",
                }
            },
        },
        # Optional: `serve --auth none` needs nothing; each reader sees only readable repos.
        "security": [{}, {"bearer": []}],
    }
