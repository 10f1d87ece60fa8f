"""The base of every typed answer (search, dedup, status, web): dataclasses with one to_json,
read back from their JSON by from_json; web/openapi.py derives their schemas from the fields.

A field is written under its name (or its `named()` key; OMIT_NONE fields are left out while
None); a property named in `json_properties` is written too, typed by its return annotation.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
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


def named(key: str) -> Any:
    """A field written under `key`, a JSON key no Python name can be (a migration's "from")."""
    return field(metadata={"json_name": key})


def json_key(f: dataclasses.Field) -> str:
    """The key a field is written under: its name, or the one named() gave it."""
    return f.metadata.get("json_name", f.name)


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
    converted, OMIT_NONE fields dropped while None, then the `json_properties`. Each field
    is written by a converter made once per class from its type (a field holding no result
    class is JSON already and is written as it is). The classes every search answer holds
    many of write their own (the same shape; tests/test_openapi.py closes each schema to
    the fields declared), since a generic walk was a fifth of a search request."""

    json_properties: ClassVar[tuple[str, ...]] = ()
    _plan: ClassVar[tuple[tuple[str, str, bool, Callable[[Any], Any]], ...]]

    def to_json(self) -> dict:
        plan = type(self).__dict__.get("_plan")
        if plan is None:  # once per class: dataclasses.fields() is slow per call
            plan = _write_plan(type(self))
            type(self)._plan = plan
        out = {}
        for name, key, omit, write in plan:
            value = getattr(self, name)
            if value is None:
                if not omit:
                    out[key] = None
                continue
            out[key] = write(value)
        return out


def _same(value: Any) -> Any:
    return value


def _write_plan(cls: type) -> tuple[tuple[str, str, bool, Callable[[Any], Any]], ...]:
    """(attribute, JSON key, omitted while None, writer) per field, then per property."""
    try:
        hints = field_types(cls)
    except (NameError, TypeError):  # an annotation that does not resolve: the generic walk
        hints = {}
    plan = tuple(
        (
            f.name,
            json_key(f),
            bool(f.metadata.get("omit_none")),
            _writer(hints.get(f.name, object)),
        )
        for f in dataclasses.fields(cls)
    )
    return plan + tuple((name, name, False, to_json_value) for name in cls.json_properties)


@functools.cache
def _writer(tp: Any) -> Callable[[Any], Any]:
    """How a value of type `tp` becomes JSON: as it is when the type holds no class."""
    if _plain(tp):
        return _same
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list:
        item = _writer(args[0])
        return lambda value: [item(v) for v in value]
    if origin is dict:
        item = _writer(args[1])
        return lambda value: {k: item(v) for k, v in value.items()}
    if isinstance(tp, type) and hasattr(tp, "to_json"):
        return lambda value: value.to_json()
    return to_json_value  # a union of classes, or a type this does not know


@functools.cache
def _plain(tp: Any) -> bool:
    """Whether values of `tp` are JSON as they are (scalars, Any, lists and dicts of them)."""
    if tp is Any or tp in (str, int, float, bool, type(None)):
        return True
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return True
    if origin in (list, dict, typing.Union, types.UnionType):
        return all(_plain(a) for a in args)
    return False


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """name -> type of a dataclass's fields (annotations resolved once per class)."""
    return typing.get_type_hints(cls)


def from_json(tp: Any, value: Any) -> Any:
    """`value` (parsed JSON) as an instance of `tp`, checked against the field types: an
    unknown key, a missing required field or a value of another type is a ValueError, so
    to_json gives back exactly what was read (a persisted report, say)."""
    return _reader(tp)(value)


def _expect(kind: type | tuple[type, ...], what: str) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
            raise ValueError(f"expected {what}, got {value!r}")
        return value

    return read


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


@functools.cache
def _reader(tp: Any) -> Callable[[Any], Any]:
    """The checking reader of values of type `tp`, made once per type."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return _same
    if tp is float:  # JSON does not tell 1.0 from 1: keep what was written
        return _expect((int, float), "a number")
    if tp in (str, int, bool):
        return _expect(tp, tp.__name__)
    if origin is typing.Literal:

        def literal(value: Any) -> Any:
            if value not in args:
                raise ValueError(f"expected one of {args}, got {value!r}")
            return value

        return literal
    if origin in (typing.Union, types.UnionType):
        nullable = type(None) in args
        options = [_reader(a) for a in args if a is not type(None)]

        def union(value: Any) -> Any:
            if value is None and nullable:
                return None
            for option in options:
                try:
                    return option(value)
                except ValueError:
                    continue
            raise ValueError(f"{value!r} is none of {args}")

        return union
    if origin in (list, dict):
        item = _reader(args[-1])
        kind, what = (list, "a list") if origin is list else (dict, "an object")

        def container(value: Any) -> Any:
            if not isinstance(value, kind):
                raise ValueError(f"expected {what}, got {value!r}")
            if item is _same:
                return value
            if kind is list:
                return [item(v) for v in value]
            return {k: item(v) for k, v in value.items()}

        return container
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_reader(tp)
    raise TypeError(f"cannot read JSON as {tp!r}")


_NONE = type(None)


def _scalar_kinds(tp: Any) -> tuple[type, ...] | None:
    """The exact types a JSON scalar of `tp` may have (float: int too), or None for a
    type that needs its reader."""
    if tp in (str, int, bool, _NONE):
        return (tp,)
    if tp is float:
        return (int, float)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        parts = [_scalar_kinds(a) for a in typing.get_args(tp)]
        if all(p is not None for p in parts):
            return tuple(k for p in parts for k in p)  # type: ignore[union-attr]
    return None


def _dataclass_reader(cls: type) -> Callable[[Any], Any]:
    fields = dataclasses.fields(cls)
    known = {json_key(f) for f in fields} | set(getattr(cls, "json_properties", ()))
    required = {json_key(f) for f in fields if not f.metadata.get("omit_none")}
    # (attribute, JSON key, exact scalar types or None, reader): made on the first read,
    # since a class may refer to itself (its own reader is then known).
    plan: list[tuple[str, str, tuple[type, ...] | None, Callable[[Any], Any]]] = []

    def read(value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"expected an object for {cls.__name__}, got {value!r}")
        if not known.issuperset(value):
            unknown = sorted(set(value) - known)[0]
            raise ValueError(f"{cls.__name__} has no field {unknown!r}")
        if not required.issubset(value):
            missing = sorted(required - set(value))[0]
            raise ValueError(f"{cls.__name__} without {missing!r}")
        if not plan:
            hints = field_types(cls)
            for f in fields:
                tp = hints[f.name]
                plan.append((f.name, json_key(f), _scalar_kinds(tp), _reader(tp)))
        kwargs = {}
        for name, key, kinds, reader in plan:
            if key not in value:
                continue
            item = value[key]
            if kinds is None:
                kwargs[name] = reader(item)
            elif type(item) in kinds:
                kwargs[name] = item
            else:
                raise ValueError(f"{cls.__name__}.{key}: {item!r} is not {kinds}")
        return cls(**kwargs)

    return read
