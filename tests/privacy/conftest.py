"""`learner`: a student with something of every kind of personal data, every text marked "Zelda"."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.enrollments.models import Enrollment
from lms.quizzes.models import QuizAttempt
from tests.helpers import API, lessons_of
from tests.privacy.helpers import PDF


@pytest.fixture
def learner(client, auth_headers, make_user, make_course, make_quiz, make_assignment, make_submission):
    user = make_user("student", email="zelda.quux@example.com", full_name="Zelda Quux")
    instructor = make_user("instructor", full_name="Ines Tructor")
    course = make_course(instructor, lessons=1)
    headers = auth_headers(user)
    enrollment_id = client.post(f"{API}/enrollments", headers=headers,
                                json={"course_id": str(course.id)}).get_json()["id"]
    [lesson] = lessons_of(course)
    assert client.put(f"{API}/enrollments/{enrollment_id}/lessons/{lesson.id}/progress", headers=headers,
                      json={"notes": "Zelda's notes on lesson one"}).status_code == 200
    assert client.post(f"{API}/enrollments/{enrollment_id}/lessons/{lesson.id}/complete",
                       headers=headers).status_code == 200  # completes the course: a certificate
    assert client.post(f"{API}/enrollments/{enrollment_id}/review", headers=headers,
                       json={"rating": 4, "review": "Zelda liked this course a lot"}).status_code == 200
    upload = client.post(f"{API}/files/upload", headers=headers, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(PDF), "zelda-essay.pdf")})
    assert upload.status_code == 201, upload.get_json()
    enrollment = db.session.get(Enrollment, uuid.UUID(enrollment_id))
    quiz = make_quiz(course, lesson=lesson)
    db.session.add(QuizAttempt(enrollment_id=enrollment.id, quiz_id=quiz.id, attempt_number=1, status="graded",
                               score=Decimal("1"), max_score=Decimal("1"), percentage=Decimal("100"),
                               is_passed=True, submitted_at=utcnow(), graded_at=utcnow(),
                               answers=[{"question_id": "q1", "answer_text": "Zelda's answer"}]))
    submission = make_submission(make_assignment(course), enrollment, content="Zelda's submitted work",
                                 file_urls=[upload.get_json()["file_url"]], grade=8.0,
                                 feedback="Good work, Zelda")
    certificate = client.get(f"{API}/certificates/my-certificates", headers=headers).get_json()["certificates"][0]
    return SimpleNamespace(user=user, instructor=instructor, course=course, enrollment=enrollment,
                           submission=submission, certificate=certificate, file=upload.get_json(),
                           headers=headers)
