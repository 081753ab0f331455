"""Managing a course needs the instructor role as well as ownership, or the admin role (§5.34).

An owner demoted to student (`PATCH /users/{id}` role=student) loses every management operation at
once: each one below is allowed to the owner while an instructor and refused after the demotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from lms.core.extensions import db
from tests.helpers import API, MC_OPTIONS


@dataclass
class Classroom:
    owner: object
    course: object
    draft: object
    lesson: object
    quiz: object
    question: object
    enrollment: object
    attempt_id: str
    assignment: object
    submission: object


@pytest.fixture
def classroom(client, instructor, student, make_course, make_lesson, make_quiz, make_question, make_enrollment,
              make_assignment, make_submission, auth_headers) -> Classroom:
    course = make_course(instructor, title="Owned course")
    lesson = make_lesson(course)
    quiz = make_quiz(course)
    question = make_question(quiz)
    enrollment = make_enrollment(student, course)
    attempt = client.post(f"{API}/quizzes/{quiz.id}/attempts", headers=auth_headers(student)).get_json()
    assignment = make_assignment(course)
    return Classroom(owner=instructor, course=course, draft=make_course(instructor, published=False),
                     lesson=lesson, quiz=quiz, question=question, enrollment=enrollment, attempt_id=attempt["id"],
                     assignment=assignment, submission=make_submission(assignment, enrollment))


def _quiz_url(room: Classroom, suffix: str = "") -> str:
    return f"{API}/courses/{room.course.id}/quizzes/{room.quiz.id}{suffix}"


# (name, method, URL in the classroom, JSON body or None)
OPERATIONS: list[tuple[str, str, Callable[[Classroom], str], Callable[[Classroom], dict] | None]] = [
    ("edit the course", "PATCH", lambda r: f"{API}/courses/{r.course.id}", lambda r: {"title": "Renamed course"}),
    ("publish the course", "POST", lambda r: f"{API}/courses/{r.course.id}/publish", None),
    ("read the draft", "GET", lambda r: f"{API}/courses/{r.draft.id}", None),
    ("add a lesson", "POST", lambda r: f"{API}/courses/{r.course.id}/lessons",
     lambda r: {"title": "Another lesson", "lesson_type": "text"}),
    ("edit a lesson", "PATCH", lambda r: f"{API}/lessons/{r.lesson.id}", lambda r: {"title": "Renamed lesson"}),
    ("read the enrollments", "GET", lambda r: f"{API}/enrollments/courses/{r.course.id}", None),
    ("read the enrollment stats", "GET", lambda r: f"{API}/enrollments/courses/{r.course.id}/stats", None),
    ("read a student's enrollment", "GET", lambda r: f"{API}/enrollments/{r.enrollment.id}", None),
    ("add a quiz", "POST", lambda r: f"{API}/courses/{r.course.id}/quizzes",
     lambda r: {"title": "Second quiz", "lesson_id": str(r.lesson.id)}),
    ("edit the quiz", "PATCH", lambda r: _quiz_url(r), lambda r: {"title": "Renamed quiz"}),
    ("publish the quiz", "POST", lambda r: _quiz_url(r, "/publish"), None),
    ("add a question", "POST", lambda r: _quiz_url(r, "/questions"),
     lambda r: {"question_text": "Capital?", "question_type": "multiple_choice", "options": MC_OPTIONS}),
    ("read the answer keys", "GET", lambda r: _quiz_url(r, "/questions/manage"), None),
    ("edit a question", "PATCH", lambda r: _quiz_url(r, f"/questions/{r.question.id}"),
     lambda r: {"question_text": "Which?"}),
    ("preview the quiz", "GET", lambda r: f"{API}/quizzes/{r.quiz.id}/attempts/start", None),
    ("read a student's attempt", "GET", lambda r: f"{API}/quizzes/{r.quiz.id}/attempts/{r.attempt_id}", None),
    ("read the course analytics", "GET", lambda r: f"{API}/analytics/courses/{r.course.id}", None),
    ("delete a lesson", "DELETE", lambda r: f"{API}/lessons/{r.lesson.id}", None),
    ("delete the course", "DELETE", lambda r: f"{API}/courses/{r.course.id}", None),
]
# What only the teaching instructor does (admins read assignments but neither author nor grade them).
TEACHING: list[tuple[str, str, Callable[[Classroom], str], Callable[[Classroom], dict] | None]] = [
    ("add an assignment", "POST", lambda r: f"{API}/assignments",
     lambda r: {"course_id": str(r.course.id), "title": "Essay"}),
    ("edit an assignment", "PUT", lambda r: f"{API}/assignments/{r.assignment.id}", lambda r: {"title": "Essay 2"}),
    ("read the submissions", "GET", lambda r: f"{API}/assignments/submissions/assignment/{r.assignment.id}", None),
    ("grade a submission", "POST", lambda r: f"{API}/assignments/submissions/{r.submission.id}/grade",
     lambda r: {"grade": 8}),
    ("delete an assignment", "DELETE", lambda r: f"{API}/assignments/{r.assignment.id}", None),
]
IDS = [name for name, *_ in OPERATIONS]
TEACHING_IDS = [name for name, *_ in TEACHING]


def _call(client, room: Classroom, headers, operation):
    _, method, url, body = operation
    return client.open(url(room), method=method, headers=headers, **({"json": body(room)} if body else {}))


@pytest.mark.parametrize("operation", OPERATIONS + TEACHING, ids=IDS + TEACHING_IDS)
def test_the_owner_manages_while_an_instructor(client, classroom, auth_headers, operation):
    response = _call(client, classroom, auth_headers(classroom.owner), operation)

    assert response.status_code in (200, 201, 204), response.get_json()


@pytest.mark.parametrize("operation", OPERATIONS + TEACHING, ids=IDS + TEACHING_IDS)
def test_a_demoted_owner_manages_nothing(client, classroom, admin, auth_headers, operation):
    demoted = client.patch(f"{API}/users/{classroom.owner.id}", headers=auth_headers(admin), json={"role": "student"})
    assert demoted.status_code == 200
    db.session.expire_all()

    response = _call(client, classroom, auth_headers(classroom.owner), operation)

    assert response.status_code in (403, 404), response.get_json()


@pytest.mark.parametrize("operation", OPERATIONS, ids=IDS)
def test_an_admin_manages_any_course(client, classroom, admin, auth_headers, operation):
    response = _call(client, classroom, auth_headers(admin), operation)

    assert response.status_code in (200, 201, 204), response.get_json()
