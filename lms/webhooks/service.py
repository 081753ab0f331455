"""Webhook endpoints (admins only, checked by the routes): registration, changes, secret rotation,
the delivery log and redelivery. Every change announces itself (`webhook_endpoint.*` events)."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from lms.core import events, tombstones
from lms.core.db import commit, utcnow
from lms.core.errors import Conflict, NotFound
from lms.core.extensions import db
from lms.core.pagination import paginate
from lms.webhooks import outbox  # noqa: F401 - its subscribers write the public events to the outbox
from lms.webhooks.models import WebhookDelivery, WebhookEndpoint
from lms.webhooks.relay import nudge
from lms.webhooks.subscriptions import forget_wanted_event_types, publish_wanted_event_types

ENDPOINT_NOT_FOUND = "Webhook endpoint not found"
DELIVERY_NOT_FOUND = "Webhook delivery not found"
SECRET_BYTES = 24


def new_secret() -> str:
    """`whsec_` and 24 random bytes in base64, as Standard Webhooks secrets are written."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _unique(event_types: list[str]) -> list[str]:
    return list(dict.fromkeys(event_types))


def create_endpoint(data: dict[str, Any]) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=data["url"], description=data["description"], events=_unique(data["events"]),
                               is_active=data["is_active"], secret=new_secret())
    db.session.add(endpoint)
    db.session.flush()
    events.emit(events.WEBHOOK_ENDPOINT_CREATED, endpoint=endpoint)
    _commit_subscription_change()
    return endpoint


def _commit_subscription_change() -> None:
    """Commit a change to what endpoints subscribe to, and publish the event types now wanted
    (`subscriptions`; withdrawn first, so that no event is skipped while the change commits)."""
    forget_wanted_event_types()
    commit()
    publish_wanted_event_types()


def list_endpoints(args: dict[str, Any]) -> dict[str, Any]:
    return paginate(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc()),
                    args)


def get_endpoint(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(ENDPOINT_NOT_FOUND)
    return endpoint


def update_endpoint(endpoint_id: uuid.UUID, changes: dict[str, Any]) -> WebhookEndpoint:
    """Change what is sent; activating an endpoint that was disabled for failing clears its failure
    record, and its pending deliveries are due again."""
    endpoint = get_endpoint(endpoint_id)
    if "events" in changes:
        changes["events"] = _unique(changes["events"])
    reactivated = changes.get("is_active") is True and not endpoint.is_active
    for field, value in changes.items():
        setattr(endpoint, field, value)
    if reactivated:
        endpoint.failing_since = endpoint.disabled_at = endpoint.disabled_reason = None
    events.emit(events.WEBHOOK_ENDPOINT_UPDATED, endpoint=endpoint, changes=sorted(changes))
    _commit_subscription_change()
    if reactivated:
        nudge()
    return endpoint


def delete_endpoint(endpoint_id: uuid.UUID) -> None:
    """The endpoint and its delivery log (database cascade); nothing more is sent to it. The endpoint gets a
    tombstone; its deliveries, a log that the relay also prunes after `KEEP_EVENTS`, are not synced by GET /changes."""
    endpoint = get_endpoint(endpoint_id)
    tombstones.record_one("webhook_endpoints", endpoint.id)
    events.emit(events.WEBHOOK_ENDPOINT_DELETED, endpoint=endpoint)
    db.session.delete(endpoint)
    _commit_subscription_change()


def rotate_secret(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """A new secret; the one it replaces keeps signing (a second signature) for the overlap, so that
    receivers can switch without missing a delivery. Rotating again ends the older overlap."""
    endpoint = get_endpoint(endpoint_id)
    overlap = timedelta(hours=current_app.config["WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS"])
    endpoint.previous_secret = endpoint.secret if overlap else None
    endpoint.previous_secret_expires_at = utcnow() + overlap if overlap else None
    endpoint.secret = new_secret()
    events.emit(events.WEBHOOK_ENDPOINT_SECRET_ROTATED, endpoint=endpoint)
    commit()
    return endpoint


def list_deliveries(endpoint_id: uuid.UUID, args: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's delivery log, newest first, optionally of one status."""
    get_endpoint(endpoint_id)
    statement = (select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                 .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()))
    if args.get("status"):
        statement = statement.where(WebhookDelivery.status == args["status"])
    return paginate(statement, args)


def redeliver(endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Send a delivery again now, whatever its state (the same event id and body, signed anew).
    409 while the endpoint is inactive: nothing would be sent."""
    endpoint = get_endpoint(endpoint_id)
    delivery = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id).with_for_update())
    if delivery is None:
        raise NotFound(DELIVERY_NOT_FOUND)
    if not endpoint.is_active:
        raise Conflict("Webhook endpoint is not active; activate it to redeliver")
    delivery.status, delivery.next_attempt_at = "pending", utcnow()
    commit()
    nudge()
    return delivery
