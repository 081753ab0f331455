"""One error path: exceptions raised anywhere become the contract's JSON bodies here.

Handled errors answer `{"detail": "<message>"}`; request validation answers 422 with
`{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`. A 500 never carries a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from lms.core.db import db

log = logging.getLogger(__name__)


class AppError(Exception):
    """A client-visible failure with a status code and a human message."""

    status_code = 400
    default_detail = "Bad request"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        self.detail = detail or self.default_detail
        self.headers = headers or {}
        super().__init__(self.detail)


class BadRequest(AppError):
    status_code = 400
    default_detail = "Bad request"


class Unauthorized(AppError):
    status_code = 401
    default_detail = "Could not validate credentials"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer", **(headers or {})})


class Forbidden(AppError):
    status_code = 403
    default_detail = "Insufficient permissions"


class NotFound(AppError):
    status_code = 404
    default_detail = "Not found"


class Conflict(AppError):
    status_code = 409
    default_detail = "Conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    default_detail = "Request body is too large"


class ServiceUnavailable(AppError):
    status_code = 503
    default_detail = "Service unavailable"


# webargs/flask-smorest locations -> the contract's `loc` roots.
_LOCATIONS = {"json": "body", "form": "body", "files": "body", "query": "query", "view_args": "path",
              "headers": "header", "cookies": "cookie", "path": "path", "body": "body"}


def validation_detail(messages: Any, location: str = "body") -> list[dict[str, Any]]:
    """Flatten marshmallow's nested message dict into the contract's list of errors."""
    items: list[dict[str, Any]] = []

    def walk(node: Any, loc: list[Any]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                key = "__root__" if key == "_schema" else key
                walk(value, loc + ([key] if key != "__root__" else []))
        elif isinstance(node, (list, tuple)):
            if all(isinstance(message, str) for message in node):
                for message in node:
                    items.append({"loc": loc, "msg": message, "type": _error_type(message)})
            else:
                for value in node:
                    walk(value, loc)
        else:
            items.append({"loc": loc, "msg": str(node), "type": "value_error"})

    walk(messages, [location])
    return items


def _error_type(message: str) -> str:
    lowered = message.lower()
    if "missing" in lowered or "required" in lowered:
        return "missing"
    if "unknown field" in lowered:
        return "extra_forbidden"
    return "value_error"


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None):
    response = jsonify({"detail": detail})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(error: HTTPException):
    """Werkzeug/flask-smorest/webargs exceptions, keeping their headers (Allow, Retry-After...)."""
    status = error.code or 500
    if status == 304:
        return _not_modified()
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        detail: list[dict[str, Any]] = []
        for location, messages in data["messages"].items():
            detail.extend(validation_detail(messages, _LOCATIONS.get(location, location)))
        return error_response(422, detail, headers)
    if status == 429:
        return error_response(429, "Rate limit exceeded. Try again later.", headers)
    if status == 413:
        return error_response(413, "Request body is too large", headers)
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    message = data.get("message") if isinstance(data.get("message"), str) else None
    detail_text = message or error.description or error.name
    if status == 404 and not message:
        detail_text = "Not found"
    if status == 405:
        detail_text = "Method not allowed"
    return error_response(status, detail_text, headers)


def _not_modified() -> Response:
    """304 has no body; it repeats the validator the client sent (the one that matched)."""
    response = Response(status=304)
    tags = list(request.if_none_match.as_set())
    if len(tags) == 1:
        response.set_etag(tags[0])
    return response


def handle_app_error(error: AppError):
    return error_response(error.status_code, error.detail, error.headers)


def handle_integrity_error(error: IntegrityError):
    db.session.rollback()
    log.info("integrity error answered as 409: %s", error.orig)
    return error_response(409, "The request conflicts with existing data")


def handle_data_error(error: DataError):
    """The last guard behind input validation: a value the database refuses to store (out of a
    column's range, too long...) is the client's mistake, not a 500."""
    db.session.rollback()
    log.warning("database refused a value, answered as 400: %s", error.orig)
    return error_response(400, "The request has a value the database cannot store")


def handle_database_unavailable(error: Exception):
    db.session.rollback()
    log.error("database unavailable: %s", error)
    return error_response(503, "Database unavailable")


def handle_unexpected_error(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    db.session.rollback()
    log.exception("unhandled error")
    return error_response(500, "Internal server error")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(PoolTimeoutError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected_error)
