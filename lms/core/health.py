"""Liveness and readiness (contract §2)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import marshmallow as ma
from flask import current_app
from sqlalchemy import text

from lms.core.api import Blueprint
from lms.core.http import request_id_for
from lms.core.redis import redis_is_up
from lms.core.extensions import db

blp = Blueprint("health", __name__, url_prefix="/", description="Liveness and readiness")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})


class ReadySchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "ok or degraded"})
    database = ma.fields.String(required=True, metadata={"description": "up or down"})
    redis = ma.fields.String(required=True, metadata={"description": "up, down, or not_configured"})


def database_is_up() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "down"
        db.session.rollback()
        return False
    finally:
        db.session.remove()


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.doc(operationId="getHealth")
def health():
    """The process is up (no dependency checks).

    Answers 200 `{"status": "ok"}` while the process runs, without touching the database or Redis; for load
    balancers' liveness checks. Not rate-limited and never wrapped in the response envelope.
    """
    return {"status": "ok"}


@blp.route("/ready")
@blp.response(200, ReadySchema)
@blp.alt_response(503, schema=ReadySchema, description="A dependency is down")
@blp.doc(operationId="getReadiness")
def ready():
    """Every dependency answers; 503 names the one that does not. Redis counts only when configured.

    200 when the database (and Redis, when `REDIS_URL` is set) answers; 503 with the same body naming the one
    that is `down`. Not rate-limited and never wrapped in the response envelope.
    """
    database = database_is_up()
    redis_configured = bool(current_app.config["REDIS_URL"])
    redis_up = redis_is_up() if redis_configured else True
    body = {
        "status": "ok" if database and redis_up else "degraded",
        "database": "up" if database else "down",
        "redis": ("up" if redis_up else "down") if redis_configured else "not_configured",
    }
    return body, 200 if body["status"] == "ok" else 503


class LivenessShortcut:
    """WSGI middleware: `GET <prefix>/health` answered with a copy of the app's own answer.

    Load balancers ask for liveness many times a second, and the answer is a constant: the first
    request for each (host, scheme, forwarded scheme) goes through the whole app (routing,
    security headers, CORS, trusted hosts); its 200 is kept and replayed afterwards with a fresh
    `X-Request-ID`, at a small fraction of the cost. Anything else (another method, an `Origin`,
    a non-200 answer) always goes through the app. Replayed answers are not access-logged.
    """

    ANSWERS_KEPT = 32
    _VARYING_ON = ("HTTP_HOST", "wsgi.url_scheme", "HTTP_X_FORWARDED_PROTO")

    def __init__(self, wsgi_app: Callable, path: str) -> None:
        self.wsgi_app = wsgi_app
        self.path = path
        self._answers: dict[tuple, tuple[str, list[tuple[str, str]], bytes]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if (environ.get("PATH_INFO") != self.path or environ.get("REQUEST_METHOD") != "GET"
                or "HTTP_ORIGIN" in environ):
            return self.wsgi_app(environ, start_response)
        key = tuple(environ.get(name) for name in self._VARYING_ON)
        answer = self._answers.get(key)
        if answer is None:
            return self._answer_through_the_app(key, environ, start_response)
        status, headers, body = answer
        start_response(status, [*headers, ("X-Request-ID", request_id_for(environ.get("HTTP_X_REQUEST_ID")))])
        return [body]

    def _answer_through_the_app(self, key: tuple, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        started: dict[str, Any] = {}

        def keep_start(status, headers, exc_info=None):
            started.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        chunks = self.wsgi_app(environ, keep_start)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        if started.get("status", "").startswith("200 ") and len(self._answers) < self.ANSWERS_KEPT:
            headers = [(name, value) for name, value in started["headers"] if name.lower() != "x-request-id"]
            self._answers[key] = (started["status"], headers, body)
        return [body]
