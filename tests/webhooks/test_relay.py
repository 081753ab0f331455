"""The relay, run in the test's process against a real receiver on loopback: signed requests that
the reference implementation verifies, retries on the Standard Webhooks schedule, endpoints
disabled after a day of failures, rotation overlap, redirects, timeouts and slow receivers."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from lms.core.extensions import db
from lms.webhooks import relay
from lms.webhooks.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from lms.webhooks.outbound import Outcome
from tests.helpers import API
from tests.webhooks.helpers import WEBHOOKS


def enroll(client, auth_headers, student, course) -> str:
    response = client.post(f"{API}/enrollments", headers=auth_headers(student), json={"course_id": str(course.id)})
    assert response.status_code == 201
    return response.get_json()["id"]


def deliveries(endpoint_id) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == uuid.UUID(str(endpoint_id))).order_by(WebhookDelivery.created_at)))


@pytest.fixture
def course(make_user, make_course):
    return make_course(make_user("instructor"), lessons=1)


def test_an_event_reaches_a_subscribed_endpoint_signed_as_standard_webhooks_verifies(
        client, auth_headers, student, course, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url("/ok"), ["enrollment.created"])
    ignoring = make_endpoint(receiver.url("/ignored"), ["certificate.issued"])
    enrollment_id = enroll(client, auth_headers, student, course)

    relay.relay()

    (request,) = receiver.wait_for(1)
    assert request.path == "/ok"
    payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "enrollment.created"
    assert payload["data"]["id"] == enrollment_id
    assert payload["data"]["student_id"] == str(student.id)
    (delivery,) = deliveries(endpoint["id"])
    assert request.headers["webhook-id"] == delivery.message_id
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        "succeeded", 1, 204, None)
    assert deliveries(ignoring["id"]) == []
    with pytest.raises(WebhookVerificationError):
        Webhook(ignoring["secret"]).verify(request.body, request.headers)


def test_the_delivery_log_shows_attempts_status_error_and_next_try(
        client, auth_headers, admin, student, course, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url("/fail"))
    enroll(client, auth_headers, student, course)

    relay.relay()

    receiver.wait_for(1)
    log = client.get(f"{WEBHOOKS}/{endpoint['id']}/deliveries", headers=auth_headers(admin)).get_json()
    (entry,) = log["items"]
    assert (entry["event_type"], entry["status"], entry["attempts"], entry["last_status_code"], entry["last_error"]) == (
        "enrollment.created", "pending", 1, 500, "HTTP 500")
    next_try = datetime.fromisoformat(entry["next_attempt_at"])
    last_try = datetime.fromisoformat(entry["last_attempt_at"])
    assert timedelta(seconds=5) <= next_try - last_try < timedelta(seconds=65)
    assert entry["event_id"].startswith("evt_")
    filtered = client.get(f"{WEBHOOKS}/{endpoint['id']}/deliveries?status=succeeded", headers=auth_headers(admin))
    assert filtered.get_json()["total"] == 0


def test_a_failed_delivery_is_retried_with_the_same_event_id_and_body(
        client, auth_headers, admin, student, course, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url("/fail"))
    enroll(client, auth_headers, student, course)
    relay.relay()
    (delivery,) = deliveries(endpoint["id"])
    delivery.next_attempt_at = delivery.next_attempt_at - timedelta(seconds=5)  # the back-off has passed
    client.patch(f"{WEBHOOKS}/{endpoint['id']}", headers=auth_headers(admin), json={"url": receiver.url("/ok")})

    relay.relay()

    first, second = receiver.wait_for(2)
    assert (first.path, second.path) == ("/fail", "/ok")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    (delivery,) = deliveries(endpoint["id"])
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 2, 204)


def test_nothing_is_sent_before_the_back_off_has_passed(client, auth_headers, student, course, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url("/fail"))
    enroll(client, auth_headers, student, course)
    relay.relay()
    receiver.wait_for(1)

    relay.relay()

    assert len(receiver.received) == 1
    assert deliveries(endpoint["id"])[0].attempts == 1


@pytest.fixture
def failing_delivery(make_user, make_course):
    """A pending delivery of a made-up event to an endpoint, as the relay leaves it after attempts."""
    endpoint = WebhookEndpoint(url="https://sis.example.edu/hooks", events=["user.created"], is_active=True,
                               secret="whsec_" + "A" * 32)
    event = OutboxEvent(id=uuid.uuid4(), event_type="user.created", payload={"type": "user.created", "data": {}})
    db.session.add_all([endpoint, event])
    db.session.flush()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, event_type="user.created",
                               status="pending", attempts=1)
    db.session.add(delivery)
    db.session.commit()
    return endpoint, delivery


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("attempts, delay", [
    (1, timedelta(seconds=5)), (2, timedelta(minutes=5)), (3, timedelta(minutes=30)), (4, timedelta(hours=2)),
    (5, timedelta(hours=5)), (6, timedelta(hours=10)), (7, timedelta(hours=10))])
def test_failures_back_off_on_the_standard_webhooks_schedule(failing_delivery, attempts, delay):
    _, delivery = failing_delivery
    delivery.attempts = attempts
    with time_machine.travel(NOW, tick=False):
        relay.record_outcome(delivery.id, Outcome(503, "HTTP 503"))
    assert (delivery.status, delivery.next_attempt_at) == ("pending", NOW + delay)


def test_the_eighth_failure_ends_the_delivery(failing_delivery):
    _, delivery = failing_delivery
    delivery.attempts = relay.MAX_ATTEMPTS
    relay.record_outcome(delivery.id, Outcome(None, "ConnectTimeoutError"))
    assert (delivery.status, delivery.next_attempt_at, delivery.last_error) == ("failed", None, "ConnectTimeoutError")
    assert sum(relay.RETRY_DELAYS, timedelta()) > timedelta(hours=24)  # the schedule spans about a day


def test_an_endpoint_failing_for_a_day_is_disabled_and_a_success_before_clears_its_record(failing_delivery):
    endpoint, delivery = failing_delivery
    with time_machine.travel(NOW, tick=False):
        relay.record_outcome(delivery.id, Outcome(500, "HTTP 500"))
    assert (endpoint.failing_since, endpoint.is_active) == (NOW, True)
    with time_machine.travel(NOW + timedelta(hours=23), tick=False):
        relay.record_outcome(delivery.id, Outcome(500, "HTTP 500"))
    assert endpoint.is_active
    with time_machine.travel(NOW + timedelta(hours=24), tick=False):
        relay.record_outcome(delivery.id, Outcome(500, "HTTP 500"))
    assert (endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason) == (
        False, NOW + timedelta(hours=24), relay.DISABLED_REASON)


def test_a_success_forgets_earlier_failures(failing_delivery):
    endpoint, delivery = failing_delivery
    relay.record_outcome(delivery.id, Outcome(500, "HTTP 500"))
    assert endpoint.failing_since is not None
    relay.record_outcome(delivery.id, Outcome(200))
    assert (endpoint.failing_since, delivery.status) == (None, "succeeded")


def test_a_disabled_endpoint_gets_nothing_until_reactivated_and_then_its_pending_deliveries(
        client, auth_headers, admin, student, course, make_endpoint, receiver, make_course):
    endpoint = make_endpoint(receiver.url("/ok"))
    enroll(client, auth_headers, student, course)
    relay.dispatch_events()  # the delivery is made, then the endpoint is disabled before it is sent
    stored = db.session.get(WebhookEndpoint, uuid.UUID(endpoint["id"]))
    stored.is_active, stored.disabled_at, stored.disabled_reason = False, NOW, relay.DISABLED_REASON
    db.session.commit()
    enroll(client, auth_headers, student, make_course(course_owner(course)))  # made while disabled: not for it
    relay.relay()
    assert receiver.received == []

    reactivated = client.patch(f"{WEBHOOKS}/{endpoint['id']}", headers=auth_headers(admin), json={"is_active": True})
    assert (reactivated.get_json()["is_active"], reactivated.get_json()["disabled_at"]) == (True, None)
    relay.relay()

    receiver.wait_for(1, "/ok")
    assert [d.status for d in deliveries(endpoint["id"])] == ["succeeded"]


def test_redelivery_sends_again_with_the_same_id(client, auth_headers, admin, student, course, make_endpoint,
                                                  receiver):
    endpoint = make_endpoint(receiver.url("/ok"))
    enroll(client, auth_headers, student, course)
    relay.relay()
    (delivery,) = deliveries(endpoint["id"])

    response = client.post(f"{WEBHOOKS}/{endpoint['id']}/deliveries/{delivery.id}/redeliver",
                           headers=auth_headers(admin))

    assert response.status_code == 202
    assert (response.get_json()["status"], response.get_json()["attempts"]) == ("pending", 1)
    relay.relay()
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert deliveries(endpoint["id"])[0].attempts == 2


def test_redelivery_of_an_unknown_delivery_or_to_an_inactive_endpoint(client, auth_headers, admin, student, course,
                                                                      make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url("/ok"))
    other = make_endpoint(receiver.url("/ok"))
    enroll(client, auth_headers, student, course)
    relay.relay()
    (delivery,) = deliveries(endpoint["id"])
    headers = auth_headers(admin)

    elsewhere = client.post(f"{WEBHOOKS}/{other['id']}/deliveries/{delivery.id}/redeliver", headers=headers)
    assert (elsewhere.status_code, elsewhere.get_json()) == (404, {"detail": "Webhook delivery not found"})
    client.patch(f"{WEBHOOKS}/{endpoint['id']}", headers=headers, json={"is_active": False})
    inactive = client.post(f"{WEBHOOKS}/{endpoint['id']}/deliveries/{delivery.id}/redeliver", headers=headers)
    assert inactive.status_code == 409


def test_during_the_rotation_overlap_both_secrets_sign(client, auth_headers, admin, student, course, make_endpoint,
                                                       receiver, make_course):
    endpoint = make_endpoint(receiver.url("/ok"), ["enrollment.created"])
    rotated = client.post(f"{WEBHOOKS}/{endpoint['id']}/rotate-secret", headers=auth_headers(admin)).get_json()
    enroll(client, auth_headers, student, course)

    relay.relay()

    (request,) = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], rotated["secret"]):
        Webhook(secret).verify(request.body, request.headers)

    stored = db.session.get(WebhookEndpoint, uuid.UUID(endpoint["id"]))
    stored.previous_secret_expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)  # the overlap is over
    db.session.commit()
    enroll(client, auth_headers, student, make_course(course_owner(course)))
    relay.relay()
    _, after = receiver.wait_for(2)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated["secret"]).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(after.body, after.headers)


def course_owner(course):
    from lms.users.models import User

    return db.session.get(User, course.instructor_id)


def test_a_redirect_is_not_followed(client, auth_headers, student, course, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url("/redirect"))
    enroll(client, auth_headers, student, course)

    relay.relay()

    receiver.wait_for(1)
    (delivery,) = deliveries(endpoint["id"])
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)
    assert "not followed" in delivery.last_error
    assert receiver.on("/ok") == []


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(app, client, auth_headers, student, course,
                                                                make_endpoint, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 1)
    endpoint = make_endpoint(receiver.url("/slow"))
    enroll(client, auth_headers, student, course)

    relay.relay()

    (delivery,) = deliveries(endpoint["id"])
    assert (delivery.status, delivery.last_status_code) == ("pending", None)
    assert "Timeout" in delivery.last_error


def test_a_slow_a_failing_and_a_down_receiver_hold_up_no_other(client, auth_headers, student, course, make_endpoint,
                                                                receiver):
    from tests.helpers import free_port

    slow = make_endpoint(receiver.url("/slow"))
    failing = make_endpoint(receiver.url("/fail"))
    down = make_endpoint(f"http://127.0.0.1:{free_port()}/hooks")
    healthy = make_endpoint(receiver.url("/ok"))
    enroll(client, auth_headers, student, course)
    relay.dispatch_events()
    # The slow receiver's delivery is due first: a relay sending one request at a time would hold
    # the healthy receiver's until the slow one answered.
    for position, endpoint in enumerate((slow, failing, down, healthy)):
        deliveries(endpoint["id"])[0].next_attempt_at -= timedelta(minutes=10 - position)
    db.session.commit()

    relay.deliver_due()

    assert receiver.ok_during_slow == [True]  # the healthy receiver got its event while the slow one held
    outcomes = {name: deliveries(endpoint["id"])[0] for name, endpoint in
                (("slow", slow), ("failing", failing), ("down", down), ("healthy", healthy))}
    assert {name: (d.status, d.last_status_code) for name, d in outcomes.items()} == {
        "slow": ("succeeded", 200), "failing": ("pending", 500), "down": ("pending", None),
        "healthy": ("succeeded", 204)}
    assert "Connection" in outcomes["down"].last_error or "refused" in outcomes["down"].last_error.lower()


def test_old_delivered_events_are_pruned_and_pending_ones_kept(failing_delivery):
    endpoint, delivery = failing_delivery
    done = OutboxEvent(id=uuid.uuid4(), event_type="user.created", payload={},
                       created_at=NOW - timedelta(days=40), dispatched_at=NOW - timedelta(days=40))
    db.session.add(done)
    pending_event = db.session.get(OutboxEvent, delivery.event_id)
    pending_event.dispatched_at = NOW - timedelta(days=40)
    db.session.commit()

    relay.prune_delivered_events()

    db.session.expire_all()
    assert db.session.get(OutboxEvent, done.id) is None
    assert db.session.get(OutboxEvent, delivery.event_id) is not None


def test_the_body_is_the_event_as_stored(client, auth_headers, student, course, make_endpoint, receiver):
    make_endpoint(receiver.url("/ok"))
    enroll(client, auth_headers, student, course)
    relay.relay()
    (request,) = receiver.wait_for(1)
    (event,) = db.session.scalars(select(OutboxEvent))
    assert json.loads(request.body) == event.payload
    assert request.headers["content-type"] == "application/json"


def test_an_outcome_for_an_endpoint_deleted_meanwhile_is_dropped(failing_delivery):
    endpoint, delivery = failing_delivery
    delivery_id = delivery.id
    db.session.delete(endpoint)
    db.session.commit()

    relay.record_outcome(delivery_id, Outcome(200))  # the database deleted the delivery with its endpoint

    assert db.session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.id == delivery_id)) is None


@pytest.mark.redis
def test_the_cron_process_runs_the_relay_every_interval_and_a_nudge_queues_a_run(make_app, monkeypatch):
    import importlib
    import sys

    from rq import Queue, cron

    from lms.core.redis import redis_bytes_client

    monkeypatch.setenv("WEBHOOK_RELAY_INTERVAL_SECONDS", "45")
    queued = make_app(TASKS_FORCE_INLINE=False)
    cron._job_data_registry.clear()
    sys.modules.pop("lms.cron", None)
    importlib.import_module("lms.cron")  # registers its jobs with RQ's cron registry, as `rq cron lms.cron` does
    connection = redis_bytes_client(queued)
    job = {job.name: job for job in cron.create_cron(connection).get_jobs()}["webhooks-relay"]
    assert (job.interval, job.queue_name, job.args[0]) == (45, "webhooks", "lms.webhooks.relay:relay")

    with queued.app_context():
        relay.nudge()
    assert Queue("webhooks", connection=connection).count == 1


@pytest.mark.parametrize("timeout, concurrency, size", [(10, 8, 48), (30, 8, 16), (1, 64, 50), (30, 1, 2)])
def test_a_batch_of_deliveries_fits_the_job_even_when_every_receiver_times_out(timeout, concurrency, size):
    assert relay._delivery_batch_size(timeout, concurrency) == size
    rounds = -(-size // concurrency)
    assert relay.RUN_BUDGET_SECONDS + rounds * timeout < 120  # the job's timeout
