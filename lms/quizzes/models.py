from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from lms.core.db import Timestamps, UUIDPrimaryKey, utcnow
from lms.core.extensions import db

QUIZ_TYPES = ("practice", "graded")
QUESTION_TYPES = ("multiple_choice", "true_false", "short_answer", "essay")
ATTEMPT_STATUSES = ("in_progress", "graded")


class Quiz(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "quizzes"

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    quiz_type: Mapped[str] = mapped_column(String(20), default="graded")
    time_limit_minutes: Mapped[int | None]
    passing_score: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("70"))
    max_attempts: Mapped[int | None]
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    show_correct_answers: Mapped[bool] = mapped_column(default=True)
    is_published: Mapped[bool] = mapped_column(default=False, index=True)
    # Its share of the gradebook's weighted total, relative to the course's other quizzes and assignments.
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("1"), server_default="1")

    # Figures loaded with the quiz where a statement asks for them (lists, the quiz as taken).
    total_questions: Mapped[int | None] = query_expression()
    total_points: Mapped[Decimal | None] = query_expression()


class Question(UUIDPrimaryKey, db.Model):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("quiz_id", "order_index"),)

    quiz_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    question_text: Mapped[str] = mapped_column(Text)
    question_type: Mapped[str] = mapped_column(String(20))
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("1"))
    explanation: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    correct_answer: Mapped[str | None] = mapped_column(Text)
    extra_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
    order_index: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class QuizAttempt(UUIDPrimaryKey, db.Model):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "quiz_id", "attempt_number"),
        # At most one in-progress attempt per student and quiz, also under concurrent starts.
        Index("uq_quiz_attempts_one_in_progress", "enrollment_id", "quiz_id", unique=True,
              postgresql_where=text("status = 'in_progress'"), sqlite_where=text("status = 'in_progress'")),
    )

    quiz_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    attempt_number: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    graded_at: Mapped[datetime | None] = mapped_column(index=True)
    score: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    max_score: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    is_passed: Mapped[bool | None]
    time_taken_seconds: Mapped[int | None]
    answers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # Core applies `onupdate` to UPDATE statements too: no UPDATE leaves it behind (`close_attempt` sets
    # it itself, to record the value on the attempt).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    @property
    def recorded_answers(self) -> list[dict[str, Any]]:
        """The graded answers; none while the attempt is in progress."""
        return self.answers or []
