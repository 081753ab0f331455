"""Builders for course, lesson and enrollment tests: rows made with the models, requests made by the tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.core.db import utcnow
from lms.courses.models import Course, Lesson
from lms.enrollments.models import Enrollment
from lms.extensions import db
from lms.users.models import User

API = "/api/v1"


@pytest.fixture
def make_course():
    """`make_course(owner, published=True, title=..., created_offset_seconds=0, **fields)` -> Course.

    Each course is created a second after the previous one unless told otherwise, so "newest first"
    is deterministic within a test.
    """
    clock = {"offset": 0}

    def factory(owner: User, *, published: bool = True, title: str | None = None,
                created_offset_seconds: int | None = None, **fields) -> Course:
        token = uuid.uuid4().hex[:10]
        clock["offset"] += 1
        offset = clock["offset"] if created_offset_seconds is None else created_offset_seconds
        course = Course(title=title or f"Course {token}", slug=fields.pop("slug", f"course-{token}"),
                        instructor_id=owner.id, is_published=published,
                        created_at=utcnow() - timedelta(days=1) + timedelta(seconds=offset), **fields)
        db.session.add(course)
        db.session.commit()
        return course

    return factory


@pytest.fixture
def make_lesson():
    """`make_lesson(course, lesson_type="text", content=..., is_preview=False, **fields)` -> Lesson."""

    def factory(course: Course, *, lesson_type: str = "text", content: str | None = "Secret content",
                is_preview: bool = False, **fields) -> Lesson:
        order = fields.pop("order_index", None) or (db.session.scalar(
            select(func.max(Lesson.order_index)).where(Lesson.course_id == course.id)) or 0) + 1
        lesson = Lesson(course_id=course.id, title=fields.pop("title", f"Lesson {order}"),
                        slug=f"lesson-{order}", lesson_type=lesson_type, order_index=order, content=content,
                        is_preview=is_preview, **fields)
        db.session.add(lesson)
        db.session.commit()
        return lesson

    return factory


@pytest.fixture
def make_enrollment():
    """`make_enrollment(student, course, status="active", **fields)` -> Enrollment (no API call)."""

    def factory(student: User, course: Course, *, status: str = "active", **fields) -> Enrollment:
        now = utcnow()
        enrollment = Enrollment(student_id=student.id, course_id=course.id, status=status, enrolled_at=now,
                                started_at=now, progress_percentage=fields.pop("progress_percentage", Decimal("0")),
                                completed_lessons_count=0, total_lessons_count=0, total_time_spent_seconds=0,
                                **fields)
        db.session.add(enrollment)
        db.session.commit()
        return enrollment

    return factory


@pytest.fixture
def other_instructor(make_user):
    return make_user("instructor", full_name="Otto Ther")


@pytest.fixture
def other_student(make_user):
    return make_user("student", full_name="Olga Ther")


VIEWERS = ("anonymous", "student", "enrolled_student", "other_instructor", "owner", "admin")
OUTSIDERS = ("anonymous", "student", "enrolled_student", "other_instructor")
MANAGERS = ("owner", "admin")


@dataclass
class World:
    """A published and a draft course of one instructor, and a student enrolled in both."""

    owner: User
    learner: User
    published: Course
    draft: Course


@pytest.fixture
def world(instructor, make_user, make_course, make_enrollment) -> World:
    published = make_course(instructor, published=True, title="Published course")
    draft = make_course(instructor, published=False, title="Draft course")
    learner = make_user("student", full_name="Lea Rner")
    make_enrollment(learner, published)
    make_enrollment(learner, draft)  # enrolled, then the course went back to draft
    return World(owner=instructor, learner=learner, published=published, draft=draft)


@pytest.fixture
def headers_for(world, make_user, auth_headers):
    """`headers_for(viewer)`: the Authorization header of each kind of reader of the world's courses."""
    def headers(viewer: str) -> dict[str, str]:
        user = {
            "anonymous": lambda: None,
            "student": lambda: make_user("student"),
            "enrolled_student": lambda: world.learner,
            "other_instructor": lambda: make_user("instructor"),
            "owner": lambda: world.owner,
            "admin": lambda: make_user("admin"),
        }[viewer]()
        return auth_headers(user) if user is not None else {}

    return headers
