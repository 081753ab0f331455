"""The outbox: each public event is a row written in the transaction of its change, with the
JSON a receiver gets; a change that rolls back leaves none, and the relay fans each out once."""

from __future__ import annotations

import uuid

from sqlalchemy import event as sa_event, func, select

from lms.core.db import Session
from lms.core.extensions import db
from lms.webhooks import relay
from lms.webhooks.models import OutboxEvent, WebhookDelivery
from tests.helpers import API, PASSWORD


def outbox() -> list[OutboxEvent]:
    return list(db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)))


def test_a_journey_writes_one_row_per_event_with_its_data(client, auth_headers, make_user, make_course):
    teacher, learner = make_user("instructor"), make_user("student")
    course = make_course(teacher, lessons=1)
    headers = auth_headers(learner)
    enrollment = client.post(f"{API}/enrollments", headers=headers, json={"course_id": str(course.id)}).get_json()
    lesson = client.get(f"{API}/courses/{course.id}/lessons", headers=headers).get_json()["items"][0]
    client.post(f"{API}/enrollments/{enrollment['id']}/lessons/{lesson['id']}/complete", headers=headers)
    client.delete(f"{API}/courses/{course.id}", headers=auth_headers(teacher))

    rows = outbox()
    assert [row.event_type for row in rows] == ["enrollment.created", "lesson.completed", "certificate.issued",
                                                "enrollment.completed", "course.deleted"]
    created, completed_lesson, issued, completed, deleted = (row.payload for row in rows)
    assert created["type"] == "enrollment.created" and created["timestamp"].endswith("Z")
    assert created["data"] == {**created["data"], "id": enrollment["id"], "course_id": str(course.id),
                               "student_id": str(learner.id), "status": "active", "progress_percentage": "0.00"}
    assert completed_lesson["data"]["lesson_id"] == lesson["id"]
    assert completed_lesson["data"]["enrollment_id"] == enrollment["id"]
    assert issued["data"]["certificate_number"].startswith("CERT-")
    assert completed["data"]["status"] == "completed" and completed["data"]["progress_percentage"] == "100.00"
    assert deleted["data"] == {"id": str(course.id)}
    assert len({row.id for row in rows}) == 5


def test_user_events_carry_ids_and_roles_not_personal_data(client, auth_headers, admin):
    created = client.post(f"{API}/users", headers=auth_headers(admin), json={
        "email": "sis@example.com", "password": PASSWORD, "full_name": "Sis User", "role": "student"}).get_json()
    client.patch(f"{API}/users/{created['id']}", headers=auth_headers(admin), json={"is_active": False})

    rows = outbox()
    assert [(row.event_type, row.payload["data"]["id"]) for row in rows] == [
        ("user.created", created["id"]), ("user.deactivated", created["id"])]
    assert "sis@example.com" not in str([row.payload for row in rows])


def test_a_change_that_rolls_back_writes_no_row(client, auth_headers, student, make_user, make_course):
    course = make_course(make_user("instructor"))

    def fail(_session):
        raise RuntimeError("the database went away during COMMIT")

    sa_event.listen(Session, "after_flush", fail)
    try:
        response = client.post(f"{API}/enrollments", headers=auth_headers(student), json={"course_id": str(course.id)})
    finally:
        sa_event.remove(Session, "after_flush", fail)

    assert response.status_code == 500
    assert outbox() == []
    assert client.post(f"{API}/enrollments", headers=auth_headers(student),
                       json={"course_id": str(course.id)}).status_code == 201
    assert [row.event_type for row in outbox()] == ["enrollment.created"]  # nothing left over from the failure


def test_each_event_is_fanned_out_once_to_each_subscribed_endpoint(client, auth_headers, student, make_user,
                                                                   make_course, make_endpoint):
    first = make_endpoint("https://one.example.edu/hooks", ["enrollment.created", "user.created"])
    second = make_endpoint("https://two.example.edu/hooks", ["enrollment.created"])
    make_endpoint("https://three.example.edu/hooks", ["enrollment.created"], is_active=False)
    course = make_course(make_user("instructor"))
    client.post(f"{API}/enrollments", headers=auth_headers(student), json={"course_id": str(course.id)})

    relay.dispatch_events()
    relay.dispatch_events()

    made = db.session.execute(select(WebhookDelivery.endpoint_id, func.count()).group_by(WebhookDelivery.endpoint_id))
    assert dict(made.all()) == {uuid.UUID(first["id"]): 1, uuid.UUID(second["id"]): 1}
    (event,) = outbox()
    assert event.dispatched_at is not None
