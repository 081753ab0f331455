"""`/webhooks`: admins register, read, change, rotate and delete endpoints; nobody else may."""

from __future__ import annotations

import uuid

import pytest
from standardwebhooks import Webhook

from lms.core import events
from tests.webhooks.helpers import WEBHOOKS

BODY = {"url": "https://sis.example.edu/hooks/lms", "events": ["enrollment.completed", "certificate.issued"]}


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(client, auth_headers, admin):
    response = client.post(WEBHOOKS, headers=auth_headers(admin), json={**BODY, "description": "SIS"})

    assert response.status_code == 201
    created = response.get_json()
    assert (created["url"], created["events"], created["is_active"], created["description"]) == (
        BODY["url"], BODY["events"], True, "SIS")
    assert created["secret"].startswith("whsec_")
    Webhook(created["secret"])  # a key the reference implementation accepts
    read = client.get(f"{WEBHOOKS}/{created['id']}", headers=auth_headers(admin)).get_json()
    assert "secret" not in read
    assert read == {key: value for key, value in created.items() if key != "secret"}
    listed = client.get(WEBHOOKS, headers=auth_headers(admin)).get_json()
    assert ([item["id"] for item in listed["items"]], listed["total"]) == ([created["id"]], 1)
    assert "secret" not in listed["items"][0]


def test_each_endpoint_gets_its_own_secret(client, auth_headers, admin):
    secrets = {client.post(WEBHOOKS, headers=auth_headers(admin), json=BODY).get_json()["secret"] for _ in range(3)}
    assert len(secrets) == 3


@pytest.mark.parametrize("body, field", [
    ({**BODY, "events": []}, "events"),
    ({**BODY, "events": ["course.changed"]}, "events"),  # an internal event is not offered
    ({**BODY, "events": "enrollment.created"}, "events"),
    ({**BODY, "url": "ftp://sis.example.edu/hooks"}, "url"),
    ({**BODY, "url": "https://user:pw@sis.example.edu/hooks"}, "url"),
    ({"events": BODY["events"]}, "url"),
    ({**BODY, "is_active": "maybe"}, "is_active"),
])
def test_invalid_registrations_are_422_naming_the_field(client, auth_headers, admin, body, field):
    response = client.post(WEBHOOKS, headers=auth_headers(admin), json=body)
    assert response.status_code == 422
    assert field in {error["loc"][1] for error in response.get_json()["detail"]}


def test_a_change_keeps_what_is_not_sent_and_repeated_event_types_count_once(client, auth_headers, admin):
    created = client.post(WEBHOOKS, headers=auth_headers(admin), json=BODY).get_json()
    url = f"{WEBHOOKS}/{created['id']}"

    changed = client.patch(url, headers=auth_headers(admin), json={
        "events": ["user.created", "user.created"], "is_active": False})

    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["url"], body["events"], body["is_active"]) == (BODY["url"], ["user.created"], False)
    assert client.patch(url, headers=auth_headers(admin)).get_json()["events"] == ["user.created"]


def test_deleting_an_endpoint(client, auth_headers, admin):
    created = client.post(WEBHOOKS, headers=auth_headers(admin), json=BODY).get_json()
    url = f"{WEBHOOKS}/{created['id']}"
    assert client.delete(url, headers=auth_headers(admin)).status_code == 204
    assert client.get(url, headers=auth_headers(admin)).status_code == 404
    assert client.delete(url, headers=auth_headers(admin)).status_code == 404


def test_rotating_the_secret_answers_a_new_one_and_keeps_the_old_for_the_overlap(client, auth_headers, admin):
    created = client.post(WEBHOOKS, headers=auth_headers(admin), json=BODY).get_json()

    rotated = client.post(f"{WEBHOOKS}/{created['id']}/rotate-secret", headers=auth_headers(admin))

    assert rotated.status_code == 200
    body = rotated.get_json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["previous_secret_expires_at"] is not None


@pytest.mark.parametrize("method, suffix", [
    ("get", ""), ("post", ""), ("get", "/{id}"), ("patch", "/{id}"), ("delete", "/{id}"),
    ("post", "/{id}/rotate-secret"), ("get", "/{id}/deliveries"),
    ("post", "/{id}/deliveries/{delivery}/redeliver"),
])
def test_only_admins_manage_webhooks(client, auth_headers, admin, make_user, method, suffix):
    created = client.post(WEBHOOKS, headers=auth_headers(admin), json=BODY).get_json()
    url = WEBHOOKS + suffix.format(id=created["id"], delivery=uuid.uuid4())
    body = BODY if method in {"post", "patch"} else None
    assert getattr(client, method)(url, json=body).status_code == 401
    for role in ("student", "instructor"):
        response = getattr(client, method)(url, headers=auth_headers(make_user(role)), json=body)
        assert (response.status_code, response.get_json()) == (403, {"detail": "Only admins can manage webhooks"})


def test_a_demoted_admin_loses_access(client, auth_headers, make_user):
    from lms.core.extensions import db

    former = make_user("admin")
    headers = auth_headers(former)
    assert client.get(WEBHOOKS, headers=headers).status_code == 200
    former.role = "instructor"
    db.session.commit()
    assert client.get(WEBHOOKS, headers=headers).status_code == 403


@pytest.mark.parametrize("suffix", ["", "/deliveries", "/rotate-secret"])
def test_an_unknown_endpoint_is_404(client, auth_headers, admin, suffix):
    method = client.post if suffix == "/rotate-secret" else client.get
    response = method(f"{WEBHOOKS}/{uuid.uuid4()}{suffix}", headers=auth_headers(admin))
    assert (response.status_code, response.get_json()) == (404, {"detail": "Webhook endpoint not found"})


def test_every_endpoint_change_is_announced_for_the_audit_log(client, auth_headers, admin):
    announced = []
    names = (events.WEBHOOK_ENDPOINT_CREATED, events.WEBHOOK_ENDPOINT_UPDATED,
             events.WEBHOOK_ENDPOINT_SECRET_ROTATED, events.WEBHOOK_ENDPOINT_DELETED)
    receivers = {name: (lambda _sender, _name=name, **payload: announced.append((_name, payload["endpoint"].id)))
                 for name in names}
    for name, receive in receivers.items():
        events.signal(name).connect(receive)
    try:
        created = client.post(WEBHOOKS, headers=auth_headers(admin), json=BODY).get_json()
        url = f"{WEBHOOKS}/{created['id']}"
        client.patch(url, headers=auth_headers(admin), json={"is_active": False})
        client.post(f"{url}/rotate-secret", headers=auth_headers(admin))
        client.delete(url, headers=auth_headers(admin))
    finally:
        for name, receive in receivers.items():
            events.signal(name).disconnect(receive)
    endpoint_id = uuid.UUID(created["id"])
    assert announced == [(name, endpoint_id) for name in names]


def test_listing_endpoints_and_deliveries_costs_the_same_whatever_their_number(
        client, auth_headers, admin, count_queries):
    from lms.webhooks.models import OutboxEvent, WebhookDelivery
    from lms.core.extensions import db

    headers = auth_headers(admin)
    first = client.post(WEBHOOKS, headers=headers, json=BODY).get_json()

    def add_deliveries(count: int) -> None:
        for _ in range(count):
            event = OutboxEvent(id=uuid.uuid4(), event_type="user.created", payload={})
            db.session.add(event)
            db.session.flush()
            db.session.add(WebhookDelivery(endpoint_id=uuid.UUID(first["id"]), event_id=event.id,
                                           event_type="user.created", status="pending", attempts=0))
        db.session.commit()

    def cost() -> tuple[int, int]:
        with count_queries() as endpoints:
            assert client.get(WEBHOOKS, headers=headers).status_code == 200
        with count_queries() as deliveries:
            assert client.get(f"{WEBHOOKS}/{first['id']}/deliveries", headers=headers).status_code == 200
        return endpoints.count, deliveries.count

    add_deliveries(1)
    few = cost()
    for _ in range(5):
        client.post(WEBHOOKS, headers=headers, json=BODY)
    add_deliveries(8)
    assert cost() == few
