"""The apps' JSON responses encoded by orjson, with Flask's own encoder as the fallback.

A page of search results (limit 20, 52 KiB on average over bench/http_load.py's mix) took
6.9x as long to encode with json.dumps as with orjson (bench/json_encode.py), about a tenth
of the whole request. Field order is kept (no key sorting, as before); non-ASCII text is
written as UTF-8 instead of \\u escapes (the same JSON to any parser). Unlike Flask's
encoder, orjson writes a datetime as ISO 8601: no response holds one (times are numbers or strings).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

# Integer keys become strings, as json.dumps makes them (ids keyed by number).
_OPTIONS = orjson.OPT_NON_STR_KEYS


class FastJSONProvider(DefaultJSONProvider):
    """DefaultJSONProvider whose compact output comes from orjson; what orjson refuses (an
    integer past 64 bits, a type it does not know) goes to Flask's encoder as before."""

    sort_keys = False  # the documented field order; it also saves time

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # indent (debug mode) or the caller's own options: Flask's encoder
            return super().dumps(obj, **kwargs)
        return self._encoded(obj).decode("utf-8")

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(obj)
        return self._app.response_class(self._encoded(obj) + b"\n", mimetype=self.mimetype)

    def _encoded(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(obj, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return super().dumps(obj, separators=(",", ":")).encode("utf-8")


def install(app: Flask) -> None:
    app.json = FastJSONProvider(app)
