"""The gradebook's query and answer bodies."""

from __future__ import annotations

import marshmallow as ma

from lms.core.pagination import PageQuerySchema
from lms.core.schemas import Decimal2, Integer, UTCDateTime, one_of

FORMATS = ("json", "csv")


class GradebookQuerySchema(PageQuerySchema):
    """A report computed at each read from many tables, so it has no sync mode (`updated_since`,
    `after`): a client re-reads it; what changed underneath is in `GET /changes`."""

    class Meta:
        exclude = ("updated_since", "after")

    format = ma.fields.String(validate=one_of(*FORMATS), metadata={
        "description": "`csv` streams every row as CSV (as `Accept: text/csv` does; paging then does not apply), "
                       "`json` answers a page of JSON whatever `Accept` says; absent: `Accept` decides"})


class GradebookQuizSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True)
    weight = Decimal2(required=True)


class GradebookAssignmentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True)
    weight = Decimal2(required=True)
    max_points = Integer(allow_none=True)
    due_date = UTCDateTime(allow_none=True)


class QuizScoreSchema(ma.Schema):
    quiz_id = ma.fields.UUID(required=True)
    best_percentage = Decimal2(allow_none=True, metadata={
        "description": "The best percentage of the student's graded attempts; null: none graded"})


class AssignmentGradeSchema(ma.Schema):
    assignment_id = ma.fields.UUID(required=True)
    submission_id = ma.fields.UUID(allow_none=True, metadata={"description": "Null: nothing submitted"})
    status = ma.fields.String(allow_none=True)
    grade = ma.fields.Float(allow_none=True, metadata={"description": "The raw grade the instructor gave"})
    final_grade = ma.fields.Float(allow_none=True, metadata={"description": "The grade after the late penalty"})
    max_grade = ma.fields.Float(allow_none=True)
    percentage = Decimal2(allow_none=True, metadata={"description": "final_grade / max_grade, in percent"})
    is_late = ma.fields.Boolean(allow_none=True)
    days_late = Integer(allow_none=True)
    late_penalty_percent = Decimal2(allow_none=True)


class GradebookRowSchema(ma.Schema):
    enrollment_id = ma.fields.UUID(required=True)
    student_id = ma.fields.UUID(required=True)
    student_name = ma.fields.String(required=True)
    student_email = ma.fields.String(required=True)
    enrollment_status = ma.fields.String(required=True)
    progress_percentage = Decimal2(required=True)
    quiz_scores = ma.fields.List(ma.fields.Nested(QuizScoreSchema), required=True,
                                 metadata={"description": "One per quiz, in the order of `quizzes`"})
    assignment_grades = ma.fields.List(ma.fields.Nested(AssignmentGradeSchema), required=True,
                                       metadata={"description": "One per assignment, in the order of `assignments`"})
    weighted_total = Decimal2(allow_none=True, metadata={
        "description": "Weighted mean of the percentages graded so far (quizzes' best, assignments' after the late "
                       "penalty); null while nothing is graded"})


class GradebookSchema(ma.Schema):
    course_id = ma.fields.UUID(required=True)
    quizzes = ma.fields.List(ma.fields.Nested(GradebookQuizSchema), required=True,
                             metadata={"description": "The course's published quizzes, oldest first"})
    assignments = ma.fields.List(ma.fields.Nested(GradebookAssignmentSchema), required=True,
                                 metadata={"description": "The course's published assignments, oldest first"})
    items = ma.fields.List(ma.fields.Nested(GradebookRowSchema), required=True)
    total = Integer(required=True)
    page = Integer(required=True)
    page_size = Integer(required=True)
    total_pages = Integer(required=True)
