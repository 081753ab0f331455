"""POST /auth/verify-email/request and /confirm (§1.3, §1.9, §3)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.auth.models import UserToken
from lms.core.db import utcnow
from lms.core.extensions import db
from tests.auth.helpers import mail_body, mailed_token
from tests.helpers import API, PASSWORD

SENT = {"message": "If the email is registered, a verification link has been sent"}
VERIFIED = {"message": "Email has been verified successfully"}


def request_link(client, email):
    return client.post(f"{API}/auth/verify-email/request", json={"email": email})


def confirm(client, token):
    return client.post(f"{API}/auth/verify-email/confirm", json={"token": token})


def test_request_mails_a_verification_link_with_the_token(client, make_user, mail_outbox):
    user = make_user(verified=False)

    response = request_link(client, user.email)

    assert response.status_code == 200
    assert response.get_json() == SENT
    (message,) = mail_outbox.to(user.email)
    assert message["Subject"] == "Verify your LMS email"
    token = mailed_token(message)
    assert f"Verification link: http://localhost:3000/verify-email?token={token}" in mail_body(message)


def test_request_mails_already_verified_users_too(client, student, mail_outbox):
    request_link(client, student.email)

    assert len(mail_outbox.to(student.email)) == 1


def test_request_answers_the_same_for_unknown_and_inactive_emails_and_sends_nothing(client, make_user,
                                                                                     mail_outbox):
    inactive = make_user(active=False, verified=False)

    for email in ("nobody@example.com", inactive.email):
        assert request_link(client, email).get_json() == SENT
    assert mail_outbox.messages == []


def test_confirm_verifies_the_address(client, make_user, mail_outbox):
    user = make_user(verified=False)
    request_link(client, user.email)

    response = confirm(client, mailed_token(mail_outbox.to(user.email)[0]))

    assert response.status_code == 200
    assert response.get_json() == VERIFIED
    db.session.refresh(user)
    assert user.email_verified_at is not None


def test_a_verification_token_may_be_confirmed_again(client, make_user, mail_outbox):
    user = make_user(verified=False)
    request_link(client, user.email)
    token = mailed_token(mail_outbox.to(user.email)[0])
    confirm(client, token)
    db.session.refresh(user)
    first_verified_at = user.email_verified_at

    assert confirm(client, token).get_json() == VERIFIED
    db.session.refresh(user)
    assert user.email_verified_at == first_verified_at


def test_unknown_expired_and_reset_tokens_are_refused(client, student, mail_outbox):
    request_link(client, student.email)
    verification = mailed_token(mail_outbox.to(student.email)[0])
    client.post(f"{API}/auth/forgot-password", json={"email": student.email})
    reset = mailed_token(mail_outbox.to(student.email)[1])
    row = db.session.scalar(select(UserToken).where(UserToken.purpose == "email_verification"))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    for bad in ("not-a-token", verification, reset):
        response = confirm(client, bad)
        assert response.status_code == 401
        assert response.get_json() == {"detail": "Invalid or expired token"}


def test_confirm_for_a_deactivated_user_is_refused(client, make_user, mail_outbox):
    user = make_user(verified=False)
    request_link(client, user.email)
    user.is_active = False
    db.session.commit()

    response = confirm(client, mailed_token(mail_outbox.to(user.email)[0]))

    assert response.status_code == 401
    assert response.get_json() == {"detail": "User is inactive"}


def test_confirm_without_a_token_is_422(client):
    response = client.post(f"{API}/auth/verify-email/confirm", json={})

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "token"]


def test_verification_opens_login_when_it_is_required(client, app, make_user, mail_outbox, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN", True)
    user = make_user(verified=False)
    credentials = {"email": user.email, "password": PASSWORD}
    assert client.post(f"{API}/auth/login", json=credentials).get_json() == {"detail": "Email is not verified"}

    request_link(client, user.email)
    confirm(client, mailed_token(mail_outbox.to(user.email)[0]))

    assert client.post(f"{API}/auth/login", json=credentials).status_code == 200
