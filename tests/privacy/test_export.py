"""POST /users/me/export: a job builds a ZIP of the caller's data in storage and mails an expiring
signed link; the link downloads it without a bearer token."""

from __future__ import annotations

import io
import json
import os
import re
import time
import uuid
import zipfile
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.core import tasks
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.privacy.models import DataExport
from lms.privacy.service import EXPORT_READY_SUBJECT, purge_expired_exports
from tests.auth.helpers import mail_body
from tests.helpers import API, work_off
from tests.privacy.helpers import PDF


def mailed_link(message) -> str:
    """The download link of an export mail, as a path and query on this API."""
    url = re.search(r"^(http\S+/download\?token=\S+)$", mail_body(message), re.MULTILINE).group(1)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def request_export(client, headers):
    response = client.post(f"{API}/users/me/export", headers=headers)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def test_the_export_is_mailed_and_holds_every_kind_of_data(client, learner, mail_outbox):
    body = request_export(client, learner.headers)
    assert body["status"] == "ready"  # the tests run jobs inline, once the request's change committed
    [message] = [m for m in mail_outbox.wait_for(3) if m["Subject"] == EXPORT_READY_SUBJECT]
    assert message["To"] == "zelda.quux@example.com"
    response = client.get(mailed_link(message))  # no bearer token
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = set(archive.namelist())
    assert {"profile.json", "enrollments.json", "lesson_progress.json", "quiz_attempts.json", "submissions.json",
            "certificates.json", "files.json", "security_events.json", "README.txt"} <= names

    def read(name):
        return json.loads(archive.read(name))

    profile = read("profile.json")
    assert (profile["email"], profile["full_name"]) == ("zelda.quux@example.com", "Zelda Quux")
    assert "password_hash" not in profile
    assert read("enrollments.json")[0]["review"] == "Zelda liked this course a lot"
    assert read("lesson_progress.json")[0]["notes"] == "Zelda's notes on lesson one"
    assert read("quiz_attempts.json")[0]["answers"] == [{"question_id": "q1", "answer_text": "Zelda's answer"}]
    assert read("submissions.json")[0]["content"] == "Zelda's submitted work"
    assert read("certificates.json")[0]["certificate_number"] == learner.certificate["certificate_number"]
    [upload] = read("files.json")
    assert upload["original_filename"] == "zelda-essay.pdf" and "storage_key" not in upload
    [stored] = [name for name in names if name.startswith("files/")]
    assert archive.read(stored) == PDF
    assert "user.data_export_requested" in [event["action"] for event in read("security_events.json")]


def test_the_request_is_in_the_audit_log(client, student, auth_headers):
    export_id = request_export(client, auth_headers(student))["id"]
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.data_export_requested")).all()
    assert (entry.actor_id, entry.changes) == (student.id, {"export_id": export_id})


def test_a_tampered_or_foreign_link_is_refused(client, student, other_student, auth_headers, mail_outbox):
    request_export(client, auth_headers(student))
    request_export(client, auth_headers(other_student))
    first, second = [mailed_link(m) for m in mail_outbox.wait_for(2) if m["Subject"] == EXPORT_READY_SUBJECT]
    assert client.get(first + "x").status_code == 401
    other_id = second.split("/exports/")[1].split("/")[0]
    token = first.split("token=")[1]
    assert client.get(f"{API}/users/exports/{other_id}/download?token={token}").status_code == 401
    assert client.get(f"{API}/users/exports/{other_id}/download").status_code == 422


def test_an_expired_link_is_refused(client, student, auth_headers, mail_outbox, monkeypatch):
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 73 * 3600)  # signed 73 hours ago
    request_export(client, auth_headers(student))
    link = mailed_link(mail_outbox.wait_for(1)[0])
    monkeypatch.setattr(time, "time", real_time)
    response = client.get(link)
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The download link is invalid or has expired"}


def test_asking_again_while_pending_answers_the_same_export(client, student, auth_headers, monkeypatch):
    monkeypatch.setattr("lms.privacy.service.enqueue", lambda *args, **kwargs: None)  # the job never runs
    headers = auth_headers(student)
    assert request_export(client, headers)["id"] == request_export(client, headers)["id"]


def test_expired_exports_are_deleted_with_their_zip(client, app, student, auth_headers):
    export_id = request_export(client, auth_headers(student))["id"]
    export = db.session.get(DataExport, uuid.UUID(export_id))
    zip_path = app.config["EXPORTS_DIR"] + f"/{export.storage_key}"
    assert purge_expired_exports() == 0
    export.requested_at = utcnow() - timedelta(hours=73)
    db.session.commit()
    assert purge_expired_exports() == 1
    assert db.session.get(DataExport, uuid.UUID(export_id)) is None
    assert not os.path.exists(zip_path)


def test_anonymous_callers_cannot_ask(client):
    assert client.post(f"{API}/users/me/export").status_code == 401


def test_with_s3_the_link_redirects_to_a_presigned_url(s3_app, student, auth_headers, mail_outbox):
    client = s3_app.test_client()
    request_export(client, auth_headers(student))
    response = client.get(mailed_link(mail_outbox.wait_for(1)[0]))
    assert response.status_code == 307
    assert "X-Amz-Signature=" in response.headers["Location"]


@pytest.mark.redis
@pytest.mark.real_commits
def test_the_export_job_runs_on_a_worker(make_app, make_user, auth_headers, monkeypatch, mail_outbox):
    user = make_user()
    queued = make_app(TASKS_FORCE_INLINE=False)
    monkeypatch.setattr(tasks, "_worker_app", queued)
    response = queued.test_client().post(f"{API}/users/me/export", headers=auth_headers(user))
    assert (response.status_code, response.get_json()["status"]) == (202, "pending")
    assert mail_outbox.messages == []  # queued on Redis, not built in the request
    work_off(queued, "default", "emails")
    [message] = mail_outbox.wait_for(1)
    assert message["Subject"] == EXPORT_READY_SUBJECT
    assert queued.test_client().get(mailed_link(message)).status_code == 200
