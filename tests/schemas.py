"""The OpenAPI document's generated schemas closed to the fields their classes declare, to
check real answers against: a field an answer has and its class does not is an error.
"""

from __future__ import annotations

import copy

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from innersearch.web.openapi import generated_schemas, openapi_document

DOC_URI = "urn:innersearch:openapi"


def closed_registry(drop: tuple[str, str] | None = None) -> Registry:
    """The document with every generated component closed to extra properties (and, to
    show the check can fail, `drop` = (component, property) removed)."""
    doc = copy.deepcopy(openapi_document())
    for name in generated_schemas():
        doc["components"]["schemas"][name]["additionalProperties"] = False
    if drop:
        component = doc["components"]["schemas"][drop[0]]
        del component["properties"][drop[1]]
        component["required"] = [r for r in component["required"] if r != drop[1]]
    return Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )


def schema_errors(registry: Registry, schema: str, answer: object) -> list:
    """What the component `schema` finds wrong with `answer` (empty: it matches)."""
    root = {"$ref": f"{DOC_URI}#/components/schemas/{schema}"}
    return list(Draft202012Validator(root, registry=registry).iter_errors(answer))
