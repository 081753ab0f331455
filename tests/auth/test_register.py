"""POST /auth/register."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.core.extensions import db
from lms.users.models import User
from tests.auth.helpers import mail_body, mailed_token
from tests.helpers import API, bearer, run_concurrently

VALID = {"email": "New.Person@Example.COM", "password": "Password123!", "full_name": "New Person"}


def test_register_creates_a_verified_student_and_returns_user_and_tokens(client):
    response = client.post(f"{API}/auth/register", json=VALID)

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"user", "tokens"}
    user = body["user"]
    assert set(user) == {"id", "email", "full_name", "role", "is_active", "mfa_enabled", "created_at",
                         "email_verified_at", "updated_at"}
    assert user["email"] == "new.person@example.com"
    assert user["role"] == "student"
    assert user["is_active"] is True and user["mfa_enabled"] is False
    assert user["email_verified_at"] is not None and user["created_at"].endswith("Z")
    tokens = body["tokens"]
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = client.get(f"{API}/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.get_json()["id"] == user["id"]


def test_register_sends_a_welcome_mail_and_a_verification_mail(client, mail_outbox):
    client.post(f"{API}/auth/register", json=VALID)

    messages = mail_outbox.to("new.person@example.com")
    assert [m["Subject"] for m in messages] == ["Welcome to LMS", "Verify your LMS email"]
    verification = messages[1]
    token = mailed_token(verification)
    assert f"Verification link: http://localhost:3000/verify-email?token={token}" in mail_body(verification)
    confirm = client.post(f"{API}/auth/verify-email/confirm", json={"token": token})
    assert confirm.status_code == 200


def test_register_never_stores_the_password_in_clear(client):
    client.post(f"{API}/auth/register", json=VALID)

    stored = db.session.scalar(select(User.password_hash).where(User.email == "new.person@example.com"))
    assert stored.startswith("$2b$") and "Password123!" not in stored


def test_register_with_a_taken_email_in_another_case_is_409(client, make_user):
    make_user(email="new.person@example.com")

    response = client.post(f"{API}/auth/register", json=VALID)

    assert response.status_code == 409
    assert response.get_json() == {"detail": "Email is already registered"}


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_register_refuses_roles_other_than_student_by_default(client, role):
    response = client.post(f"{API}/auth/register", json={**VALID, "role": role})

    assert response.status_code == 403
    assert response.get_json() == {"detail": "Public registration is limited to student accounts"}
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_register_may_create_instructors_when_public_role_registration_is_allowed(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_PUBLIC_ROLE_REGISTRATION", True)

    response = client.post(f"{API}/auth/register", json={**VALID, "role": "instructor"})

    assert response.status_code == 201
    assert response.get_json()["user"]["role"] == "instructor"


def test_register_never_creates_an_admin_even_when_public_roles_are_allowed(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_PUBLIC_ROLE_REGISTRATION", True)

    response = client.post(f"{API}/auth/register", json={**VALID, "role": "admin"})

    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_register_with_an_unknown_role_is_422(client):
    response = client.post(f"{API}/auth/register", json={**VALID, "role": "superuser"})

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "role"]


@pytest.mark.parametrize("field, value", [
    ("email", "not-an-email"),
    ("password", "short"),
    ("password", "x" * 129),
    ("full_name", "A"),
    ("full_name", "   "),
    ("full_name", "x" * 256),
])
def test_register_rejects_invalid_fields_with_422(client, field, value):
    response = client.post(f"{API}/auth/register", json={**VALID, field: value})

    assert response.status_code == 422
    assert {tuple(error["loc"]) for error in response.get_json()["detail"]} == {("body", field)}


def test_register_rejects_a_73_byte_password_with_a_clear_422(client):
    response = client.post(f"{API}/auth/register", json={**VALID, "password": "é" * 36 + "x"})

    assert response.status_code == 422
    assert response.get_json()["detail"] == [{"loc": ["body", "password"], "type": "value_error",
                                              "msg": "Password must be at most 72 bytes in UTF-8"}]


def test_register_accepts_a_72_byte_password(client):
    password = "é" * 36
    response = client.post(f"{API}/auth/register", json={**VALID, "password": password})

    assert response.status_code == 201
    login = client.post(f"{API}/auth/login", json={"email": VALID["email"], "password": password})
    assert login.status_code == 200


def test_register_rejects_unknown_fields(client):
    response = client.post(f"{API}/auth/register", json={**VALID, "is_active": False})

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "is_active"]


def test_register_creates_unverified_users_whose_tokens_are_refused_when_verification_is_required(
        client, app, monkeypatch, mail_outbox):
    monkeypatch.setitem(app.config, "REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN", True)

    response = client.post(f"{API}/auth/register", json=VALID)

    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["email_verified_at"] is None
    me = client.get(f"{API}/auth/me", headers=bearer(body["tokens"]["access_token"]))
    assert me.status_code == 401
    assert me.get_json() == {"detail": "Email is not verified"}
    token = mailed_token(mail_outbox.to("new.person@example.com")[1])
    assert client.post(f"{API}/auth/verify-email/confirm", json={"token": token}).status_code == 200
    me = client.get(f"{API}/auth/me", headers=bearer(body["tokens"]["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["email_verified_at"] is not None


@pytest.mark.real_commits
@pytest.mark.postgres
def test_concurrent_registrations_with_one_email_create_one_account(app):
    responses = run_concurrently(app, [lambda client: client.post(f"{API}/auth/register", json=VALID)] * 6)

    assert sorted(response.status_code for response in responses) == [201] + [409] * 5
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("lookalike", ["ｎew.person@example.com", "new.perſon@example.com"])
def test_an_address_that_differs_only_by_compatibility_characters_is_the_same_account(client, lookalike):
    assert client.post(f"{API}/auth/register", json=VALID).status_code == 201

    response = client.post(f"{API}/auth/register", json={**VALID, "email": lookalike})

    assert response.status_code == 409
    login = client.post(f"{API}/auth/login", json={"email": lookalike, "password": VALID["password"]})
    assert login.status_code == 200
    assert login.get_json()["user"]["email"] == "new.person@example.com"
