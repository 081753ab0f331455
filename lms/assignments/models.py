from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import Timestamps, UUIDPrimaryKey
from lms.core.extensions import db

ASSIGNMENT_STATUSES = ("draft", "published", "archived")
SUBMISSION_STATUSES = ("submitted", "graded", "returned", "revised")


class Assignment(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "assignments"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    instructor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[datetime | None]
    max_points: Mapped[int | None]
    grading_type: Mapped[str | None] = mapped_column(String(50))
    assignment_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    is_published: Mapped[bool] = mapped_column(default=False)
    # Its share of the gradebook's weighted total, relative to the course's other quizzes and assignments.
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("1"), server_default="1")
    # The late policy: percent of the grade lost per (started) day after `due_date`, at most
    # `late_penalty_max_percent`; no submission is accepted after `late_cutoff_at`.
    late_penalty_percent_per_day: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    late_penalty_max_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    late_cutoff_at: Mapped[datetime | None]


class Submission(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "enrollment_id"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    submitted_at: Mapped[datetime]
    graded_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    content: Mapped[str | None] = mapped_column(Text)
    file_urls: Mapped[list[str] | None] = mapped_column(JSON)
    submission_type: Mapped[str | None] = mapped_column(String(50))
    submission_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    grade: Mapped[float | None]
    max_grade: Mapped[float | None]
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_attachments: Mapped[list[str] | None] = mapped_column(JSON)
    is_late: Mapped[bool] = mapped_column(default=False)
    # The late policy applied when the work came in: days after the due date (started days) and the
    # percent of the grade it costs. `grade` stays the instructor's raw grade.
    days_late: Mapped[int] = mapped_column(default=0, server_default="0")
    late_penalty_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"), server_default="0")

    @property
    def final_grade(self) -> float | None:
        """The grade after the late penalty: what the student is credited with."""
        if self.grade is None:
            return None
        return round(self.grade * (100 - float(self.late_penalty_percent or 0)) / 100, 2)
