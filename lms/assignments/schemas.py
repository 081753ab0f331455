"""Assignment and submission bodies (contract §4.11, §5.4, §5.20)."""

from __future__ import annotations

import marshmallow as ma

from lms.assignments.models import ASSIGNMENT_STATUSES, SUBMISSION_STATUSES
from lms.core.schemas import (
    Boolean,
    Decimal2,
    DecimalInput,
    HttpUrl,
    Integer,
    UTCDateTime,
    non_negative_int,
    one_of,
)
from lms.files.urls import download_path, file_id_of_download_path

MAX_FILE_URLS = 20
MAX_WEIGHT = 1000
_WEIGHT = ("Its share of the course gradebook's weighted total, relative to the weights of the course's other "
           "published quizzes and assignments (1 by default: all weigh the same; 0 leaves it out of the total)")
_PER_DAY = ("Late policy: percent of the grade lost per started day after `due_date` (null: no penalty); the "
            "penalty is fixed when the work is submitted")
_MAX_PENALTY = "Late policy: the most a late submission can lose, in percent (null: up to 100)"
_CUTOFF = ("Late policy: no submission is accepted after this instant (409); null: late work is always accepted. "
           "Not before `due_date`")


def _urls(**kwargs) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=2048)),
                          validate=ma.validate.Length(max=MAX_FILE_URLS), **kwargs)


class SubmissionFileUrl(HttpUrl):
    """A link to submitted work: an absolute http(s) URL, or the download path of an upload.

    Whose upload a download URL names is the service's question (it needs the database); here only
    the form is checked, so that a malformed value is a 422 naming its place in the list.
    """

    def __init__(self, **kwargs):
        super().__init__(metadata={"format": "uri-reference", **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
            if file_id_of_download_path(value) is None:
                raise ma.ValidationError(
                    f"Not a valid URL: the only paths accepted are file downloads, {download_path('<id>')}.")
            return value
        return super()._deserialize(value, attr, data, **kwargs)


_FILE_URLS = (
    "Links to the work: absolute http(s) URLs of documents kept elsewhere, stored as sent; or download "
    "URLs of files the caller uploaded through /files (/api/v1/files/download/<id>, relative or absolute "
    "on this API's host), stored in that relative form, which the instructor grading the submission may "
    "download. A download URL of a file someone else uploaded is a 400."
)


# --- assignments ------------------------------------------------------------------------------

class AssignmentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    course_id = ma.fields.UUID(required=True)
    instructor_id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    instructions = ma.fields.String(allow_none=True)
    due_date = UTCDateTime(allow_none=True)
    max_points = Integer(allow_none=True)
    grading_type = ma.fields.String(allow_none=True)
    assignment_metadata = ma.fields.Dict(allow_none=True)
    status = ma.fields.String(required=True)
    is_published = ma.fields.Boolean(required=True)
    weight = Decimal2(required=True, metadata={"description": _WEIGHT})
    late_penalty_percent_per_day = Decimal2(allow_none=True, metadata={"description": _PER_DAY})
    late_penalty_max_percent = Decimal2(allow_none=True, metadata={"description": _MAX_PENALTY})
    late_cutoff_at = UTCDateTime(allow_none=True, metadata={"description": _CUTOFF})
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class _AssignmentFields(ma.Schema):
    """What an instructor may set on an assignment; `title`, `status` and `is_published` are never null."""

    title = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    description = ma.fields.String(allow_none=True)
    instructions = ma.fields.String(allow_none=True)
    due_date = UTCDateTime(allow_none=True)
    max_points = Integer(allow_none=True, validate=non_negative_int)
    grading_type = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=50))
    assignment_metadata = ma.fields.Dict(allow_none=True)
    status = ma.fields.String(validate=one_of(*ASSIGNMENT_STATUSES))
    is_published = Boolean()
    weight = DecimalInput(minimum=0, maximum=MAX_WEIGHT, metadata={"description": _WEIGHT})
    late_penalty_percent_per_day = DecimalInput(minimum=0, maximum=100, allow_none=True,
                                                metadata={"description": _PER_DAY})
    late_penalty_max_percent = DecimalInput(minimum=0, maximum=100, allow_none=True,
                                            metadata={"description": _MAX_PENALTY})
    late_cutoff_at = UTCDateTime(allow_none=True, metadata={"description": _CUTOFF})


class AssignmentCreateSchema(_AssignmentFields):
    course_id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    status = ma.fields.String(load_default="draft", validate=one_of(*ASSIGNMENT_STATUSES))
    is_published = Boolean(load_default=False)


class AssignmentUpdateSchema(_AssignmentFields):
    """Partial: only the fields sent are changed."""


# --- submissions ------------------------------------------------------------------------------

class SubmissionSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    assignment_id = ma.fields.UUID(required=True)
    enrollment_id = ma.fields.UUID(required=True)
    submitted_at = UTCDateTime(required=True)
    graded_at = UTCDateTime(allow_none=True)
    returned_at = UTCDateTime(allow_none=True)
    status = ma.fields.String(required=True)
    content = ma.fields.String(allow_none=True)
    file_urls = ma.fields.List(ma.fields.String(), allow_none=True)
    submission_type = ma.fields.String(allow_none=True)
    submission_metadata = ma.fields.Dict(allow_none=True)
    grade = ma.fields.Float(allow_none=True)
    max_grade = ma.fields.Float(allow_none=True)
    feedback = ma.fields.String(allow_none=True)
    feedback_attachments = ma.fields.List(ma.fields.String(), allow_none=True)
    is_late = ma.fields.Boolean(required=True, metadata={"description": "Submitted after the due date"})
    days_late = Integer(required=True, metadata={"description": "Started days after the due date (0 when on time)"})
    late_penalty_percent = Decimal2(required=True, metadata={
        "description": "Percent of the grade the late policy takes, fixed when the work was submitted"})
    final_grade = ma.fields.Float(allow_none=True, metadata={
        "description": "The grade after the late penalty (what the gradebook counts); `grade` is the raw grade"})
    updated_at = UTCDateTime(required=True, metadata={"description": "Last change (filter lists with `updated_since`)"})


_SERVER_SET = {"description": "Ignored: the server sets it (contract §5.20)"}


class SubmissionCreateSchema(ma.Schema):
    assignment_id = ma.fields.UUID(required=True)
    enrollment_id = ma.fields.UUID(required=True, metadata={"description": "The caller's own enrollment"})
    content = ma.fields.String(allow_none=True)
    file_urls = ma.fields.List(SubmissionFileUrl(), allow_none=True, validate=ma.validate.Length(max=MAX_FILE_URLS),
                               metadata={"description": _FILE_URLS})
    submission_type = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=50))
    submission_metadata = ma.fields.Dict(allow_none=True)
    # Accepted for compatibility with existing clients, then dropped.
    submitted_at = ma.fields.String(allow_none=True, load_only=True, metadata=_SERVER_SET)
    status = ma.fields.String(allow_none=True, load_only=True, metadata=_SERVER_SET)


# The grade's bounds are checked against the maximum in force, by the service (a 400 naming them).
_GRADE = {"minimum": 0, "description": "From 0 to max_grade (the one sent, else the submission's, else the "
                                       "assignment's max_points, else 100); outside that a 400"}


def _grade_field(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(allow_nan=False, **kwargs)


class SubmissionUpdateSchema(ma.Schema):
    """Partial update by the owning instructor."""

    grade = _grade_field(allow_none=True, metadata=_GRADE)
    max_grade = _grade_field(allow_none=True, validate=ma.validate.Range(min=0, min_inclusive=False))
    feedback = ma.fields.String(allow_none=True)
    feedback_attachments = _urls(allow_none=True)
    status = ma.fields.String(validate=one_of(*SUBMISSION_STATUSES))
    graded_at = UTCDateTime(allow_none=True)
    returned_at = UTCDateTime(allow_none=True)


class GradeSchema(ma.Schema):
    grade = _grade_field(required=True, metadata=_GRADE)
    max_grade = _grade_field(allow_none=True, validate=ma.validate.Range(min=0, min_inclusive=False),
                             metadata={"description": "Defaults to the assignment's max_points (else 100)"})
    feedback = ma.fields.String(load_default="")
    feedback_attachments = _urls(load_default=list)
