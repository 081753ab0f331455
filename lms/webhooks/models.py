"""The outbox of public events, the endpoints that subscribe to them, and one delivery per
(endpoint, event)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import Timestamps, UUIDPrimaryKey, utcnow
from lms.core.extensions import db

DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class OutboxEvent(UUIDPrimaryKey, db.Model):
    """A public event, written in the transaction of the change that caused it. `dispatched_at` is
    set once the relay has made its deliveries (NULL: still to dispatch)."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        # The relay's scan: the events still to dispatch, oldest first (a partial index on PostgreSQL).
        Index("ix_outbox_events_pending", "created_at", postgresql_where=text("dispatched_at IS NULL")),
    )

    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]

    @property
    def message_id(self) -> str:
        """The event's id as receivers see it (`webhook-id`): the same on every attempt."""
        return f"evt_{self.id.hex}"


class WebhookEndpoint(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Stored as given to the admin (`whsec_` + base64): signing needs the secret itself.
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    # The first failure since the last success; an endpoint failing for DISABLE_AFTER is disabled.
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(255))


class WebhookDelivery(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        # The relay's scan: pending deliveries by due time (a partial index on PostgreSQL).
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        # The delivery log of an endpoint, newest first.
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
    )

    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]

    @property
    def message_id(self) -> str:
        """The id of the event delivered (`webhook-id`)."""
        return f"evt_{self.event_id.hex}"
