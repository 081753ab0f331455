"""While a configured Redis is down, what needs no revocation keeps working (§5.22, §5.26).

The 503 side (logout, MFA, a refresh that must revoke a bearer) is tested with each endpoint.
"""

from __future__ import annotations

from tests.auth.helpers import mailed_token
from tests.helpers import API, PASSWORD


def test_registration_and_login_keep_working_while_redis_is_down(client, redis_outage, mail_outbox):
    redis_outage()

    registered = client.post(f"{API}/auth/register",
                             json={"email": "outage@example.com", "password": PASSWORD, "full_name": "Out Age"})
    logged_in = client.post(f"{API}/auth/login", json={"email": "outage@example.com", "password": PASSWORD})

    assert registered.status_code == 201
    assert logged_in.status_code == 200
    assert [m["Subject"] for m in mail_outbox.to("outage@example.com")] == ["Welcome to LMS",
                                                                          "Verify your LMS email"]


def test_lockout_falls_back_to_process_memory_while_redis_is_down(client, app, student, redis_outage,
                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FAILED_LOGIN_ATTEMPTS", 2)
    redis_outage()
    for _ in range(2):
        client.post(f"{API}/auth/login", json={"email": student.email, "password": "wrong-password"})

    response = client.post(f"{API}/auth/login", json={"email": student.email, "password": PASSWORD})

    assert response.status_code == 401
    assert "temporarily locked" in response.get_json()["detail"]


def test_password_reset_keeps_working_while_redis_is_down(client, student, redis_outage, mail_outbox):
    redis_outage()

    client.post(f"{API}/auth/forgot-password", json={"email": student.email})
    token = mailed_token(mail_outbox.to(student.email)[0])
    response = client.post(f"{API}/auth/reset-password", json={"token": token, "new_password": "After-outage-1"})

    assert response.status_code == 200
