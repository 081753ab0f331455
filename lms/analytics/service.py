"""Analytics for students, instructors and admins: SQL aggregates, never Python loops over rows.

Every figure is a COUNT/SUM over a join computed by the database; each endpoint runs a fixed
number of statements whatever the data size. Means are taken as SUM / COUNT from SQL and divided
here with exact decimals, so that PostgreSQL and SQLite (which averages in floating point) agree
to the cent. Timestamps are stored in UTC and bucketed into UTC days.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Date, case, cast, distinct, func, literal, literal_column, select, union_all

from lms.analytics.cache import course_analytics_key
from lms.core.cache import get_app_cache
from lms.core.db import utcnow
from lms.core.errors import Forbidden, NotFound
from lms.core.permissions import Role
from lms.core.schemas import to_decimal2
from lms.courses.models import Course
from lms.courses.service import get_course_for_managing
from lms.enrollments.models import Enrollment, LessonProgress
from lms.core.extensions import db
from lms.quizzes.models import QuizAttempt
from lms.users.models import User

RECENT_ACTIVITY_DAYS = 30
COURSE_ANALYTICS_DENIED = "Not authorized to view analytics for this course"
INSTRUCTOR_OVERVIEW_DENIED = "Not authorized to view this instructor's analytics"

ZERO = Decimal("0.00")


# --- small helpers --------------------------------------------------------------------------

def _enrollment_totals() -> list[ColumnElement]:
    """Enrollments, active ones, completed ones, summed progress and summed seconds of a selection."""
    return [
        func.count(Enrollment.id),
        func.count(Enrollment.id).filter(Enrollment.status == "active"),
        func.count(Enrollment.id).filter(Enrollment.status == "completed"),
        func.coalesce(func.sum(Enrollment.progress_percentage), 0),
        func.coalesce(func.sum(Enrollment.total_time_spent_seconds), 0),
    ]


def _mean(total: Any, count: int) -> Decimal:
    """SUM / COUNT to two decimals (half up); 0.00 when there is nothing to average."""
    if not count:
        return ZERO
    return to_decimal2(Decimal(str(total)) / Decimal(count))


def _hours(seconds: Any) -> Decimal:
    return to_decimal2(Decimal(str(seconds or 0)) / Decimal(3600))


def _utc_day(column: Any) -> ColumnElement:
    """The UTC calendar day of a timestamp column, on the session's dialect."""
    if db.session.get_bind().dialect.name == "postgresql":
        # timestamptz -> UTC wall time -> date, whatever the session's TimeZone setting.
        # A literal zone (not a bound parameter) keeps SELECT and GROUP BY expressions identical.
        return cast(func.timezone(literal_column("'UTC'"), column), Date)
    return func.date(column)  # SQLite stores UTC wall time as text


def _graded_attempt_totals() -> list[ColumnElement]:
    """Aggregates over graded quiz attempts: taken, passed, score and percentage sums and counts."""
    return [
        func.count(QuizAttempt.id),
        func.count(QuizAttempt.id).filter(QuizAttempt.is_passed.is_(True)),
        func.coalesce(func.sum(QuizAttempt.score), 0),
        func.count(QuizAttempt.score),
        func.coalesce(func.sum(QuizAttempt.percentage), 0),
        func.count(QuizAttempt.percentage),
    ]


# --- students -------------------------------------------------------------------------------

def _zero_progress(user_id: uuid.UUID) -> dict[str, Any]:
    return {
        "student_id": user_id, "total_enrollments": 0, "active_enrollments": 0, "completed_enrollments": 0,
        "average_progress": ZERO, "total_time_hours": ZERO, "total_lessons_completed": 0,
        "quizzes_taken": 0, "quizzes_passed": 0, "average_quiz_score": ZERO, "average_quiz_percentage": ZERO,
    }


def student_progress(user: User) -> dict[str, Any]:
    """The caller's learning summary over all of their enrollments (zeros for non-students).

    Enrollment figures come from the counters the enrollments module keeps on every progress
    write; quiz figures count graded attempts only.
    """
    if not user.is_student:
        return _zero_progress(user.id)
    enrollments, active, completed, progress_total, seconds, lessons = db.session.execute(
        select(
            *_enrollment_totals(),
            func.coalesce(func.sum(Enrollment.completed_lessons_count), 0),
        ).where(Enrollment.student_id == user.id)
    ).one()
    taken, passed, score_total, scored, percentage_total, with_percentage = db.session.execute(
        select(*_graded_attempt_totals())
        .join(Enrollment, Enrollment.id == QuizAttempt.enrollment_id)
        .where(Enrollment.student_id == user.id, QuizAttempt.status == "graded")
    ).one()
    return {
        "student_id": user.id,
        "total_enrollments": enrollments,
        "active_enrollments": active,
        "completed_enrollments": completed,
        "average_progress": _mean(progress_total, enrollments),
        "total_time_hours": _hours(seconds),
        "total_lessons_completed": int(lessons),
        "quizzes_taken": taken,
        "quizzes_passed": passed,
        "average_quiz_score": _mean(score_total, scored),
        "average_quiz_percentage": _mean(percentage_total, with_percentage),
    }


def student_dashboard(user: User) -> dict[str, Any]:
    """Summary, one entry per enrollment (newest first) and daily activity of the last 30 UTC days."""
    if not user.is_student:
        return {"student_id": user.id, "summary": _zero_progress(user.id), "courses": [], "recent_activity": []}
    return {
        "student_id": user.id,
        "summary": student_progress(user),
        "courses": _course_breakdown(user.id),
        "recent_activity": _recent_activity(user.id),
    }


def _course_breakdown(student_id: uuid.UUID) -> list[dict[str, Any]]:
    attempts = (
        select(QuizAttempt.enrollment_id.label("enrollment_id"),
               *[column.label(name) for column, name in zip(_graded_attempt_totals(), (
                   "taken", "passed", "score_total", "scored", "percentage_total", "with_percentage"))])
        .join(Enrollment, Enrollment.id == QuizAttempt.enrollment_id)
        .where(Enrollment.student_id == student_id, QuizAttempt.status == "graded")
        .group_by(QuizAttempt.enrollment_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Enrollment.course_id, Course.title, Enrollment.progress_percentage,
               Enrollment.completed_lessons_count, Enrollment.total_lessons_count,
               Enrollment.total_time_spent_seconds, attempts.c.taken, attempts.c.score_total, attempts.c.scored,
               attempts.c.percentage_total, attempts.c.with_percentage)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(attempts, attempts.c.enrollment_id == Enrollment.id)
        .where(Enrollment.student_id == student_id)
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id)
    )
    return [{
        "course_id": row.course_id,
        "course_title": row.title,
        "progress_percentage": row.progress_percentage,
        "completed_lessons": row.completed_lessons_count,
        "total_lessons": row.total_lessons_count,
        "time_spent_hours": _hours(row.total_time_spent_seconds),
        "quizzes_completed": row.taken or 0,
        "average_quiz_score": _mean(row.score_total, row.scored or 0),
        "average_quiz_percentage": _mean(row.percentage_total, row.with_percentage or 0),
    } for row in rows]


def _recent_activity(student_id: uuid.UUID) -> list[dict[str, Any]]:
    """One entry per UTC day with activity, newest first, over today and the 29 days before.

    - lessons_completed: lesson progress rows whose `completed_at` falls on that day;
    - time_spent_minutes: `time_spent_seconds` of progress rows last updated that day (progress
      stores a running total per lesson, so a lesson's time is counted on its last update day);
    - quizzes_taken: graded attempts by `graded_at`.
    """
    since = datetime.combine(utcnow().date() - timedelta(days=RECENT_ACTIVITY_DAYS - 1),
                             time.min, tzinfo=timezone.utc)
    completed_day = _utc_day(LessonProgress.completed_at)
    updated_day = _utc_day(LessonProgress.updated_at)
    graded_day = _utc_day(QuizAttempt.graded_at)
    zero = literal(0)
    completed = (
        select(completed_day.label("day"), func.count(LessonProgress.id).label("lessons"),
               zero.label("seconds"), zero.label("quizzes"))
        .join(Enrollment, Enrollment.id == LessonProgress.enrollment_id)
        .where(Enrollment.student_id == student_id, LessonProgress.completed_at >= since)
        .group_by(completed_day)
    )
    time_spent = (
        select(updated_day.label("day"), zero.label("lessons"),
               func.sum(LessonProgress.time_spent_seconds).label("seconds"), zero.label("quizzes"))
        .join(Enrollment, Enrollment.id == LessonProgress.enrollment_id)
        .where(Enrollment.student_id == student_id, LessonProgress.updated_at >= since,
               LessonProgress.time_spent_seconds > 0)
        .group_by(updated_day)
    )
    quizzes = (
        select(graded_day.label("day"), zero.label("lessons"), zero.label("seconds"),
               func.count(QuizAttempt.id).label("quizzes"))
        .join(Enrollment, Enrollment.id == QuizAttempt.enrollment_id)
        .where(Enrollment.student_id == student_id, QuizAttempt.status == "graded",
               QuizAttempt.graded_at >= since)
        .group_by(graded_day)
    )
    activity = union_all(completed, time_spent, quizzes).subquery()
    rows = db.session.execute(
        select(activity.c.day, func.sum(activity.c.lessons), func.sum(activity.c.seconds),
               func.sum(activity.c.quizzes))
        .group_by(activity.c.day)
        .order_by(activity.c.day.desc())
    )
    return [{
        "date": str(day),
        "lessons_completed": int(lessons),
        "time_spent_minutes": (int(seconds) + 30) // 60,  # nearest whole minute
        "quizzes_taken": int(quizzes),
    } for day, lessons, seconds, quizzes in rows]


# --- instructors and admins -----------------------------------------------------------------

def course_analytics(course_id: uuid.UUID, user: User) -> dict[str, Any]:
    """Enrollment figures of one course, for its instructor or an admin; cached for a short TTL.

    The cache entry is dropped by every enrollment, progress and review write of the course
    (`invalidate_course_analytics`), so the TTL only bounds staleness from writes elsewhere.
    """
    course = get_course_for_managing(course_id, user, COURSE_ANALYTICS_DENIED)
    cache = get_app_cache()
    key = course_analytics_key(course.id)
    cached = cache.get_json(key)
    if cached is not None:
        return cached
    enrollments, active, completed, progress_total, seconds, rating_total, ratings = db.session.execute(
        select(
            *_enrollment_totals(),
            func.coalesce(func.sum(Enrollment.rating), 0),
            func.count(Enrollment.rating),
        ).where(Enrollment.course_id == course.id)
    ).one()
    analytics = {
        "course_id": course.id,
        "course_title": course.title,
        "total_enrollments": enrollments,
        "active_students": active,
        "completed_students": completed,
        "completion_rate": _mean(Decimal(completed) * 100, enrollments),
        "average_progress": _mean(progress_total, enrollments),
        "average_time_hours": _mean(Decimal(seconds) / 3600, enrollments),
        "average_rating": _mean(rating_total, ratings),
        "total_reviews": ratings,
    }
    cache.set_json(key, analytics, ttl_seconds=current_app.config["COURSE_ANALYTICS_CACHE_TTL_SECONDS"])
    return analytics


def instructor_overview(instructor_id: uuid.UUID, user: User) -> dict[str, Any]:
    """Courses and enrollments of one instructor, for that instructor or an admin."""
    is_self = user.is_instructor and user.id == instructor_id
    if not (is_self or user.is_admin):
        raise Forbidden(INSTRUCTOR_OVERVIEW_DENIED)
    if not is_self:
        instructor = db.session.get(User, instructor_id)
        if instructor is None or instructor.is_student:
            raise NotFound("Instructor not found")
    courses, published, students, enrollments, rating_total, ratings = db.session.execute(
        select(
            func.count(distinct(Course.id)),
            func.count(distinct(case((Course.is_published.is_(True), Course.id)))),
            func.count(distinct(Enrollment.student_id)),
            func.count(Enrollment.id),
            func.coalesce(func.sum(Enrollment.rating), 0),
            func.count(Enrollment.rating),
        )
        .select_from(Course)
        .outerjoin(Enrollment, Enrollment.course_id == Course.id)
        .where(Course.instructor_id == instructor_id)
    ).one()
    return {
        "instructor_id": instructor_id,
        "total_courses": courses,
        "published_courses": published,
        "total_students": students,
        "total_enrollments": enrollments,
        "average_course_rating": _mean(rating_total, ratings),
    }


def system_overview() -> dict[str, Any]:
    """Platform-wide counts (admins only; the route checks the role)."""
    def count(model: type, *criteria: ColumnElement) -> Any:
        return select(func.count()).select_from(model).where(*criteria).scalar_subquery()

    row = db.session.execute(select(
        count(User).label("total_users"),
        count(User, User.role == Role.STUDENT.value).label("total_students"),
        count(User, User.role == Role.INSTRUCTOR.value).label("total_instructors"),
        count(Course).label("total_courses"),
        count(Course, Course.is_published.is_(True)).label("published_courses"),
        count(Enrollment).label("total_enrollments"),
        count(Enrollment, Enrollment.status == "active").label("active_enrollments"),
    )).one()
    return dict(row._mapping)
