"""An event type no active endpoint subscribes to writes no outbox row, once the subscribed types
are published; while they are not known (never published, Redis unreachable) every event is written."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import select

from lms.core.extensions import db
from lms.webhooks import relay, subscriptions
from lms.webhooks.models import OutboxEvent
from lms.webhooks.subscriptions import publish_wanted_event_types, wanted_event_types
from tests.helpers import API, CLOSED_REDIS_URL, PASSWORD

ENDPOINT_URL = "http://127.0.0.1:9/hook"


def written() -> list[str]:
    return list(db.session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.created_at)))


def enroll(client, auth_headers, make_user, course) -> None:
    response = client.post(f"{API}/enrollments", headers=auth_headers(make_user("student")),
                           json={"course_id": str(course.id)})
    assert response.status_code == 201


def test_while_nothing_is_published_every_event_is_written(client, auth_headers, make_user, make_course):
    assert wanted_event_types() is None
    enroll(client, auth_headers, make_user, make_course(make_user("instructor")))

    assert written() == ["enrollment.created"]


@pytest.mark.redis  # published in Redis: without it, no process skips an event
def test_with_no_endpoint_nothing_is_written(client, auth_headers, make_user, make_course):
    publish_wanted_event_types()
    enroll(client, auth_headers, make_user, make_course(make_user("instructor")))

    assert wanted_event_types() == frozenset()
    assert written() == []


@pytest.mark.redis  # published in Redis: without it, no process skips an event
def test_only_the_subscribed_types_are_written(client, auth_headers, make_user, make_course, make_endpoint):
    make_endpoint(ENDPOINT_URL, events=["enrollment.created"])  # published once the creation commits
    registered = client.post(f"{API}/auth/register", json={"email": "new@example.com", "password": PASSWORD,
                                                            "full_name": "New Learner"})
    assert registered.status_code == 201  # its user.created is not wanted
    enroll(client, auth_headers, make_user, make_course(make_user("instructor")))

    assert written() == ["enrollment.created"]


@pytest.mark.redis  # published in Redis: without it, no process skips an event
def test_an_inactive_endpoint_wants_nothing(client, admin, auth_headers, make_endpoint):
    endpoint = make_endpoint(ENDPOINT_URL, events=["user.created"])
    assert wanted_event_types() == {"user.created"}

    client.patch(f"{API}/webhooks/{endpoint['id']}", headers=auth_headers(admin), json={"is_active": False})
    assert wanted_event_types() == frozenset()


@pytest.mark.redis  # published in Redis: without it, no process skips an event
def test_each_relay_run_publishes_the_types(app):
    relay.relay()

    assert wanted_event_types() == frozenset()
    ttl = subscriptions.redis_client().ttl(subscriptions.WANTED_EVENTS_KEY)
    assert 0 < ttl <= subscriptions.WANTED_EVENTS_TTL_SECONDS


def test_an_unreachable_redis_means_every_event_is_written(client, auth_headers, make_user, make_course,
                                                           monkeypatch):
    publish_wanted_event_types()
    closed = redis.Redis.from_url(CLOSED_REDIS_URL, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(subscriptions, "redis_client", lambda: closed)
    enroll(client, auth_headers, make_user, make_course(make_user("instructor")))

    assert "enrollment.created" in written()
