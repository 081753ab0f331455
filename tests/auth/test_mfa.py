"""MFA by e-mailed code: setup, disable and the two-step login (§1.9, §3, §5.15, §5.26)."""

from __future__ import annotations

import pytest

from lms.extensions import db
from tests.auth.conftest import mail_body, mailed_code
from tests.conftest import API, PASSWORD, bearer, run_concurrently

CHALLENGE_INVALID = {"detail": "MFA challenge expired or invalid"}
CODE_INVALID = {"detail": "Invalid MFA code"}


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def start_login(client, user):
    response = client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()


def finish_login(client, challenge_token, code):
    return client.post(f"{API}/auth/login/mfa", json={"challenge_token": challenge_token, "code": code})


def request_setup(client, headers, password=PASSWORD):
    return client.post(f"{API}/auth/mfa/enable/request", json={"password": password}, headers=headers)


def confirm_setup(client, headers, code):
    return client.post(f"{API}/auth/mfa/enable/confirm", json={"code": code}, headers=headers)


@pytest.fixture
def mfa_user(make_user):
    return make_user(mfa_enabled=True)


# --- setup and disable --------------------------------------------------------------------------------

def test_mfa_setup_mails_a_code_that_turns_mfa_on(client, student, auth_headers, mail_outbox):
    headers = auth_headers(student)

    response = request_setup(client, headers)

    assert response.status_code == 200
    assert response.get_json() == {"message": "A verification code has been sent to your email"}
    (message,) = mail_outbox.to(student.email)
    assert message["Subject"] == "Your LMS MFA setup code"
    code = mailed_code(message)
    assert len(code) == 6
    assert "expires in 10 minutes" in mail_body(message)
    confirmed = confirm_setup(client, headers, code)
    assert confirmed.status_code == 200
    assert confirmed.get_json() == {"message": "MFA has been enabled successfully"}
    assert client.get(f"{API}/auth/me", headers=headers).get_json()["mfa_enabled"] is True


def test_mfa_setup_code_length_follows_the_setting(client, app, student, auth_headers, mail_outbox, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_LOGIN_CODE_LENGTH", 8)

    request_setup(client, auth_headers(student))

    assert len(mailed_code(mail_outbox.to(student.email)[0])) == 8


def test_mfa_setup_with_a_wrong_password_is_401(client, student, auth_headers, mail_outbox):
    response = request_setup(client, auth_headers(student), "wrong-password")

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid password"}
    assert mail_outbox.messages == []


def test_mfa_setup_with_a_short_password_is_422(client, student, auth_headers):
    assert request_setup(client, auth_headers(student), "short").status_code == 422


def test_mfa_setup_when_already_enabled_sends_nothing(client, mfa_user, auth_headers, mail_outbox):
    response = request_setup(client, auth_headers(mfa_user))

    assert response.status_code == 200
    assert mail_outbox.messages == []


def test_mfa_setup_requires_authentication(client):
    assert request_setup(client, {}).status_code == 401
    assert confirm_setup(client, {}, "123456").status_code == 401


def test_mfa_setup_confirm_with_a_wrong_code_is_401(client, student, auth_headers, mail_outbox):
    headers = auth_headers(student)
    request_setup(client, headers)
    code = mailed_code(mail_outbox.to(student.email)[0])

    response = confirm_setup(client, headers, wrong(code))

    assert response.status_code == 401
    assert response.get_json() == CODE_INVALID
    assert confirm_setup(client, headers, code).status_code == 200


def test_mfa_setup_confirm_without_a_pending_code_is_401(client, student, auth_headers):
    assert confirm_setup(client, auth_headers(student), "123456").get_json() == CODE_INVALID


def test_mfa_setup_code_is_void_after_five_wrong_codes(client, student, auth_headers, mail_outbox):
    headers = auth_headers(student)
    request_setup(client, headers)
    code = mailed_code(mail_outbox.to(student.email)[0])

    for _ in range(5):
        assert confirm_setup(client, headers, wrong(code)).get_json() == CODE_INVALID

    assert confirm_setup(client, headers, code).get_json() == CODE_INVALID
    assert client.get(f"{API}/auth/me", headers=headers).get_json()["mfa_enabled"] is False


def test_a_new_setup_request_replaces_the_code(client, student, auth_headers, mail_outbox):
    headers = auth_headers(student)
    request_setup(client, headers)
    request_setup(client, headers)
    first, second = (mailed_code(m) for m in mail_outbox.to(student.email))

    if first != second:
        assert confirm_setup(client, headers, first).get_json() == CODE_INVALID
    assert confirm_setup(client, headers, second).status_code == 200


def test_mfa_confirm_with_a_malformed_code_is_422(client, student, auth_headers):
    assert confirm_setup(client, auth_headers(student), "123").status_code == 422
    assert confirm_setup(client, auth_headers(student), "1" * 13).status_code == 422


def test_mfa_disable_needs_the_password(client, mfa_user, auth_headers):
    headers = auth_headers(mfa_user)

    refused = client.post(f"{API}/auth/mfa/disable", json={"password": "wrong-password"}, headers=headers)
    assert refused.status_code == 401
    assert refused.get_json() == {"detail": "Invalid password"}

    response = client.post(f"{API}/auth/mfa/disable", json={"password": PASSWORD}, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"message": "MFA has been disabled successfully"}
    db.session.refresh(mfa_user)
    assert mfa_user.mfa_enabled is False


def test_mfa_disable_is_a_no_op_when_mfa_is_off(client, student, auth_headers):
    response = client.post(f"{API}/auth/mfa/disable", json={"password": PASSWORD}, headers=auth_headers(student))

    assert response.status_code == 200


# --- two-step login ----------------------------------------------------------------------------------

def test_login_of_an_mfa_user_returns_a_challenge_and_mails_a_code(client, mfa_user, mail_outbox):
    body = start_login(client, mfa_user)

    assert body == {"mfa_required": True, "challenge_token": body["challenge_token"], "expires_in_seconds": 600,
                    "message": "MFA verification required"}
    assert body["challenge_token"].count(".") == 0  # opaque, not a JWT
    (message,) = mail_outbox.to(mfa_user.email)
    assert message["Subject"] == "Your LMS login verification code"
    code = mailed_code(message)

    response = finish_login(client, body["challenge_token"], code)

    assert response.status_code == 200
    tokens = response.get_json()["tokens"]
    assert response.get_json()["user"]["id"] == str(mfa_user.id)
    assert client.get(f"{API}/auth/me", headers=bearer(tokens["access_token"])).status_code == 200
    db.session.refresh(mfa_user)
    assert mfa_user.last_login_at is not None


def test_an_mfa_code_is_single_use(client, mfa_user, mail_outbox):
    challenge = start_login(client, mfa_user)["challenge_token"]
    code = mailed_code(mail_outbox.to(mfa_user.email)[0])
    assert finish_login(client, challenge, code).status_code == 200

    response = finish_login(client, challenge, code)

    assert response.status_code == 401
    assert response.get_json() == CHALLENGE_INVALID


def test_a_wrong_code_does_not_consume_the_challenge(client, mfa_user, mail_outbox):
    challenge = start_login(client, mfa_user)["challenge_token"]
    code = mailed_code(mail_outbox.to(mfa_user.email)[0])

    assert finish_login(client, challenge, wrong(code)).get_json() == CODE_INVALID
    assert finish_login(client, challenge, code).status_code == 200


def test_a_challenge_is_void_after_five_wrong_codes(client, mfa_user, mail_outbox):
    challenge = start_login(client, mfa_user)["challenge_token"]
    code = mailed_code(mail_outbox.to(mfa_user.email)[0])

    for _ in range(5):
        response = finish_login(client, challenge, wrong(code))
        assert response.status_code == 401
        assert response.get_json() == CODE_INVALID

    assert finish_login(client, challenge, code).get_json() == CHALLENGE_INVALID


def test_the_code_of_one_challenge_does_not_open_another(client, mfa_user, mail_outbox):
    first = start_login(client, mfa_user)["challenge_token"]
    second = start_login(client, mfa_user)["challenge_token"]
    first_code, second_code = (mailed_code(m) for m in mail_outbox.to(mfa_user.email))

    if first_code != second_code:
        assert finish_login(client, second, first_code).get_json() == CODE_INVALID
    assert finish_login(client, second, second_code).status_code == 200
    assert finish_login(client, first, first_code).status_code == 200


@pytest.mark.real_commits
@pytest.mark.postgres
def test_concurrent_uses_of_one_code_log_in_once(app, make_user, mail_outbox):
    user = make_user(mfa_enabled=True)
    with app.test_client() as setup_client:
        challenge = start_login(setup_client, user)["challenge_token"]
    code = mailed_code(mail_outbox.to(user.email)[0])

    responses = run_concurrently(app, [lambda client: finish_login(client, challenge, code)] * 5)

    assert sorted(response.status_code for response in responses) == [200] + [401] * 4


def test_an_unknown_challenge_is_refused(client):
    response = finish_login(client, "not-a-challenge", "123456")

    assert response.status_code == 401
    assert response.get_json() == CHALLENGE_INVALID


def test_an_access_token_is_not_a_challenge(client, login, student):
    assert finish_login(client, login(student)["access_token"], "123456").get_json() == CHALLENGE_INVALID


def test_mfa_login_after_mfa_was_turned_off_is_refused(client, mfa_user, mail_outbox):
    challenge = start_login(client, mfa_user)["challenge_token"]
    code = mailed_code(mail_outbox.to(mfa_user.email)[0])
    mfa_user.mfa_enabled = False
    db.session.commit()

    response = finish_login(client, challenge, code)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "MFA is not enabled for this account"}


def test_wrong_codes_count_towards_the_login_lockout(client, app, mfa_user, mail_outbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FAILED_LOGIN_ATTEMPTS", 3)
    challenge = start_login(client, mfa_user)["challenge_token"]
    code = mailed_code(mail_outbox.to(mfa_user.email)[0])
    for _ in range(3):
        finish_login(client, challenge, wrong(code))

    response = client.post(f"{API}/auth/login", json={"email": mfa_user.email, "password": PASSWORD})

    assert response.status_code == 401
    assert "temporarily locked" in response.get_json()["detail"]


def test_mfa_login_with_a_malformed_body_is_422(client):
    assert client.post(f"{API}/auth/login/mfa", json={"code": "123456"}).status_code == 422
    assert client.post(f"{API}/auth/login/mfa", json={"challenge_token": "x", "code": "12"}).status_code == 422


def test_mfa_answers_503_while_the_code_store_is_down(client, mfa_user, redis_outage, mail_outbox):
    redis_outage()

    login = client.post(f"{API}/auth/login", json={"email": mfa_user.email, "password": PASSWORD})
    finish = finish_login(client, "some-challenge", "123456")

    assert login.status_code == finish.status_code == 503
    assert login.get_json() == {"detail": "Token revocation service unavailable"}
    assert mail_outbox.messages == []
