"""The base of every typed answer (search, dedup, status, web): dataclasses with one to_json,
read back from their JSON by from_json; web/openapi.py derives their schemas from the fields.

A field is written under its name (OMIT_NONE fields are left out while None); a property
named in `json_properties` is written too, typed by its return annotation.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import field
from typing import Any, ClassVar, Protocol

# A field with this metadata is left out of the JSON while it is None (for instance the
# context lines of a search without context): absent, not null, as the contract has it.
OMIT_NONE: dict[str, bool] = {"omit_none": True}


# A field whose JSON object is written into its parent's (the portal entry of an
# implementation): its keys sit beside the parent's own.
FLATTEN: dict[str, bool] = {"flatten": True}


def optional(default: Any = None) -> Any:
    """A field absent from the JSON while it is None."""
    return field(default=default, metadata=OMIT_NONE)


def to_json_value(value: Any) -> Any:
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    return value


class SupportsJson(Protocol):
    def to_json(self) -> dict: ...


class JsonResult:
    """The to_json of result classes: their fields in declaration order, nested results
    converted, OMIT_NONE fields dropped while None, then the `json_properties`. The classes
    every search answer holds many of write their own (the same shape; tests/test_openapi.py
    closes each schema to the fields declared), since this generic walk was a fifth of a
    search request."""

    json_properties: ClassVar[tuple[str, ...]] = ()
    _plan: ClassVar[tuple[tuple[str, bool], ...]]

    def to_json(self) -> dict:
        plan = type(self).__dict__.get("_plan")
        if plan is None:  # once per class: dataclasses.fields() is slow per call
            plan = tuple(
                (f.name, bool(f.metadata.get("omit_none"))) for f in dataclasses.fields(self)
            ) + tuple((name, False) for name in self.json_properties)
            type(self)._plan = plan
        out = {}
        for name, omit in plan:
            value = getattr(self, name)
            if value is None and omit:
                continue
            out[name] = value if isinstance(value, str | int | float) else to_json_value(value)
        return out


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """name -> type of a dataclass's fields (annotations resolved once per class)."""
    return typing.get_type_hints(cls)


def from_json(tp: Any, value: Any) -> Any:
    """`value` (parsed JSON) as an instance of `tp`, checked against the field types: an
    unknown key, a missing required field or a value of another type is a ValueError, so
    to_json gives back exactly what was read (a persisted report, say)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value  # JSON does not tell 1.0 from 1: keep what was written
        raise ValueError(f"expected a number, got {value!r}")
    if tp in (str, int, bool):
        if type(value) is not tp:
            raise ValueError(f"expected {tp.__name__}, got {value!r}")
        return value
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"expected one of {args}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            try:
                return from_json(option, value)
            except ValueError:
                continue
        raise ValueError(f"{value!r} is none of {args}")
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"expected a list, got {value!r}")
        return [from_json(args[0], v) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"expected an object, got {value!r}")
        return {k: from_json(args[1], v) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_from_json(tp, value)
    raise TypeError(f"cannot read JSON as {tp!r}")


def _dataclass_from_json(cls: type, value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object for {cls.__name__}, got {value!r}")
    hints = field_types(cls)
    fields = dataclasses.fields(cls)
    known = {f.name for f in fields} | set(getattr(cls, "json_properties", ()))
    unknown = set(value) - known
    if unknown:
        raise ValueError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    kwargs = {}
    for f in fields:
        if f.name in value:
            kwargs[f.name] = from_json(hints[f.name], value[f.name])
        elif not f.metadata.get("omit_none"):
            raise ValueError(f"{cls.__name__} without {f.name!r}")
    return cls(**kwargs)
