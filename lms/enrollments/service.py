"""Enrollments, lesson progress and reviews."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from lms.analytics.service import invalidate_course_analytics
from lms.certificates.service import schedule_certificate
from lms.core.db import utcnow
from lms.courses.models import Lesson
from lms.enrollments.models import Enrollment, LessonProgress
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


def get_or_create_progress(enrollment: Enrollment, lesson_id: uuid.UUID) -> LessonProgress:
    progress = db.session.scalar(select(LessonProgress).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.lesson_id == lesson_id))
    if progress is None:
        progress = LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson_id, status="not_started",
                                  time_spent_seconds=0, last_position_seconds=0,
                                  completion_percentage=Decimal("0"))
        db.session.add(progress)
    return progress


def mark_completed(progress: LessonProgress) -> None:
    now = utcnow()
    progress.status = "completed"
    progress.completion_percentage = Decimal("100")
    progress.started_at = progress.started_at or now
    progress.completed_at = progress.completed_at or now


def recompute_enrollment(enrollment: Enrollment) -> bool:
    """Recompute counters, percentage and status from the progress rows (same transaction).

    Returns True when this call moved the enrollment to `completed` for the first time, so that the
    caller runs `on_enrollment_completed` once its commit has succeeded.
    """
    db.session.flush()
    total = db.session.scalar(select(func.count()).select_from(Lesson).where(
        Lesson.course_id == enrollment.course_id)) or 0
    completed, time_spent = db.session.execute(
        select(func.count(LessonProgress.id).filter(LessonProgress.status == "completed"),
               func.coalesce(func.sum(LessonProgress.time_spent_seconds), 0))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.enrollment_id == enrollment.id, Lesson.course_id == enrollment.course_id)
    ).one()
    enrollment.total_lessons_count = total
    enrollment.completed_lessons_count = completed
    enrollment.total_time_spent_seconds = int(time_spent)
    enrollment.progress_percentage = (
        (Decimal(completed) * 100 / Decimal(total)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if total else Decimal("0.00"))
    enrollment.last_accessed_at = utcnow()
    first_completion = False
    if total and completed >= total:
        if enrollment.status != "completed":
            enrollment.status = "completed"
            first_completion = enrollment.completed_at is None
            enrollment.completed_at = enrollment.completed_at or utcnow()
    elif enrollment.status == "completed":
        enrollment.status = "active"  # lessons were added after completion
    return first_completion


def complete_lesson(enrollment: Enrollment, lesson_id: uuid.UUID) -> bool:
    """Mark a lesson completed for an enrollment and recompute it; does not commit.

    Returns True when the enrollment became completed for the first time (see recompute_enrollment).
    """
    mark_completed(get_or_create_progress(enrollment, lesson_id))
    return recompute_enrollment(enrollment)


def on_enrollment_completed(enrollment_id: uuid.UUID) -> None:
    """The hook run once an enrollment's first transition to `completed` is committed."""
    schedule_certificate(enrollment_id)


def after_learning_write(enrollment: Enrollment, became_completed: bool) -> None:
    """What follows a committed progress change: fresh analytics, and the completion hook."""
    invalidate_course_analytics(enrollment.course_id)
    if became_completed:
        on_enrollment_completed(enrollment.id)
