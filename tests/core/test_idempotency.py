"""`Idempotency-Key` on unsafe POSTs: a retry replays the first answer; another body is a 422; a
request while the first is in flight is a 409; keys are per caller, kept in Redis (shared by
instances, kept across restarts) or in memory without it."""

from __future__ import annotations

import io
import threading
import uuid

import pytest
from sqlalchemy import event as sa_event, func, select

from lms.core.db import Session
from lms.core.extensions import db
from lms.courses.models import Course
from tests.files.helpers import PDF
from tests.helpers import API, PASSWORD, on_test_connection

COURSE = {"title": "Retry-safe course", "description": "Created once, however often it is sent."}


def key_headers(auth_headers, user, key: str | None = None) -> dict[str, str]:
    return {**auth_headers(user), "Idempotency-Key": key or str(uuid.uuid4())}


def courses_titled(title: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Course).where(Course.title == title))


def test_a_retry_with_the_same_key_replays_the_first_answer_and_creates_nothing(client, auth_headers, instructor):
    headers = key_headers(auth_headers, instructor)
    first = client.post(f"{API}/courses", headers=headers, json=COURSE)
    again = client.post(f"{API}/courses", headers=headers, json={**dict(reversed(COURSE.items()))})

    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Content-Type"] == "application/json"
    assert courses_titled(COURSE["title"]) == 1


def test_without_a_key_each_request_acts(client, auth_headers, instructor):
    for _ in range(2):
        assert client.post(f"{API}/courses", headers=auth_headers(instructor), json=COURSE).status_code == 201
    assert courses_titled(COURSE["title"]) == 2


def test_the_same_key_with_another_body_is_422(client, auth_headers, instructor):
    headers = key_headers(auth_headers, instructor)
    client.post(f"{API}/courses", headers=headers, json=COURSE)

    response = client.post(f"{API}/courses", headers=headers, json={**COURSE, "title": "Another"})

    assert response.status_code == 422
    assert response.get_json() == {"detail": [{"loc": ["header", "Idempotency-Key"], "type": "idempotency_key_reused",
                                               "msg": "This Idempotency-Key was used with another request"}]}
    assert courses_titled("Another") == 0


def test_the_same_key_on_another_operation_is_another_request(client, auth_headers, instructor, make_course):
    headers = key_headers(auth_headers, instructor)
    client.post(f"{API}/courses", headers=headers, json=COURSE)
    course = make_course(instructor)
    lesson = client.post(f"{API}/courses/{course.id}/lessons", headers=headers, json={"title": "Intro"})
    assert lesson.status_code == 422


def test_keys_belong_to_their_caller(client, auth_headers, instructor, other_instructor):
    key = str(uuid.uuid4())
    mine = client.post(f"{API}/courses", headers=key_headers(auth_headers, instructor, key), json=COURSE)
    theirs = client.post(f"{API}/courses", headers=key_headers(auth_headers, other_instructor, key), json=COURSE)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_a_refusal_by_the_rules_is_replayed_as_stripe_does(client, auth_headers, student, make_user, make_course):
    draft = make_course(make_user("instructor"), published=False)
    headers = key_headers(auth_headers, student)
    refused = client.post(f"{API}/enrollments", headers=headers, json={"course_id": str(draft.id)})
    assert refused.status_code == 404  # a draft is invisible to a student
    draft.is_published = True
    db.session.commit()

    again = client.post(f"{API}/enrollments", headers=headers, json={"course_id": str(draft.id)})

    assert (again.status_code, again.get_json(), again.headers["Idempotent-Replayed"]) == (
        404, refused.get_json(), "true")
    fresh = client.post(f"{API}/enrollments", headers=key_headers(auth_headers, student),
                        json={"course_id": str(draft.id)})
    assert fresh.status_code == 201


def test_invalid_input_is_not_kept_so_the_corrected_request_may_reuse_the_key(client, auth_headers, instructor):
    headers = key_headers(auth_headers, instructor)
    assert client.post(f"{API}/courses", headers=headers, json={"title": ""}).status_code == 422
    corrected = client.post(f"{API}/courses", headers=headers, json=COURSE)
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers


def test_a_server_error_is_not_kept_so_the_retry_runs_again(client, auth_headers, instructor):
    headers = key_headers(auth_headers, instructor)

    def fail(_session):
        raise RuntimeError("the database went away during COMMIT")

    sa_event.listen(Session, "before_commit", fail)
    try:
        assert client.post(f"{API}/courses", headers=headers, json=COURSE).status_code == 500
    finally:
        sa_event.remove(Session, "before_commit", fail)

    retried = client.post(f"{API}/courses", headers=headers, json=COURSE)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert courses_titled(COURSE["title"]) == 1


@pytest.mark.postgres  # two writing threads: SQLite's single writer cannot race them
@pytest.mark.real_commits
def test_a_second_request_while_the_first_is_in_flight_is_409(app, client, auth_headers, instructor, monkeypatch):
    from lms.courses import service

    entered, release = threading.Event(), threading.Event()
    create = service.create_course

    def slow_create(*args, **kwargs):
        entered.set()
        release.wait(10)
        return create(*args, **kwargs)

    monkeypatch.setattr(service, "create_course", slow_create)
    headers = key_headers(auth_headers, instructor)
    answers = {}

    def first_request():
        answers["first"] = app.test_client().post(f"{API}/courses", headers=headers, json=COURSE)

    thread = threading.Thread(target=first_request)
    thread.start()
    try:
        assert entered.wait(10)
        second = client.post(f"{API}/courses", headers=headers, json=COURSE)
    finally:
        release.set()
        thread.join(10)

    assert (second.status_code, second.get_json()) == (
        409, {"detail": "A request with this Idempotency-Key is still being processed; retry later"})
    assert second.headers["Retry-After"] == "1"
    assert answers["first"].status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there"])
def test_a_malformed_key_is_422(client, auth_headers, instructor, key):
    response = client.post(f"{API}/courses", headers={**auth_headers(instructor), "Idempotency-Key": key}, json=COURSE)
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


def test_registration_is_idempotent_for_the_anonymous_caller(client):
    body = {"email": "once@example.com", "password": PASSWORD, "full_name": "Once Only"}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post(f"{API}/auth/register", headers=headers, json=body)
    again = client.post(f"{API}/auth/register", headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"


def test_an_upload_is_the_same_request_when_its_file_is_the_same(client, auth_headers, student):
    headers = key_headers(auth_headers, student)

    def upload(content: bytes):
        return client.post(f"{API}/files/upload", headers=headers, content_type="multipart/form-data",
                           data={"folder": "retries", "file": (io.BytesIO(content), "report.pdf")})

    first, again = upload(PDF), upload(PDF)  # each with its own multipart boundary
    assert first.status_code == 201
    assert (again.status_code, again.get_json(), again.headers["Idempotent-Replayed"]) == (
        201, first.get_json(), "true")
    assert upload(PDF.replace(b"Catalog", b"Catalox")).status_code == 422


@pytest.mark.parametrize("operation", [
    "register", "enroll", "startQuizAttempt", "submitQuizAttempt", "submitAssignment", "uploadFile",
    "generateCertificate", "createCourse", "createLesson", "createQuiz"])
def test_the_document_offers_the_key_on_every_unsafe_post_listed(client, operation):
    spec = client.get("/openapi.json").get_json()
    (found,) = [op for item in spec["paths"].values() for op in item.values()
                if isinstance(op, dict) and op.get("operationId") == operation]
    assert "Idempotency-Key" in [parameter["name"] for parameter in found["parameters"]]
    assert {"409", "422"} <= set(found["responses"])


@pytest.mark.redis
def test_a_key_is_shared_by_instances_and_survives_a_restart(make_app, auth_headers, instructor):
    headers = key_headers(auth_headers, instructor)
    with on_test_connection(make_app()) as first_instance, first_instance.app_context():
        first = first_instance.test_client().post(f"{API}/courses", headers=headers, json=COURSE)
    with on_test_connection(make_app()) as restarted, restarted.app_context():
        again = restarted.test_client().post(f"{API}/courses", headers=headers, json=COURSE)
    assert (again.status_code, again.get_json(), again.headers["Idempotent-Replayed"]) == (
        201, first.get_json(), "true")


def test_without_redis_keys_live_in_process_memory(make_app, auth_headers, instructor):
    embedded = make_app(REDIS_URL="", ACCESS_TOKEN_BLACKLIST_FAIL_CLOSED=False)
    headers = key_headers(auth_headers, instructor)
    with on_test_connection(embedded), embedded.app_context():
        first = embedded.test_client().post(f"{API}/courses", headers=headers, json=COURSE)
        again = embedded.test_client().post(f"{API}/courses", headers=headers, json=COURSE)
    assert (again.status_code, again.get_json(), again.headers["Idempotent-Replayed"]) == (
        201, first.get_json(), "true")


@pytest.mark.parametrize("content_type", [None, "application/json"])
def test_a_post_without_a_body_is_idempotent_too(client, auth_headers, student, make_user, make_course, make_quiz,
                                                 make_question, make_enrollment, content_type):
    course = make_course(make_user("instructor"))
    quiz = make_quiz(course)
    make_question(quiz)
    make_enrollment(student, course)
    headers = key_headers(auth_headers, student)
    if content_type:
        headers["Content-Type"] = content_type

    first = client.post(f"{API}/quizzes/{quiz.id}/attempts", headers=headers)
    again = client.post(f"{API}/quizzes/{quiz.id}/attempts", headers=headers)

    assert first.status_code == 201
    assert (again.status_code, again.get_json(), again.headers["Idempotent-Replayed"]) == (
        201, first.get_json(), "true")
