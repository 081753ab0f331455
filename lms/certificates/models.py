from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UUIDPrimaryKey, utcnow
from lms.core.extensions import db

if TYPE_CHECKING:
    from lms.courses.models import Course
    from lms.users.models import User


class Certificate(UUIDPrimaryKey, db.Model):
    __tablename__ = "certificates"

    certificate_number: Mapped[str] = mapped_column(String(32), unique=True)
    # One certificate per enrollment, whatever runs twice (contract §5.25).
    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    completion_date: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    storage_key: Mapped[str | None] = mapped_column(String(512))
    is_revoked: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    # Loaded explicitly (joinedload) where the names are needed: verification and the PDF.
    student: Mapped[User] = relationship(foreign_keys=[student_id], lazy="raise_on_sql")
    course: Mapped[Course] = relationship(lazy="raise_on_sql")
