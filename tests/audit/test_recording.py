"""What is recorded: each security event and administrative change has one entry, in the same
transaction as the change; secrets never appear; an entry cannot be changed."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from lms.auth.service import INVALID_CREDENTIALS
from lms.certificates.service import issue_record
from lms.core import events
from lms.core.errors import Conflict
from lms.core.extensions import db
from tests.audit.helpers import actions, entries
from tests.auth.helpers import mailed_code, mailed_token
from tests.helpers import API, PASSWORD


def attempt_login(client, email, password=PASSWORD, **extra):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password}, **extra)


def test_a_login_records_actor_target_ip_and_request_id(client, student):
    response = attempt_login(client, student.email, headers={"X-Request-ID": "req-login-1"},
                     environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200
    [entry] = entries("auth.login_succeeded")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (student.id, "user", str(student.id))
    assert (entry.client_ip, entry.request_id, entry.changes) == ("203.0.113.9", "req-login-1", {})
    assert entry.occurred_at is not None


def test_a_failed_login_is_recorded_although_the_request_fails(client, student):
    assert attempt_login(client, student.email, "Wrong-pass-1").status_code == 401
    assert attempt_login(client, "nobody@example.com", "Wrong-pass-1").status_code == 401
    known, unknown = entries("auth.login_failed")
    assert (known.actor_id, known.target_id) == (None, str(student.id))
    assert known.changes == {"reason": INVALID_CREDENTIALS}  # the account is the target: no address kept
    assert (unknown.target_id, unknown.changes["email"]) == (None, "nobody@example.com")


def test_the_lockout_is_recorded_once(client, app, student, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FAILED_LOGIN_ATTEMPTS", 2)
    for _ in range(3):
        attempt_login(client, student.email, "Wrong-pass-1")
    assert actions().count("auth.login_failed") == 2  # the third is refused before any check
    [locked] = entries("auth.login_locked_out")
    assert locked.target_id == str(student.id)


def test_logout_records_the_revoked_token_family(client, student, login):
    tokens = login(student)
    response = client.post(f"{API}/auth/logout", json={"refresh_token": tokens["refresh_token"]},
                           headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 204
    [entry] = entries("auth.token_family_revoked")
    assert (entry.actor_id, entry.target_id, entry.changes["reason"]) == (student.id, str(student.id), "logout")


def test_a_reused_refresh_token_records_the_family_revocation(client, app, student, login, monkeypatch):
    monkeypatch.setitem(app.config, "REFRESH_TOKEN_REUSE_GRACE_SECONDS", 0)
    refresh = login(student)["refresh_token"]
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": refresh}).status_code == 200
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    [entry] = entries("auth.token_family_revoked")
    assert (entry.target_id, entry.changes["reason"]) == (str(student.id), "reuse")


def test_password_reset_and_admin_password_change(client, student, admin, auth_headers, mail_outbox):
    client.post(f"{API}/auth/forgot-password", json={"email": student.email})
    token = mailed_token(mail_outbox.wait_for(1)[0])
    assert client.post(f"{API}/auth/reset-password",
                       json={"token": token, "new_password": "A-brand-new-pass1"}).status_code == 200
    assert client.patch(f"{API}/users/{student.id}", headers=auth_headers(admin),
                        json={"password": "Another-pass-22"}).status_code == 200
    reset, changed = entries("user.password_reset"), entries("user.password_changed")
    assert (reset[0].actor_id, reset[0].target_id) == (student.id, str(student.id))
    assert (changed[0].actor_id, changed[0].target_id) == (admin.id, str(student.id))


def test_mfa_on_and_off(client, student, auth_headers, mail_outbox):
    headers = auth_headers(student)
    client.post(f"{API}/auth/mfa/enable/request", json={"password": PASSWORD}, headers=headers)
    code = mailed_code(mail_outbox.wait_for(1)[0])
    assert client.post(f"{API}/auth/mfa/enable/confirm", json={"code": code}, headers=headers).status_code == 200
    assert client.post(f"{API}/auth/mfa/disable", json={"password": PASSWORD}, headers=headers).status_code == 200
    assert [e.action for e in entries() if e.action.startswith("user.mfa")] == ["user.mfa_enabled",
                                                                                 "user.mfa_disabled"]


def test_user_creation_by_sign_up_and_by_an_admin(client, admin, auth_headers):
    signed_up = client.post(f"{API}/auth/register", json={
        "email": "new@example.com", "password": PASSWORD, "full_name": "New Person"}).get_json()["user"]
    made = client.post(f"{API}/users", headers=auth_headers(admin), json={
        "email": "made@example.com", "password": PASSWORD, "full_name": "Made Person", "role": "instructor"})
    first, second = entries("user.created")
    assert (str(first.actor_id), first.changes) == (signed_up["id"], {"role": "student"})
    assert (second.actor_id, second.target_id) == (admin.id, made.get_json()["id"])


def test_role_changes_and_deactivation(client, admin, student, auth_headers):
    url, headers = f"{API}/users/{student.id}", auth_headers(admin)
    assert client.patch(url, headers=headers, json={"role": "instructor"}).status_code == 200
    assert client.patch(url, headers=headers, json={"role": "instructor"}).status_code == 200  # no change
    assert client.patch(url, headers=headers, json={"is_active": False}).status_code == 200
    assert client.patch(url, headers=headers, json={"is_active": True}).status_code == 200
    assert actions() == ["user.role_changed", "user.deactivated", "user.activated"]
    assert entries("user.role_changed")[0].changes == {"role": ["student", "instructor"]}
    assert {entry.actor_id for entry in entries()} == {admin.id}


def test_course_publish_unpublish_and_delete(client, instructor, make_course, auth_headers):
    course = make_course(instructor, published=False)
    headers, url = auth_headers(instructor), f"{API}/courses/{course.id}"
    assert client.post(f"{url}/publish", headers=headers).status_code == 200
    assert client.post(f"{url}/publish", headers=headers).status_code == 200  # already published: no entry
    assert client.patch(url, headers=headers, json={"is_published": False}).status_code == 200
    assert client.delete(url, headers=headers).status_code == 204
    assert actions() == ["course.published", "course.unpublished", "course.deleted"]
    assert {(entry.actor_id, entry.target_id) for entry in entries()} == {(instructor.id, str(course.id))}


def test_certificate_revocation(client, admin, auth_headers, student, instructor, make_course, make_enrollment):
    enrollment = make_enrollment(student, make_course(instructor), status="completed")
    certificate = issue_record(enrollment)
    db.session.commit()
    assert client.post(f"{API}/certificates/{certificate.id}/revoke", headers=auth_headers(admin)).status_code == 200
    [entry] = entries("certificate.revoked")
    assert (entry.actor_id, entry.target_id) == (admin.id, str(certificate.id))
    assert entry.changes == {"certificate_number": certificate.certificate_number}


def test_grade_changes(client, instructor, student, auth_headers, make_course, make_enrollment, make_assignment,
                       make_submission):
    course = make_course(instructor)
    submission = make_submission(make_assignment(course), make_enrollment(student, course))
    headers = auth_headers(instructor)
    assert client.post(f"{API}/assignments/submissions/{submission.id}/grade", headers=headers,
                       json={"grade": 7}).status_code == 200
    assert client.put(f"{API}/assignments/submissions/{submission.id}", headers=headers,
                      json={"grade": 9}).status_code == 200
    assert client.put(f"{API}/assignments/submissions/{submission.id}", headers=headers,
                      json={"feedback": "Fine"}).status_code == 200  # the grade did not change
    first, second = entries("submission.graded")
    assert (first.actor_id, first.target_id, first.changes["grade"]) == (instructor.id, str(submission.id), [None, 7])
    assert second.changes["grade"] == [7, 9]


def test_webhook_endpoint_changes_are_recorded_without_their_secrets(client, app, admin, auth_headers, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", True)
    headers = auth_headers(admin)
    created = client.post(f"{API}/webhooks", headers=headers,
                          json={"url": "http://127.0.0.1:9/hook", "events": ["enrollment.created"]}).get_json()
    endpoint = f"{API}/webhooks/{created['id']}"
    assert client.patch(endpoint, headers=headers, json={"is_active": False}).status_code == 200
    rotated = client.post(f"{endpoint}/rotate-secret", headers=headers)
    assert rotated.status_code == 200
    assert client.delete(endpoint, headers=headers).status_code == 204

    recorded = entries()
    assert [entry.action for entry in recorded] == ["webhook_endpoint.created", "webhook_endpoint.updated",
                                                    "webhook_endpoint.secret_rotated", "webhook_endpoint.deleted"]
    assert {(entry.actor_id, entry.target_type, entry.target_id) for entry in recorded} == {
        (admin.id, "webhook_endpoint", created["id"])}
    assert recorded[1].changes == {"url": "http://127.0.0.1:9/hook", "events": ["enrollment.created"],
                                   "is_active": False, "fields": ["is_active"]}
    written = json.dumps([entry.changes for entry in recorded])
    assert created["secret"] not in written and rotated.get_json()["secret"] not in written


def test_the_command_line_admin_has_no_actor(app):
    from lms.cli import create_admin, register

    register(app)
    result = app.test_cli_runner().invoke(create_admin, ["--email", "root@example.com", "--password", PASSWORD,
                                                         "--full-name", "Root Admin"])
    assert result.exit_code == 0, result.output
    [entry] = entries("user.created")
    assert (entry.actor_id, entry.client_ip, entry.changes["role"]) == (None, None, "admin")


def test_no_password_token_or_code_is_ever_recorded(client, student, admin, auth_headers, mail_outbox,
                                                    login):
    secrets = {PASSWORD, "Wrong-pass-1", "A-brand-new-pass1", "Another-pass-22"}
    attempt_login(client, student.email, "Wrong-pass-1")
    tokens = login(student)
    secrets |= {value for value in tokens.values() if isinstance(value, str) and len(value) > 20}
    client.post(f"{API}/auth/forgot-password", json={"email": student.email})
    reset_token = mailed_token(mail_outbox.wait_for(1)[0])
    secrets.add(reset_token)
    client.post(f"{API}/auth/reset-password", json={"token": reset_token, "new_password": "A-brand-new-pass1"})
    headers = auth_headers(student)
    client.post(f"{API}/auth/mfa/enable/request", json={"password": "A-brand-new-pass1"}, headers=headers)
    code = mailed_code(mail_outbox.wait_for(2)[1])
    secrets.add(code)
    client.post(f"{API}/auth/mfa/enable/confirm", json={"code": code}, headers=headers)
    client.patch(f"{API}/users/{student.id}", headers=auth_headers(admin), json={"password": "Another-pass-22"})
    recorded = json.dumps([[str(value) for value in (e.action, e.target_id, e.client_ip, e.request_id)] + [e.changes]
                           for e in entries()])
    assert len(entries()) == 5  # failed and good login, reset, MFA on, password changed
    assert not [secret for secret in secrets if secret and secret in recorded]
    for entry in entries():
        assert not any(word in key for key in entry.changes for word in ("password", "token", "code", "hash"))


def test_secret_keys_are_scrubbed_whatever_a_subscriber_passes(app):
    from lms.audit.service import _record

    with app.test_request_context():
        entry = _record("test.action", "user", None, {"password": "x", "new_password": "y", "reset_token": "z",
                                                       "code": "123456", "nested": {"password_hash": "h", "ok": 1},
                                                       "email": "a@example.com"})
    assert entry.changes == {"nested": {"ok": 1}, "email": "a@example.com"}


def test_a_failed_change_leaves_no_entry(client, admin, student, auth_headers):
    def refuse(_sender, **_payload):
        raise Conflict("refused after the audit entry was added")

    with events.signal(events.USER_ROLE_CHANGED).connected_to(refuse):
        response = client.patch(f"{API}/users/{student.id}", headers=auth_headers(admin), json={"role": "instructor"})
    assert response.status_code == 409
    db.session.rollback()  # what the end of a real request does with its session
    assert entries() == []
    assert db.session.get(type(student), student.id).role == "student"


@pytest.mark.postgres
def test_an_entry_cannot_be_changed(client, student):
    attempt_login(client, student.email)
    db.session.flush()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text("UPDATE audit_log SET action = 'forged'"))
