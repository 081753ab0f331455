"""Assignments and submissions: authoring, visibility, one submission per student, grading.

Who sees what (§4.11 with §5.19): admins read everything; a course's instructor reads and
manages its assignments and their submissions; an enrolled student (active or completed) reads
the course's open assignments (`is_published` and `status == "published"`) and their own
submissions. Everything else is 404, so that drafts and other people's work stay invisible.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, String, cast, select
from sqlalchemy.exc import IntegrityError

from lms.assignments.models import Assignment, Submission
from lms.core import events, tombstones
from lms.core.db import commit, utcnow
from lms.core.errors import BadRequest, Conflict, Forbidden, NotFound
from lms.core.schemas import to_decimal2
from lms.core.mail import send_email
from lms.core.pagination import skip_limit
from lms.courses.models import Course
from lms.courses.service import can_manage_course, can_teach_course, get_course_for_managing, get_course_for_reading
from lms.enrollments.models import Enrollment
from lms.enrollments.service import is_learning, is_learning_enrollment
from lms.core.extensions import db
from lms.files.models import StoredFile
from lms.files.service import add_download_grant
from lms.files.urls import download_path, file_id_of_download_url, points_at_downloads
from lms.users.models import User

ASSIGNMENT_NOT_FOUND = "Assignment not found"
SUBMISSION_NOT_FOUND = "Submission not found"
ENROLLMENT_NOT_FOUND = "Enrollment not found"
NOT_IN_COURSE = "Assignment not found or does not belong to the course"
DUPLICATE_SUBMISSION = "A submission already exists for this assignment and enrollment"
MANAGE_DENIED = "Not authorized to manage assignments for this course"
LIST_DENIED = "Not authorized to view assignments for this course"
ENROLLMENT_INACTIVE = "Only active or completed enrollments can submit assignments"
NOT_A_DOWNLOAD_URL = "file_urls must be download URLs of files you uploaded through /files"
NOT_YOUR_UPLOAD = "file_urls may only reference files you uploaded"
GRADED_SUBJECT = "Your submission has been graded"
CUTOFF_BEFORE_DUE = "late_cutoff_at cannot be before due_date"
SUBMISSIONS_CLOSED = "Submissions closed at {cutoff}: the assignment's late policy accepts no work after that"
_DECIMAL_FIELDS = ("weight", "late_penalty_percent_per_day", "late_penalty_max_percent")
# The grade scale when neither the request nor the assignment gives a maximum.
DEFAULT_MAX_GRADE = 100.0


def is_open_to_students(assignment: Assignment) -> bool:
    return assignment.is_published and assignment.status == "published"


# --- assignments ------------------------------------------------------------------------------

def _assignment_with_course(assignment_id: uuid.UUID) -> tuple[Assignment, Course]:
    row = db.session.execute(
        select(Assignment, Course).join(Course, Course.id == Assignment.course_id)
        .where(Assignment.id == assignment_id)
    ).one_or_none()
    if row is None:
        raise NotFound(ASSIGNMENT_NOT_FOUND)
    return row.Assignment, row.Course


def can_read_assignment(user: User, assignment: Assignment, course: Course) -> bool:
    if can_manage_course(user, course):
        return True
    return (user.is_student and course.is_published and is_open_to_students(assignment)
            and is_learning(user.id, course.id))


def get_assignment(assignment_id: uuid.UUID, user: User) -> Assignment:
    """An assignment the caller may read; 404 otherwise."""
    assignment, course = _assignment_with_course(assignment_id)
    if not can_read_assignment(user, assignment, course):
        raise NotFound(ASSIGNMENT_NOT_FOUND)
    return assignment


def _get_assignment_for_managing(assignment_id: uuid.UUID, user: User) -> Assignment:
    """An assignment of the caller's own course (404 for any other: they cannot see it)."""
    assignment, course = _assignment_with_course(assignment_id)
    if not can_teach_course(user, course):
        raise NotFound(ASSIGNMENT_NOT_FOUND)
    return assignment


def _checked_assignment_fields(data: dict[str, Any], assignment: Assignment | None = None) -> dict[str, Any]:
    """`data` with its decimals rounded; the cut-off may not precede the due date (as merged, 400)."""
    values = {name: to_decimal2(value) if name in _DECIMAL_FIELDS and value is not None else value
              for name, value in data.items()}
    due = values.get("due_date", assignment.due_date if assignment else None)
    cutoff = values.get("late_cutoff_at", assignment.late_cutoff_at if assignment else None)
    if due is not None and cutoff is not None and cutoff < due:
        raise BadRequest(CUTOFF_BEFORE_DUE)
    return values


def create_assignment(data: dict[str, Any], user: User) -> Assignment:
    """A new assignment in a course the calling instructor owns."""
    get_course_for_managing(data["course_id"], user, MANAGE_DENIED)
    assignment = Assignment(**_checked_assignment_fields(data), instructor_id=user.id)
    db.session.add(assignment)
    db.session.commit()
    return assignment


def list_course_assignments(course_id: uuid.UUID, user: User, args: dict[str, Any]) -> dict[str, Any]:
    """All of a course's assignments for its instructor and admins; the open ones for its students."""
    course = get_course_for_reading(course_id, user)
    stmt = select(Assignment).where(Assignment.course_id == course.id)
    if not can_manage_course(user, course):
        if not user.is_student or not is_learning(user.id, course.id):
            raise Forbidden(LIST_DENIED)
        stmt = stmt.where(Assignment.is_published.is_(True), Assignment.status == "published")
    return skip_limit(stmt.order_by(Assignment.created_at, Assignment.id), args, "assignments")


def update_assignment(assignment_id: uuid.UUID, data: dict[str, Any], user: User) -> Assignment:
    """Change the fields sent (publishing included) on one of the caller's assignments."""
    assignment = _get_assignment_for_managing(assignment_id, user)
    for field, value in _checked_assignment_fields(data, assignment).items():
        setattr(assignment, field, value)
    db.session.commit()
    return assignment


def delete_assignment(assignment_id: uuid.UUID, user: User) -> None:
    """Delete one of the caller's assignments with its submissions."""
    assignment = _get_assignment_for_managing(assignment_id, user)
    _record_deleted_assignments(select(Assignment.id).where(Assignment.id == assignment.id))
    db.session.delete(assignment)
    db.session.commit()


def _record_deleted_assignments(assignments: Select) -> None:
    """Tombstones for the assignments of `assignments` (a SELECT of ids) and their submissions."""
    tombstones.record("assignments", select(Assignment.id, Assignment.course_id).where(Assignment.id.in_(assignments)))
    tombstones.record("submissions", select(Submission.id, Assignment.course_id)
                      .join(Assignment, Assignment.id == Submission.assignment_id).where(Assignment.id.in_(assignments)))


@events.on(events.COURSE_DELETED)
def _record_deleted_course_assignments(course_id: uuid.UUID, **_: Any) -> None:
    """The course's assignments and submissions go with it (database cascade)."""
    _record_deleted_assignments(select(Assignment.id).where(Assignment.course_id == course_id))


# --- submissions ------------------------------------------------------------------------------

def started_days_late(due_date: datetime | None, submitted_at: datetime) -> int:
    """Days after the due date, each started day counted (a minute late is one day)."""
    if due_date is None or submitted_at <= due_date:
        return 0
    return math.ceil((submitted_at - due_date) / timedelta(days=1))


def late_penalty(assignment: Assignment, days_late: int) -> Decimal:
    """The percent of the grade that `days_late` costs under the assignment's policy."""
    if not days_late or assignment.late_penalty_percent_per_day is None:
        return Decimal("0.00")
    cap = assignment.late_penalty_max_percent if assignment.late_penalty_max_percent is not None else Decimal(100)
    return to_decimal2(min(assignment.late_penalty_percent_per_day * days_late, cap, Decimal(100)))


def _checked_file_urls(urls: list[str], user: User, request_host: str | None) -> list[str]:
    """The links to store, in order and without repeats (contract §5.33).

    The schema has let through only absolute http(s) URLs and download paths of this API. A URL of
    this API's file downloads, however spelled, must be the plain download URL of a file the caller
    uploaded (one query checks them all) and is stored as its canonical download path: that form,
    and only that, lets the grading instructor download the file. Any other link is stored as sent
    and grants nothing.
    """
    stored: list[str] = []
    uploads: dict[uuid.UUID, str] = {}
    for url in urls:
        if not points_at_downloads(url, request_host):
            stored.append(url)
            continue
        file_id = file_id_of_download_url(url, request_host)
        if file_id is None:
            raise BadRequest(f"{NOT_A_DOWNLOAD_URL}: {url}")
        uploads.setdefault(file_id, url)
        stored.append(download_path(file_id))
    _check_uploaded_by(user, uploads)
    return list(dict.fromkeys(stored))


def _check_uploaded_by(user: User, uploads: dict[uuid.UUID, str]) -> None:
    """400 naming the first URL (of `uploads`: file id -> URL as sent) of a file `user` did not upload."""
    if not uploads:
        return
    own = set(db.session.scalars(
        select(StoredFile.id).where(StoredFile.id.in_(uploads), StoredFile.uploaded_by == user.id)))
    for file_id, url in uploads.items():
        if file_id not in own:
            raise BadRequest(f"{NOT_YOUR_UPLOAD}: {url}")


@add_download_grant
def _attached_to_a_submission_graded_by(stored: StoredFile, user: User) -> bool:
    """Whether the uploader attached the file to a submission in a course `user` teaches.

    Only the file's canonical download path in `file_urls` attaches it: submissions store their own
    uploads in that form (checked when submitted) and outside links as sent, so an outside link that
    merely contains the id ("https://elsewhere.example/<id>") must grant nothing. The text search on
    the JSON narrows the rows; the exact comparison decides.
    """
    if not user.is_instructor:
        return False
    candidates = db.session.scalars(
        select(Submission.file_urls)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(Course, Course.id == Assignment.course_id)
        .join(Enrollment, Enrollment.id == Submission.enrollment_id)
        .where(Course.instructor_id == user.id, Enrollment.student_id == stored.uploaded_by,
               cast(Submission.file_urls, String).like(f"%{stored.id}%")))
    attached_as = download_path(stored.id)
    return any(attached_as in (file_urls or ()) for file_urls in candidates)


def submit(data: dict[str, Any], user: User, request_host: str | None) -> Submission:
    """The calling student's one submission for an assignment of their course (late ones are marked).

    `request_host`: the host the request came to, where links to this API's downloads may point.
    """
    enrollment = db.session.get(Enrollment, data["enrollment_id"])
    if enrollment is None or enrollment.student_id != user.id:
        raise NotFound(ENROLLMENT_NOT_FOUND)
    if not is_learning_enrollment(enrollment):
        raise Forbidden(ENROLLMENT_INACTIVE)
    row = db.session.execute(
        select(Assignment, Course.is_published.label("course_is_published"))
        .join(Course, Course.id == Assignment.course_id)
        .where(Assignment.id == data["assignment_id"])
    ).one_or_none()
    # An assignment the student may not read (a draft, an archived one, one of a course taken back
    # to draft) answers exactly like a missing one, so that it stays invisible.
    if (row is None or row.Assignment.course_id != enrollment.course_id or not row.course_is_published
            or not is_open_to_students(row.Assignment)):
        raise BadRequest(NOT_IN_COURSE)
    assignment = row.Assignment
    file_urls = data.get("file_urls")
    if file_urls:
        file_urls = _checked_file_urls(file_urls, user, request_host)
    if db.session.scalar(select(Submission.id).where(Submission.assignment_id == assignment.id,
                                                     Submission.enrollment_id == enrollment.id)):
        raise Conflict(DUPLICATE_SUBMISSION)
    now = utcnow()
    if assignment.late_cutoff_at is not None and now > assignment.late_cutoff_at:
        raise Conflict(SUBMISSIONS_CLOSED.format(cutoff=assignment.late_cutoff_at.isoformat()))
    days_late = started_days_late(assignment.due_date, now)
    submission = Submission(
        assignment_id=assignment.id, enrollment_id=enrollment.id, submitted_at=now, status="submitted",
        content=data.get("content"), file_urls=file_urls, submission_type=data.get("submission_type"),
        submission_metadata=data.get("submission_metadata"),
        is_late=days_late > 0, days_late=days_late, late_penalty_percent=late_penalty(assignment, days_late),
    )
    db.session.add(submission)
    try:
        db.session.flush()
        events.emit(events.SUBMISSION_CREATED, submission=submission)
        commit()
    except IntegrityError as exc:  # a concurrent submission won the unique (assignment, enrollment)
        db.session.rollback()
        raise Conflict(DUPLICATE_SUBMISSION) from exc
    return submission


def _submission_context(submission_id: uuid.UUID):
    row = db.session.execute(
        select(Submission, Enrollment, Assignment, Course)
        .join(Enrollment, Enrollment.id == Submission.enrollment_id)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(Course, Course.id == Assignment.course_id)
        .where(Submission.id == submission_id)
    ).one_or_none()
    if row is None:
        raise NotFound(SUBMISSION_NOT_FOUND)
    return row


def get_submission(submission_id: uuid.UUID, user: User) -> Submission:
    """The submitting student, the course's instructor or an admin; 404 for anyone else."""
    row = _submission_context(submission_id)
    if not (can_manage_course(user, row.Course) or row.Enrollment.student_id == user.id):
        raise NotFound(SUBMISSION_NOT_FOUND)
    return row.Submission


def _grading_context(submission_id: uuid.UUID, user: User):
    """A submission to an assignment of the caller's own course (404 for any other)."""
    row = _submission_context(submission_id)
    if not can_teach_course(user, row.Course):
        raise NotFound(SUBMISSION_NOT_FOUND)
    return row


def _check_grade(grade: float | None, maximum: float) -> None:
    if grade is not None and not 0 <= grade <= maximum:
        raise BadRequest(f"Grade must be between 0 and {maximum:g}")


def _default_max_grade(assignment: Assignment) -> float:
    return float(assignment.max_points) if assignment.max_points is not None else DEFAULT_MAX_GRADE


def update_submission(submission_id: uuid.UUID, data: dict[str, Any], user: User) -> Submission:
    """Partial update by the course's instructor; the grade stays within 0..max."""
    row = _grading_context(submission_id, user)
    submission = row.Submission
    merged = {"grade": submission.grade, "max_grade": submission.max_grade, **data}
    maximum = merged["max_grade"] if merged["max_grade"] is not None else _default_max_grade(row.Assignment)
    _check_grade(merged["grade"], maximum)
    previous_grade = (submission.grade, submission.max_grade)
    for field, value in data.items():
        setattr(submission, field, value)
    now = utcnow()
    newly_graded = data.get("status") == "graded" and submission.graded_at is None
    if newly_graded:
        submission.graded_at = now
    if newly_graded or (submission.grade, submission.max_grade) != previous_grade:
        events.emit(events.SUBMISSION_GRADED, submission=submission, previous_grade=previous_grade[0])
    if data.get("status") == "returned" and submission.returned_at is None:
        submission.returned_at = now
    commit()
    return submission


def grade_submission(submission_id: uuid.UUID, data: dict[str, Any], user: User) -> Submission:
    """Grade a submission of the caller's course, then mail the student."""
    row = _grading_context(submission_id, user)
    submission, assignment = row.Submission, row.Assignment
    maximum = data["max_grade"] if data.get("max_grade") is not None else _default_max_grade(assignment)
    _check_grade(data["grade"], maximum)
    previous_grade = submission.grade
    submission.grade = data["grade"]
    submission.max_grade = maximum
    submission.feedback = data["feedback"]
    submission.feedback_attachments = data["feedback_attachments"]
    submission.status = "graded"
    submission.graded_at = utcnow()
    events.emit(events.SUBMISSION_GRADED, submission=submission, previous_grade=previous_grade)
    student_email, student_name = db.session.execute(
        select(User.email, User.full_name).where(User.id == row.Enrollment.student_id)).one()
    assignment_title, course_title = assignment.title, row.Course.title
    commit()
    send_email(student_email, GRADED_SUBJECT, "email/submission_graded.txt", student_name=student_name,
               assignment_title=assignment_title, course_title=course_title, grade=data["grade"],
               max_grade=maximum, feedback=data["feedback"])
    return submission


def _submission_page(stmt: Select, args: dict[str, Any]) -> dict[str, Any]:
    return skip_limit(stmt.order_by(Submission.submitted_at, Submission.id), args, "submissions")


def list_assignment_submissions(assignment_id: uuid.UUID, user: User, args: dict[str, Any]) -> dict[str, Any]:
    """Every submission to an assignment, for the course's instructor or an admin."""
    assignment, course = _assignment_with_course(assignment_id)
    if not can_manage_course(user, course):
        raise NotFound(ASSIGNMENT_NOT_FOUND)
    return _submission_page(select(Submission).where(Submission.assignment_id == assignment.id), args)


def list_enrollment_submissions(enrollment_id: uuid.UUID, user: User, args: dict[str, Any]) -> dict[str, Any]:
    """An enrollment's submissions, for its student, the course's instructor or an admin."""
    row = db.session.execute(
        select(Enrollment, Course).join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.id == enrollment_id)
    ).one_or_none()
    if row is None or not (can_manage_course(user, row.Course)
                           or row.Enrollment.student_id == user.id):
        raise NotFound(ENROLLMENT_NOT_FOUND)
    return _submission_page(select(Submission).where(Submission.enrollment_id == row.Enrollment.id), args)
