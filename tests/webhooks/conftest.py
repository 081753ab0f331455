"""Webhook fixtures: a real receiver on loopback, and the setting that lets deliveries reach it."""

from __future__ import annotations

import pytest

from tests.webhooks.helpers import Receiver


@pytest.fixture
def receiver():
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def private_targets(app, monkeypatch):
    """WEBHOOK_ALLOW_PRIVATE_TARGETS on for the shared app: the receiver listens on loopback."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", True)


@pytest.fixture
def make_endpoint(client, auth_headers, admin, private_targets):
    """`make_endpoint(url, events=[...], **fields)` -> the creation's answer (with the secret)."""

    def factory(url: str, events: list[str] | None = None, **fields) -> dict:
        response = client.post("/api/v1/webhooks", headers=auth_headers(admin), json={
            "url": url, "events": events or ["enrollment.created"], **fields})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return factory
