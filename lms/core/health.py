"""Liveness and readiness (contract §2)."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from sqlalchemy import text

from lms.core.api import Blueprint
from lms.core.redis import redis_is_up
from lms.extensions import db

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
def health():
    """The process is up (no dependency checks)."""
    return {"status": "ok"}


@blp.route("/ready")
@blp.response(200, ReadySchema)
@blp.alt_response(503, schema=ReadySchema, description="A dependency is down")
def ready():
    """Every dependency answers; 503 names the one that does not. Redis counts only when configured."""
    database = database_is_up()
    redis_configured = bool(current_app.config["REDIS_URL"])
    redis_up = redis_is_up() if redis_configured else True
    body = {
        "status": "ok" if database and redis_up else "degraded",
        "database": "up" if database else "down",
        "redis": ("up" if redis_up else "down") if redis_configured else "not_configured",
    }
    return body, 200 if body["status"] == "ok" else 503
