from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import DDL, JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from lms.core.db import Timestamps, UUIDPrimaryKey
from lms.core.extensions import db

DIFFICULTY_LEVELS = ("beginner", "intermediate", "advanced")
LESSON_TYPES = ("video", "text", "quiz", "assignment")


class Course(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "courses"
    __table_args__ = (
        # The catalog: published courses newest first, and "mine" (an instructor's courses) newest first.
        Index("ix_courses_is_published_created_at", "is_published", "created_at"),
        Index("ix_courses_instructor_id_created_at", "instructor_id", "created_at"),
        # Catalog search (`title ILIKE '%term%' OR description ILIKE '%term%'`): trigram GIN indexes
        # on PostgreSQL, so that a search never reads the whole table. SQLite ignores the PostgreSQL
        # options and builds plain indexes: Alembic's autogenerate ignores `ddl_if`
        # (sqlalchemy/alembic#1491), so a PostgreSQL-only index would always be "missing" on SQLite.
        Index("ix_courses_title_trgm", "title", postgresql_using="gin",
              postgresql_ops={"title": "gin_trgm_ops"}),
        Index("ix_courses_description_trgm", "description", postgresql_using="gin",
              postgresql_ops={"description": "gin_trgm_ops"}),
        # `create_all` (the tests) needs pg_trgm's operator class before it creates those indexes;
        # migrations create the extension themselves.
        {"listeners": [("before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                                          .execute_if(dialect="postgresql"))]},
    )

    title: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    instructor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    difficulty_level: Mapped[str | None] = mapped_column(String(20), index=True)
    is_published: Mapped[bool] = mapped_column(default=False)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    estimated_duration_minutes: Mapped[int | None]
    extra_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
    # "Frontend compatibility" fields, stored verbatim from the client (contract §4.2).
    price: Mapped[float | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    is_free: Mapped[bool | None]
    long_description: Mapped[str | None] = mapped_column(Text)
    preview_video_url: Mapped[str | None] = mapped_column(Text)
    requirements: Mapped[list[str] | None] = mapped_column(JSON)
    learning_objectives: Mapped[list[str] | None] = mapped_column(JSON)
    total_reviews: Mapped[int | None]
    total_quizzes: Mapped[int | None]
    enrollment_count: Mapped[int | None]
    average_rating: Mapped[float | None]
    status: Mapped[str | None] = mapped_column(String(20))

    # Figures computed from the data in the statement that loads the course (courses.service
    # `with_course_figures`); they take precedence over the stored compatibility fields above.
    instructor_name: Mapped[str | None] = query_expression()
    computed_total_lessons: Mapped[int | None] = query_expression()
    computed_enrollment_count: Mapped[int | None] = query_expression()
    computed_average_rating: Mapped[float | None] = query_expression()
    computed_review_count: Mapped[int | None] = query_expression()


class Lesson(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "lessons"
    __table_args__ = (
        UniqueConstraint("course_id", "order_index"),
        CheckConstraint("lesson_type IN ('video', 'text', 'quiz', 'assignment')", name="lesson_type"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    lesson_type: Mapped[str] = mapped_column(String(20))
    order_index: Mapped[int]
    parent_lesson_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL"), index=True)
    duration_minutes: Mapped[int | None]
    video_url: Mapped[str | None] = mapped_column(Text)
    is_preview: Mapped[bool] = mapped_column(default=False)
    extra_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
