"""POST /auth/refresh and POST /auth/logout: rotation, reuse detection, revocation (§1.2, §5.16, §5.26)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import jwt
import pytest
import time_machine
from sqlalchemy import select

from config import load_config
from lms.auth import service
from lms.auth.models import RefreshToken
from lms.core.db import utcnow
from lms.core.extensions import db
from tests.helpers import API, PASSWORD, bearer, redis_commands_sent, run_concurrently

INVALID_REFRESH = {"detail": "Refresh token is invalid or revoked"}
REVOKED = {"detail": "Token has been revoked"}


def refresh(client, refresh_token, headers=None):
    return client.post(f"{API}/auth/refresh", json={"refresh_token": refresh_token}, headers=headers or {})


def logout(client, tokens, refresh_token=None):
    return client.post(f"{API}/auth/logout", json={"refresh_token": refresh_token or tokens["refresh_token"]},
                       headers=bearer(tokens["access_token"]))


def me(client, access_token):
    return client.get(f"{API}/auth/me", headers=bearer(access_token))


def row_of(refresh_token: str) -> RefreshToken:
    jti = jwt.decode(refresh_token, options={"verify_signature": False})["jti"]
    db.session.expire_all()
    return db.session.scalar(select(RefreshToken).where(RefreshToken.jti == jti))


@pytest.fixture
def reuse_grace(app, monkeypatch):
    """`reuse_grace(seconds)` sets REFRESH_TOKEN_REUSE_GRACE_SECONDS for the rest of the test."""
    return lambda seconds: monkeypatch.setitem(app.config, "REFRESH_TOKEN_REUSE_GRACE_SECONDS", seconds)


# --- refresh ------------------------------------------------------------------------------------------

def test_refresh_returns_a_new_working_pair_and_retires_the_old_refresh_token(client, login, student):
    first = login(student)

    response = refresh(client, first["refresh_token"])

    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["id"] == str(student.id)
    second = body["tokens"]
    assert second["refresh_token"] != first["refresh_token"]
    assert me(client, second["access_token"]).status_code == 200
    old_row, new_row = row_of(first["refresh_token"]), row_of(second["refresh_token"])
    assert old_row.revoked_at is not None
    assert old_row.replaced_by_jti == new_row.jti
    assert new_row.family_id == old_row.family_id and new_row.revoked_at is None


def test_refresh_rotates_again_and_again(client, login, student):
    tokens = login(student)
    for _ in range(3):
        response = refresh(client, tokens["refresh_token"])
        assert response.status_code == 200
        tokens = response.get_json()["tokens"]


def test_reusing_a_rotated_refresh_token_revokes_its_whole_family(client, login, student):
    first = login(student)
    second = refresh(client, first["refresh_token"]).get_json()["tokens"]
    other_session = login(student)

    replay = refresh(client, first["refresh_token"])  # at once: there is no grace by default

    assert replay.status_code == 401
    assert replay.get_json() == INVALID_REFRESH
    assert replay.headers["WWW-Authenticate"] == "Bearer"
    assert refresh(client, second["refresh_token"]).get_json() == INVALID_REFRESH
    assert row_of(second["refresh_token"]).revoked_at is not None
    assert refresh(client, other_session["refresh_token"]).status_code == 200


def test_the_refresh_token_reuse_grace_is_zero_unless_configured(monkeypatch, tmp_path):
    monkeypatch.delenv("REFRESH_TOKEN_REUSE_GRACE_SECONDS", raising=False)
    assert load_config(env_file=None, instance_path=tmp_path)["REFRESH_TOKEN_REUSE_GRACE_SECONDS"] == 0

    monkeypatch.setenv("REFRESH_TOKEN_REUSE_GRACE_SECONDS", "10")
    assert load_config(env_file=None, instance_path=tmp_path)["REFRESH_TOKEN_REUSE_GRACE_SECONDS"] == 10


def test_with_a_reuse_grace_a_rotated_token_presented_again_within_it_is_refused_but_revokes_nothing(
        client, login, student, reuse_grace):
    reuse_grace(10)
    first = login(student)
    second = refresh(client, first["refresh_token"]).get_json()["tokens"]

    with time_machine.travel(utcnow() + timedelta(seconds=9)):
        retry = refresh(client, first["refresh_token"])

    assert retry.status_code == 401
    assert retry.get_json() == INVALID_REFRESH
    assert refresh(client, second["refresh_token"]).status_code == 200  # the session that won lives on


def test_with_a_reuse_grace_a_reuse_after_it_revokes_the_whole_family(client, login, student, reuse_grace):
    reuse_grace(10)
    first = login(student)
    second = refresh(client, first["refresh_token"]).get_json()["tokens"]

    with time_machine.travel(utcnow() + timedelta(seconds=11)):
        replay = refresh(client, first["refresh_token"])

    assert replay.get_json() == INVALID_REFRESH
    assert refresh(client, second["refresh_token"]).get_json() == INVALID_REFRESH


def test_a_refresh_token_revoked_by_logout_presented_again_is_refused(client, login, student):
    tokens = login(student)
    logout(client, tokens)

    assert refresh(client, tokens["refresh_token"]).get_json() == INVALID_REFRESH


def test_an_access_token_at_refresh_is_an_invalid_token_type(client, login, student):
    response = refresh(client, login(student)["access_token"])

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid token type"}


def test_an_mfa_challenge_at_refresh_is_refused(client, make_user):
    user = make_user(mfa_enabled=True)
    challenge = client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})

    response = refresh(client, challenge.get_json()["challenge_token"])

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Could not validate credentials"}


def test_a_forged_or_expired_refresh_token_is_refused(client, app, student):
    now = int(time.time())
    claims = {"sub": str(student.id), "jti": str(uuid.uuid4()), "type": "refresh", "typ": "refresh",
              "iat": now, "exp": now + 60}
    forged = jwt.encode(claims, "another-key-" + "z" * 32, algorithm="HS256")
    expired = jwt.encode({**claims, "iat": now - 120, "exp": now - 60}, app.config["JWT_SECRET_KEY"],
                         algorithm="HS256")
    unknown = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")  # valid JWT, never issued

    assert refresh(client, forged).get_json() == {"detail": "Could not validate credentials"}
    assert refresh(client, expired).get_json() == {"detail": "Could not validate credentials"}
    assert refresh(client, unknown).get_json() == INVALID_REFRESH


def test_refresh_for_a_deactivated_user_is_refused(client, login, student):
    tokens = login(student)
    student.is_active = False
    db.session.commit()

    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 401
    assert response.get_json() == {"detail": "User is inactive"}


def test_refresh_without_a_refresh_token_is_422(client):
    response = client.post(f"{API}/auth/refresh", json={})

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "refresh_token"]


def test_refresh_with_the_same_users_bearer_revokes_that_access_token(client, login, student):
    tokens = login(student)

    response = refresh(client, tokens["refresh_token"], bearer(tokens["access_token"]))

    assert response.status_code == 200
    assert me(client, tokens["access_token"]).get_json() == REVOKED
    assert me(client, response.get_json()["tokens"]["access_token"]).status_code == 200


def test_refresh_accepts_an_expired_bearer_of_the_same_user(client, app, login, student):
    tokens = login(student)
    past = int(time.time()) - 3600
    expired_access = jwt.encode({"sub": str(student.id), "jti": str(uuid.uuid4()), "type": "access",
                                 "iat": past, "exp": past + 900}, app.config["JWT_SECRET_KEY"], algorithm="HS256")

    assert refresh(client, tokens["refresh_token"], bearer(expired_access)).status_code == 200


def test_refresh_with_another_users_bearer_is_refused_and_changes_nothing(client, login, student, instructor):
    mine, theirs = login(student), login(instructor)

    response = refresh(client, mine["refresh_token"], bearer(theirs["access_token"]))

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Access token does not match refresh token"}
    assert me(client, theirs["access_token"]).status_code == 200
    assert refresh(client, mine["refresh_token"]).status_code == 200


def test_plain_refresh_keeps_working_while_redis_is_down(client, login, student, redis_outage):
    tokens = login(student)
    redis_outage()

    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_refresh_that_must_revoke_a_bearer_answers_503_while_redis_is_down(client, login, student, redis_outage):
    tokens = login(student)
    redis_outage()

    response = refresh(client, tokens["refresh_token"], bearer(tokens["access_token"]))

    assert response.status_code == 503
    assert response.get_json() == {"detail": "Token revocation service unavailable"}
    assert row_of(tokens["refresh_token"]).revoked_at is None


@pytest.mark.real_commits
@pytest.mark.postgres
def test_of_ten_concurrent_refreshes_with_one_token_one_gets_a_pair_and_the_others_revoke_the_family(
        app, make_user, login):
    user = make_user()
    tokens = login(user)

    responses = run_concurrently(app, [lambda client: refresh(client, tokens["refresh_token"])] * 10)

    assert sorted(response.status_code for response in responses) == [200] + [401] * 9
    rows = db.session.scalars(select(RefreshToken).where(RefreshToken.user_id == user.id)).all()
    assert len(rows) == 2  # the presented token and exactly one successor
    assert all(row.revoked_at is not None for row in rows)  # each loser is a reuse (grace 0)
    winner = next(response for response in responses if response.status_code == 200).get_json()["tokens"]
    assert refresh(app.test_client(), winner["refresh_token"]).get_json() == INVALID_REFRESH


@pytest.mark.real_commits
@pytest.mark.postgres
def test_with_a_reuse_grace_the_winner_of_ten_concurrent_refreshes_keeps_its_session(
        app, make_user, login, reuse_grace):
    reuse_grace(10)
    user = make_user()
    tokens = login(user)

    responses = run_concurrently(app, [lambda client: refresh(client, tokens["refresh_token"])] * 10)

    assert sorted(response.status_code for response in responses) == [200] + [401] * 9
    winner = next(response for response in responses if response.status_code == 200).get_json()["tokens"]
    assert refresh(app.test_client(), winner["refresh_token"]).status_code == 200


def refresh_race(app, refresh_token: str, monkeypatch):
    """Two refreshes with one token, both past the lookup before either rotates: the first to look
    the token up is held just before its rotation until the second has rotated and committed.
    Returns (loser's response, winner's response)."""
    held, release = threading.Event(), threading.Event()
    real_mark_rotated = service.mark_rotated

    held_rotation_succeeded: list[bool] = []

    def mark_rotated(row, successor_jti):
        if held.is_set():
            return real_mark_rotated(row, successor_jti)
        held.set()  # the first caller waits here
        release.wait(timeout=30)
        held_rotation_succeeded.append(real_mark_rotated(row, successor_jti))
        return held_rotation_succeeded[-1]

    monkeypatch.setattr(service, "mark_rotated", mark_rotated)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(refresh, app.test_client(), refresh_token)
        assert held.wait(timeout=30)
        winner = refresh(app.test_client(), refresh_token)
        release.set()
        loser = slow.result(timeout=30)
    assert held_rotation_succeeded == [False]  # the held request lost at the conditional UPDATE
    return loser, winner


@pytest.mark.real_commits
@pytest.mark.postgres
def test_the_loser_of_a_refresh_race_gets_401_and_revokes_the_family(app, make_user, login, monkeypatch):
    tokens = login(make_user())

    loser, winner = refresh_race(app, tokens["refresh_token"], monkeypatch)

    assert winner.status_code == 200
    assert loser.status_code == 401
    assert loser.get_json() == INVALID_REFRESH
    assert refresh(app.test_client(), winner.get_json()["tokens"]["refresh_token"]).get_json() == INVALID_REFRESH


@pytest.mark.real_commits
@pytest.mark.postgres
def test_with_a_reuse_grace_the_loser_of_a_refresh_race_gets_401_and_revokes_nothing(
        app, make_user, login, monkeypatch, reuse_grace):
    reuse_grace(10)
    tokens = login(make_user())

    loser, winner = refresh_race(app, tokens["refresh_token"], monkeypatch)

    assert (winner.status_code, loser.status_code) == (200, 401)
    assert loser.get_json() == INVALID_REFRESH
    assert refresh(app.test_client(), winner.get_json()["tokens"]["refresh_token"]).status_code == 200


# --- logout ---------------------------------------------------------------------------------------------

def test_logout_revokes_the_access_token_and_the_refresh_token(client, login, student):
    tokens = login(student)

    response = logout(client, tokens)

    assert response.status_code == 204
    assert response.data == b""
    assert me(client, tokens["access_token"]).get_json() == REVOKED
    assert refresh(client, tokens["refresh_token"]).get_json() == INVALID_REFRESH


def test_logout_leaves_the_users_other_sessions_alone(client, login, student):
    this, other = login(student), login(student)

    logout(client, this)

    assert me(client, other["access_token"]).status_code == 200
    assert refresh(client, other["refresh_token"]).status_code == 200


def test_logout_is_idempotent(client, login, student):
    tokens = login(student)

    assert logout(client, tokens).status_code == 204
    assert logout(client, tokens).status_code == 204


def test_logout_without_a_bearer_is_401_not_authenticated(client, login, student):
    tokens = login(student)

    response = client.post(f"{API}/auth/logout", json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}
    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_logout_with_another_users_refresh_token_is_refused(client, login, student, instructor):
    mine, theirs = login(student), login(instructor)

    response = logout(client, mine, refresh_token=theirs["refresh_token"])

    assert response.status_code == 401
    assert refresh(client, theirs["refresh_token"]).status_code == 200
    assert me(client, mine["access_token"]).status_code == 200


def test_logout_with_an_access_token_as_refresh_token_is_refused(client, login, student):
    tokens = login(student)

    response = logout(client, tokens, refresh_token=tokens["access_token"])

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid token type"}


def test_logout_with_a_refresh_token_as_bearer_is_refused(client, login, student):
    tokens = login(student)

    response = client.post(f"{API}/auth/logout", json={"refresh_token": tokens["refresh_token"]},
                           headers=bearer(tokens["refresh_token"]))

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid token type"}


def test_logout_without_a_body_is_422(client, login, student):
    response = client.post(f"{API}/auth/logout", json={}, headers=bearer(login(student)["access_token"]))

    assert response.status_code == 422


def test_logout_answers_503_and_changes_nothing_while_redis_is_down(client, login, student, redis_outage):
    tokens = login(student)
    redis_outage()

    response = logout(client, tokens)

    assert response.status_code == 503
    assert response.get_json() == {"detail": "Token revocation service unavailable"}
    assert row_of(tokens["refresh_token"]).revoked_at is None


@pytest.mark.redis
@pytest.mark.real_commits
def test_a_logout_on_one_instance_is_seen_by_another_sharing_redis(app, make_app, make_user, base_settings):
    user = make_user()
    other_instance = make_app().test_client()
    with app.test_client() as this_instance:
        tokens = this_instance.post(f"{API}/auth/login",
                                    json={"email": user.email, "password": PASSWORD}).get_json()["tokens"]
        assert me(other_instance, tokens["access_token"]).status_code == 200

        assert logout(this_instance, tokens).status_code == 204

    assert me(other_instance, tokens["access_token"]).get_json() == REVOKED
    assert refresh(other_instance, tokens["refresh_token"]).get_json() == INVALID_REFRESH


@pytest.mark.redis
@pytest.mark.real_commits
def test_a_known_token_is_checked_for_revocation_in_the_rate_limiters_round_trip(app, make_app, make_user):
    """Once an instance has verified a token, each request reads its revocation entry together with
    the rate-limit counter: one Redis round trip, and a revocation is still seen at once."""
    user = make_user()
    limited_instance = make_app(RATE_LIMIT_ENABLED=True, RATE_LIMIT_REQUESTS_PER_MINUTE=1000).test_client()
    with app.test_client() as this_instance:
        tokens = this_instance.post(f"{API}/auth/login",
                                    json={"email": user.email, "password": PASSWORD}).get_json()["tokens"]
        assert me(limited_instance, tokens["access_token"]).status_code == 200  # verified from now on
        with redis_commands_sent() as sent:
            assert me(limited_instance, tokens["access_token"]).status_code == 200
        assert len(sent) == 1

        assert logout(this_instance, tokens).status_code == 204

    assert me(limited_instance, tokens["access_token"]).get_json() == REVOKED
