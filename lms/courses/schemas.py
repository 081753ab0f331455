"""Course and lesson bodies, queries and objects (contract §4.2, §4.3)."""

from __future__ import annotations

import unicodedata

import marshmallow as ma

from lms.core.pagination import PageQuerySchema, list_schema, page_schema
from lms.core.schemas import NULL_REFUSED, Boolean, Decimal2, HttpUrl, Integer, UTCDateTime, non_negative_int, one_of, positive_int
from lms.courses.models import DIFFICULTY_LEVELS, LESSON_TYPES


def _fetchable(slug: str) -> None:
    """A slug is a path segment of `GET /courses/slug/{slug}`: a `/` could never be fetched, and
    control or formatting characters (a right-to-left override) make a link that reads as another."""
    if "/" in slug or any(unicodedata.category(character) in ("Cc", "Cf") for character in slug):
        raise ma.ValidationError("Slug must not contain '/' or control or formatting characters")


def _slug_field(**kwargs) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=[ma.validate.Length(min=3, max=255), _fetchable], **kwargs)


def _optional_string(max_length: int | None = None, **kwargs) -> ma.fields.String:
    validate = ma.validate.Length(max=max_length) if max_length else None
    return ma.fields.String(allow_none=True, validate=validate, **kwargs)


# --- courses -------------------------------------------------------------------------------------

class CourseSchema(ma.Schema):
    """A course. The figures (lessons, enrollments, rating, reviews, instructor name) are computed
    from the data and take precedence over the compatibility values a client may have stored."""

    id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    instructor_id = ma.fields.UUID(required=True)
    category = ma.fields.String(allow_none=True)
    difficulty_level = ma.fields.String(allow_none=True, metadata={"enum": list(DIFFICULTY_LEVELS)})
    is_published = ma.fields.Boolean(required=True)
    thumbnail_url = ma.fields.String(allow_none=True)
    estimated_duration_minutes = Integer(allow_none=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)
    # "Frontend compatibility" fields, stored as the client sent them.
    price = ma.fields.Float(allow_none=True)
    currency = ma.fields.String(allow_none=True)
    is_free = ma.fields.Boolean(allow_none=True)
    long_description = ma.fields.String(allow_none=True)
    preview_video_url = ma.fields.String(allow_none=True)
    requirements = ma.fields.List(ma.fields.String(), allow_none=True)
    learning_objectives = ma.fields.List(ma.fields.String(), allow_none=True)
    total_quizzes = Integer(allow_none=True)
    status = ma.fields.String(allow_none=True)
    # Computed figures.
    instructor_name = ma.fields.String(allow_none=True)
    total_lessons = Integer(attribute="computed_total_lessons", allow_none=True)
    enrollment_count = Integer(attribute="computed_enrollment_count", allow_none=True)
    average_rating = Decimal2(attribute="computed_average_rating", allow_none=True,
                              metadata={"description": "Mean review rating (1-5); null without reviews"})
    rating = Decimal2(attribute="computed_average_rating", allow_none=True, dump_only=True,
                      metadata={"description": "Same as average_rating"})
    review_count = Integer(attribute="computed_review_count", allow_none=True)
    total_reviews = Integer(attribute="computed_review_count", allow_none=True, dump_only=True,
                                      metadata={"description": "Same as review_count"})
    duration_hours = ma.fields.Method("dump_duration_hours", allow_none=True,
                                      metadata={"type": "number", "description": "estimated_duration_minutes / 60"})

    def dump_duration_hours(self, course) -> float | None:
        minutes = course.estimated_duration_minutes
        return None if minutes is None else round(minutes / 60, 2)


CoursePageSchema = page_schema(CourseSchema)


_COMPUTED = {"readOnly": True, "description": "Computed by the server from the course's enrollments; ignored if sent"}


class CourseFieldsSchema(ma.Schema):
    """The fields CourseCreate and CourseUpdate share."""

    description = _optional_string()
    category = _optional_string(100)
    difficulty_level = ma.fields.String(allow_none=True, validate=one_of(*DIFFICULTY_LEVELS))
    thumbnail_url = _optional_string()
    estimated_duration_minutes = Integer(allow_none=True, validate=positive_int)
    extra_metadata = ma.fields.Dict(data_key="metadata", allow_none=True)
    price = ma.fields.Float(allow_none=True, allow_nan=False, validate=ma.validate.Range(min=0))
    currency = _optional_string(3)
    is_free = Boolean(allow_none=True)
    long_description = _optional_string()
    preview_video_url = _optional_string()
    requirements = ma.fields.List(ma.fields.String(), allow_none=True)
    learning_objectives = ma.fields.List(ma.fields.String(), allow_none=True)
    total_quizzes = Integer(allow_none=True, validate=non_negative_int)
    # Figures the server computes from enrollments and reviews: existing clients may send them, so
    # they are still checked, then dropped (`drop_computed_figures`).
    total_reviews = Integer(allow_none=True, validate=non_negative_int, metadata=_COMPUTED)
    enrollment_count = Integer(allow_none=True, validate=non_negative_int, metadata=_COMPUTED)
    average_rating = ma.fields.Float(allow_none=True, allow_nan=False, validate=ma.validate.Range(min=0, max=5),
                                     metadata=_COMPUTED)
    status = _optional_string(20)

    @ma.post_load
    def drop_computed_figures(self, data: dict, **_kwargs) -> dict:
        for name in ("total_reviews", "enrollment_count", "average_rating"):
            data.pop(name, None)
        return data


class CourseCreateSchema(CourseFieldsSchema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=255))
    slug = _slug_field(metadata={"description": "Defaults to a slug of the title; no `/`, control or formatting characters"})


class CourseUpdateSchema(CourseFieldsSchema):
    """Partial update; an explicit null for `title` or `is_published` is a 400."""

    title = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=3, max=255), metadata=NULL_REFUSED)
    is_published = Boolean(allow_none=True, metadata=NULL_REFUSED)


class CourseQuerySchema(PageQuerySchema):
    category = ma.fields.String(validate=ma.validate.Length(max=100))
    difficulty_level = ma.fields.String(validate=one_of(*DIFFICULTY_LEVELS))
    search = ma.fields.String(validate=ma.validate.Length(max=255),
                              metadata={"description": "Case-insensitive substring of title or description"})
    mine = ma.fields.Boolean(load_default=False,
                             metadata={"description": "Only the caller's own courses, drafts included"})


# --- lessons -------------------------------------------------------------------------------------

class LessonSchema(ma.Schema):
    """A lesson. `content` and `video_url` are null for readers who may not see them (§5.18)."""

    id = ma.fields.UUID(required=True)
    course_id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    content = ma.fields.String(allow_none=True)
    lesson_type = ma.fields.String(required=True, metadata={"enum": list(LESSON_TYPES)})
    order_index = Integer(required=True)
    parent_lesson_id = ma.fields.UUID(allow_none=True)
    duration_minutes = Integer(allow_none=True)
    video_url = ma.fields.String(allow_none=True)
    is_preview = ma.fields.Boolean(required=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


LessonListSchema = list_schema(LessonSchema, "items")


class LessonFieldsSchema(ma.Schema):
    """The fields LessonCreate and LessonUpdate share. `video_link` is accepted for `video_url`."""

    slug = _slug_field()
    description = _optional_string()
    content = _optional_string()
    parent_lesson_id = ma.fields.UUID(allow_none=True)
    duration_minutes = Integer(allow_none=True, validate=positive_int)
    video_url = HttpUrl(allow_none=True, metadata={"description": "http(s) URL, video lessons only (alias video_link)"})
    extra_metadata = ma.fields.Dict(data_key="metadata", allow_none=True)

    @ma.pre_load
    def accept_video_link(self, data, **kwargs):
        if isinstance(data, dict) and "video_link" in data:
            if "video_url" in data:
                raise ma.ValidationError("Send either video_url or video_link, not both.", "video_link")
            data = {**data}
            data["video_url"] = data.pop("video_link")
        return data


class LessonCreateSchema(LessonFieldsSchema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=255))
    lesson_type = ma.fields.String(required=True, validate=one_of(*LESSON_TYPES))
    order_index = Integer(validate=positive_int,
                                    metadata={"description": "Defaults to the course's highest + 1"})
    is_preview = Boolean(load_default=False)


class LessonUpdateSchema(LessonFieldsSchema):
    """Partial update; an explicit null for title, lesson_type, order_index or is_preview is a 400."""

    title = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=3, max=255), metadata=NULL_REFUSED)
    lesson_type = ma.fields.String(allow_none=True, validate=one_of(*LESSON_TYPES), metadata=NULL_REFUSED)
    order_index = Integer(allow_none=True, validate=positive_int, metadata=NULL_REFUSED)
    is_preview = Boolean(allow_none=True, metadata=NULL_REFUSED)
