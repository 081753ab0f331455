"""Enrollment, lesson progress and review bodies and objects (contract §4.4)."""

from __future__ import annotations

import marshmallow as ma

from lms.core.pagination import page_schema
from lms.core.schemas import Decimal2, DecimalInput, Integer, UTCDateTime, non_negative_int, one_of
from lms.enrollments.models import ENROLLMENT_STATUSES, PROGRESS_STATUSES


class EnrollmentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    student_id = ma.fields.UUID(required=True)
    course_id = ma.fields.UUID(required=True)
    enrolled_at = UTCDateTime(required=True)
    started_at = UTCDateTime(allow_none=True)
    completed_at = UTCDateTime(allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": list(ENROLLMENT_STATUSES)})
    progress_percentage = Decimal2(required=True)
    completed_lessons_count = Integer(required=True)
    total_lessons_count = Integer(required=True)
    total_time_spent_seconds = Integer(required=True)
    last_accessed_at = UTCDateTime(allow_none=True)
    certificate_issued_at = UTCDateTime(allow_none=True)
    rating = Integer(allow_none=True)
    review = ma.fields.String(allow_none=True)
    updated_at = UTCDateTime(required=True, metadata={"description": "Last change (filter lists with `updated_since`)"})


EnrollmentPageSchema = page_schema(EnrollmentSchema)


class EnrollmentCreateSchema(ma.Schema):
    course_id = ma.fields.UUID(required=True)


class LessonProgressSchema(ma.Schema):
    """A lesson's progress; `notes` are stored but never returned."""

    id = ma.fields.UUID(required=True)
    enrollment_id = ma.fields.UUID(required=True)
    lesson_id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(PROGRESS_STATUSES)})
    started_at = UTCDateTime(allow_none=True)
    completed_at = UTCDateTime(allow_none=True)
    time_spent_seconds = Integer(required=True)
    last_position_seconds = Integer(required=True)
    completion_percentage = Decimal2(required=True)
    updated_at = UTCDateTime(required=True, metadata={"description": "Last change (filter lists with `updated_since`)"})


class LessonProgressUpdateSchema(ma.Schema):
    """The values to set (not add); every field is optional."""

    status = ma.fields.String(validate=one_of(*PROGRESS_STATUSES))
    time_spent_seconds = Integer(validate=non_negative_int)
    last_position_seconds = Integer(validate=non_negative_int)
    completion_percentage = DecimalInput(minimum=0, maximum=100)
    notes = ma.fields.String()


def _at_least_ten_visible_characters(text: str) -> None:
    if len(text.strip()) < 10:
        raise ma.ValidationError("Shorter than minimum length 10 (leading and trailing spaces not counted).")


class ReviewSchema(ma.Schema):
    rating = Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=5))
    review = ma.fields.String(required=True, validate=[ma.validate.Length(max=2000), _at_least_ten_visible_characters],
                              metadata={"minLength": 10, "description": "10 to 2000 characters, not counting "
                                                                        "leading and trailing spaces"})


class CourseEnrollmentStatsSchema(ma.Schema):
    course_id = ma.fields.UUID(required=True)
    total_enrollments = Integer(required=True)
    active_enrollments = Integer(required=True)
    completed_enrollments = Integer(required=True)
    average_progress = Decimal2(required=True)
