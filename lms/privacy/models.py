from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UUIDPrimaryKey, utcnow
from lms.core.extensions import db

EXPORT_STATUSES = ("pending", "ready", "failed")


class DataExport(UUIDPrimaryKey, db.Model):
    """A requested export of a user's personal data; its ZIP lives in the `exports` storage area."""

    __tablename__ = "data_exports"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ready_at: Mapped[datetime | None]
    storage_key: Mapped[str | None] = mapped_column(String(512))
    size_bytes: Mapped[int | None]
