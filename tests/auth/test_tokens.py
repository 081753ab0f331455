"""Bearer access tokens: claims, forgeries, token-type confusion, user state (contract §1.2, §5.7, §5.9)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from lms.core.extensions import db
from tests.auth.helpers import mailed_token
from tests.helpers import API, PASSWORD, bearer

BAD_CREDENTIALS = {"detail": "Could not validate credentials"}


@pytest.fixture
def secret(app) -> str:
    return app.config["JWT_SECRET_KEY"]


def claims_for(user, **overrides) -> dict:
    now = int(time.time())
    return {"sub": str(user.id), "role": user.role, "jti": str(uuid.uuid4()), "type": "access",
            "typ": "access", "iat": now, "nbf": now, "exp": now + 900, **overrides}


def assert_refused(client, token, detail=BAD_CREDENTIALS):
    """The token opens neither a protected read nor a protected write."""
    for response in (client.get(f"{API}/auth/me", headers=bearer(token)),
                     client.post(f"{API}/auth/mfa/disable", json={"password": PASSWORD},
                                 headers=bearer(token))):
        assert response.status_code == 401
        assert response.get_json() == detail
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_access_token_carries_the_contract_claims(login, student, secret):
    tokens = login(student)

    header = jwt.get_unverified_header(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], secret, algorithms=["HS256"])
    assert header["alg"] == "HS256"
    assert claims["sub"] == str(student.id) and claims["role"] == "student"
    assert claims["type"] == claims["typ"] == "access"
    uuid.UUID(claims["jti"])
    assert isinstance(claims["iat"], int) and claims["exp"] - claims["iat"] == 900
    refresh = jwt.decode(tokens["refresh_token"], secret, algorithms=["HS256"])
    assert refresh["type"] == refresh["typ"] == "refresh" and "role" not in refresh
    assert refresh["exp"] - refresh["iat"] == 30 * 24 * 3600


def test_a_hand_built_token_with_the_real_key_is_accepted(client, student, secret):
    token = jwt.encode(claims_for(student), secret, algorithm="HS256")

    assert client.get(f"{API}/auth/me", headers=bearer(token)).status_code == 200


def test_missing_bearer_is_401_not_authenticated(client):
    response = client.get(f"{API}/auth/me")

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_alg_none_token_is_refused(client, student):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(claims_for(student)).encode()).rstrip(b"=")

    assert_refused(client, f"{header.decode()}.{payload.decode()}.")


def test_token_signed_with_another_key_is_refused(client, student):
    assert_refused(client, jwt.encode(claims_for(student), "another-key-" + "y" * 32, algorithm="HS256"))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_token_signed_with_another_algorithm_is_refused(client, student, secret):
    assert_refused(client, jwt.encode(claims_for(student), secret, algorithm="HS512"))


def test_expired_token_is_refused(client, student, secret):
    past = int(time.time()) - 3600
    assert_refused(client, jwt.encode(claims_for(student, iat=past, nbf=past, exp=past + 900), secret,
                                      algorithm="HS256"))


def test_token_not_yet_valid_is_refused(client, student, secret):
    future = int(time.time()) + 3600
    assert_refused(client, jwt.encode(claims_for(student, nbf=future), secret, algorithm="HS256"))


def test_tampered_token_is_refused(client, login, student, admin):
    header, payload, signature = login(student)["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(sub=str(admin.id), role="admin")
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    assert_refused(client, f"{header}.{forged}.{signature}")


def test_integer_subject_is_refused(client, student, secret):
    assert_refused(client, jwt.encode(claims_for(student, sub=1), secret, algorithm="HS256"))


def test_token_for_an_unknown_user_is_refused(client, student, secret):
    assert_refused(client, jwt.encode(claims_for(student, sub=str(uuid.uuid4())), secret, algorithm="HS256"))


@pytest.mark.parametrize("header", ["Bearer", "bearer TOKEN", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Token x",
                                    "Bearer x Bearer y", "Bearer " + "a" * 8000])
def test_malformed_authorization_headers_are_401(client, header):
    response = client.get(f"{API}/auth/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_refresh_token_used_as_access_token_is_refused(client, login, student):
    assert_refused(client, login(student)["refresh_token"], {"detail": "Invalid token type"})


def test_mfa_challenge_used_as_access_token_is_refused(client, make_user):
    user = make_user(mfa_enabled=True)
    challenge = client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})

    assert_refused(client, challenge.get_json()["challenge_token"])


def test_mailed_reset_and_verification_tokens_are_not_bearer_tokens(client, student, mail_outbox):
    client.post(f"{API}/auth/forgot-password", json={"email": student.email})
    client.post(f"{API}/auth/verify-email/request", json={"email": student.email})

    for message in mail_outbox.to(student.email):
        assert_refused(client, mailed_token(message))


def test_tokens_of_a_deactivated_user_stop_working_at_once(client, login, student):
    tokens = login(student)
    student.is_active = False
    db.session.commit()

    assert_refused(client, tokens["access_token"])


def test_tokens_of_an_unverified_user_are_refused_when_verification_is_required(
        client, app, make_user, auth_headers, monkeypatch):
    user = make_user(verified=False)
    headers = auth_headers(user)
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 200

    monkeypatch.setitem(app.config, "REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN", True)

    response = client.get(f"{API}/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Email is not verified"}


def test_access_tokens_issued_before_tokens_valid_after_are_revoked(client, login, student):
    from lms.core.db import utcnow

    old = login(student)["access_token"]
    student.tokens_valid_after = utcnow()
    db.session.commit()
    new = login(student)["access_token"]

    assert_refused(client, old, {"detail": "Token has been revoked"})
    assert client.get(f"{API}/auth/me", headers=bearer(new)).status_code == 200


def test_the_role_comes_from_the_database_not_from_the_token(client, make_user, auth_headers):
    user = make_user("student")
    headers = auth_headers(user)
    user.role = "admin"
    db.session.commit()

    assert client.get(f"{API}/auth/me", headers=headers).get_json()["role"] == "admin"
    assert client.get(f"{API}/users", headers=headers).status_code == 200


def test_auth_me_returns_the_user_object(client, student, auth_headers):
    response = client.get(f"{API}/auth/me", headers=auth_headers(student))

    assert response.status_code == 200
    assert response.get_json() == {
        "id": str(student.id), "email": student.email, "full_name": "Stu Dent", "role": "student",
        "is_active": True, "mfa_enabled": False,
        "created_at": student.created_at.isoformat().replace("+00:00", "Z"),
        "email_verified_at": student.email_verified_at.isoformat().replace("+00:00", "Z"),
        "updated_at": student.updated_at.isoformat().replace("+00:00", "Z"),
    }
