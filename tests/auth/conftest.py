"""Fixtures for the auth tests: a Redis outage (the mail readers are in tests/auth/helpers.py)."""

from __future__ import annotations

import pytest

from tests.helpers import CLOSED_REDIS_URL


@pytest.fixture
def redis_outage(app, monkeypatch):
    """`redis_outage()` points the app's Redis at a closed port from then on, until the test ends.

    That is an outage of a configured Redis; revocations fail closed as in production (§5.22).
    """
    cached_clients = ("lms.redis.text", "lms.redis.bytes")

    def start() -> None:
        monkeypatch.setitem(app.config, "REDIS_URL", CLOSED_REDIS_URL)
        monkeypatch.setitem(app.config, "ACCESS_TOKEN_BLACKLIST_FAIL_CLOSED", True)
        for key in cached_clients:
            if key in app.extensions:
                monkeypatch.delitem(app.extensions, key)

    yield start
    for key in cached_clients:
        app.extensions.pop(key, None)
