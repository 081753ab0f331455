"""The webhooks' figures in `GET /metrics`: the outbox backlog and the deliveries that fail, read
from the database at scrape time."""

from __future__ import annotations

import uuid

import pytest

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.webhooks.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests.core.test_metrics import TOKEN, value


@pytest.mark.real_commits
def test_the_backlog_and_the_failing_deliveries_are_scraped(make_app):
    metered = make_app(METRICS_ENABLED=True, METRICS_TOKEN=TOKEN)
    client = metered.test_client()
    assert value(client, "lms_outbox_backlog", stage="undispatched_events") == 0

    with metered.app_context():
        now = utcnow()
        endpoint = WebhookEndpoint(url="https://hooks.example.com/lms", events=["enrollment.created"],
                                   is_active=True, secret="whsec_" + "A" * 32)
        db.session.add_all([endpoint, OutboxEvent(id=uuid.uuid4(), event_type="enrollment.created", payload={})])
        db.session.flush()
        for status, attempts in (("pending", 0), ("pending", 2), ("failed", 8), ("delivered", 1)):
            fanned_out = OutboxEvent(id=uuid.uuid4(), event_type="enrollment.created", payload={}, dispatched_at=now)
            db.session.add(fanned_out)
            db.session.flush()
            db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=fanned_out.id,
                                           event_type="enrollment.created", status=status, attempts=attempts,
                                           next_attempt_at=now))
        db.session.commit()

    assert value(client, "lms_outbox_backlog", stage="undispatched_events") == 1
    assert value(client, "lms_outbox_backlog", stage="pending_deliveries") == 2
    assert value(client, "lms_webhook_deliveries_failing", state="retrying") == 1
    assert value(client, "lms_webhook_deliveries_failing", state="given_up") == 1
