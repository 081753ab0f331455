"""The webhooks' figures for `GET /metrics`, read from the database at scrape time: the outbox
backlog (events not yet fanned out, deliveries waiting to be sent) and the deliveries that failed.

Counted in one statement per scrape by the worker that answers it, so that every process reports
the same figure (counters per process would be lost with a killed worker).
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from lms.core.extensions import db
from lms.core.metrics import register_collector
from lms.webhooks.models import OutboxEvent, WebhookDelivery

log = logging.getLogger(__name__)


def _figures() -> tuple[int, int, int, int]:
    """Undispatched events, pending deliveries, pending deliveries that failed at least once, and
    deliveries given up."""
    pending = WebhookDelivery.status == "pending"
    return db.session.execute(select(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)).scalar_subquery(),
        func.count().filter(pending),
        func.count().filter(pending, WebhookDelivery.attempts > 0),
        func.count().filter(WebhookDelivery.status == "failed"),
    ).select_from(WebhookDelivery)).one()


class WebhookCollector:
    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        try:
            undispatched, pending, retrying, failed = _figures()
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("metrics: the database did not answer; webhook figures left out of this scrape")
            return
        backlog = GaugeMetricFamily("lms_outbox_backlog", "Outbox work not done yet", labels=["stage"])
        backlog.add_metric(["undispatched_events"], undispatched)
        backlog.add_metric(["pending_deliveries"], pending)
        yield backlog
        failures = GaugeMetricFamily("lms_webhook_deliveries_failing", "Webhook deliveries that failed",
                                     labels=["state"])
        failures.add_metric(["retrying"], retrying)
        failures.add_metric(["given_up"], failed)
        yield failures


register_collector(WebhookCollector())
