from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UUIDPrimaryKey, utcnow
from lms.core.extensions import db

ENROLLMENT_STATUSES = ("active", "completed", "dropped", "expired")
PROGRESS_STATUSES = ("not_started", "in_progress", "completed")


class Enrollment(UUIDPrimaryKey, db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("student_id", "course_id"),
        # my-courses and a course's enrollment list, newest first; also every per-course aggregate.
        Index("ix_enrollments_student_id_enrolled_at", "student_id", "enrolled_at"),
        Index("ix_enrollments_course_id_enrolled_at", "course_id", "enrolled_at"),
    )

    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    progress_percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    completed_lessons_count: Mapped[int] = mapped_column(default=0)
    total_lessons_count: Mapped[int] = mapped_column(default=0)
    # The sum over every lesson's (32-bit) time: 64-bit so that it cannot overflow.
    total_time_spent_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    last_accessed_at: Mapped[datetime | None]
    certificate_issued_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    review: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class LessonProgress(UUIDPrimaryKey, db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id"),)

    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    time_spent_seconds: Mapped[int] = mapped_column(default=0)
    last_position_seconds: Mapped[int] = mapped_column(default=0)
    completion_percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
