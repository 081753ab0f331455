"""Which event types some active endpoint subscribes to, published in Redis so that a change whose
events nobody wants writes no outbox row (and costs no INSERT and no relay run).

The set is published after every endpoint change and at every relay run, with a TTL that a relay
run renews: when it is missing (never published, expired because no worker runs, or Redis does not
answer) every event is written, so an outage never loses one. Without a Redis there is nowhere every
process could read the set from, so every event is written. A write request reads it in the rate
limiter's round trip (`lms.core.redis` reads sent ahead). An endpoint's change deletes the set
before it commits, so requests that start after that commit write every event until the new set is
published; a request that read the old set just before may still skip an event type the endpoint
has just subscribed to (a window of milliseconds, at the endpoint's creation).
"""

from __future__ import annotations

import json
import logging

from flask import g, has_request_context, request
from redis import RedisError
from sqlalchemy import select

from lms.core.extensions import db
from lms.core.redis import add_read_ahead, redis_client, value_read_ahead
from lms.webhooks.models import WebhookEndpoint

log = logging.getLogger(__name__)

WANTED_EVENTS_KEY = "lms:webhooks:wanted-events"
WANTED_EVENTS_TTL_SECONDS = 600  # a relay run renews it (WEBHOOK_RELAY_INTERVAL_SECONDS is far shorter)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _wanted_events_to_read_ahead() -> str | None:
    return WANTED_EVENTS_KEY if request.method not in _SAFE_METHODS else None


add_read_ahead(_wanted_events_to_read_ahead)


def _read_published() -> frozenset[str] | None:
    was_read, raw = value_read_ahead(WANTED_EVENTS_KEY)
    if not was_read:
        client = redis_client()
        if client is None:
            return None
        try:
            raw = client.get(WANTED_EVENTS_KEY)
        except RedisError:
            return None
    return frozenset(json.loads(raw)) if raw is not None else None


def wanted_event_types() -> frozenset[str] | None:
    """The published set (read once per request), or None when it is not known: write everything."""
    if not has_request_context():
        return _read_published()
    if "webhooks_wanted_events" not in g:
        g.webhooks_wanted_events = _read_published()
    return g.webhooks_wanted_events


def forget_wanted_event_types() -> None:
    """Before an endpoint change commits: until the new set is published, every event is written."""
    client = redis_client()
    if client is None:
        return
    try:
        client.delete(WANTED_EVENTS_KEY)
    except RedisError as exc:
        log.warning("webhooks: the published event types could not be withdrawn: %s", exc)


def publish_wanted_event_types() -> None:
    """After an endpoint change commits, and at every relay run."""
    client = redis_client()
    if client is None:
        return
    wanted = sorted({event_type for event_types in db.session.scalars(
        select(WebhookEndpoint.events).where(WebhookEndpoint.is_active.is_(True))) for event_type in event_types})
    try:
        client.set(WANTED_EVENTS_KEY, json.dumps(wanted), ex=WANTED_EVENTS_TTL_SECONDS)
    except RedisError as exc:
        log.warning("webhooks: the event types in use could not be published: %s", exc)
