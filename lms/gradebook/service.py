"""A course's gradebook: one row per enrollment, built by one statement whatever the class size.

The columns are the course's published quizzes and published assignments (two statements). The rows
are one statement: each enrollment with its student, a correlated subquery per quiz for the best
graded percentage, and an outer join per assignment to the student's submission. A page of JSON
runs it with a COUNT; the CSV export runs it once through a server-side cursor (`stream_rows`), so
that memory stays flat however many students the course has.

Weighted total: the mean of the percentages graded so far, each weighted by its quiz's or
assignment's `weight` (1 by default, so all weigh the same); work not yet graded (or not submitted)
is left out rather than counted as zero, and a weight of 0 leaves an item out.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, and_, func, select
from sqlalchemy.orm import aliased

from lms.assignments.models import Assignment, Submission
from lms.assignments.service import DEFAULT_MAX_GRADE
from lms.core.db import stream_rows
from lms.core.extensions import db
from lms.core.pagination import paginate
from lms.core.schemas import to_decimal2
from lms.courses.models import Course
from lms.courses.service import get_course_for_managing
from lms.enrollments.models import Enrollment
from lms.quizzes.models import Quiz, QuizAttempt
from lms.users.models import User

GRADEBOOK_DENIED = "Not authorized to view this course's gradebook"
CSV_BATCH_ROWS = 500
# A cell starting with one of these is a formula to a spreadsheet: such text is prefixed with "'".
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SUBMISSION_FIELDS = ("id", "status", "grade", "max_grade", "is_late", "days_late", "late_penalty_percent")


@dataclass(frozen=True)
class Columns:
    quizzes: list[Row]
    assignments: list[Row]


def _columns(course_id: uuid.UUID) -> Columns:
    quizzes = db.session.execute(
        select(Quiz.id, Quiz.title, Quiz.weight)
        .where(Quiz.course_id == course_id, Quiz.is_published.is_(True))
        .order_by(Quiz.created_at, Quiz.id)).all()
    assignments = db.session.execute(
        select(Assignment.id, Assignment.title, Assignment.weight, Assignment.max_points, Assignment.due_date)
        .where(Assignment.course_id == course_id, Assignment.is_published.is_(True))
        .order_by(Assignment.created_at, Assignment.id)).all()
    return Columns(quizzes, assignments)


def _rows_statement(course_id: uuid.UUID, columns: Columns) -> Select:
    stmt = (select(Enrollment.id.label("enrollment_id"), Enrollment.student_id, Enrollment.status,
                   Enrollment.progress_percentage, User.full_name, User.email)
            .join(User, User.id == Enrollment.student_id)
            .where(Enrollment.course_id == course_id))
    for index, quiz in enumerate(columns.quizzes):
        best = (select(func.max(QuizAttempt.percentage))
                .where(QuizAttempt.enrollment_id == Enrollment.id, QuizAttempt.quiz_id == quiz.id,
                       QuizAttempt.status == "graded")
                .correlate(Enrollment).scalar_subquery())
        stmt = stmt.add_columns(best.label(f"quiz_{index}"))
    for index, assignment in enumerate(columns.assignments):
        submission = aliased(Submission)
        stmt = stmt.outerjoin(submission, and_(submission.enrollment_id == Enrollment.id,
                                               submission.assignment_id == assignment.id))
        stmt = stmt.add_columns(*(getattr(submission, field).label(f"a{index}_{field}")
                                  for field in _SUBMISSION_FIELDS))
    return stmt.order_by(User.full_name, Enrollment.id)


def _assignment_grade(row: Row, index: int, assignment: Row) -> dict[str, Any]:
    values = {field: getattr(row, f"a{index}_{field}") for field in _SUBMISSION_FIELDS}
    grade = values["grade"]
    final_grade = percentage = None
    if grade is not None:
        final_grade = round(grade * (100 - float(values["late_penalty_percent"] or 0)) / 100, 2)
        maximum = values["max_grade"] or (float(assignment.max_points) if assignment.max_points else DEFAULT_MAX_GRADE)
        percentage = to_decimal2(Decimal(str(final_grade)) * 100 / Decimal(str(maximum)))
    return {"assignment_id": assignment.id, "submission_id": values["id"], "status": values["status"],
            "grade": grade, "final_grade": final_grade, "max_grade": values["max_grade"], "percentage": percentage,
            "is_late": values["is_late"], "days_late": values["days_late"],
            "late_penalty_percent": values["late_penalty_percent"]}


def _weighted_total(scored: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    """The weighted mean of (percentage, weight) pairs; None when no weight counts."""
    weights = sum((weight for _, weight in scored), Decimal(0))
    if not weights:
        return None
    return to_decimal2(sum((percentage * weight for percentage, weight in scored), Decimal(0)) / weights)


def gradebook_row(row: Row, columns: Columns) -> dict[str, Any]:
    quiz_scores = [{"quiz_id": quiz.id, "best_percentage": getattr(row, f"quiz_{index}")}
                   for index, quiz in enumerate(columns.quizzes)]
    grades = [_assignment_grade(row, index, assignment) for index, assignment in enumerate(columns.assignments)]
    scored = ([(Decimal(score["best_percentage"]), quiz.weight)
               for score, quiz in zip(quiz_scores, columns.quizzes) if score["best_percentage"] is not None]
              + [(grade["percentage"], assignment.weight)
                 for grade, assignment in zip(grades, columns.assignments) if grade["percentage"] is not None])
    return {"enrollment_id": row.enrollment_id, "student_id": row.student_id, "student_name": row.full_name,
            "student_email": row.email, "enrollment_status": row.status,
            "progress_percentage": row.progress_percentage, "quiz_scores": quiz_scores,
            "assignment_grades": grades, "weighted_total": _weighted_total(scored)}


def _managed_course_columns(course_id: uuid.UUID, user: User) -> tuple[Course, Columns]:
    course = get_course_for_managing(course_id, user, GRADEBOOK_DENIED)
    return course, _columns(course.id)


def gradebook_page(course_id: uuid.UUID, user: User, args: dict[str, Any]) -> dict[str, Any]:
    """A page of the gradebook, students by name, for the course's instructor or an admin."""
    course, columns = _managed_course_columns(course_id, user)
    page = paginate(_rows_statement(course.id, columns), args, scalars=False)
    return {**page, "course_id": course.id, "quizzes": columns.quizzes, "assignments": columns.assignments,
            "items": [gradebook_row(row, columns) for row in page["items"]]}


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def _csv_header(columns: Columns) -> list[str]:
    header = ["student_id", "student_name", "student_email", "enrollment_status", "progress_percentage"]
    header += [f"quiz: {quiz.title} [best %]" for quiz in columns.quizzes]
    for assignment in columns.assignments:
        header += [f"assignment: {assignment.title} [{part}]" for part in ("grade", "final grade", "%", "days late")]
    return header + ["weighted_total"]


def _csv_record(row: dict[str, Any]) -> list[Any]:
    record = [row["student_id"], row["student_name"], row["student_email"], row["enrollment_status"],
              to_decimal2(row["progress_percentage"])]
    record += [score["best_percentage"] for score in row["quiz_scores"]]
    for grade in row["assignment_grades"]:
        record += [grade["grade"], grade["final_grade"], grade["percentage"], grade["days_late"]]
    return record + [row["weighted_total"]]


def gradebook_csv(course_id: uuid.UUID, user: User) -> tuple[str, Iterator[str]]:
    """The whole gradebook as CSV: a file name and its text, produced batch by batch as it is read.

    Access is checked now; the rows are read while the answer is sent.
    """
    course, columns = _managed_course_columns(course_id, user)
    return f"gradebook-{course.slug}.csv", _csv_lines(_rows_statement(course.id, columns), columns)


def _csv_lines(stmt: Select, columns: Columns) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_cell(name) for name in _csv_header(columns)])
    for batch in stream_rows(stmt, CSV_BATCH_ROWS).partitions():
        for row in batch:
            writer.writerow([_cell(value) for value in _csv_record(gradebook_row(row, columns))])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
