"""POST /auth/forgot-password and POST /auth/reset-password (§1.9, §3, §5.7)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import select

from lms.auth.models import UserToken
from lms.core import tasks
from lms.core.db import utcnow
from lms.core.extensions import db
from tests.auth.helpers import mail_body, mailed_token
from tests.helpers import API, PASSWORD, bearer, on_test_connection, run_concurrently, work_off

NEW_PASSWORD = "Brand-new-pass1"
SENT = {"message": "If the email is registered, a reset link has been sent"}
BAD_TOKEN = {"detail": "Invalid or expired token"}


def forgot(client, email):
    return client.post(f"{API}/auth/forgot-password", json={"email": email})


def reset(client, token, password=NEW_PASSWORD):
    return client.post(f"{API}/auth/reset-password", json={"token": token, "new_password": password})


@pytest.fixture
def reset_token(client, mail_outbox):
    """`reset_token(user)` -> the token of a freshly requested reset mail."""

    def request(user) -> str:
        mail_outbox.clear()
        assert forgot(client, user.email).status_code == 200
        (message,) = mail_outbox.to(user.email)
        return mailed_token(message)

    return request


def test_forgot_password_mails_a_reset_link_with_the_token(client, student, mail_outbox):
    response = forgot(client, student.email.upper())

    assert response.status_code == 200
    assert response.get_json() == SENT
    (message,) = mail_outbox.to(student.email)
    assert message["Subject"] == "Reset your LMS password"
    token = mailed_token(message)
    assert f"Reset link: http://localhost:3000/reset-password?token={token}" in mail_body(message)


def test_forgot_password_answers_the_same_for_unknown_and_inactive_emails_and_sends_nothing(
        client, make_user, mail_outbox):
    inactive = make_user(active=False)

    for email in ("nobody@example.com", inactive.email):
        response = forgot(client, email)
        assert response.status_code == 200
        assert response.get_json() == SENT
    assert mail_outbox.messages == []


def test_forgot_password_with_an_invalid_email_is_422(client):
    assert forgot(client, "not-an-email").status_code == 422


def test_reset_tokens_are_stored_only_as_a_hash(reset_token, student):
    token = reset_token(student)

    stored = db.session.scalars(select(UserToken.token_hash).where(UserToken.user_id == student.id)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


def test_reset_password_sets_the_new_password(client, reset_token, student):
    response = reset(client, reset_token(student))

    assert response.status_code == 200
    assert response.get_json() == {"message": "Password has been reset successfully"}
    for password, status in ((PASSWORD, 401), (NEW_PASSWORD, 200)):
        login = client.post(f"{API}/auth/login", json={"email": student.email, "password": password})
        assert login.status_code == status


def test_a_reset_token_works_only_once(client, reset_token, student):
    token = reset_token(student)
    assert reset(client, token).status_code == 200

    response = reset(client, token, "Another-pass-2")

    assert response.status_code == 401
    assert response.get_json() == BAD_TOKEN
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_newer_reset_token_voids_the_older_one(client, reset_token, student):
    older = reset_token(student)
    newer = reset_token(student)

    assert reset(client, older).get_json() == BAD_TOKEN
    assert reset(client, newer).status_code == 200


def test_a_password_change_by_an_admin_voids_a_pending_reset_token(client, reset_token, student, admin,
                                                                   auth_headers):
    token = reset_token(student)
    changed = client.patch(f"{API}/users/{student.id}", json={"password": "Admin-chosen-1"},
                           headers=auth_headers(admin))
    assert changed.status_code == 200

    assert reset(client, token).get_json() == BAD_TOKEN


def test_a_reset_ends_every_earlier_session(client, login, reset_token, student):
    sessions = [login(student), login(student)]

    assert reset(client, reset_token(student)).status_code == 200

    for tokens in sessions:
        assert client.get(f"{API}/auth/me", headers=bearer(tokens["access_token"])).get_json() == {
            "detail": "Token has been revoked"}
        assert client.post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    fresh = login(student, NEW_PASSWORD)
    assert client.get(f"{API}/auth/me", headers=bearer(fresh["access_token"])).status_code == 200


def test_a_reset_does_not_log_the_user_in_and_keeps_mfa(client, reset_token, make_user):
    user = make_user(mfa_enabled=True)

    response = reset(client, reset_token(user))

    assert set(response.get_json()) == {"message"}
    login = client.post(f"{API}/auth/login", json={"email": user.email, "password": NEW_PASSWORD})
    assert login.get_json()["mfa_required"] is True


def test_an_expired_reset_token_is_refused(client, reset_token, student):
    token = reset_token(student)
    row = db.session.scalar(select(UserToken).where(UserToken.user_id == student.id))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert reset(client, token).get_json() == BAD_TOKEN


def test_unknown_tampered_and_verification_tokens_are_refused(client, reset_token, student, mail_outbox):
    token = reset_token(student)
    client.post(f"{API}/auth/verify-email/request", json={"email": student.email})
    verification = mailed_token(mail_outbox.to(student.email)[-1])

    for bad in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), verification):
        response = reset(client, bad)
        assert response.status_code == 401
        assert response.get_json() == BAD_TOKEN
    assert reset(client, token).status_code == 200


def test_reset_for_a_deactivated_user_is_refused(client, reset_token, student):
    token = reset_token(student)
    student.is_active = False
    db.session.commit()

    response = reset(client, token)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "User is inactive"}


@pytest.mark.parametrize("password", ["short", "x" * 129, "é" * 37])
def test_reset_with_an_unacceptable_password_is_422_and_keeps_the_token(client, reset_token, student, password):
    token = reset_token(student)

    response = reset(client, token, password)

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "new_password"]
    assert reset(client, token).status_code == 200


@pytest.mark.real_commits
@pytest.mark.postgres
def test_concurrent_resets_with_one_token_succeed_once(app, make_user, mail_outbox):
    user = make_user()
    with app.test_client() as setup_client:
        forgot(setup_client, user.email)
    token = mailed_token(mail_outbox.to(user.email)[0])

    responses = run_concurrently(app, [partial(reset, token=token, password=f"Concurrent-pass-{number}")
                                       for number in range(6)])

    assert sorted(response.status_code for response in responses) == [200] + [401] * 5


@pytest.mark.redis
def test_the_reset_mail_travels_through_redis_and_a_worker_to_smtp(make_app, make_user, client, mail_outbox,
                                                                  monkeypatch):
    user = make_user()
    queued = make_app(TASKS_FORCE_INLINE=False)
    monkeypatch.setattr(tasks, "_worker_app", queued)
    with on_test_connection(queued):
        response = queued.test_client().post(f"{API}/auth/forgot-password", json={"email": user.email})
    assert response.status_code == 200
    assert mail_outbox.messages == []  # enqueued on Redis, not sent in the request

    work_off(queued, "emails")

    [message] = mail_outbox.wait_for(1)
    assert (message["To"], message["Subject"]) == (user.email, "Reset your LMS password")
    reset = client.post(f"{API}/auth/reset-password",
                        json={"token": mailed_token(message), "new_password": "A-brand-new-pass1"})
    assert (reset.status_code, reset.get_json()) == (200, {"message": "Password has been reset successfully"})
