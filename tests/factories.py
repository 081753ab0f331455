"""Model factories shared by every module's tests: rows made with the models, committed, no API call.

Loaded as a plugin by `tests/conftest.py`, so each fixture here is available to every test. A factory
fills what a test does not care about; a test passes what it relies on (`make_lesson(course,
content="Secret content")`), and package conftests build their scenes (`pair`, `capitals`, `cast`, the
analytics `dataset`) from these.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from lms.core.db import utcnow
from lms.core.security import hash_password
from lms.assignments.models import Assignment, Submission
from lms.courses.models import Course, Lesson
from lms.enrollments.models import Enrollment, LessonProgress
from lms.core.extensions import db
from lms.files.models import StoredFile
from lms.quizzes.models import Question, Quiz
from lms.users.models import User
from tests.helpers import MC_OPTIONS, PASSWORD


def _saved(row):
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def make_user(app):
    """Create a user: `make_user(role="instructor", email=..., password=..., verified=True, active=True)`."""

    def factory(role: str = "student", *, email: str | None = None, password: str = PASSWORD,
                full_name: str | None = None, verified: bool = True, active: bool = True,
                mfa_enabled: bool = False) -> User:
        user = User(
            email=(email or f"{role}-{uuid.uuid4().hex[:10]}@example.com").lower(),
            full_name=full_name or f"Test {role.title()}",
            role=role,
            password_hash=hash_password(password),
            is_active=active,
            mfa_enabled=mfa_enabled,
            email_verified_at=utcnow() if verified else None,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_lesson():
    """`make_lesson(course, lesson_type="text", **fields)` -> Lesson, by default after the course's last one."""

    def factory(course: Course, *, lesson_type: str = "text", **fields: Any) -> Lesson:
        if "order_index" not in fields:
            last = db.session.scalar(select(func.max(Lesson.order_index)).where(Lesson.course_id == course.id))
            fields["order_index"] = (last or 0) + 1
        order = fields["order_index"]
        return _saved(Lesson(course_id=course.id, lesson_type=lesson_type,
                             **{"title": f"Lesson {order}", "slug": f"lesson-{order}", **fields}))

    return factory


@pytest.fixture
def make_course(make_lesson):
    """`make_course(owner, published=True, title=None, lessons=0, **fields)` -> Course with that many text lessons.

    Each course is created a second after the previous one unless `created_at` is given, so "newest
    first" is deterministic within a test.
    """
    start, seconds = utcnow() - timedelta(days=1), itertools.count(1)

    def factory(owner: User, *, published: bool = True, title: str | None = None, lessons: int = 0,
                **fields: Any) -> Course:
        token = uuid.uuid4().hex[:10]
        values = {"slug": f"course-{token}", "created_at": start + timedelta(seconds=next(seconds)), **fields}
        course = _saved(Course(title=title or f"Course {token}", instructor_id=owner.id, is_published=published,
                               **values))
        for _ in range(lessons):
            make_lesson(course)
        return course

    return factory


@pytest.fixture
def make_enrollment():
    """`make_enrollment(student, course, status="active", **fields)` -> Enrollment, enrolled and started now.

    The counters (progress, lessons, time) are the models' zeros unless given.
    """

    def factory(student: User, course: Course, *, status: str = "active", **fields: Any) -> Enrollment:
        now = utcnow()
        return _saved(Enrollment(student_id=student.id, course_id=course.id, status=status,
                                 **{"enrolled_at": now, "started_at": now, **fields}))

    return factory


@pytest.fixture
def make_progress():
    """`make_progress(enrollment, lesson, status="in_progress", **fields)` -> LessonProgress.

    The row only: the enrollment's counters are not recomputed.
    """

    def factory(enrollment: Enrollment, lesson: Lesson, *, status: str = "in_progress",
                **fields: Any) -> LessonProgress:
        return _saved(LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson.id, status=status, **fields))

    return factory


@pytest.fixture
def make_quiz(make_lesson):
    """`make_quiz(course, lesson=None, published=True, **fields)` -> Quiz on that lesson (else a new quiz lesson).

    Graded, passing at 70, questions and options in their order (no shuffling) unless told otherwise.
    """

    def factory(course: Course, *, lesson: Lesson | None = None, published: bool = True, **fields: Any) -> Quiz:
        lesson = lesson or make_lesson(course, lesson_type="quiz")
        values = {"title": f"Quiz on {lesson.title}", "quiz_type": "graded", "passing_score": Decimal("70"),
                  "shuffle_questions": False, "shuffle_options": False, "show_correct_answers": True, **fields}
        return _saved(Quiz(course_id=course.id, lesson_id=lesson.id, is_published=published, **values))

    return factory


@pytest.fixture
def make_question():
    def factory(quiz: Quiz, question_type: str = "multiple_choice", *, points: str = "1",
                correct_answer: str | None = None, options: list[dict] | None = None,
                text: str | None = None) -> Question:
        if question_type == "multiple_choice" and options is None:
            options = [dict(option) for option in MC_OPTIONS]
        if correct_answer is None:
            correct_answer = {"true_false": "true", "short_answer": "Paris"}.get(question_type)
        order = len(db.session.query(Question.id).filter(Question.quiz_id == quiz.id).all()) + 1
        question = Question(quiz_id=quiz.id, question_text=text or f"Question {order}?", question_type=question_type,
                            points=Decimal(points), options=options, correct_answer=correct_answer,
                            explanation="Because.", order_index=order)
        db.session.add(question)
        db.session.commit()
        return question

    return factory


@pytest.fixture
def make_assignment():
    """`make_assignment(course, published=True, **fields)`; published means status and flag both set."""

    def factory(course: Course, *, published: bool = True, **fields) -> Assignment:
        values = {"title": f"Assignment {uuid.uuid4().hex[:8]}", "max_points": 10,
                  "status": "published" if published else "draft", "is_published": published, **fields}
        assignment = Assignment(course_id=course.id, instructor_id=course.instructor_id, **values)
        db.session.add(assignment)
        db.session.commit()
        return assignment

    return factory


@pytest.fixture
def make_submission():
    def factory(assignment: Assignment, enrollment: Enrollment, **fields) -> Submission:
        values = {"submitted_at": utcnow(), "status": "submitted", "content": "My answer", **fields}
        submission = Submission(assignment_id=assignment.id, enrollment_id=enrollment.id, **values)
        db.session.add(submission)
        db.session.commit()
        return submission

    return factory


@pytest.fixture
def make_stored_file():
    """`make_stored_file(owner, **fields)` -> a StoredFile row (a PDF on local storage) as an upload records it.

    The row only: nothing is written to the storage.
    """

    def factory(owner: User, **fields: Any) -> StoredFile:
        name = f"{uuid.uuid4().hex}.pdf"
        values = {"filename": name, "original_filename": "report.pdf", "storage_key": f"uploads/{name}",
                  "file_type": "document", "mime_type": "application/pdf", "file_size": 1234,
                  "storage_provider": "local", **fields}
        return _saved(StoredFile(uploaded_by=owner.id, **values))

    return factory
