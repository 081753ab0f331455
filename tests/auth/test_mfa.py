"""MFA by e-mailed code: setup, disable and the two-step login, under the login lockout and the auth
rate rule (§1.9, §3, §5.14, §5.15, §5.26, §5.36)."""

from __future__ import annotations

import bcrypt
import pytest

from lms.core.extensions import db
from tests.auth.helpers import mail_body, mailed_code
from tests.helpers import API, PASSWORD, bearer, on_test_connection, run_concurrently

CHALLENGE_INVALID = {"detail": "MFA challenge expired or invalid"}
CODE_INVALID = {"detail": "Invalid MFA code"}
INVALID_PASSWORD = {"detail": "Invalid password"}
LOCKED = {"detail": "Account temporarily locked due to multiple failed login attempts. Please try again later."}


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def password_login(client, email, password=PASSWORD, ip="127.0.0.1"):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def start_login(client, user):
    response = password_login(client, user.email)
    assert response.status_code == 200
    return response.get_json()


def finish_login(client, challenge_token, code, ip="127.0.0.1"):
    return client.post(f"{API}/auth/login/mfa", json={"challenge_token": challenge_token, "code": code},
                       environ_base={"REMOTE_ADDR": ip})


def request_setup(client, headers, password=PASSWORD, ip="127.0.0.1"):
    return client.post(f"{API}/auth/mfa/enable/request", json={"password": password}, headers=headers,
                       environ_base={"REMOTE_ADDR": ip})


def confirm_setup(client, headers, code, ip="127.0.0.1"):
    return client.post(f"{API}/auth/mfa/enable/confirm", json={"code": code}, headers=headers,
                       environ_base={"REMOTE_ADDR": ip})


def disable(client, headers, password=PASSWORD, ip="127.0.0.1"):
    return client.post(f"{API}/auth/mfa/disable", json={"password": password}, headers=headers,
                       environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def mfa_user(make_user):
    return make_user(mfa_enabled=True)


@pytest.fixture
def lockout_after(app, monkeypatch):
    """`lockout_after(n)` sets MAX_FAILED_LOGIN_ATTEMPTS for the rest of the test."""
    return lambda attempts: monkeypatch.setitem(app.config, "MAX_FAILED_LOGIN_ATTEMPTS", attempts)


@pytest.fixture
def password_checks(monkeypatch) -> list[bytes]:
    """The passwords bcrypt checked from now on (a locked account's password is never checked)."""
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password, hashed):
        checked.append(password)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    return checked


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


def test_mfa_setup_code_is_void_after_five_wrong_codes(client, student, auth_headers, mail_outbox,
                                                       lockout_after):
    lockout_after(100)  # apart from the lockout, which five wrong codes also reach
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


def test_a_new_login_challenge_voids_the_earlier_ones(client, mfa_user, mail_outbox):
    first = start_login(client, mfa_user)["challenge_token"]
    second = start_login(client, mfa_user)["challenge_token"]
    first_code, second_code = (mailed_code(m) for m in mail_outbox.to(mfa_user.email))

    assert finish_login(client, first, first_code).get_json() == CHALLENGE_INVALID
    if first_code != second_code:
        assert finish_login(client, second, first_code).get_json() == CODE_INVALID
    assert finish_login(client, second, second_code).status_code == 200


def test_a_login_challenge_of_another_user_stays_open(client, make_user, mail_outbox):
    alice, bob = make_user(mfa_enabled=True), make_user(mfa_enabled=True)
    alices = start_login(client, alice)["challenge_token"]
    start_login(client, bob)

    assert finish_login(client, alices, mailed_code(mail_outbox.to(alice.email)[0])).status_code == 200


@pytest.mark.real_commits
@pytest.mark.postgres
def test_of_concurrent_password_logins_exactly_one_challenge_can_be_finished(app, make_user, mail_outbox,
                                                                              lockout_after):
    lockout_after(100)  # every code is tried on every challenge below
    user = make_user(mfa_enabled=True)

    logins = run_concurrently(app, [lambda client: start_login(client, user)] * 4)

    challenges = [body["challenge_token"] for body in logins]
    codes = {mailed_code(message) for message in mail_outbox.wait_for(4)}
    client = app.test_client()
    finished = [challenge for challenge in challenges
                if any(finish_login(client, challenge, code).status_code == 200 for code in codes)]
    assert len(finished) == 1


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


def test_wrong_codes_count_towards_the_login_lockout(client, mfa_user, mail_outbox, lockout_after):
    lockout_after(3)
    challenge = start_login(client, mfa_user)["challenge_token"]
    code = mailed_code(mail_outbox.to(mfa_user.email)[0])
    for _ in range(3):
        finish_login(client, challenge, wrong(code))

    response = password_login(client, mfa_user.email)

    assert response.status_code == 401
    assert response.get_json() == LOCKED


def test_a_locked_account_cannot_finish_an_mfa_login_even_with_the_right_code(client, mfa_user, mail_outbox,
                                                                                lockout_after):
    lockout_after(3)
    challenge = start_login(client, mfa_user)["challenge_token"]
    code = mailed_code(mail_outbox.to(mfa_user.email)[0])
    for _ in range(3):
        password_login(client, mfa_user.email, "wrong-password")

    response = finish_login(client, challenge, code)

    assert response.status_code == 401
    assert response.get_json() == LOCKED
    assert 0 < int(response.headers["Retry-After"]) <= 900
    # the pair (e-mail, this IP) is locked; the refused attempt did not consume the challenge
    assert finish_login(client, challenge, code, ip="10.0.0.2").status_code == 200


def test_wrong_codes_lock_the_mfa_login_itself(client, mfa_user, mail_outbox, lockout_after):
    lockout_after(3)
    challenge = start_login(client, mfa_user)["challenge_token"]
    code = mailed_code(mail_outbox.to(mfa_user.email)[0])
    for _ in range(3):
        assert finish_login(client, challenge, wrong(code)).get_json() == CODE_INVALID

    assert finish_login(client, challenge, code).get_json() == LOCKED


def test_five_wrong_codes_are_the_limit_across_new_login_challenges(client, mfa_user, mail_outbox):
    """MFA_MAX_WRONG_CODES and MAX_FAILED_LOGIN_ATTEMPTS are both 5: a new challenge gives no new tries."""
    first = start_login(client, mfa_user)["challenge_token"]
    first_code = mailed_code(mail_outbox.to(mfa_user.email)[0])
    for _ in range(4):
        assert finish_login(client, first, wrong(first_code)).get_json() == CODE_INVALID
    second = start_login(client, mfa_user)["challenge_token"]
    second_code = mailed_code(mail_outbox.to(mfa_user.email)[1])

    assert finish_login(client, second, wrong(second_code)).get_json() == CODE_INVALID
    assert finish_login(client, second, second_code).get_json() == LOCKED
    assert finish_login(client, first, first_code).get_json() == CHALLENGE_INVALID
    assert password_login(client, mfa_user.email).get_json() == LOCKED


def test_the_password_step_of_an_mfa_login_does_not_clear_the_failure_count(client, mfa_user, mail_outbox,
                                                                               lockout_after):
    lockout_after(3)
    first = start_login(client, mfa_user)["challenge_token"]
    first_code = mailed_code(mail_outbox.to(mfa_user.email)[0])
    for _ in range(2):
        finish_login(client, first, wrong(first_code))
    second = start_login(client, mfa_user)["challenge_token"]
    second_code = mailed_code(mail_outbox.to(mfa_user.email)[1])

    assert finish_login(client, second, wrong(second_code)).get_json() == CODE_INVALID
    assert finish_login(client, second, second_code).get_json() == LOCKED


# --- every password and code check counts toward the lockout (§5.14, §5.36) -----------------------

def test_wrong_passwords_at_mfa_setup_lock_the_login(client, student, auth_headers, lockout_after):
    lockout_after(3)
    headers = auth_headers(student)
    for _ in range(3):
        assert request_setup(client, headers, "wrong-password").get_json() == INVALID_PASSWORD

    assert password_login(client, student.email).get_json() == LOCKED


def test_wrong_passwords_at_mfa_disable_lock_the_login(client, mfa_user, auth_headers, lockout_after):
    lockout_after(3)
    headers = auth_headers(mfa_user)
    for _ in range(3):
        assert disable(client, headers, "wrong-password").get_json() == INVALID_PASSWORD

    assert password_login(client, mfa_user.email).get_json() == LOCKED


def test_a_locked_account_cannot_request_mfa_setup_and_its_password_is_not_checked(
        client, student, auth_headers, lockout_after, mail_outbox, password_checks):
    lockout_after(3)
    headers = auth_headers(student)
    for _ in range(3):
        request_setup(client, headers, "wrong-password")
    password_checks.clear()

    response = request_setup(client, headers)

    assert response.status_code == 401
    assert response.get_json() == LOCKED
    assert 0 < int(response.headers["Retry-After"]) <= 900
    assert password_checks == []
    assert mail_outbox.messages == []


def test_a_locked_account_cannot_disable_mfa_and_its_password_is_not_checked(
        client, mfa_user, auth_headers, lockout_after, password_checks):
    lockout_after(3)
    headers = auth_headers(mfa_user)
    for _ in range(3):
        disable(client, headers, "wrong-password")
    password_checks.clear()

    response = disable(client, headers)

    assert response.status_code == 401
    assert response.get_json() == LOCKED
    assert "Retry-After" in response.headers
    assert password_checks == []
    db.session.refresh(mfa_user)
    assert mfa_user.mfa_enabled is True


def test_failed_logins_lock_mfa_setup_and_disable(client, mfa_user, student, auth_headers, lockout_after):
    lockout_after(3)
    for user in (student, mfa_user):
        for _ in range(3):
            password_login(client, user.email, "wrong-password")

    assert request_setup(client, auth_headers(student)).get_json() == LOCKED
    assert disable(client, auth_headers(mfa_user)).get_json() == LOCKED


def test_the_mfa_password_lockout_is_per_email_and_client_ip(client, student, auth_headers, lockout_after):
    lockout_after(3)
    headers = auth_headers(student)
    for _ in range(3):
        request_setup(client, headers, "wrong-password", ip="10.0.0.1")

    assert request_setup(client, headers, ip="10.0.0.1").get_json() == LOCKED
    assert request_setup(client, headers, ip="10.0.0.2").status_code == 200


def test_a_correct_password_at_mfa_setup_or_disable_clears_the_failure_count(client, mfa_user, student,
                                                                               auth_headers, lockout_after):
    lockout_after(3)
    for user, endpoint in ((student, request_setup), (mfa_user, disable)):
        headers = auth_headers(user)
        for _ in range(2):
            assert endpoint(client, headers, "wrong-password").get_json() == INVALID_PASSWORD
        assert endpoint(client, headers).status_code == 200

        for _ in range(2):
            assert password_login(client, user.email, "wrong-password").status_code == 401
        assert password_login(client, user.email).status_code == 200


def test_wrong_mfa_setup_codes_count_towards_the_lockout(client, student, auth_headers, mail_outbox,
                                                        lockout_after):
    lockout_after(3)
    headers = auth_headers(student)
    request_setup(client, headers)
    code = mailed_code(mail_outbox.to(student.email)[0])
    for _ in range(3):
        assert confirm_setup(client, headers, wrong(code)).get_json() == CODE_INVALID

    assert confirm_setup(client, headers, code).get_json() == LOCKED
    assert password_login(client, student.email).get_json() == LOCKED
    assert client.get(f"{API}/auth/me", headers=headers).get_json()["mfa_enabled"] is False


# --- rate limit -----------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint, body", [
    ("/auth/mfa/enable/request", {"password": "wrong-password"}),
    ("/auth/mfa/enable/confirm", {"code": "000000"}),
    ("/auth/mfa/disable", {"password": "wrong-password"}),
])
def test_the_mfa_endpoints_that_check_a_password_or_code_have_the_auth_rate_limit(
        make_app, student, auth_headers, endpoint, body):
    limited = make_app(RATE_LIMIT_ENABLED=True, AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE=2,
                       RATE_LIMIT_REQUESTS_PER_MINUTE=100)
    with on_test_connection(limited):
        client = limited.test_client()
        headers = auth_headers(student)

        statuses = [client.post(f"{API}{endpoint}", json=body, headers=headers).status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


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
