"""Security headers (the seed's table, contract §1.8) and CORS on every kind of response (§5.21)."""

import pytest

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Permitted-Cross-Domain-Policies": "none",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSP_DIRECTIVES = ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'", "script-src 'self'",
                  "img-src 'self' data: https:", "form-action 'self'")
HSTS = "max-age=31536000; includeSubDomains"
ALLOWED_ORIGIN = "http://localhost:3000"


def assert_security_headers(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, f"{name} on a {response.status_code}"
    policy = response.headers.get("Content-Security-Policy", "")
    for directive in CSP_DIRECTIVES:
        assert directive in policy, f"CSP of a {response.status_code} lacks {directive!r}: {policy}"


@pytest.fixture
def limited_app(make_probe_app):
    return make_probe_app(RATE_LIMIT_ENABLED=True, RATE_LIMIT_REQUESTS_PER_MINUTE=1)


def test_a_200_carries_every_security_header(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert_security_headers(response)


def test_a_404_carries_every_security_header(client):
    response = client.get("/api/v1/no-such-route")
    assert response.status_code == 404
    assert_security_headers(response)


def test_a_405_carries_every_security_header(client):
    response = client.delete("/api/v1/health")
    assert response.status_code == 405
    assert_security_headers(response)


def test_a_429_carries_every_security_header(limited_app):
    client = limited_app.test_client()
    assert client.get("/api/v1/probe/ok").status_code == 200
    response = client.get("/api/v1/probe/ok")
    assert response.status_code == 429
    assert_security_headers(response)


def test_a_500_carries_every_security_header(make_probe_app):
    response = make_probe_app().test_client().get("/api/v1/probe/boom")
    assert response.status_code == 500
    assert_security_headers(response)


def test_hsts_is_sent_on_https_requests(client):
    response = client.get("/api/v1/health", base_url="https://localhost")
    assert response.headers.get("Strict-Transport-Security") == HSTS


def test_hsts_is_not_sent_on_plain_http(client):
    response = client.get("/api/v1/health")
    assert "Strict-Transport-Security" not in response.headers


def test_the_app_never_redirects_http_to_https(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200


def test_security_headers_can_be_turned_off(make_app):
    response = make_app(SECURITY_HEADERS_ENABLED=False).test_client().get("/api/v1/health")
    assert response.status_code == 200
    for name in (*SECURITY_HEADERS, "Content-Security-Policy"):
        assert name not in response.headers


def test_docs_page_is_allowed_by_its_own_csp(client):
    """Swagger UI loads only same-origin scripts and styles, which the CSP allows."""
    response = client.get("/docs")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "<script>" not in response.get_data(as_text=True)  # no inline script for the CSP to block


def test_cors_headers_for_an_allowed_origin(client):
    response = client.get("/api/v1/health", headers={"Origin": ALLOWED_ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_cors_headers_only_for_a_request_with_an_origin(client):
    """As the existing API: a same-origin or server-side call gets no CORS headers; every answer
    says it varies by Origin, so that a cache never hands one to the other."""
    plain = client.get("/api/v1/health")
    cross = client.get("/api/v1/health", headers={"Origin": ALLOWED_ORIGIN})
    assert not [name for name in plain.headers.keys() if name.startswith("Access-Control-")]
    assert cross.headers.getlist("Access-Control-Allow-Origin") == [ALLOWED_ORIGIN]
    assert plain.headers.getlist("Vary") == ["Origin"]
    assert cross.headers.getlist("Vary") == ["Origin"]


def test_vary_names_origin_once_next_to_what_a_view_varies_by(make_probe_app):
    response = make_probe_app().test_client().get("/api/v1/probe/varies", headers={"Origin": ALLOWED_ORIGIN})
    named = [name.strip() for line in response.headers.getlist("Vary") for name in line.split(",")]
    assert sorted(named) == ["Accept-Encoding", "Origin"]


def test_cors_preflight_for_an_allowed_origin(client):
    response = client.options("/api/v1/health", headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_no_cors_headers_for_another_origin(client):
    response = client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_origins_come_from_the_setting(make_app):
    client = make_app(CORS_ORIGINS=["https://app.example"]).test_client()
    allowed = client.get("/api/v1/health", headers={"Origin": "https://app.example"})
    default = client.get("/api/v1/health", headers={"Origin": ALLOWED_ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Access-Control-Allow-Origin" not in default.headers


def test_a_429_carries_cors_headers(limited_app):
    client = limited_app.test_client()
    client.get("/api/v1/probe/ok", headers={"Origin": ALLOWED_ORIGIN})
    response = client.get("/api/v1/probe/ok", headers={"Origin": ALLOWED_ORIGIN})
    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


def test_a_500_carries_cors_headers(make_probe_app):
    response = make_probe_app().test_client().get("/api/v1/probe/boom", headers={"Origin": ALLOWED_ORIGIN})
    assert response.status_code == 500
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


def test_trusted_hosts_refuse_any_other_host_with_a_json_400(make_app):
    client = make_app(TRUSTED_HOSTS=["api.example"]).test_client()
    refused = client.get("/api/v1/health", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert "evil.example" in refused.get_json()["detail"]
    assert client.get("/api/v1/health", headers={"Host": "api.example"}).status_code == 200


def test_no_trusted_hosts_means_any_host_is_served(client):
    assert client.get("/api/v1/health", headers={"Host": "anything.example"}).status_code == 200
