"""GET /audit-log: admins only, filters, newest first, cursor paging; the retention job."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.audit.service import purge_expired_entries
from lms.core import tasks
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.core.redis import redis_bytes_client
from tests.helpers import API, work_off

URL = f"{API}/audit-log"


@pytest.fixture
def logged(admin, student, instructor):
    """Six entries a minute apart, the newest last: three by the admin on the student, a failed login,
    two by the instructor on a course."""
    now = utcnow()
    course_id = uuid.uuid4()
    rows = [
        (admin.id, "user.role_changed", "user", student.id), (None, "auth.login_failed", "user", student.id),
        (admin.id, "user.deactivated", "user", student.id), (instructor.id, "course.published", "course", course_id),
        (admin.id, "user.activated", "user", student.id), (instructor.id, "course.deleted", "course", course_id),
    ]
    for minutes_ago, (actor, action, target_type, target_id) in zip(range(len(rows), 0, -1), rows):
        db.session.add(AuditEntry(actor_id=actor, action=action, target_type=target_type, target_id=str(target_id),
                                  occurred_at=now - timedelta(minutes=minutes_ago), changes={}))
    db.session.commit()
    return now, course_id


def listed(client, headers, **query):
    response = client.get(URL, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_newest_first_with_every_field(client, admin, auth_headers, logged):
    body = listed(client, auth_headers(admin))
    assert [item["action"] for item in body["items"]][:3] == ["course.deleted", "user.activated", "course.published"]
    assert body["next_cursor"] is None
    assert set(body["items"][0]) == {"id", "occurred_at", "actor_id", "action", "target_type", "target_id",
                                     "client_ip", "request_id", "changes"}


def test_filters(client, admin, instructor, student, auth_headers, logged):
    now, course_id = logged
    headers = auth_headers(admin)

    def actions(**query):
        return [item["action"] for item in listed(client, headers, **query)["items"]]

    assert actions(actor_id=str(instructor.id)) == ["course.deleted", "course.published"]
    assert actions(target_type="course", target_id=str(course_id)) == ["course.deleted", "course.published"]
    assert actions(target_type="user", target_id=str(student.id))[-1] == "user.role_changed"
    assert actions(action="auth.login_failed") == ["auth.login_failed"]
    window = {"since": (now - timedelta(minutes=4)).isoformat(), "until": (now - timedelta(minutes=2)).isoformat()}
    assert actions(**window) == ["course.published", "user.deactivated"]


def test_the_cursor_walks_every_entry_once(client, admin, auth_headers, logged):
    headers, seen, cursor = auth_headers(admin), [], None
    while True:
        body = listed(client, headers, limit=4, **({"after": cursor} if cursor else {}))
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    everything = [item["id"] for item in listed(client, headers, limit=200)["items"]]
    assert seen == everything and len(set(seen)) == len(seen) >= 6


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 201}, {"actor_id": "x"}, {"since": "yesterday"}])
def test_bad_queries_are_422(client, admin, auth_headers, query):
    assert client.get(URL, headers=auth_headers(admin), query_string=query).status_code == 422


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJhdCI6IjIwMjYtMDEtMDFUMDA6MDA6MDAiLCJpZCI6IngifQ"])
def test_a_cursor_this_api_did_not_write_is_a_400_as_on_every_list(client, admin, auth_headers, cursor):
    response = client.get(URL, headers=auth_headers(admin), query_string={"after": cursor})
    assert response.status_code == 400


@pytest.mark.parametrize("caller", ["student", "instructor"])
def test_only_admins_read_it(client, request, auth_headers, caller):
    assert client.get(URL, headers=auth_headers(request.getfixturevalue(caller))).status_code == 403
    assert client.get(URL).status_code == 401
    assert client.get(URL, query_string={"after": "bad"}).status_code == 401  # authentication first


def test_a_demoted_admin_loses_it(client, make_user, auth_headers):
    former = make_user("admin")
    headers = auth_headers(former)
    assert client.get(URL, headers=headers).status_code == 200
    former.role = "instructor"
    db.session.commit()
    assert client.get(URL, headers=headers).status_code == 403


@pytest.mark.parametrize("size", [3, 40])
def test_statement_count_does_not_grow(client, admin, auth_headers, assert_max_queries, size):
    for _ in range(size):
        db.session.add(AuditEntry(action="user.created", target_type="user", changes={}))
    db.session.commit()
    headers = auth_headers(admin)
    with assert_max_queries(2):  # the caller, the page
        assert len(client.get(URL, headers=headers, query_string={"limit": 100}).get_json()["items"]) == size


def test_retention_deletes_only_expired_entries(app, monkeypatch):
    db.session.add_all([AuditEntry(action="old", occurred_at=utcnow() - timedelta(days=11), changes={}),
                        AuditEntry(action="recent", occurred_at=utcnow() - timedelta(days=9), changes={})])
    db.session.commit()
    monkeypatch.setitem(app.config, "AUDIT_LOG_RETENTION_DAYS", 0)
    assert purge_expired_entries() == 0
    monkeypatch.setitem(app.config, "AUDIT_LOG_RETENTION_DAYS", 10)
    assert purge_expired_entries() == 1
    assert db.session.scalars(select(AuditEntry.action)).all() == ["recent"]


@pytest.mark.redis
@pytest.mark.real_commits
def test_the_cron_schedule_runs_the_retention_job_on_a_worker(make_app, monkeypatch):
    import importlib
    import sys

    from rq import cron

    db.session.add_all([AuditEntry(action="old", occurred_at=utcnow() - timedelta(days=400), changes={}),
                        AuditEntry(action="recent", changes={})])
    db.session.commit()
    queued = make_app(TASKS_FORCE_INLINE=False, AUDIT_LOG_RETENTION_DAYS=365)
    monkeypatch.setattr(tasks, "_worker_app", queued)
    cron._job_data_registry.clear()
    sys.modules.pop("lms.cron", None)
    importlib.import_module("lms.cron")  # registers its jobs with RQ's cron registry, as `rq cron lms.cron` does
    connection = redis_bytes_client(queued)
    jobs = {job.name: job for job in cron.create_cron(connection).get_jobs()}
    job = jobs["purge-expired-audit-entries"]
    assert (job.interval, job.queue_name) == (3600, "default")
    job.enqueue(connection)
    work_off(queued, "default")
    db.session.expire_all()
    assert db.session.scalars(select(AuditEntry.action)).all() == ["recent"]
