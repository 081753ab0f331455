"""Rate limits: contract §1.6 as changed by §5.21 and §5.22."""

import time

import pytest

from tests.helpers import CLOSED_REDIS_URL

RATE_LIMITED = {"detail": "Rate limit exceeded. Try again later."}


def limited(make_probe_app, **overrides):
    settings = {"RATE_LIMIT_ENABLED": True, "RATE_LIMIT_REQUESTS_PER_MINUTE": 3, **overrides}
    return make_probe_app(**settings).test_client()


def test_the_general_limit_answers_429_with_retry_after(make_probe_app):
    client = limited(make_probe_app)
    statuses = [client.get("/api/v1/probe/ok").status_code for _ in range(3)]
    response = client.get("/api/v1/probe/ok")
    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert response.get_json() == RATE_LIMITED
    assert 0 < int(response.headers["Retry-After"]) <= 61


def test_responses_carry_both_forms_of_rate_limit_headers(make_probe_app):
    client = limited(make_probe_app)
    first = client.get("/api/v1/probe/ok")
    second = client.get("/api/v1/probe/ok")
    assert first.headers["X-RateLimit-Limit"] == first.headers["RateLimit-Limit"] == "3"
    assert first.headers["X-RateLimit-Remaining"] == first.headers["RateLimit-Remaining"] == "2"
    assert second.headers["RateLimit-Remaining"] == "1"
    reset_at = int(first.headers["X-RateLimit-Reset"])
    assert time.time() < reset_at <= time.time() + 62  # epoch seconds
    assert 0 < int(first.headers["RateLimit-Reset"]) <= 61  # seconds from now


def test_a_429_carries_both_forms_of_rate_limit_headers(make_probe_app):
    client = limited(make_probe_app, RATE_LIMIT_REQUESTS_PER_MINUTE=1)
    client.get("/api/v1/probe/ok")
    response = client.get("/api/v1/probe/ok")
    assert response.status_code == 429
    for name in ("Limit", "Remaining", "Reset"):
        assert f"X-RateLimit-{name}" in response.headers
        assert f"RateLimit-{name}" in response.headers
    assert response.headers["RateLimit-Remaining"] == "0"


def test_the_general_limit_counts_across_paths(make_probe_app):
    client = limited(make_probe_app)
    assert client.get("/api/v1/probe/ok").status_code == 200
    assert client.get("/api/v1/probe/other").status_code == 200
    assert client.post("/api/v1/probe/items", json={}).status_code == 422
    assert client.get("/api/v1/probe/other").status_code == 429


def test_the_limit_is_per_client(make_probe_app):
    client = limited(make_probe_app, RATE_LIMIT_REQUESTS_PER_MINUTE=1)
    first = {"REMOTE_ADDR": "10.0.0.1"}
    second = {"REMOTE_ADDR": "10.0.0.2"}
    assert client.get("/api/v1/probe/ok", environ_overrides=first).status_code == 200
    assert client.get("/api/v1/probe/ok", environ_overrides=first).status_code == 429
    assert client.get("/api/v1/probe/ok", environ_overrides=second).status_code == 200


def test_forwarded_for_is_ignored_without_trusted_proxies(make_probe_app):
    client = limited(make_probe_app, RATE_LIMIT_REQUESTS_PER_MINUTE=1)
    assert client.get("/api/v1/probe/ok", headers={"X-Forwarded-For": "1.1.1.1"}).status_code == 200
    assert client.get("/api/v1/probe/ok", headers={"X-Forwarded-For": "2.2.2.2"}).status_code == 429


def test_trusted_proxy_count_keys_the_limit_on_the_forwarded_client(make_probe_app):
    client = limited(make_probe_app, RATE_LIMIT_REQUESTS_PER_MINUTE=1, TRUSTED_PROXY_COUNT=1)
    assert client.get("/api/v1/probe/ok", headers={"X-Forwarded-For": "1.1.1.1"}).status_code == 200
    assert client.get("/api/v1/probe/ok", headers={"X-Forwarded-For": "1.1.1.1"}).status_code == 429
    assert client.get("/api/v1/probe/ok", headers={"X-Forwarded-For": "2.2.2.2"}).status_code == 200


def test_trusted_proxy_count_gives_the_app_the_forwarded_client_and_scheme(make_probe_app):
    client = make_probe_app(TRUSTED_PROXY_COUNT=1).test_client()
    forwarded = {"X-Forwarded-For": "9.9.9.9, 203.0.113.7", "X-Forwarded-Proto": "https"}
    assert client.get("/api/v1/probe/client", headers=forwarded).get_json() == {
        "address": "203.0.113.7", "scheme": "https"}


def test_without_trusted_proxies_the_tcp_peer_is_the_client(make_probe_app):
    client = make_probe_app().test_client()
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    assert client.get("/api/v1/probe/client", headers=forwarded).get_json() == {
        "address": "127.0.0.1", "scheme": "http"}


def test_only_the_last_forwarded_hop_is_trusted(make_probe_app):
    """A client cannot escape its budget by prepending addresses to X-Forwarded-For."""
    client = limited(make_probe_app, RATE_LIMIT_REQUESTS_PER_MINUTE=1, TRUSTED_PROXY_COUNT=1)
    assert client.get("/api/v1/probe/ok", headers={"X-Forwarded-For": "9.9.9.1, 1.1.1.1"}).status_code == 200
    assert client.get("/api/v1/probe/ok", headers={"X-Forwarded-For": "9.9.9.2, 1.1.1.1"}).status_code == 429


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/ready", "/", "/openapi.json", "/docs"])
def test_health_root_and_docs_are_exempt(make_probe_app, path):
    client = limited(make_probe_app, RATE_LIMIT_REQUESTS_PER_MINUTE=1)
    statuses = {client.get(path).status_code for _ in range(3)}
    assert 429 not in statuses
    assert "X-RateLimit-Limit" not in client.get(path).headers


def test_preflight_requests_are_exempt(make_probe_app):
    client = limited(make_probe_app, RATE_LIMIT_REQUESTS_PER_MINUTE=1)
    preflight = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}
    statuses = [client.options("/api/v1/probe/ok", headers=preflight).status_code for _ in range(3)]
    assert 429 not in statuses
    assert client.get("/api/v1/probe/ok").status_code == 200


def test_the_auth_rule_counts_per_endpoint(make_probe_app):
    client = limited(make_probe_app, RATE_LIMIT_REQUESTS_PER_MINUTE=100, AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE=2)
    assert [client.post("/api/v1/probe/login-like").status_code for _ in range(3)] == [200, 200, 429]
    assert client.post("/api/v1/probe/token-like").status_code == 200
    assert client.get("/api/v1/probe/ok").status_code == 200


def test_an_endpoint_rule_follows_the_configuration_on_every_request(make_probe_app):
    """The general limit that applies to an endpoint is worked out once; a rule of its own is not."""
    app = make_probe_app(RATE_LIMIT_ENABLED=True, RATE_LIMIT_REQUESTS_PER_MINUTE=100,
                         AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE=5)
    client = app.test_client()
    assert client.post("/api/v1/probe/login-like").headers["X-RateLimit-Limit"] == "5"
    assert [client.get("/api/v1/probe/ok").headers["X-RateLimit-Remaining"] for _ in range(2)] == ["98", "97"]

    app.config["AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE"] = 1

    assert client.post("/api/v1/probe/login-like").headers["X-RateLimit-Limit"] == "1"
    assert client.post("/api/v1/probe/login-like").status_code == 429


def test_rate_limits_can_be_turned_off(make_probe_app):
    client = limited(make_probe_app, RATE_LIMIT_ENABLED=False, RATE_LIMIT_REQUESTS_PER_MINUTE=1)
    assert {client.get("/api/v1/probe/ok").status_code for _ in range(3)} == {200}


def test_the_limiter_keeps_limiting_in_memory_when_redis_is_down(make_probe_app):
    client = limited(make_probe_app, REDIS_URL=CLOSED_REDIS_URL, RATE_LIMIT_REQUESTS_PER_MINUTE=2)
    statuses = [client.get("/api/v1/probe/ok").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.redis
def test_the_counters_live_in_redis_so_every_instance_shares_them(make_probe_app, redis_url):
    """Emptying Redis resets the budget: the count is not kept per process (§5.29)."""
    import redis

    client = limited(make_probe_app, RATE_LIMIT_REQUESTS_PER_MINUTE=1)
    assert client.get("/api/v1/probe/ok").status_code == 200
    assert client.get("/api/v1/probe/ok").status_code == 429
    store = redis.Redis.from_url(redis_url)
    assert store.keys("*ratelimit*")
    store.flushdb()
    assert client.get("/api/v1/probe/ok").status_code == 200


def test_without_redis_the_counters_live_in_process_memory(make_probe_app):
    client = limited(make_probe_app, REDIS_URL="", RATE_LIMIT_REQUESTS_PER_MINUTE=1)
    assert client.get("/api/v1/probe/ok").status_code == 200
    assert client.get("/api/v1/probe/ok").status_code == 429
