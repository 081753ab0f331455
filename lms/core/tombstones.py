"""Tombstones: the deletions incremental sync reports (`GET /changes`).

A service records a tombstone in the transaction of the deletion, before the DELETE, and also for
the rows the database will delete with it by cascade (a course's lessons, enrollments...): one
set-based `INSERT ... SELECT` per type, whatever the number of rows. A module records its own types;
a deletion in another module reaches it through that module's event (`course.deleted`, announced
before the row is deleted). Tombstones older than `TOMBSTONE_RETENTION_DAYS` are pruned by
`prune_tombstones`, which the worker runs daily; a sync client that waited longer than that starts over.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Index, Integer, Select, String, delete, insert, literal
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import utcnow
from lms.core.extensions import db


class Tombstone(db.Model):
    __tablename__ = "tombstones"
    __table_args__ = (Index("ix_tombstones_deleted_at", "deleted_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[uuid.UUID]
    # The course the object belonged to, where it had one (course-scoped sync clients filter on it).
    course_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)


def record(object_type: str, rows: Select) -> None:
    """Tombstones for the rows of `rows`, a SELECT of (object id, course id or NULL): one statement."""
    now = utcnow()
    selected = rows.add_columns(literal(object_type, String(32)), literal(now, Tombstone.deleted_at.type))
    db.session.execute(insert(Tombstone).from_select(
        ["object_id", "course_id", "object_type", "deleted_at"], selected))


def record_one(object_type: str, object_id: uuid.UUID, course_id: uuid.UUID | None = None) -> None:
    db.session.add(Tombstone(object_type=object_type, object_id=object_id, course_id=course_id, deleted_at=utcnow()))


def prune_tombstones(retention: timedelta) -> int:
    """Forget the deletions older than `retention`; the number forgotten."""
    result = db.session.execute(delete(Tombstone).where(Tombstone.deleted_at < utcnow() - retention))
    return result.rowcount
