"""Two gunicorn instances behind one PostgreSQL and one Redis behave as one service (design, §5.29):
a logout on one is refused on the other, and the rate limit counts across both."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import ExitStack

import pytest

from tests.helpers import PASSWORD, served_by_gunicorn


pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.real_commits]


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(f"{base}/api/v1{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def answers_health(base: str) -> bool:
    try:
        return call(base, "GET", "/health")[0] == 200
    except OSError:
        return False


def gunicorn(settings: dict):
    """One gunicorn instance of the app on a free loopback port, configured through the environment."""
    return served_by_gunicorn(settings, {"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2"}, answers_health)


@pytest.fixture
def instances(base_settings):
    settings = {key: value for key, value in base_settings.items()
                if key not in {"TESTING", "RATE_LIMIT_ENABLED"}}
    settings.update(RATE_LIMIT_ENABLED="true", RATE_LIMIT_REQUESTS_PER_MINUTE=12, TASKS_FORCE_INLINE="true")
    with ExitStack() as stack:
        yield [stack.enter_context(gunicorn(settings)) for _ in range(2)]


def test_a_logout_on_one_instance_is_refused_on_the_other(instances):
    first, second = instances
    status, registered = call(first, "POST", "/auth/register",
                              {"email": "two@example.com", "password": PASSWORD, "full_name": "Two Places"})
    assert status == 201
    tokens = registered["tokens"]
    assert call(second, "GET", "/auth/me", token=tokens["access_token"])[0] == 200

    status, _ = call(first, "POST", "/auth/logout", {"refresh_token": tokens["refresh_token"]},
                     token=tokens["access_token"])
    assert status == 204

    status, body = call(second, "GET", "/auth/me", token=tokens["access_token"])
    assert (status, body) == (401, {"detail": "Token has been revoked"})


def test_the_general_rate_limit_counts_across_both_instances(instances):
    first, second = instances
    statuses = [call(instance, "GET", "/courses")[0] for _ in range(6) for instance in (first, second)]
    assert statuses == [200] * 12
    assert call(first, "GET", "/courses")[0] == 429
    assert call(second, "GET", "/courses")[0] == 429
