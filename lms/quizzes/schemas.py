"""Request and response bodies of quizzes, questions and attempts (contract §4.5–4.7)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import marshmallow as ma

from lms.core.pagination import sync_fields
from lms.core.schemas import Boolean, Decimal2, DecimalInput, Integer, UTCDateTime, one_of, positive_int
from lms.quizzes.models import ATTEMPT_STATUSES, QUESTION_TYPES, QUIZ_TYPES

# Bounds that keep values inside their columns (int4, NUMERIC(8,2)), so they are a 422, never a 500.
MAX_QUESTION_POINTS = 1000
MAX_WEIGHT = 1000
_WEIGHT = ("Its share of the course gradebook's weighted total, relative to the weights of the course's other "
           "published quizzes and assignments (1 by default: all weigh the same; 0 leaves it out of the total)")


# --- quizzes -----------------------------------------------------------------------------------

class QuizSchema(ma.Schema):
    id = ma.fields.UUID()
    lesson_id = ma.fields.UUID()
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    quiz_type = ma.fields.String()
    time_limit_minutes = Integer(allow_none=True)
    passing_score = Decimal2()
    max_attempts = Integer(allow_none=True)
    shuffle_questions = ma.fields.Boolean()
    shuffle_options = ma.fields.Boolean()
    show_correct_answers = ma.fields.Boolean()
    is_published = ma.fields.Boolean()
    weight = Decimal2(metadata={"description": _WEIGHT})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class QuizListItemSchema(QuizSchema):
    """A quiz in a list: its summary with its figures."""

    total_questions = Integer()
    total_points = Decimal2()

    class Meta:
        exclude = ("lesson_id", "shuffle_questions", "shuffle_options", "show_correct_answers", "weight",
                   "created_at")


class QuizListSchema(ma.Schema):
    quizzes = ma.fields.List(ma.fields.Nested(QuizListItemSchema), required=True)
    total = Integer(required=True)
    next_cursor = sync_fields()["next_cursor"]
    until = sync_fields()["until"]


class QuizCreateSchema(ma.Schema):
    lesson_id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=255))
    description = ma.fields.String(allow_none=True)
    quiz_type = ma.fields.String(load_default="graded", validate=one_of(*QUIZ_TYPES))
    time_limit_minutes = Integer(allow_none=True, validate=positive_int)
    passing_score = DecimalInput(minimum=0, maximum=100, load_default=Decimal("70"))
    max_attempts = Integer(allow_none=True, validate=positive_int)
    shuffle_questions = Boolean(load_default=True)
    shuffle_options = Boolean(load_default=True)
    show_correct_answers = Boolean(load_default=True)
    weight = DecimalInput(minimum=0, maximum=MAX_WEIGHT, load_default=Decimal("1"), metadata={"description": _WEIGHT})


class QuizUpdateSchema(ma.Schema):
    """Partial; a null value leaves the field as it is (contract §4.5)."""

    lesson_id = ma.fields.UUID(allow_none=True)
    title = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=3, max=255))
    description = ma.fields.String(allow_none=True)
    quiz_type = ma.fields.String(allow_none=True, validate=one_of(*QUIZ_TYPES))
    time_limit_minutes = Integer(allow_none=True, validate=positive_int)
    passing_score = DecimalInput(minimum=0, maximum=100, allow_none=True)
    max_attempts = Integer(allow_none=True, validate=positive_int)
    shuffle_questions = Boolean(allow_none=True)
    shuffle_options = Boolean(allow_none=True)
    show_correct_answers = Boolean(allow_none=True)
    is_published = Boolean(allow_none=True)
    weight = DecimalInput(minimum=0, maximum=MAX_WEIGHT, allow_none=True, metadata={"description": _WEIGHT})


# --- questions ---------------------------------------------------------------------------------

class OptionSchema(ma.Schema):
    option_id = ma.fields.String(load_default=lambda: str(uuid.uuid4()), validate=ma.validate.Length(min=1, max=100))
    option_text = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    is_correct = Boolean(load_default=False)


class PublicOptionSchema(ma.Schema):
    option_id = ma.fields.String()
    option_text = ma.fields.String()


class QuestionCreateSchema(ma.Schema):
    question_text = ma.fields.String(required=True, validate=ma.validate.Length(min=3))
    question_type = ma.fields.String(required=True, validate=one_of(*QUESTION_TYPES))
    points = DecimalInput(minimum=0, maximum=MAX_QUESTION_POINTS, load_default=Decimal("1"))
    explanation = ma.fields.String(allow_none=True)
    options = ma.fields.List(ma.fields.Nested(OptionSchema), allow_none=True)
    correct_answer = ma.fields.String(allow_none=True)
    metadata = ma.fields.Dict(allow_none=True)


class QuestionUpdateSchema(ma.Schema):
    """Partial. `options`, `correct_answer` and `explanation` may be cleared with null."""

    question_text = ma.fields.String(validate=ma.validate.Length(min=3))
    question_type = ma.fields.String(validate=one_of(*QUESTION_TYPES))
    points = DecimalInput(minimum=0, maximum=MAX_QUESTION_POINTS)
    explanation = ma.fields.String(allow_none=True)
    options = ma.fields.List(ma.fields.Nested(OptionSchema), allow_none=True)
    correct_answer = ma.fields.String(allow_none=True)
    metadata = ma.fields.Dict(allow_none=True)


class QuestionSchema(ma.Schema):
    """The management view, with the answer key."""

    id = ma.fields.UUID()
    quiz_id = ma.fields.UUID()
    question_text = ma.fields.String()
    question_type = ma.fields.String()
    points = Decimal2()
    order_index = Integer()
    explanation = ma.fields.String(allow_none=True)
    options = ma.fields.List(ma.fields.Nested(OptionSchema), allow_none=True)
    correct_answer = ma.fields.String(allow_none=True)
    updated_at = UTCDateTime(metadata={"description": "Last change"})


class QuestionPublicSchema(ma.Schema):
    """What a learner sees: no answer key, no explanation."""

    id = ma.fields.UUID()
    question_text = ma.fields.String()
    question_type = ma.fields.String()
    points = Decimal2()
    options = ma.fields.List(ma.fields.Nested(PublicOptionSchema), allow_none=True)
    updated_at = UTCDateTime(metadata={"description": "Last change"})


# --- attempts ----------------------------------------------------------------------------------

class AttemptStartedSchema(ma.Schema):
    id = ma.fields.UUID()
    quiz_id = ma.fields.UUID()
    attempt_number = Integer()
    status = ma.fields.String(metadata={"enum": list(ATTEMPT_STATUSES)})
    started_at = UTCDateTime()
    max_score = Decimal2(allow_none=True)
    updated_at = UTCDateTime(metadata={"description": "Last change (grading included)"})


class TakeQuizSummarySchema(QuizListItemSchema):
    class Meta:
        fields = ("id", "title", "time_limit_minutes", "total_questions", "total_points")


class TakeQuizSchema(ma.Schema):
    quiz = ma.fields.Nested(TakeQuizSummarySchema, required=True)
    questions = ma.fields.List(ma.fields.Nested(QuestionPublicSchema), required=True)


class AnswerSchema(ma.Schema):
    question_id = ma.fields.UUID(required=True)
    selected_option_id = ma.fields.String(allow_none=True)
    answer_text = ma.fields.String(allow_none=True)


class SubmitAttemptSchema(ma.Schema):
    answers = ma.fields.List(ma.fields.Nested(AnswerSchema), required=True)


class AttemptSchema(ma.Schema):
    id = ma.fields.UUID()
    enrollment_id = ma.fields.UUID()
    quiz_id = ma.fields.UUID()
    attempt_number = Integer()
    status = ma.fields.String(metadata={"enum": list(ATTEMPT_STATUSES)})
    started_at = UTCDateTime()
    submitted_at = UTCDateTime(allow_none=True)
    graded_at = UTCDateTime(allow_none=True)
    score = Decimal2(allow_none=True)
    max_score = Decimal2(allow_none=True)
    percentage = Decimal2(allow_none=True)
    is_passed = ma.fields.Boolean(allow_none=True)
    time_taken_seconds = Integer(allow_none=True)
    updated_at = UTCDateTime(metadata={"description": "Last change (grading included)"})


class AnswerResultSchema(ma.Schema):
    """`is_correct` and `points_earned` are absent when the quiz hides correct answers."""

    question_id = ma.fields.UUID()
    selected_option_id = ma.fields.String(allow_none=True)
    answer_text = ma.fields.String(allow_none=True)
    is_correct = ma.fields.Boolean()
    points_earned = ma.fields.Float()


class AttemptResultSchema(AttemptSchema):
    """An attempt with its answers as the course's managers see it, and its student when the quiz
    shows correct answers."""

    answers = ma.fields.List(ma.fields.Nested(AnswerResultSchema), attribute="recorded_answers")


class AttemptResultWithoutCorrectionsSchema(AttemptSchema):
    """An attempt as its student sees it when the quiz hides correct answers."""

    answers = ma.fields.List(ma.fields.Nested(AnswerResultSchema, exclude=("is_correct", "points_earned")),
                             attribute="recorded_answers")


# Which schema shows an attempt, by the view its reader gets (`service.AttemptView`).
ATTEMPT_VIEWS = {"with_corrections": AttemptResultSchema(), "without_corrections": AttemptResultWithoutCorrectionsSchema()}
