"""Domain events: each public event is announced exactly once for the change that causes it, and a
change that rolls back announces nothing that outlives it (what `after_commit` subscribers see)."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import event as sa_event

from lms.core import events
from lms.core.db import Session
from tests.helpers import API, PASSWORD


@pytest.fixture
def announced():
    """The public events committed during the test, in order: `(event, payload)` pairs."""
    from lms.core.db import after_commit

    committed: list[tuple[str, dict]] = []
    receivers = []
    for name in events.PUBLIC_EVENTS:
        def receive(_sender, _name=name, **payload) -> None:
            after_commit(lambda: committed.append((_name, payload)))
        receivers.append((events.signal(name), receive))
        events.signal(name).connect(receive)
    try:
        yield committed
    finally:
        for signal, receive in receivers:
            signal.disconnect(receive)


def names(announced) -> Counter:
    return Counter(name for name, _ in announced)


@pytest.fixture
def scene(make_user, make_course, make_lesson, make_enrollment):
    """A published course of two text lessons, its instructor, an admin, and an enrolled student."""
    teacher, learner, admin = make_user("instructor"), make_user("student"), make_user("admin")
    course = make_course(teacher, lessons=2)
    return {"teacher": teacher, "student": learner, "admin": admin, "course": course}


def test_registration_and_an_admin_created_user_announce_user_created(client, announced, auth_headers, admin):
    client.post(f"{API}/auth/register", json={"email": "new@example.com", "password": PASSWORD, "full_name": "New"})
    created = client.post(f"{API}/users", headers=auth_headers(admin), json={
        "email": "made@example.com", "password": PASSWORD, "full_name": "Made", "role": "instructor"})
    assert created.status_code == 201
    assert names(announced) == {"user.created": 2}
    assert {payload["user"].email for _, payload in announced} == {"new@example.com", "made@example.com"}


def test_deactivating_a_user_announces_it_once(client, announced, auth_headers, admin, student):
    url = f"{API}/users/{student.id}"
    assert client.patch(url, headers=auth_headers(admin), json={"is_active": False}).status_code == 200
    assert client.patch(url, headers=auth_headers(admin), json={"is_active": False}).status_code == 200
    assert [(name, payload["user"].id) for name, payload in announced] == [("user.deactivated", student.id)]


def test_enrolling_completing_lessons_and_the_course(client, announced, auth_headers, scene):
    headers = auth_headers(scene["student"])
    enrollment_id = client.post(f"{API}/enrollments", headers=headers,
                                json={"course_id": str(scene["course"].id)}).get_json()["id"]
    client.post(f"{API}/enrollments", headers=headers, json={"course_id": str(scene["course"].id)})  # the same one
    lessons = client.get(f"{API}/courses/{scene['course'].id}/lessons", headers=headers).get_json()["items"]
    for lesson in lessons:
        url = f"{API}/enrollments/{enrollment_id}/lessons/{lesson['id']}/complete"
        assert client.post(url, headers=headers).status_code == 200
        assert client.post(url, headers=headers).status_code == 200  # already completed: no news

    assert [name for name, _ in announced] == ["enrollment.created", "lesson.completed", "lesson.completed",
                                               "certificate.issued", "enrollment.completed"]
    completed = [payload["progress"].lesson_id for name, payload in announced if name == "lesson.completed"]
    assert completed == [uuid.UUID(lesson["id"]) for lesson in lessons]
    issued = next(payload["certificate"] for name, payload in announced if name == "certificate.issued")
    assert str(issued.enrollment_id) == enrollment_id


def test_revoking_a_certificate_announces_it_once(client, announced, auth_headers, scene, make_enrollment):
    from lms.certificates.service import issue_record
    from lms.core.db import commit

    enrollment = make_enrollment(scene["student"], scene["course"], status="completed")
    certificate = issue_record(enrollment)
    commit()
    announced.clear()
    url = f"{API}/certificates/{certificate.id}/revoke"
    assert client.post(url, headers=auth_headers(scene["admin"])).status_code == 200
    assert client.post(url, headers=auth_headers(scene["admin"])).status_code == 200
    assert [(name, payload["certificate"].id) for name, payload in announced] == [
        ("certificate.revoked", certificate.id)]


def test_publishing_a_draft_announces_it_once(client, announced, auth_headers, make_user, make_course):
    teacher = make_user("instructor")
    draft = make_course(teacher, published=False)
    headers = auth_headers(teacher)
    assert client.post(f"{API}/courses/{draft.id}/publish", headers=headers).status_code == 200
    assert client.post(f"{API}/courses/{draft.id}/publish", headers=headers).status_code == 200
    assert client.patch(f"{API}/courses/{draft.id}", headers=headers, json={"title": "Renamed"}).status_code == 200
    assert [(name, payload["course"].id) for name, payload in announced] == [("course.published", draft.id)]


def test_deleting_a_course_announces_it_once(client, announced, auth_headers, scene):
    response = client.delete(f"{API}/courses/{scene['course'].id}", headers=auth_headers(scene["teacher"]))
    assert response.status_code == 204
    assert [(name, payload["course_id"]) for name, payload in announced] == [("course.deleted", scene["course"].id)]


def test_a_quiz_attempt_graded_once_when_submitted(client, announced, auth_headers, scene, make_quiz, make_question,
                                                   make_enrollment):
    quiz = make_quiz(scene["course"])
    question = make_question(quiz)
    make_enrollment(scene["student"], scene["course"])
    headers = auth_headers(scene["student"])
    attempt = client.post(f"{API}/quizzes/{quiz.id}/attempts", headers=headers).get_json()
    url = f"{API}/quizzes/{quiz.id}/attempts/{attempt['id']}/submit"
    body = {"answers": [{"question_id": str(question.id), "selected_option_id": "a"}]}
    assert client.post(url, headers=headers, json=body).status_code == 200
    assert client.post(url, headers=headers, json=body).status_code == 403  # already submitted
    graded = [payload["attempt"] for name, payload in announced if name == "quiz_attempt.graded"]
    assert [(a.id, a.is_passed) for a in graded] == [(uuid.UUID(attempt["id"]), True)]
    assert names(announced)["lesson.completed"] == 1  # passing completes the quiz's lesson


def test_submitting_and_grading_work(client, announced, auth_headers, scene, make_assignment, make_enrollment):
    assignment = make_assignment(scene["course"])
    enrollment = make_enrollment(scene["student"], scene["course"])
    submitted = client.post(f"{API}/assignments/submit", headers=auth_headers(scene["student"]), json={
        "assignment_id": str(assignment.id), "enrollment_id": str(enrollment.id), "content": "Done"})
    assert submitted.status_code == 201
    again = client.post(f"{API}/assignments/submit", headers=auth_headers(scene["student"]), json={
        "assignment_id": str(assignment.id), "enrollment_id": str(enrollment.id), "content": "Again"})
    assert again.status_code == 409
    url = f"{API}/assignments/submissions/{submitted.get_json()['id']}/grade"
    assert client.post(url, headers=auth_headers(scene["teacher"]), json={"grade": 8}).status_code == 200
    assert [name for name, _ in announced] == ["submission.created", "submission.graded"]
    assert {payload["submission"].id for _, payload in announced} == {uuid.UUID(submitted.get_json()["id"])}


@pytest.fixture
def failing_commits():
    """Every commit fails as a lost database connection would, after the flush wrote the change."""
    def fail(_session):
        raise RuntimeError("the database went away during COMMIT")

    sa_event.listen(Session, "before_commit", fail)
    try:
        yield
    finally:
        sa_event.remove(Session, "before_commit", fail)


def test_a_change_that_rolls_back_announces_nothing(client, announced, auth_headers, scene, failing_commits):
    response = client.post(f"{API}/enrollments", headers=auth_headers(scene["student"]),
                           json={"course_id": str(scene["course"].id)})
    assert response.status_code == 500
    registered = client.post(f"{API}/auth/register", json={
        "email": "lost@example.com", "password": PASSWORD, "full_name": "Lost"})
    assert registered.status_code == 500
    assert announced == []


@pytest.mark.parametrize("change", ["publish", "deactivate", "revoke", "submit", "complete_lesson", "attempt"])
def test_no_event_outlives_a_rolled_back_change(client, announced, auth_headers, scene, make_course,
                                                make_enrollment, make_assignment, make_quiz, make_question, change):
    from lms.certificates.service import issue_record
    from lms.core.db import commit
    from tests.helpers import lessons_of

    enrollment = make_enrollment(scene["student"], scene["course"])
    student_headers, teacher_headers = auth_headers(scene["student"]), auth_headers(scene["teacher"])
    if change == "publish":
        draft = make_course(scene["teacher"], published=False)
        send = lambda: client.post(f"{API}/courses/{draft.id}/publish", headers=teacher_headers)  # noqa: E731
    elif change == "deactivate":
        send = lambda: client.patch(f"{API}/users/{scene['student'].id}", headers=auth_headers(scene["admin"]),  # noqa: E731
                                    json={"is_active": False})
    elif change == "revoke":
        certificate = issue_record(enrollment)
        commit()
        send = lambda: client.post(f"{API}/certificates/{certificate.id}/revoke",  # noqa: E731
                                   headers=auth_headers(scene["admin"]))
    elif change == "submit":
        assignment = make_assignment(scene["course"])
        send = lambda: client.post(f"{API}/assignments/submit", headers=student_headers, json={  # noqa: E731
            "assignment_id": str(assignment.id), "enrollment_id": str(enrollment.id), "content": "Done"})
    elif change == "complete_lesson":
        lesson = lessons_of(scene["course"])[0]
        send = lambda: client.post(f"{API}/enrollments/{enrollment.id}/lessons/{lesson.id}/complete",  # noqa: E731
                                   headers=student_headers)
    else:
        quiz = make_quiz(scene["course"])
        question = make_question(quiz)
        attempt = client.post(f"{API}/quizzes/{quiz.id}/attempts", headers=student_headers).get_json()
        send = lambda: client.post(f"{API}/quizzes/{quiz.id}/attempts/{attempt['id']}/submit",  # noqa: E731
                                   headers=student_headers,
                                   json={"answers": [{"question_id": str(question.id), "selected_option_id": "a"}]})
    announced.clear()

    def fail(_session):
        raise RuntimeError("the database went away during COMMIT")

    sa_event.listen(Session, "before_commit", fail)
    try:
        assert send().status_code == 500
    finally:
        sa_event.remove(Session, "before_commit", fail)

    assert announced == []
    assert send().status_code in (200, 201)  # the same change, committed this time, is announced
    assert announced != []
