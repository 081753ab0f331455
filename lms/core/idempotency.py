"""`Idempotency-Key` on unsafe POSTs: a client retrying a request it is unsure about gets the first
answer again instead of a second effect.

    @blp.route("")
    class Enrollments(MethodView):
        @idempotent                       # outermost: it sees the request before its arguments
        @blp.arguments(EnrollmentCreateSchema)
        ...

The same key from the same caller (the user, or "anonymous" for a public operation) with the same
request (method, path, query and body) within `TTL_SECONDS` answers the first status and body again,
with `Idempotent-Replayed: true`. The same key with another request is a 422; a second request while
the first is being processed is a 409 (retry later). Keys live in Redis (shared by every instance,
kept across restarts), or in process memory without Redis or while it is down.

What is kept, as Stripe does: the answer of a request that ran, success or a refusal by the rules
(400, 403, 404, 409...), not a 5xx (the retry should retry), not a 422 for invalid input (fix the
input and send it again with the same key), not a 401 or 429 (nothing ran).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from copy import deepcopy
from typing import Callable

from flask import Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from lms.core import errors
from lms.core.http import request_json
from lms.core.state import state_store

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL_SECONDS = 24 * 3600
IN_FLIGHT_SECONDS = 120  # a lock outlives its request by this much at most (a process that died)
MAX_KEY_LENGTH = 255
NOT_KEPT = frozenset({401, 408, 422, 429})
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
IN_PROGRESS = "A request with this Idempotency-Key is still being processed; retry later"
REUSED = "This Idempotency-Key was used with another request"

HEADER_PARAMETER = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "example": "5f0c3a9e-4b1d-4d6e-9f3a"},
    "description": ("A key of your choice (a UUID) that makes a retry safe: the same key with the same request "
                    "within 24 hours answers the first answer again, with `Idempotent-Replayed: true`; with "
                    "another request it is a 422, and while the first is still processed a 409."),
}


def _caller_scope() -> str:
    user = g.get("current_user")
    return str(user.id) if user is not None else "anonymous"


def _fingerprint() -> str:
    """What makes two requests the same: method, path, query, and the body as parsed (JSON key
    order and a multipart boundary do not matter; an uploaded file counts by its content)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}?{sorted(request.args.items(multi=True))}".encode())
    if request.is_json and request.get_data(cache=True).strip():
        digest.update(json.dumps(request_json(), sort_keys=True, separators=(",", ":")).encode())
    elif request.mimetype == "multipart/form-data":
        digest.update(json.dumps(sorted(request.form.items(multi=True))).encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = hashlib.sha256(upload.stream.read()).hexdigest()
            upload.stream.seek(0)
            digest.update(f"{name}:{upload.filename}:{content}".encode())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _invalid_key(message: str) -> Response:
    return errors.error_response(422, [{"loc": ["header", HEADER], "msg": message, "type": "value_error"}])


def _replay(record: dict) -> Response:
    response = current_app.response_class(base64.b64decode(record["body"]), status=record["status"])
    for name, value in record["headers"].items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _answer_of(view: Callable, *args, **kwargs) -> Response:
    """The view's answer as a response, errors included (as the app's error handlers would give them)."""
    try:
        return current_app.make_response(view(*args, **kwargs))
    except errors.AppError as error:
        return errors.handle_app_error(error)
    except HTTPException as error:
        return errors.handle_http_exception(error)


def idempotent(view: Callable) -> Callable:
    """Honour `Idempotency-Key` on this view (see the module docstring)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            return _invalid_key(f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
        store = state_store(fail_closed=False)
        name = "idempotency:" + hashlib.sha256(f"{_caller_scope()}\n{key}".encode()).hexdigest()
        fingerprint = _fingerprint()
        pending = json.dumps({"state": "in_flight", "fingerprint": fingerprint})
        if not store.set_if_absent(name, pending, IN_FLIGHT_SECONDS):
            record = json.loads(store.get(name) or "null")
            if record is None:  # expired between the two calls: as if in flight, the client retries
                return errors.error_response(409, IN_PROGRESS, {"Retry-After": "1"})
            if record["fingerprint"] != fingerprint:
                return errors.error_response(422, [{"loc": ["header", HEADER], "msg": REUSED,
                                                    "type": "idempotency_key_reused"}])
            if record["state"] == "in_flight":
                return errors.error_response(409, IN_PROGRESS, {"Retry-After": "1"})
            return _replay(record)
        try:
            response = _answer_of(view, *args, **kwargs)
        except BaseException:
            store.delete(name)
            raise
        if response.status_code >= 500 or response.status_code in NOT_KEPT or response.is_streamed:
            store.delete(name)
            return response
        store.set(name, json.dumps({
            "state": "done", "fingerprint": fingerprint, "status": response.status_code,
            "headers": {header: response.headers[header] for header in KEPT_HEADERS if header in response.headers},
            "body": base64.b64encode(response.get_data()).decode("ascii")}), TTL_SECONDS)
        return response

    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    manual["parameters"] = [*manual.get("parameters", []), HEADER_PARAMETER]
    responses = manual.setdefault("responses", {})
    responses.setdefault("409", "CONFLICT")
    responses.setdefault("422", "UNPROCESSABLE_ENTITY")
    wrapper._apidoc = apidoc
    return wrapper
