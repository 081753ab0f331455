"""Reading the audit log in tests."""

from __future__ import annotations

from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.core.extensions import db


def entries(action: str | None = None) -> list[AuditEntry]:
    """The entries of this test's transaction, oldest first (of one action when given)."""
    stmt = select(AuditEntry).order_by(AuditEntry.occurred_at, AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt))


def actions() -> list[str]:
    return [entry.action for entry in entries()]
