"""POST /auth/login and POST /auth/token: credentials, verification policy, enumeration, lockout."""

from __future__ import annotations

import bcrypt
import pytest

from lms.core.extensions import db
from tests.helpers import API, PASSWORD, bearer

INVALID = {"detail": "Invalid email or password"}
LOCKED = {"detail": "Account temporarily locked due to multiple failed login attempts. Please try again later."}


def login(client, email, password=PASSWORD, ip="127.0.0.1"):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def token_form(client, username, password=PASSWORD, **extra):
    return client.post(f"{API}/auth/token", data={"username": username, "password": password, **extra})


# --- JSON login --------------------------------------------------------------------------------------

def test_login_returns_the_user_and_a_working_token_pair(client, student):
    response = login(client, student.email)

    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["id"] == str(student.id)
    assert body["tokens"]["token_type"] == "bearer" and body["tokens"]["expires_in"] == 900
    assert client.get(f"{API}/auth/me", headers=bearer(body["tokens"]["access_token"])).status_code == 200


def test_login_ignores_the_case_of_the_email_and_records_the_login_time(client, make_user):
    user = make_user(email="mixed@example.com")

    response = login(client, "MiXeD@Example.com")

    assert response.status_code == 200
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_login_with_a_wrong_password_is_401_with_a_bearer_challenge(client, student):
    response = login(client, student.email, "wrong-password")

    assert response.status_code == 401
    assert response.get_json() == INVALID
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_login_answers_an_unknown_email_exactly_like_a_wrong_password(client, student):
    unknown = login(client, "nobody@example.com", "wrong-password")
    wrong = login(client, student.email, "wrong-password")

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json() == INVALID
    assert unknown.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]


def test_login_does_the_same_bcrypt_work_for_unknown_and_known_emails(client, student, monkeypatch):
    calls: list[str] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password, hashed):
        calls.append("checkpw")
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)

    login(client, "nobody@example.com", "wrong-password")
    unknown_calls = len(calls)
    calls.clear()
    login(client, student.email, "wrong-password")

    assert unknown_calls == len(calls) == 1


def test_login_of_a_disabled_account_is_401_only_with_the_right_password(client, make_user):
    user = make_user(active=False)

    assert login(client, user.email, "wrong-password").get_json() == INVALID
    response = login(client, user.email)
    assert response.status_code == 401
    assert response.get_json() == {"detail": "User account is disabled"}


def test_login_of_an_unverified_user_works_when_verification_is_not_required(client, make_user):
    user = make_user(verified=False)

    assert login(client, user.email).status_code == 200


def test_login_of_an_unverified_user_is_refused_when_verification_is_required(client, app, make_user,
                                                                             monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN", True)
    unverified, verified = make_user(verified=False), make_user(verified=True)

    response = login(client, unverified.email)
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Email is not verified"}
    assert login(client, verified.email).status_code == 200


def test_login_with_a_password_over_72_bytes_is_a_plain_401(client, student):
    response = login(client, student.email, "x" * 73)

    assert response.status_code == 401
    assert response.get_json() == INVALID


@pytest.mark.parametrize("body, field", [
    ({"password": PASSWORD}, "email"),
    ({"email": "someone@example.com"}, "password"),
    ({"email": "not-an-email", "password": PASSWORD}, "email"),
])
def test_login_with_a_malformed_body_is_422(client, body, field):
    response = client.post(f"{API}/auth/login", json=body)

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", field]


# --- OAuth2 password form ------------------------------------------------------------------------------

def test_token_form_returns_a_bare_token_object(client, student):
    response = token_form(client, student.email, grant_type="password", scope="")

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert client.get(f"{API}/users/me", headers=bearer(body["access_token"])).get_json()["id"] == str(student.id)


def test_token_form_accepts_what_swagger_ui_authorize_sends(client, student):
    """Swagger UI's password flow: an empty scope and client credentials in a Basic header."""
    response = client.post(f"{API}/auth/token", headers={"Authorization": "Basic Og=="},
                           data={"grant_type": "password", "scope": "", "username": student.email,
                                 "password": PASSWORD})

    assert response.status_code == 200
    assert response.get_json()["token_type"] == "bearer"


def test_token_form_has_the_same_401s_as_login(client, make_user):
    disabled = make_user(active=False)

    assert token_form(client, "nobody@example.com", "wrong-password").get_json() == INVALID
    response = token_form(client, disabled.email)
    assert response.status_code == 401
    assert response.get_json() == {"detail": "User account is disabled"}


def test_token_form_refuses_mfa_accounts_with_400(client, make_user):
    user = make_user(mfa_enabled=True)

    response = token_form(client, user.email)

    assert response.status_code == 400
    assert response.get_json() == {
        "detail": "MFA is enabled for this account. Use /api/v1/auth/login then /api/v1/auth/login/mfa."}


def test_token_form_with_missing_fields_or_another_grant_type_is_422(client, student):
    missing = client.post(f"{API}/auth/token", data={"username": student.email})
    wrong_grant = token_form(client, student.email, grant_type="client_credentials")

    assert missing.status_code == 422
    assert missing.get_json()["detail"][0]["loc"] == ["body", "password"]
    assert wrong_grant.status_code == 422
    assert wrong_grant.get_json()["detail"][0]["loc"] == ["body", "grant_type"]


def test_token_endpoint_is_the_oauth2_password_flow_of_the_openapi_spec(client):
    spec = client.get("/openapi.json").get_json()

    scheme = spec["components"]["securitySchemes"]["oauth2Password"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    body = spec["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/x-www-form-urlencoded"]
    assert spec["paths"]["/api/v1/auth/me"]["get"]["security"] == [{"bearerAuth": []}, {"oauth2Password": []}]


# --- lockout ------------------------------------------------------------------------------------------

@pytest.fixture
def small_lockout(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FAILED_LOGIN_ATTEMPTS", 3)


def test_login_locks_the_email_and_ip_pair_after_too_many_failures(client, student, small_lockout):
    for _ in range(3):
        assert login(client, student.email, "wrong-password").get_json() == INVALID

    response = login(client, student.email)

    assert response.status_code == 401
    assert response.get_json() == LOCKED
    assert 0 < int(response.headers["Retry-After"]) <= 900


def test_a_locked_pair_does_not_lock_the_same_email_from_another_ip(client, student, small_lockout):
    for _ in range(3):
        login(client, student.email, "wrong-password", ip="10.0.0.1")

    assert login(client, student.email, ip="10.0.0.1").get_json() == LOCKED
    assert login(client, student.email, ip="10.0.0.2").status_code == 200


def test_a_locked_pair_does_not_lock_other_accounts_behind_the_same_ip(client, make_user, small_lockout):
    victim, neighbour = make_user(), make_user()
    for _ in range(3):
        login(client, victim.email, "wrong-password", ip="10.0.0.1")

    assert login(client, neighbour.email, ip="10.0.0.1").status_code == 200


def test_an_email_is_locked_for_every_ip_after_four_times_the_limit(client, student, small_lockout):
    for attempt in range(12):  # 4 x 3 failures, spread so that no single pair is locked
        login(client, student.email, "wrong-password", ip=f"10.0.{attempt % 6}.1")

    response = login(client, student.email, ip="10.9.9.9")

    assert response.status_code == 401
    assert response.get_json() == LOCKED


def test_unknown_emails_lock_like_known_ones(client, small_lockout):
    for _ in range(3):
        login(client, "nobody@example.com", "wrong-password")

    assert login(client, "nobody@example.com", "wrong-password").get_json() == LOCKED


def test_a_successful_login_resets_the_failure_count(client, student, small_lockout):
    for _ in range(2):
        login(client, student.email, "wrong-password")
    assert login(client, student.email).status_code == 200

    for _ in range(2):
        assert login(client, student.email, "wrong-password").get_json() == INVALID
    assert login(client, student.email).status_code == 200


def test_disabled_and_unverified_refusals_count_as_failures(client, app, make_user, small_lockout, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN", True)
    disabled, unverified = make_user(active=False), make_user(verified=False)
    for _ in range(3):
        login(client, disabled.email)
        login(client, unverified.email)

    assert login(client, disabled.email).get_json() == LOCKED
    assert login(client, unverified.email).get_json() == LOCKED


def test_the_token_form_shares_the_lockout(client, student, small_lockout):
    for _ in range(3):
        token_form(client, student.email, "wrong-password")

    assert token_form(client, student.email).get_json() == LOCKED
    assert login(client, student.email).get_json() == LOCKED


# --- rate limit ---------------------------------------------------------------------------------------

def test_login_endpoints_have_the_auth_rate_limit(make_app):
    limited = make_app(RATE_LIMIT_ENABLED=True, AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE=2)
    own_client = limited.test_client()
    body = {"email": "nobody@example.com", "password": "wrong-password"}

    statuses = [own_client.post(f"{API}/auth/login", json=body).status_code for _ in range(3)]
    other_endpoint = own_client.post(f"{API}/auth/token", data={"username": body["email"], "password": "x"})

    assert statuses == [401, 401, 429]
    assert other_endpoint.status_code == 401  # a separate budget per endpoint


# --- statement budgets (the performance issue's W4 and W5) ----------------------------------------

def test_a_login_costs_four_statements(client, student, assert_max_queries):
    # the user, the refresh token's insert, the login time's update, the audit entry's insert
    with assert_max_queries(4):
        response = login(client, student.email)

    assert response.status_code == 200


def test_me_costs_one_statement(client, student, auth_headers, assert_max_queries):
    headers = auth_headers(student)

    with assert_max_queries(1):  # the user
        response = client.get(f"{API}/auth/me", headers=headers)

    assert response.get_json()["id"] == str(student.id)
