"""End to end with real processes: the web app commits, a real `rq worker` (the Procfile's, with its
scheduler) relays, a real receiver on loopback gets signed requests. A worker killed mid-delivery,
or none running at commit time, or Redis down then, loses no event: the outbox row or the claimed
delivery stays pending until a worker delivers it, under the same event id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.webhooks.models import OutboxEvent, WebhookDelivery
from tests.helpers import API, CLOSED_REDIS_URL
from tests.webhooks.helpers import WEBHOOKS

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.real_commits]


@pytest.fixture
def worker_settings(base_settings) -> dict[str, str]:
    settings = {key: str(value) for key, value in base_settings.items() if key != "TESTING"}
    settings.update(TASKS_FORCE_INLINE="false", WEBHOOK_ALLOW_PRIVATE_TARGETS="true", WEBHOOK_TIMEOUT_SECONDS="5")
    return settings


@pytest.fixture
def start_worker(worker_settings):
    """`start_worker()` -> a running `rq worker` process (its own process group), stopped after the test."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        env = {**os.environ, **worker_settings, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "rq"), "worker", "--url", worker_settings["REDIS_URL"],
             "--worker-class", "lms.worker.AppWorker", "--with-scheduler", "webhooks"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the worker and the work horse it forked: no clean-up of any kind."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.fixture
def web(make_app):
    """The web app as deployed: jobs go to Redis, deliveries may reach loopback."""
    return make_app(TASKS_FORCE_INLINE=False, WEBHOOK_ALLOW_PRIVATE_TARGETS=True)


def eventually(check, timeout: float = 30):
    """`check()`'s first truthy value, polled until `timeout` (a bound on waiting, not a measure)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("the expected state never came")
        time.sleep(0.1)


@contextmanager
def admin_and_course(web, make_user, make_course, auth_headers):
    admin, student = make_user("admin"), make_user("student")
    course = make_course(make_user("instructor"))
    db.session.commit()
    yield auth_headers(admin), auth_headers(student), course


def register(client, headers, url: str) -> dict:
    response = client.post(WEBHOOKS, headers=headers, json={"url": url, "events": ["enrollment.created"]})
    assert response.status_code == 201
    return response.get_json()


def enroll(client, headers, course) -> str:
    response = client.post(f"{API}/enrollments", headers=headers, json={"course_id": str(course.id)})
    assert response.status_code == 201
    return response.get_json()["id"]


def delivery_of(endpoint_id: str) -> WebhookDelivery | None:
    return db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == uuid.UUID(endpoint_id)))


def test_a_commit_is_delivered_by_the_worker_signed(web, start_worker, receiver, make_user, make_course,
                                                    auth_headers):
    start_worker()
    client = web.test_client()
    with admin_and_course(web, make_user, make_course, auth_headers) as (admin, student, course):
        endpoint = register(client, admin, receiver.url("/ok"))
        enrollment_id = enroll(client, student, course)

        (request,) = receiver.wait_for(1)

        payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
        assert (payload["type"], payload["data"]["id"]) == ("enrollment.created", enrollment_id)
        entry = eventually(lambda: next(iter(client.get(f"{WEBHOOKS}/{endpoint['id']}/deliveries?status=succeeded",
                                                        headers=admin).get_json()["items"]), None))
        assert (entry["attempts"], entry["last_status_code"], entry["event_id"]) == (
            1, 204, request.headers["webhook-id"])


def test_events_committed_while_no_worker_runs_and_redis_is_down_are_delivered_later(
        web, make_app, start_worker, receiver, make_user, make_course, auth_headers):
    client = web.test_client()
    with admin_and_course(web, make_user, make_course, auth_headers) as (admin, student, course):
        endpoint = register(client, admin, receiver.url("/ok"))
        enroll(client, student, course)  # no worker: queued nudge, nobody to run it
        outage = make_app(REDIS_URL=CLOSED_REDIS_URL, TASKS_FORCE_INLINE=False, WEBHOOK_ALLOW_PRIVATE_TARGETS=True,
                          ACCESS_TOKEN_BLACKLIST_FAIL_CLOSED=False, RATE_LIMIT_ENABLED=False)
        other_course = make_course(course_owner(course))
        db.session.commit()
        enroll(outage.test_client(), student, other_course)  # Redis down at commit time: no nudge at all

        db.session.expire_all()
        assert [event.dispatched_at for event in db.session.scalars(select(OutboxEvent))] == [None, None]
        assert receiver.received == []

        start_worker()  # a starting worker relays what is pending

        received = receiver.wait_for(2)
        assert len({request.headers["webhook-id"] for request in received}) == 2
        for request in received:
            Webhook(endpoint["secret"]).verify(request.body, request.headers)


def course_owner(course):
    from lms.users.models import User

    return db.session.get(User, course.instructor_id)


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_retry_keeps_the_event_id(
        web, start_worker, receiver, make_user, make_course, auth_headers):
    client = web.test_client()
    with admin_and_course(web, make_user, make_course, auth_headers) as (admin, student, course):
        endpoint = register(client, admin, receiver.url("/slow"))
        worker = start_worker()
        enroll(client, student, course)
        (held,) = receiver.wait_for(1, "/slow")  # the worker is waiting for the answer now

        kill(worker)

        delivery = delivery_of(endpoint["id"])
        assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("pending", 1, None)
        assert delivery.next_attempt_at > utcnow()  # claimed: due again once the claim lapses
        db.session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))  # the claim has lapsed
        db.session.commit()
        client.patch(f"{WEBHOOKS}/{endpoint['id']}", headers=admin, json={"url": receiver.url("/ok")})
        start_worker()

        (retried,) = receiver.wait_for(1, "/ok")
        assert retried.headers["webhook-id"] == held.headers["webhook-id"]
        assert retried.body == held.body
        done = eventually(lambda: (lambda d: d if d.status == "succeeded" else None)(delivery_of(endpoint["id"])))
        assert done.attempts == 2


def test_a_failing_receiver_delays_no_other_endpoint(web, start_worker, receiver, make_user, make_course,
                                                     auth_headers):
    start_worker()
    client = web.test_client()
    with admin_and_course(web, make_user, make_course, auth_headers) as (admin, student, course):
        failing = register(client, admin, receiver.url("/fail"))
        slow = register(client, admin, receiver.url("/slow"))
        healthy = register(client, admin, receiver.url("/ok"))
        enroll(client, student, course)

        receiver.wait_for(1, "/ok")
        assert receiver.ok_during_slow in ([], [True])  # the slow receiver, if asked first, was still holding
        eventually(lambda: delivery_of(healthy["id"]).status == "succeeded")
        failed = eventually(lambda: (lambda d: d if d.last_status_code == 500 else None)(delivery_of(failing["id"])))
        assert (failed.status, failed.attempts) == ("pending", 1)
        eventually(lambda: delivery_of(slow["id"]).status == "succeeded")
