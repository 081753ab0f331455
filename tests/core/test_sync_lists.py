"""Incremental sync on every list with a wrapper (`lms.core.pagination`): `updated_since` filters, and a cursor
walk (`after` / `next_cursor`) sees each item exactly once, even when items are updated mid-walk.

Each list is set up by a `Listing` builder: the URL, the caller, the answer's key, the model and the
ids the caller can see. `test_every_list_is_covered` fails when a new list with sync parameters has no builder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable

import pytest
from sqlalchemy import select, update

from lms.assignments.models import Assignment, Submission
from lms.certificates.models import Certificate
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.courses.models import Course, Lesson
from lms.enrollments.models import Enrollment
from lms.files.models import StoredFile
from lms.quizzes.models import Question, Quiz, QuizAttempt
from lms.users.models import User
from lms.webhooks.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests.helpers import API

COUNT = 5  # items per list; pages of 2, so a walk has three pages


@dataclass
class Listing:
    url: str
    headers: dict[str, str]
    key: str  # where the items are in the answer
    size: str  # the page-size parameter
    model: Any
    ids: list[uuid.UUID]


@pytest.fixture
def world(make_user, make_course, make_lesson, make_quiz, make_enrollment, make_assignment, make_submission,
          make_stored_file, auth_headers, admin, instructor, student):
    """Builders, by operation id, of a list with COUNT items the caller can see."""

    def courses() -> Listing:
        ids = [make_course(instructor).id for _ in range(COUNT)]
        return Listing(f"{API}/courses", {}, "items", "page_size", Course, ids)

    def users() -> Listing:
        for _ in range(COUNT):
            make_user()
        return Listing(f"{API}/users", auth_headers(admin), "items", "page_size", User,
                       list(db.session.scalars(select(User.id))))

    def my_enrollments() -> Listing:
        ids = [make_enrollment(student, make_course(instructor)).id for _ in range(COUNT)]
        return Listing(f"{API}/enrollments/my-courses", auth_headers(student), "items", "page_size", Enrollment, ids)

    def course_enrollments() -> Listing:
        course = make_course(instructor)
        ids = [make_enrollment(make_user(), course).id for _ in range(COUNT)]
        return Listing(f"{API}/enrollments/courses/{course.id}", auth_headers(instructor), "items", "page_size",
                       Enrollment, ids)

    def webhook_endpoints() -> Listing:
        ids = [_endpoint().id for _ in range(COUNT)]
        return Listing(f"{API}/webhooks", auth_headers(admin), "items", "page_size", WebhookEndpoint, ids)

    def webhook_deliveries() -> Listing:
        endpoint = _endpoint()
        ids = []
        for _ in range(COUNT):
            event = OutboxEvent(event_type="user.created", payload={}, dispatched_at=utcnow())
            db.session.add(event)
            db.session.flush()
            delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, event_type=event.event_type,
                                       status="pending", attempts=0, next_attempt_at=utcnow())
            db.session.add(delivery)
            db.session.flush()
            ids.append(delivery.id)
        db.session.commit()
        return Listing(f"{API}/webhooks/{endpoint.id}/deliveries", auth_headers(admin), "items", "page_size",
                       WebhookDelivery, ids)

    def course_assignments() -> Listing:
        course = make_course(instructor)
        ids = [make_assignment(course).id for _ in range(COUNT)]
        return Listing(f"{API}/assignments/course/{course.id}", auth_headers(instructor), "assignments", "limit",
                       Assignment, ids)

    def assignment_submissions() -> Listing:
        course = make_course(instructor)
        assignment = make_assignment(course)
        ids = [make_submission(assignment, make_enrollment(make_user(), course)).id for _ in range(COUNT)]
        return Listing(f"{API}/assignments/submissions/assignment/{assignment.id}", auth_headers(instructor),
                       "submissions", "limit", Submission, ids)

    def enrollment_submissions() -> Listing:
        course = make_course(instructor)
        enrollment = make_enrollment(student, course)
        ids = [make_submission(make_assignment(course), enrollment).id for _ in range(COUNT)]
        return Listing(f"{API}/assignments/submissions/enrollment/{enrollment.id}", auth_headers(student),
                       "submissions", "limit", Submission, ids)

    def lessons() -> Listing:
        course = make_course(instructor)
        ids = [make_lesson(course).id for _ in range(COUNT)]
        return Listing(f"{API}/courses/{course.id}/lessons", auth_headers(instructor), "items", "limit", Lesson, ids)

    def quizzes() -> Listing:
        course = make_course(instructor)
        ids = [make_quiz(course).id for _ in range(COUNT)]
        return Listing(f"{API}/courses/{course.id}/quizzes", auth_headers(instructor), "quizzes", "limit", Quiz, ids)

    def my_certificates() -> Listing:
        ids = []
        for _ in range(COUNT):
            course = make_course(instructor)
            certificate = Certificate(certificate_number=f"CERT-{uuid.uuid4().hex[:12]}", student_id=student.id,
                                      enrollment_id=make_enrollment(student, course).id, course_id=course.id,
                                      completion_date=date.today())
            db.session.add(certificate)
            db.session.commit()
            ids.append(certificate.id)
        return Listing(f"{API}/certificates/my-certificates", auth_headers(student), "certificates", "limit",
                       Certificate, ids)

    def my_files() -> Listing:
        ids = [make_stored_file(student).id for _ in range(COUNT)]
        return Listing(f"{API}/files/my-files", auth_headers(student), "files", "limit", StoredFile, ids)

    return {"listLessons": lessons, "listQuizzes": quizzes, "listMyCertificates": my_certificates,
            "listMyFiles": my_files, "listCourses": courses, "listUsers": users, "listMyEnrollments": my_enrollments,
            "listCourseEnrollments": course_enrollments, "listWebhookEndpoints": webhook_endpoints,
            "listWebhookDeliveries": webhook_deliveries, "listCourseAssignments": course_assignments,
            "listAssignmentSubmissions": assignment_submissions, "listEnrollmentSubmissions": enrollment_submissions}


def _endpoint() -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url="https://sis.example.edu/hooks", events=["user.created"], is_active=True,
                               secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


LISTS = ["listLessons", "listQuizzes", "listMyCertificates", "listMyFiles", "listCourses", "listUsers", "listMyEnrollments", "listCourseEnrollments", "listWebhookEndpoints",
         "listWebhookDeliveries", "listCourseAssignments", "listAssignmentSubmissions", "listEnrollmentSubmissions"]


def touch(model, item_id: uuid.UUID) -> None:
    """An update of the row, as far as sync can tell: a later `updated_at`."""
    db.session.execute(update(model).where(model.id == item_id).values(updated_at=utcnow() + timedelta(seconds=1)))
    db.session.commit()


def walk(client, listing: Listing, params: str, between: Callable[[int, list[dict]], None] = lambda *_: None):
    """Every page of a cursor walk; `between(page_number, items)` runs after each page."""
    pages, cursor = [], None
    while True:
        query = f"{params}&{listing.size}=2" + (f"&after={cursor}" if cursor else "")
        response = client.get(f"{listing.url}?{query}", headers=listing.headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append(body)
        between(len(pages), body[listing.key])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) <= COUNT + 50, "the walk does not end"


def test_every_list_is_covered(client):
    spec = client.get("/openapi.json").get_json()
    paged = {operation["operationId"] for item in spec["paths"].values() for operation in item.values()
             if isinstance(operation, dict) and any(p.get("name") == "updated_since"
                                                    for p in operation.get("parameters", []))}
    assert paged == set(LISTS) | set(BARE_ARRAYS)


# The lists the contract answers as a bare JSON array: `updated_since` filters them whole (no cursor).
BARE_ARRAYS = ["listQuestions", "listQuestionsWithAnswers", "listMyQuizAttempts"]


@pytest.mark.parametrize("operation", BARE_ARRAYS)
def test_a_bare_array_list_keeps_the_items_changed_since(client, auth_headers, instructor, student, make_course,
                                                         make_quiz, make_question, make_enrollment, operation):
    course = make_course(instructor)
    quiz = make_quiz(course)
    if operation == "listMyQuizAttempts":
        make_enrollment(student, course)
        headers = auth_headers(student)
        url = f"{API}/quizzes/{quiz.id}/attempts"
        for _ in range(3):
            attempt = client.post(url, headers=headers).get_json()
            client.post(f"{url}/{attempt['id']}/submit", headers=headers, json={"answers": []})
        model, url = QuizAttempt, f"{url}/my-attempts"
    else:
        for _ in range(3):
            make_question(quiz)
        headers = auth_headers(instructor)
        model = Question
        url = f"{API}/courses/{course.id}/quizzes/{quiz.id}/questions" + ("/manage" if "Answers" in operation else "")
    ids = [uuid.UUID(item["id"]) for item in client.get(url, headers=headers).get_json()]
    assert len(ids) == 3
    db.session.execute(update(model).where(model.id.in_(ids)).values(updated_at=utcnow() - timedelta(days=10)))
    db.session.commit()
    touch(model, ids[1])

    changed = client.get(url, headers=headers, query_string={"updated_since": (utcnow() - timedelta(days=1)).isoformat()})
    assert [item["id"] for item in changed.get_json()] == [str(ids[1])]
    assert client.get(url, headers=headers, query_string={"updated_since": "2026-12-01T00:00:00"}).status_code == 400


@pytest.mark.parametrize("operation", LISTS)
def test_a_cursor_walk_sees_every_item_once_while_items_change(client, world, operation):
    listing = world[operation]()
    expected = set(listing.ids)
    seen: list[str] = []

    def update_some(page: int, items: list[dict]) -> None:
        seen.extend(item["id"] for item in items)
        if page == 1:  # one item already seen and one not yet seen move to the end of (updated_at, id)
            unseen = sorted(expected - {uuid.UUID(i) for i in seen})
            touch(listing.model, uuid.UUID(items[0]["id"]))
            touch(listing.model, unseen[-1])

    since = (utcnow() - timedelta(days=30)).isoformat()
    pages = walk(client, listing, f"updated_since={since.replace('+', '%2B')}", update_some)

    assert sorted(seen) == sorted(str(i) for i in expected)  # each exactly once
    assert len(pages) == -(-len(expected) // 2)
    assert {page["until"] for page in pages} == {pages[0]["until"]}  # the watermark of the whole walk
    assert all(page["total"] == len(expected) for page in pages)


@pytest.mark.parametrize("operation", LISTS)
def test_updated_since_keeps_the_items_changed_since(client, world, operation):
    listing = world[operation]()
    long_ago = utcnow() - timedelta(days=10)
    db.session.execute(update(listing.model).where(listing.model.id.in_(listing.ids)).values(updated_at=long_ago))
    db.session.commit()
    touch(listing.model, listing.ids[1])
    touch(listing.model, listing.ids[3])
    since = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S%z")
    since = since[:-2] + ":" + since[-2:]

    pages = walk(client, listing, f"updated_since={since.replace('+', '%2B')}")

    items = [item for page in pages for item in page[listing.key]]
    assert [item["id"] for item in items] == sorted({str(listing.ids[1]), str(listing.ids[3])},
                                                     key=uuid.UUID)  # ascending id


@pytest.mark.parametrize("operation", LISTS)
def test_without_sync_parameters_the_answer_is_the_contract_shape(client, world, operation):
    listing = world[operation]()
    body = client.get(listing.url, headers=listing.headers).get_json()
    assert "next_cursor" not in body and "until" not in body
    assert {item["id"] for item in body[listing.key]} >= {str(i) for i in listing.ids}


@pytest.mark.parametrize("query", [
    "updated_since=2026-12-01T00:00:00",  # no offset
    "updated_since=2026-12-01",  # a date
    "updated_since=yesterday",
    "after=not-a-cursor",
    "after=eyJmb28iOiJiYXIifQ",  # base64 of {"foo": "bar"}: not ours
    "after=eyJ1bnRpbCI6IjIwMjYtMTItMDZUMDI6MDA6MDAiLCJpZCI6IjNmYTg1ZjY0NTcxNzQ1NjJiM2ZjMmM5NjNmNjZhZmE2In0",  # a crafted cursor with a naive time
])
def test_a_malformed_sync_parameter_is_a_400(client, auth_headers, admin, query):
    response = client.get(f"{API}/users?{query}", headers=auth_headers(admin))
    assert response.status_code == 400
    assert isinstance(response.get_json()["detail"], str)


def test_authentication_comes_before_the_sync_parameters(client):
    response = client.get(f"{API}/users?updated_since=yesterday")
    assert response.status_code == 401


@pytest.mark.parametrize("operation", LISTS)
def test_a_page_in_sync_mode_runs_as_many_statements_whatever_its_size(client, world, count_queries, operation):
    listing = world[operation]()
    counts = []
    for size in (1, COUNT):
        with count_queries() as counter:
            response = client.get(f"{listing.url}?updated_since=2020-01-01T00:00:00Z&{listing.size}={size}",
                                  headers=listing.headers)
        assert response.status_code == 200
        assert len(response.get_json()[listing.key]) == size
        counts.append(counter.count)
    assert counts[0] == counts[1]
