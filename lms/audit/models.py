from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UUIDPrimaryKey, utcnow
from lms.core.extensions import db

# PostgreSQL refuses to change an entry; only the retention job deletes (old) ones.
REFUSE_UPDATES = """
CREATE OR REPLACE FUNCTION audit_log_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_update();
"""


class AuditEntry(UUIDPrimaryKey, db.Model):
    """Who did what to which object, when, from where. Ids are kept without foreign keys: an entry
    outlives the user or course it names (and must not change when they go)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at_id", "occurred_at", "id"),
        Index("ix_audit_log_actor_id_occurred_at", "actor_id", "occurred_at"),
        Index("ix_audit_log_target_occurred_at", "target_type", "target_id", "occurred_at"),
        Index("ix_audit_log_action_occurred_at", "action", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


event.listen(AuditEntry.__table__, "after_create", DDL(REFUSE_UPDATES).execute_if(dialect="postgresql"))
