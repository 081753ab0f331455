"""Helpers for the analytics tests: enrollment counters, quiz attempts and UTC days to build data sets with."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from lms.enrollments.models import Enrollment
from lms.core.extensions import db
from lms.quizzes.models import Quiz, QuizAttempt


def counters(progress: str, completed: int, total: int, seconds: int) -> dict:
    """An enrollment's counters as the enrollments module would have computed them (`make_enrollment` fields)."""
    return {"progress_percentage": Decimal(progress), "completed_lessons_count": completed,
            "total_lessons_count": total, "total_time_spent_seconds": seconds}


def attempt(enrollment: Enrollment, quiz: Quiz, number: int, *, score: str | None = None,
            max_score: str = "4", graded_at: datetime | None = None) -> QuizAttempt:
    """A graded attempt when `score` is given, an in-progress one otherwise."""
    graded = score is not None
    percentage = (Decimal(score) * 100 / Decimal(max_score)).quantize(Decimal("0.01")) if graded else None
    row = QuizAttempt(enrollment_id=enrollment.id, quiz_id=quiz.id, attempt_number=number,
                      status="graded" if graded else "in_progress", max_score=Decimal(max_score),
                      score=Decimal(score) if graded else None, percentage=percentage,
                      is_passed=(percentage >= 70) if graded else None,
                      submitted_at=graded_at, graded_at=graded_at)
    db.session.add(row)
    return row


def utc_midnight(days_ago: int) -> datetime:
    """00:00 UTC of the day `days_ago` days before today (UTC)."""
    return datetime.combine(datetime.now(timezone.utc).date() - timedelta(days=days_ago), time.min,
                            tzinfo=timezone.utc)
