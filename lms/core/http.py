"""Request-level hooks: request ids and access logs, JSON body guards, extra headers, envelope."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from flask.sessions import SessionInterface
from pythonjsonlogger.json import JsonFormatter

from lms.core.errors import BadRequest, PayloadTooLarge

access_log = logging.getLogger("lms.access")

MAX_JSON_DEPTH = 32
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# Paths whose bodies are not wrapped by API_RESPONSE_ENVELOPE_ENABLED (contract §1.12).
UNWRAPPED_PATHS = ("/health", "/ready", "/auth/token")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class Application(Flask):
    """Flask, with the sync check of each hook and view done once per function.

    Flask asks `inspect.iscoroutinefunction` about every hook and the view on every request (about
    20 calls); the answer never changes for a function, so it is remembered (no view here is async).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_callables: dict[Any, Any] = {}

    def ensure_sync(self, func: Any) -> Any:
        try:
            return self._sync_callables[func]
        except KeyError:
            made_sync = self._sync_callables[func] = super().ensure_sync(func)
            return made_sync
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)


class NoCookieSession(SessionInterface):
    """The API keeps no cookie session (callers send bearer tokens): nothing to open or save."""

    def open_session(self, app, request):
        return None  # Flask then uses its null session

    def save_session(self, app, session, response) -> None:
        return None


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s [%(name)s] [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger("lms")
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"].upper())
    root.propagate = False
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"].upper())


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to infinity
        raise ValueError(f"{text} is out of range")
    return value


def parse_json(raw: bytes) -> Any:
    """JSON as RFC 8259 defines it: no `NaN`/`Infinity`, no number a float cannot hold."""
    return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)


def json_problem(value: Any) -> str | None:
    """Why a parsed JSON body is refused before any view sees it, or None.

    Too deep a nesting; NUL characters or lone UTF-16 surrogates (`"\\ud800"`, valid JSON but
    no text: nothing downstream can encode them) in any key or string.
    """
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(node, str):
            if "\x00" in node:
                return "NUL bytes are not allowed in the request"
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return "Lone UTF-16 surrogates are not allowed in JSON strings"
        elif isinstance(node, dict):
            stack.extend((key, depth) for key in node)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return None


def client_ip() -> str:
    """The caller's address: the TCP peer, or what ProxyFix derived from TRUSTED_PROXY_COUNT proxies."""
    return request.remote_addr or "unknown"


def request_id_for(incoming: str | None) -> str:
    """The client's `X-Request-ID` when it is a safe token, else a new one."""
    return incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex


def start_request() -> None:
    """The first hook: the request's id (logs, `X-Request-ID`) and its clock."""
    g.request_id = request_id_for(request.headers.get("X-Request-ID"))
    g.request_started = time.perf_counter()


def guard_request() -> None:
    """Reject what no view should ever see, before any parsing: 400/413 with the JSON body.

    A JSON body is parsed here once, strictly (see `parse_json`), and kept for the views'
    argument parsing (`request_json`).
    """
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise BadRequest("NUL bytes are not allowed in the request")
    environ = request.environ
    if not environ.get("CONTENT_LENGTH") and "HTTP_TRANSFER_ENCODING" not in environ:
        return  # no body (HTTP/1.1 has one only with either header): nothing more to check
    if request.mimetype == "multipart/form-data":
        return
    limit = current_app.config["MAX_JSON_BODY_KB"] * 1024
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge()
    request.max_content_length = limit
    if request.is_json and request.content_length != 0:
        raw = _body_within(limit)
        if not raw:
            return
        try:
            parsed = parse_json(raw)
        except (ValueError, RecursionError) as exc:
            raise BadRequest("Malformed JSON body") from exc
        problem = json_problem(parsed)
        if problem:
            raise BadRequest(problem)
        g.request_json = parsed
    elif request.mimetype == "application/x-www-form-urlencoded":
        _body_within(limit)
        if any("\x00" in k or "\x00" in v for k, v in request.form.items(multi=True)):
            raise BadRequest("NUL bytes are not allowed in the request")


def _body_within(limit: int) -> bytes:
    """The request body; 413 when it is over `limit`, also when it comes chunked (no
    Content-Length: the stream stops at the limit, so a body that reaches it is too large)."""
    raw = request.get_data(cache=True)
    if request.content_length is None and len(raw) >= limit:
        raise PayloadTooLarge()
    return raw


def request_json() -> Any:
    """The request's JSON body as `guard_request` parsed and checked it (parsed now if it did not)."""
    if "request_json" not in g:
        g.request_json = parse_json(request.get_data(cache=True))
    return g.request_json


def put_headers(response: Response, headers: list[tuple[str, str]]) -> None:
    """Set each header, replacing one of the same name: like `response.headers[name] = value` for
    each, in one pass over the response's headers instead of one per header set."""
    present = {name.lower() for name, _ in response.headers}
    for name, value in headers:
        if name.lower() in present:
            response.headers[name] = value
        else:
            response.headers.add(name, value)


def finish_response(response: Response) -> Response:
    config = current_app.config
    put_headers(response, [("X-Request-ID", g.get("request_id") or uuid.uuid4().hex)])
    _vary_by_origin(response)
    if config["SECURITY_HEADERS_ENABLED"]:
        response.headers.setdefault("X-Permitted-Cross-Domain-Policies", "none")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if config["API_RESPONSE_ENVELOPE_ENABLED"]:
        _wrap_in_envelope(response)
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    access_log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, duration_ms,
                    extra={"method": request.method, "path": request.path,
                           "status": response.status_code, "duration_ms": round(duration_ms, 1)})
    return response


def _vary_by_origin(response: Response) -> None:
    """Only a request with an Origin gets CORS headers, so a cache must keep answers apart by it."""
    named = {name.strip().lower() for line in response.headers.getlist("Vary") for name in line.split(",")}
    if not named & {"origin", "*"}:
        response.headers.add("Vary", "Origin")


def json_bytes(data: Any) -> bytes:
    """`data` encoded as the app encodes every JSON answer (compact, ASCII)."""
    return current_app.json.dumps(data, separators=(",", ":")).encode("ascii")


def etag_of(body: bytes) -> str:
    """A strong validator of a response body."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def json_response(body: bytes, *, status: int = 200, etag: str | None = None) -> Response:
    """A JSON answer from encoded bytes; with `etag`, a 304 when the request's If-None-Match has it."""
    response = current_app.response_class(body, status=status, mimetype="application/json")
    if etag is not None:
        response.set_etag(etag)
        if request.method in ("GET", "HEAD") and request.if_none_match.contains(etag):
            response = current_app.response_class(status=304)
            response.set_etag(etag)
    return response


def dumped_response(schema: Any, obj: Any) -> Response:
    """`obj` as `schema` dumps it: for a view whose answer's schema depends on its reader (the view
    still declares the documented schema with `@blp.response`)."""
    return json_response(json_bytes(schema.dump(obj)))


def etagged_json_response(data: Any) -> Response:
    """`data` as a JSON answer with an ETag of its body (304 when If-None-Match has it)."""
    body = json_bytes(data)
    return json_response(body, etag=etag_of(body))


def _wrap_in_envelope(response: Response) -> None:
    if not (200 <= response.status_code < 300) or response.mimetype != "application/json":
        return
    if request.path.endswith(UNWRAPPED_PATHS) or request.path == "/openapi.json":
        return
    data = response.get_json(silent=True)
    response.set_data(json.dumps({"success": True, "data": data, "message": "Success"}))
