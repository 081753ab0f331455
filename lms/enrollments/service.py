"""Enrollments, lesson progress and reviews."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from lms.core import events, tombstones
from lms.core.db import commit, insert_object, prepared, update_object, utcnow
from lms.core.errors import BadRequest, Conflict, Forbidden, NotFound
from lms.core.pagination import paginate
from lms.core.schemas import to_decimal2
from lms.courses.models import Course, Lesson
from lms.core.tasks import enqueue
from lms.courses.service import (
    add_course_figure,
    CourseAccessValues,
    add_lesson_content_grant,
    can_manage_course,
    get_course,
    get_course_for_managing,
    get_course_for_reading,
    lesson_count,
)
from lms.enrollments.models import Enrollment, LessonProgress
from lms.core.extensions import db
from lms.users.models import User

# Enrollments in these states may learn: record progress, take quizzes, submit assignments.
LEARNING_STATUSES = ("active", "completed")


# What enrollments add to courses: the figures a course shows, and its lessons' content opened
# to the students learning in it.
add_course_figure(Course.computed_enrollment_count, select(func.count(Enrollment.id))
                  .where(Enrollment.course_id == Course.id).scalar_subquery())
# AVG and COUNT of a column skip NULLs: only enrollments with a review count.
add_course_figure(Course.computed_average_rating, select(func.avg(Enrollment.rating))
                  .where(Enrollment.course_id == Course.id).scalar_subquery())
add_course_figure(Course.computed_review_count, select(func.count(Enrollment.rating))
                  .where(Enrollment.course_id == Course.id).scalar_subquery())
add_lesson_content_grant(lambda user, course_id: is_learning(user.id, course_id))


@events.on(events.LESSON_DELETED, after_commit=True)
def _recompute_after_lesson_deletion(course_id: uuid.UUID, **_: Any) -> None:
    enqueue(recompute_course_enrollments, course_id)


@events.on(events.COURSE_DELETED)
def _record_deleted_course_rows(course_id: uuid.UUID, **_: Any) -> None:
    """The course's enrollments and their progress go with it (database cascade)."""
    tombstones.record("enrollments", select(Enrollment.id, Enrollment.course_id).where(Enrollment.course_id == course_id))
    tombstones.record("lesson_progress", select(LessonProgress.id, Enrollment.course_id)
                      .join(Enrollment, Enrollment.id == LessonProgress.enrollment_id)
                      .where(Enrollment.course_id == course_id))


@events.on(events.LESSON_DELETED)
def _record_deleted_lesson_progress(lesson_id: uuid.UUID, **_: Any) -> None:
    """The lesson's progress rows go with it (database cascade)."""
    tombstones.record("lesson_progress", select(LessonProgress.id, Lesson.course_id)
                      .join(Lesson, Lesson.id == LessonProgress.lesson_id).where(LessonProgress.lesson_id == lesson_id))


def find_enrollment(student_id: uuid.UUID, course_id: uuid.UUID) -> Enrollment | None:
    return db.session.scalar(
        select(Enrollment).where(Enrollment.student_id == student_id, Enrollment.course_id == course_id))


def is_learning_enrollment(enrollment: Enrollment | None) -> bool:
    """An enrollment that may learn (record progress, take quizzes, submit work): active or completed."""
    return enrollment is not None and enrollment.status in LEARNING_STATUSES


def is_learning(student_id: uuid.UUID, course_id: uuid.UUID) -> bool:
    """The student is enrolled in the course and the enrollment is active or completed."""
    return is_learning_enrollment(find_enrollment(student_id, course_id))


def mark_completed(progress: ProgressValues) -> None:
    now = utcnow()
    progress.status = "completed"
    progress.completion_percentage = Decimal("100")
    progress.started_at = progress.started_at or now
    progress.completed_at = progress.completed_at or now


@dataclass
class ProgressValues:
    """The values of a lesson's progress row that a progress write sets: changed here, then written
    to the row in one statement (`write_progress`)."""

    status: str = "not_started"
    started_at: datetime | None = None
    completed_at: datetime | None = None
    time_spent_seconds: int = 0
    last_position_seconds: int = 0
    completion_percentage: Decimal = Decimal("0")
    notes: str | None = None

    @classmethod
    def of(cls, progress: LessonProgress) -> ProgressValues:
        return cls(**{field: getattr(progress, field) for field in _PROGRESS_FIELDS})


_PROGRESS_FIELDS = tuple(field.name for field in fields(ProgressValues))


@dataclass(frozen=True)
class CourseFigures:
    """An enrollment's figures as its progress rows give them."""

    total_lessons: int
    completed_lessons: int
    time_spent_seconds: int


def apply_figures(enrollment: Enrollment, figures: CourseFigures) -> bool:
    """Write counters, percentage and status from `figures` to the enrollment's row now (in the
    current transaction, `update_object`).

    Returns True when this moved the enrollment to `completed` for the first time, which
    announces `enrollment.completed` (its subscribers write in this transaction).
    """
    total, completed = figures.total_lessons, figures.completed_lessons
    now = utcnow()
    values: dict[str, Any] = {
        "total_lessons_count": total, "completed_lessons_count": completed,
        "total_time_spent_seconds": figures.time_spent_seconds,
        "progress_percentage": to_decimal2(Decimal(completed) * 100 / total) if total else Decimal("0.00"),
        "last_accessed_at": now}
    first_completion = False
    if total and completed >= total:
        if enrollment.status != "completed":
            values["status"] = "completed"
            first_completion = enrollment.completed_at is None
            values["completed_at"] = enrollment.completed_at or now
    elif enrollment.status == "completed":
        values["status"] = "active"  # lessons were added after completion
    update_object(enrollment, values)
    if first_completion:
        events.emit(events.ENROLLMENT_COMPLETED, enrollment=enrollment)
    return first_completion


def lock_enrollment(enrollment_id: uuid.UUID) -> Enrollment | None:
    """The enrollment, locked until the transaction ends (PostgreSQL): progress writes to one
    enrollment take turns, and each one counts what the previous one committed. NO KEY UPDATE: the
    KEY SHARE locks that inserting progress rows takes do not conflict with it."""
    return db.session.scalar(_lock_enrollment_statement(), {"enrollment_id": enrollment_id})


@functools.cache
def _lock_enrollment_statement() -> Select:
    return prepared(select(Enrollment).where(Enrollment.id == bindparam("enrollment_id"))
                    .with_for_update(key_share=True).execution_options(populate_existing=True))


@functools.cache
def _progress_and_figures_statement() -> Select:
    """Built once (a statement object caches its own cache key): the lesson's progress row and the
    enrollment's figures. Progress rows only exist for lessons of the enrollment's course."""
    enrollment_id, course_id = bindparam("enrollment_id"), bindparam("course_id")
    total = lesson_count(course_id)
    figures = (select(func.count(LessonProgress.id).filter(LessonProgress.status == "completed").label("completed"),
                      func.coalesce(func.sum(LessonProgress.time_spent_seconds), 0).label("time_spent"))
               .where(LessonProgress.enrollment_id == enrollment_id).subquery())
    return prepared(select(LessonProgress, total, figures.c.completed, figures.c.time_spent)
                    .select_from(figures)
                    .outerjoin(LessonProgress, and_(LessonProgress.enrollment_id == enrollment_id,
                                                    LessonProgress.lesson_id == bindparam("lesson_id")))
                    .execution_options(populate_existing=True))


def _progress_and_figures(enrollment: Enrollment, lesson_id: uuid.UUID) -> tuple[LessonProgress | None, CourseFigures]:
    """The lesson's progress row (if any) and the figures before this write, in one statement.

    Read after the enrollment is locked: a statement that started before the lock was granted
    would not see what the previous writer committed.
    """
    progress, *figures = db.session.execute(_progress_and_figures_statement(), {
        "enrollment_id": enrollment.id, "course_id": enrollment.course_id, "lesson_id": lesson_id}).one()
    return progress, CourseFigures(*(int(value or 0) for value in figures))


def write_progress(enrollment: Enrollment, lesson_id: uuid.UUID,
                   change: Callable[[ProgressValues, bool], None]) -> tuple[LessonProgress, bool]:
    """Change a lesson's progress row (created when missing) with `change(values, is_new)` and
    recompute the enrollment, which the caller has locked (`lock_enrollment`). Does not commit.

    Three statements: the row and the figures, the row's write (none when nothing changed), the
    enrollment's update. Returns the row and whether the enrollment became completed for the first
    time.
    """
    progress, before = _progress_and_figures(enrollment, lesson_id)
    is_new = progress is None
    values = ProgressValues() if is_new else ProgressValues.of(progress)
    old_completed, old_time = values.status == "completed", values.time_spent_seconds
    change(values, is_new)
    if is_new:
        now = utcnow()
        progress = LessonProgress(id=uuid.uuid4(), enrollment_id=enrollment.id, lesson_id=lesson_id,
                                  created_at=now, updated_at=now, **vars(values))
        insert_object(progress)
    else:
        changed = {field: value for field, value in vars(values).items() if value != getattr(progress, field)}
        if changed:
            update_object(progress, changed)
    if progress.status == "completed" and not old_completed:
        events.emit(events.LESSON_COMPLETED, enrollment=enrollment, progress=progress)
    after = CourseFigures(
        total_lessons=before.total_lessons,
        completed_lessons=before.completed_lessons - old_completed + (progress.status == "completed"),
        time_spent_seconds=before.time_spent_seconds - old_time + progress.time_spent_seconds)
    return progress, apply_figures(enrollment, after)


def complete_lesson(enrollment: Enrollment, lesson_id: uuid.UUID) -> bool:
    """Mark a lesson completed for a locked enrollment and recompute it; does not commit.

    Returns True when the enrollment became completed for the first time.
    """
    return write_progress(enrollment, lesson_id, lambda progress, _is_new: mark_completed(progress))[1]


def recompute_course_enrollments(course_id: uuid.UUID) -> None:
    """The job after a lesson is deleted: every learning enrollment of the course is recomputed."""
    enrollments = db.session.scalars(
        select(Enrollment).where(Enrollment.course_id == course_id, Enrollment.status.in_(LEARNING_STATUSES))
        .with_for_update(key_share=True).execution_options(populate_existing=True)).all()
    total = db.session.scalar(select(lesson_count(course_id))) or 0
    per_enrollment = {enrollment_id: (completed, time_spent) for enrollment_id, completed, time_spent in db.session.execute(
        select(LessonProgress.enrollment_id,
               func.count(LessonProgress.id).filter(LessonProgress.status == "completed"),
               func.coalesce(func.sum(LessonProgress.time_spent_seconds), 0))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(Lesson.course_id == course_id)
        .group_by(LessonProgress.enrollment_id))}
    for enrollment in enrollments:
        apply_figures(enrollment, CourseFigures(total, *(int(value) for value in per_enrollment.get(enrollment.id, (0, 0)))))
    commit()


# --- enrolling ----------------------------------------------------------------------------------

ENROLLMENT_NOT_FOUND = "Enrollment not found"
COURSE_ENROLLMENTS_DENIED = "Not authorized to view course enrollments"
UPDATE_DENIED = "Not authorized to update this enrollment"
REVIEW_THRESHOLD = Decimal("20")


def enroll(course_id: uuid.UUID, user: User) -> Enrollment:
    """Enroll the caller (a student or an admin) in a published course; re-enrolling returns the
    existing enrollment. Concurrent calls end in one row: the loser of the race reads the winner's."""
    course = get_course_for_reading(course_id, user)  # a draft is 404 to a student (§5.19)
    if not course.is_published:
        raise Forbidden("Cannot enroll in unpublished course")
    existing = find_enrollment(user.id, course.id)
    if existing is not None:
        return existing
    now = utcnow()
    total_lessons = db.session.scalar(
        select(lesson_count(course.id))) or 0
    enrollment = Enrollment(student_id=user.id, course_id=course.id, enrolled_at=now, started_at=now,
                            status="active", progress_percentage=Decimal("0.00"), completed_lessons_count=0,
                            total_lessons_count=total_lessons, total_time_spent_seconds=0)
    db.session.add(enrollment)
    events.emit(events.ENROLLMENT_CREATED, enrollment=enrollment)
    try:
        commit()
    except IntegrityError:
        db.session.rollback()
        existing = find_enrollment(user.id, course_id)
        if existing is None:
            raise
        return existing
    return enrollment


def my_enrollments(args: dict[str, Any], user: User) -> dict[str, Any]:
    """The caller's enrollments, newest first."""
    return paginate(select(Enrollment).where(Enrollment.student_id == user.id)
                    .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc()), args)


def get_enrollment_for_reading(enrollment_id: uuid.UUID, user: User) -> Enrollment:
    """The owning student, the course's instructor and admins see an enrollment; others get 404."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise NotFound(ENROLLMENT_NOT_FOUND)
    if enrollment.student_id == user.id or can_manage_course(user, get_course(enrollment.course_id)):
        return enrollment
    raise NotFound(ENROLLMENT_NOT_FOUND)


def _get_enrollment_for_learning(enrollment_id: uuid.UUID, user: User) -> Enrollment:
    """An enrollment the caller may write to: theirs, or any for an admin.

    The course's instructor sees it but may not write (403); anyone else gets 404.
    """
    enrollment = get_enrollment_for_reading(enrollment_id, user)
    if enrollment.student_id != user.id and not user.is_admin:
        raise Forbidden(UPDATE_DENIED)
    if not is_learning_enrollment(enrollment):
        raise Forbidden("Enrollment is not active")
    return enrollment


def course_enrollments(course_id: uuid.UUID, args: dict[str, Any], user: User) -> dict[str, Any]:
    """A course's enrollments, newest first, for its instructor or an admin."""
    course = get_course_for_managing(course_id, user, COURSE_ENROLLMENTS_DENIED)
    return paginate(select(Enrollment).where(Enrollment.course_id == course.id)
                    .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc()), args)


def course_enrollment_stats(course_id: uuid.UUID, user: User) -> dict[str, Any]:
    """Counts by status and the mean progress, in one aggregate statement."""
    course = get_course_for_managing(course_id, user, COURSE_ENROLLMENTS_DENIED)
    total, active, completed, progress_sum = db.session.execute(
        select(func.count(Enrollment.id),
               func.count(Enrollment.id).filter(Enrollment.status == "active"),
               func.count(Enrollment.id).filter(Enrollment.status == "completed"),
               func.coalesce(func.sum(Enrollment.progress_percentage), 0))
        .where(Enrollment.course_id == course.id)
    ).one()
    # SUM / COUNT with exact decimals, so that SQLite (floating-point AVG) agrees with PostgreSQL.
    average = to_decimal2(Decimal(str(progress_sum)) / total) if total else Decimal("0.00")
    return {"course_id": course.id, "total_enrollments": total, "active_enrollments": active,
            "completed_enrollments": completed, "average_progress": average}


# --- progress and reviews -----------------------------------------------------------------------

DOWNGRADE_REFUSED = "Completed lesson progress cannot be downgraded"
PROGRESS_RACE = "The lesson's progress changed concurrently; retry the request"


def _apply_progress(progress: ProgressValues, changes: dict[str, Any], is_new: bool) -> None:
    """Set (never add) the given values, then derive the status (contract §4.4)."""
    status = changes.get("status")
    # Rounded first, as stored: "99.999" is 100.00 and so completes the lesson.
    percentage = changes.get("completion_percentage")
    percentage = None if percentage is None else to_decimal2(percentage)
    if progress.status == "completed":
        if (status is not None and status != "completed") or (percentage is not None and percentage < 100):
            raise BadRequest(DOWNGRADE_REFUSED)
    for field in ("time_spent_seconds", "last_position_seconds", "notes"):
        if field in changes:
            setattr(progress, field, changes[field])
    if percentage is not None:
        progress.completion_percentage = to_decimal2(min(percentage, Decimal("100")))
    if status == "completed" or (percentage is not None and percentage >= 100) or progress.status == "completed":
        mark_completed(progress)
        return
    if status is not None:
        progress.status = status
    elif is_new:
        progress.status = "in_progress"
    has_activity = (progress.time_spent_seconds > 0 or progress.last_position_seconds > 0
                    or progress.completion_percentage > 0)
    if progress.status == "not_started" and has_activity:
        progress.status = "in_progress"
    if progress.status == "in_progress" and progress.started_at is None:
        progress.started_at = utcnow()


def _completes(changes: dict[str, Any] | None) -> bool:
    if changes is None:
        return True
    percentage = changes.get("completion_percentage")
    return changes.get("status") == "completed" or (percentage is not None and to_decimal2(percentage) >= 100)


# Lessons a student does not complete with a progress write, because a module built on this one
# completes them (quizzes: a lesson with a published graded quiz is completed by passing the quiz,
# so that a certificate cannot be had without it). Admins may complete them anyway.
_COMPLETED_ELSEWHERE: list[tuple[Callable[[BindParameter], ColumnElement], str]] = []


def add_completion_rule(completed_elsewhere: Callable[[BindParameter], ColumnElement], refusal: str) -> None:
    """`completed_elsewhere(lesson_id)`: a boolean SQL expression (an EXISTS) true for lessons that
    students complete elsewhere; a progress write that would complete one is 400 `refusal`.
    Add rules at import, before the first request."""
    _COMPLETED_ELSEWHERE.append((completed_elsewhere, refusal))


@functools.cache
def _locked_for_learning_statement() -> Select:
    """Built once: the enrollment, locked, with its course's instructor and facts about the lesson."""
    lesson_id = bindparam("lesson_id")
    lesson_in_course = select(Lesson.id).where(Lesson.id == lesson_id,
                                               Lesson.course_id == Enrollment.course_id).exists()
    rules = [completed_elsewhere(lesson_id) for completed_elsewhere, _ in _COMPLETED_ELSEWHERE]
    return prepared(select(Enrollment, Course.is_published, Course.instructor_id, lesson_in_course, *rules)
                    .join(Course, Course.id == Enrollment.course_id)
                    .where(Enrollment.id == bindparam("enrollment_id"))
                    .with_for_update(of=Enrollment, key_share=True)
                    .execution_options(populate_existing=True))


def _locked_for_learning(enrollment_id: uuid.UUID, lesson_id: uuid.UUID, user: User, completes: bool) -> Enrollment:
    """The enrollment the caller may write progress to, locked (see `lock_enrollment`), in one
    statement with what the checks need: the course's instructor, whether the lesson is in the
    course and whether a completion rule applies to it (`add_completion_rule`).

    The enrollment's student and admins write; the course's instructor sees it but may not write
    (403); anyone else gets 404.
    """
    row = db.session.execute(_locked_for_learning_statement(),
                             {"enrollment_id": enrollment_id, "lesson_id": lesson_id}).one_or_none()
    if row is None:
        raise NotFound(ENROLLMENT_NOT_FOUND)
    enrollment, is_published, instructor_id, in_course, *completed_elsewhere = row
    if enrollment.student_id != user.id and not can_manage_course(user, CourseAccessValues(is_published, instructor_id)):
        raise NotFound(ENROLLMENT_NOT_FOUND)
    if enrollment.student_id != user.id and not user.is_admin:
        raise Forbidden(UPDATE_DENIED)
    if not is_learning_enrollment(enrollment):
        raise Forbidden("Enrollment is not active")
    if not in_course:
        raise NotFound("Lesson not found in this enrollment's course")
    if completes and not user.is_admin:
        for applies, (_, refusal) in zip(completed_elsewhere, _COMPLETED_ELSEWHERE):
            if applies:
                raise BadRequest(refusal)
    return enrollment


def _record_progress(enrollment_id: uuid.UUID, lesson_id: uuid.UUID, user: User,
                     changes: dict[str, Any] | None) -> LessonProgress:
    """One progress transaction: `changes` for PUT …/progress, None to complete the lesson.

    Five statements with the caller's: the enrollment (locked) with the checks' facts, the row and
    the figures, the row's write, the enrollment's update.
    """
    enrollment = _locked_for_learning(enrollment_id, lesson_id, user, _completes(changes))
    if changes is None:
        progress, _ = write_progress(enrollment, lesson_id, lambda progress, _is_new: mark_completed(progress))
    else:
        progress, _ = write_progress(enrollment, lesson_id,
                                     lambda progress, is_new: _apply_progress(progress, changes, is_new))
    events.emit(events.LEARNING_RECORDED, enrollment=enrollment)
    commit()
    return progress


def _write_progress(enrollment_id: uuid.UUID, lesson_id: uuid.UUID, user: User,
                    changes: dict[str, Any] | None) -> LessonProgress:
    """Record progress and recompute the enrollment in one transaction (a completion issues the
    certificate in it too, through `enrollment.completed`)."""
    try:
        return _record_progress(enrollment_id, lesson_id, user, changes)
    except IntegrityError:
        # Another request created this lesson's progress row first: redo the write on top of it.
        db.session.rollback()
        try:
            return _record_progress(enrollment_id, lesson_id, user, changes)
        except IntegrityError as error:
            db.session.rollback()
            raise Conflict(PROGRESS_RACE) from error


def update_progress(enrollment_id: uuid.UUID, lesson_id: uuid.UUID, changes: dict[str, Any],
                    user: User) -> LessonProgress:
    return _write_progress(enrollment_id, lesson_id, user, changes)


def complete_lesson_for(enrollment_id: uuid.UUID, lesson_id: uuid.UUID, user: User) -> LessonProgress:
    return _write_progress(enrollment_id, lesson_id, user, None)


def review_course(enrollment_id: uuid.UUID, data: dict[str, Any], user: User) -> Enrollment:
    """Rate and review the course once 20 % of it is done; a new review replaces the previous one."""
    enrollment = _get_enrollment_for_learning(enrollment_id, user)
    if enrollment.progress_percentage < REVIEW_THRESHOLD:
        raise Forbidden("Complete at least 20% before reviewing")
    enrollment.rating = data["rating"]
    enrollment.review = data["review"]
    enrollment.reviewed_at = utcnow()
    events.emit(events.ENROLLMENT_REVIEWED, enrollment=enrollment)
    commit()
    return enrollment
