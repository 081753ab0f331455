"""Outbound requests never reach private, loopback or link-local addresses (checked after DNS
resolution) unless WEBHOOK_ALLOW_PRIVATE_TARGETS, which is off by default."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from lms.core.extensions import db
from lms.webhooks import outbound, relay
from lms.webhooks.models import WebhookDelivery
from tests.helpers import API
from tests.webhooks.helpers import WEBHOOKS

NON_PUBLIC = ["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
              "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1",
              "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254"]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_non_public_addresses_are_refused(address):
    assert not outbound.is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert outbound.is_public(address)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hooks", "http://169.254.169.254/latest/meta-data",
                                 "http://localhost/hooks", "http://[::1]/hooks", "https://10.0.0.5/hooks",
                                 "http://api.localhost/hooks"])
def test_registering_a_non_public_literal_host_is_422(client, auth_headers, admin, url):
    response = client.post(WEBHOOKS, headers=auth_headers(admin), json={"url": url, "events": ["user.created"]})
    assert response.status_code == 422
    assert [error["loc"] for error in response.get_json()["detail"]] == [["body", "url"]]


def test_a_name_resolving_to_loopback_is_refused_when_sending(receiver):
    outcome = outbound.post(f"http://localhost:{receiver.port}/ok", b"{}", {}, timeout=2, allow_private=False)
    assert outcome.status_code is None
    assert outcome.error.startswith("refused: localhost resolves to a non-public address")
    assert receiver.received == []


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254"])
def test_the_guard_refuses_an_address_literal_when_sending(host):
    outcome = outbound.post(f"http://{host}/hooks", b"{}", {}, timeout=2, allow_private=False)
    assert (outcome.status_code, outcome.error) == (None, f"refused: {host} resolves to a non-public address ({host})")


def test_an_endpoint_registered_while_allowed_is_refused_once_the_setting_is_off(
        app, client, auth_headers, student, make_user, make_course, make_endpoint, receiver, monkeypatch):
    endpoint = make_endpoint(receiver.url("/ok"))
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
    course = make_course(make_user("instructor"))
    client.post(f"{API}/enrollments", headers=auth_headers(student), json={"course_id": str(course.id)})

    relay.relay()

    assert receiver.received == []
    (delivery,) = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == uuid.UUID(endpoint["id"])))
    assert (delivery.status, delivery.last_status_code) == ("pending", None)
    assert delivery.last_error.startswith("refused: 127.0.0.1 resolves to a non-public address")


def test_the_setting_is_off_by_default():
    from config import load_config

    assert load_config({}, env_file=None)["WEBHOOK_ALLOW_PRIVATE_TARGETS"] is False
