"""The relay, run by the RQ worker on the `webhooks` queue: it dispatches outbox events to the
endpoints subscribed to them, sends the deliveries that are due, and records each outcome.

It runs right after each commit that wrote events (a nudge), when a worker starts, and every
`WEBHOOK_RELAY_INTERVAL_SECONDS` from the `cron` process (`lms/cron.py`), so a lost nudge only delays
and retries come due. Rows are
claimed with `FOR UPDATE SKIP LOCKED`, so several workers share the work without sending twice; a
delivery's claim is a `next_attempt_at` in the near future, so a worker killed mid-send leaves it
due again once the claim lapses: delivery is at least once, under the event's stable id.

Retries follow the Standard Webhooks schedule (after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h:
eight attempts over about 27 hours); an endpoint that has failed every attempt for `DISABLE_AFTER`
is disabled. The requests of a run go out concurrently, so a receiver that is slow, down or failing
holds up only its own deliveries.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, select
from standardwebhooks import Webhook

from lms.core.db import commit, utcnow
from lms.core.extensions import db
from lms.core.tasks import enqueue
from lms.webhooks import outbound
from lms.webhooks.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from lms.webhooks.subscriptions import publish_wanted_event_types

RETRY_DELAYS = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=5), timedelta(hours=10), timedelta(hours=10))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = timedelta(hours=24)
DISABLED_REASON = "Every delivery failed for 24 hours"
BATCH_SIZE = 50  # events dispatched, at most, per statement; deliveries claimed, at most, per batch
BATCH_SECONDS = 60  # a batch of deliveries takes at most about this long, receivers timing out included
RUN_BUDGET_SECONDS = 30  # a run claims no new batch after this: with its last batch, within the job's 120 s
CLAIM_MARGIN = timedelta(seconds=60)
KEEP_EVENTS = timedelta(days=30)  # delivered events (and their log) are kept this long
USER_AGENT = "LMS-Webhooks/1.0"


def nudge() -> None:
    """Run the relay soon (after a commit that wrote events); skipped when it cannot be queued."""
    enqueue(relay, queue="webhooks", inline=False)


def relay() -> None:
    """The job: dispatch, deliver what is due (within a time budget), forget old delivered events."""
    publish_wanted_event_types()
    started = time.monotonic()
    dispatch_events()
    while deliver_due() and time.monotonic() - started < RUN_BUDGET_SECONDS:
        pass
    prune_delivered_events()


def dispatch_events() -> None:
    """A delivery for each (pending event, active endpoint subscribed to its type), then the event
    is dispatched: each event is fanned out exactly once."""
    while True:
        batch = db.session.scalars(
            select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)).order_by(OutboxEvent.created_at)
            .limit(BATCH_SIZE).with_for_update(skip_locked=True)).all()
        if not batch:
            return
        endpoints = db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.is_active.is_(True))).all()
        now = utcnow()
        for event in batch:
            for endpoint in endpoints:
                if event.event_type in endpoint.events:
                    db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id,
                                                   event_type=event.event_type, status="pending", attempts=0,
                                                   next_attempt_at=event.created_at))
            event.dispatched_at = now
        commit()


@dataclass(frozen=True)
class Attempt:
    delivery_id: uuid.UUID
    url: str
    body: bytes
    headers: dict[str, str]


def signed_headers(message_id: str, body: str, secrets: list[str], at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: one `v1,` signature per secret, space-separated."""
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT,
            "webhook-id": message_id, "webhook-timestamp": str(math.floor(at.timestamp())),
            "webhook-signature": " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)}


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def _delivery_batch_size(timeout: float, concurrency: int) -> int:
    """As many deliveries as `concurrency` requests send within BATCH_SECONDS if every one times out."""
    return min(BATCH_SIZE, concurrency * max(1, int(BATCH_SECONDS // timeout)))


def deliver_due() -> bool:
    """Claim a batch of due deliveries, send them concurrently, record each outcome as it comes.
    True when the batch was full (more may be due)."""
    config = current_app.config
    timeout, concurrency = config["WEBHOOK_TIMEOUT_SECONDS"], config["WEBHOOK_DELIVERY_CONCURRENCY"]
    batch_size = _delivery_batch_size(timeout, concurrency)
    now = utcnow()
    due = db.session.execute(
        select(WebhookDelivery, WebhookEndpoint, OutboxEvent)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
               WebhookEndpoint.is_active.is_(True))
        .order_by(WebhookDelivery.next_attempt_at).limit(batch_size)
        .with_for_update(of=WebhookDelivery, skip_locked=True)).all()
    if not due:
        return False
    claim = timedelta(seconds=timeout * math.ceil(len(due) / concurrency)) + CLAIM_MARGIN
    attempts = []
    for delivery, endpoint, event in due:
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.next_attempt_at = now + claim
        body = json.dumps(event.payload, separators=(",", ":"))
        attempts.append(Attempt(delivery.id, endpoint.url, body.encode(),
                                signed_headers(event.message_id, body, signing_secrets(endpoint, now), now)))
    commit()
    allow_private = config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]
    with ThreadPoolExecutor(min(concurrency, len(attempts))) as pool:
        sending = {pool.submit(outbound.post, attempt.url, attempt.body, attempt.headers, timeout=timeout,
                               allow_private=allow_private): attempt for attempt in attempts}
        for sent in as_completed(sending):
            record_outcome(sending[sent].delivery_id, sent.result())
    return len(due) == batch_size


def record_outcome(delivery_id: uuid.UUID, outcome: outbound.Outcome) -> None:
    """Success ends the delivery; a failure schedules the next attempt or, after the last, fails it.
    The endpoint remembers since when it fails, and is disabled after failing for DISABLE_AFTER."""
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        return  # its endpoint was deleted while the request was out
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id, populate_existing=True)
    now = utcnow()
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    if outcome.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "succeeded", now, None
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
    else:
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = "failed", None
        else:
            delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
        if endpoint.failing_since is None:
            endpoint.failing_since = now
        elif endpoint.is_active and now - endpoint.failing_since >= DISABLE_AFTER:
            endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, now, DISABLED_REASON
    commit()


def prune_delivered_events() -> None:
    """Dispatched events older than KEEP_EVENTS with no pending delivery go, their log with them."""
    db.session.execute(delete(OutboxEvent).where(
        OutboxEvent.dispatched_at < utcnow() - KEEP_EVENTS,
        ~exists().where(WebhookDelivery.event_id == OutboxEvent.id, WebhookDelivery.status == "pending")))
    commit()
