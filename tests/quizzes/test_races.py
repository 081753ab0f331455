"""Concurrent requests on PostgreSQL end in exactly one row or one graded result."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.core.db import utcnow
from lms.enrollments.models import LessonProgress
from lms.core.extensions import db
from lms.quizzes.models import Question, Quiz, QuizAttempt
from tests.helpers import run_concurrently
from tests.quizzes.helpers import attempts_url, quiz_url

pytestmark = [pytest.mark.postgres, pytest.mark.real_commits]

THREADS = 8


def race(app, send) -> list:
    """`send(client)` from THREADS clients at once: the status and body of each response."""
    return [(response.status_code, response.get_json()) for response in run_concurrently(app, [send] * THREADS)]


def attempt_count(quiz_id) -> int:
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(QuizAttempt).where(QuizAttempt.quiz_id == quiz_id))


def test_concurrent_starts_create_one_attempt(app, capitals, auth_headers):
    headers, url = auth_headers(capitals.student), attempts_url(capitals.quiz.id)

    results = race(app, lambda client: client.post(url, headers=headers))

    assert sorted(status for status, _ in results) == [201] + [403] * (THREADS - 1)
    refusals = {body["detail"] for status, body in results if status == 403}
    assert refusals <= {"You already have an in-progress attempt", "Maximum attempts reached"}
    assert attempt_count(capitals.quiz.id) == 1


def test_concurrent_starts_never_exceed_max_attempts(app, capitals, auth_headers):
    capitals.quiz.max_attempts = 2
    now = utcnow()
    db.session.add(QuizAttempt(quiz_id=capitals.quiz.id, enrollment_id=capitals.enrollment.id, attempt_number=1,
                               status="graded", started_at=now, graded_at=now, score=Decimal("0"),
                               max_score=Decimal("4"), percentage=Decimal("0"), is_passed=False))
    db.session.commit()
    headers, url = auth_headers(capitals.student), attempts_url(capitals.quiz.id)

    results = race(app, lambda client: client.post(url, headers=headers))

    assert [status for status, _ in results].count(201) == 1
    assert attempt_count(capitals.quiz.id) == 2


def test_concurrent_submissions_grade_once(app, client, capitals, auth_headers, completions):
    headers = auth_headers(capitals.student)
    attempt_id = client.post(attempts_url(capitals.quiz.id), headers=headers).get_json()["id"]
    url, body = attempts_url(capitals.quiz.id, f"/{attempt_id}/submit"), {"answers": capitals.perfect_answers()}

    results = race(app, lambda c: c.post(url, headers=headers, json=body))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [403] * (THREADS - 1)
    assert {body["detail"] for status, body in results if status == 403} == {"Attempt is already submitted"}
    assert completions == [capitals.enrollment.id]
    with db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(LessonProgress)) == 1
        assert connection.scalar(select(QuizAttempt.status).where(QuizAttempt.id == uuid.UUID(attempt_id))) == "graded"


def test_concurrent_quizzes_for_one_lesson_create_one(app, capitals, make_lesson, auth_headers):
    lesson = make_lesson(capitals.course, lesson_type="quiz")
    headers, url = auth_headers(capitals.owner), quiz_url(capitals.course.id)
    body = {"lesson_id": str(lesson.id), "title": "Raced"}

    results = race(app, lambda client: client.post(url, headers=headers, json=body))

    assert sorted(status for status, _ in results) == [201] + [409] * (THREADS - 1)
    assert {body["detail"] for status, body in results if status == 409} == {"Lesson already has a quiz"}
    with db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Quiz).where(Quiz.lesson_id == lesson.id)) == 1


def test_concurrent_questions_get_distinct_order_indexes(app, capitals, auth_headers):
    headers = auth_headers(capitals.owner)
    url = quiz_url(capitals.course.id, capitals.quiz.id, "/questions")

    results = race(app, lambda client: client.post(url, headers=headers,
                                                    json={"question_text": "Raced?", "question_type": "essay"}))

    assert [status for status, _ in results] == [201] * THREADS
    with db.engine.connect() as connection:
        indexes = connection.scalars(select(Question.order_index).where(Question.quiz_id == capitals.quiz.id)).all()
    assert sorted(indexes) == list(range(1, THREADS + 4))
