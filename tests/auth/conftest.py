"""Helpers for the auth tests: reading mailed tokens and codes, a Redis outage."""

from __future__ import annotations

import re
from email.message import Message

import pytest

from tests.conftest import CLOSED_REDIS_URL


def mail_body(message: Message) -> str:
    return message.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")


def mailed_token(message: Message) -> str:
    """The token of a reset or verification mail, read from its `Token:` line."""
    return re.search(r"^Token: (\S+)$", mail_body(message), re.MULTILINE).group(1)


def mailed_code(message: Message) -> str:
    """The MFA code of a code mail: the line that holds nothing but digits."""
    return re.search(r"^(\d{4,12})$", mail_body(message), re.MULTILINE).group(1)


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
