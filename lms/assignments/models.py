from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
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
