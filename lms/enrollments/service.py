"""Enrollments, lesson progress and reviews."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from lms.certificates.service import schedule_certificate
from lms.enrollments.models import Enrollment
from lms.extensions import db

# Enrollments in these states may learn: record progress, take quizzes, submit assignments.
LEARNING_STATUSES = ("active", "completed")


def find_enrollment(student_id: uuid.UUID, course_id: uuid.UUID) -> Enrollment | None:
    return db.session.scalar(
        select(Enrollment).where(Enrollment.student_id == student_id, Enrollment.course_id == course_id))


def is_learning(student_id: uuid.UUID, course_id: uuid.UUID) -> bool:
    """The student is enrolled in the course and the enrollment is active or completed."""
    enrollment = find_enrollment(student_id, course_id)
    return enrollment is not None and enrollment.status in LEARNING_STATUSES


def on_enrollment_completed(enrollment_id: uuid.UUID) -> None:
    """The hook run once an enrollment's first transition to `completed` is committed."""
    schedule_certificate(enrollment_id)
