"""The web layer's errors and how they are answered: JSON under /api, an HTML page elsewhere.

Every error body under /api is an Error (bodies.py): {"error": message}, plus "position"
for query errors.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from innersearch.search.api import QueryError

from .bodies import Error


class ApiError(Exception):
    """A request the web layer refuses: status 400 (bad parameter) or 404 (unknown thing)."""

    def __init__(self, status: int, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.position = position


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def lookup_message(err: BaseException) -> str:
    """The message of a LookupError, without the quotes KeyError puts around it."""
    return str(err.args[0]) if err.args else str(err) or "not found"


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _answer(status: int, message: str, position: int | None = None):
    if _wants_json():
        return jsonify(Error(message, position).to_json()), status
    return render_template("error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return _answer(err.status, err.message, err.position)

    @app.errorhandler(QueryError)
    def _query_error(err: QueryError):
        return _answer(400, err.message, err.position)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        return _answer(err.code or 500, err.description or err.name)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        # Logged with its traceback; the client gets a message, never a stack trace.
        app.logger.exception("unhandled error on %s", request.path)
        return _answer(500, f"internal error: {type(err).__name__}")
