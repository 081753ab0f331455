"""GET /changes: the ids created, updated and deleted since a time, per type; the tombstones of
direct and cascaded deletions; paging with a cursor under a fixed watermark; admins only."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from lms.assignments.models import Assignment
from lms.certificates.models import Certificate
from lms.core import events
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.core.tombstones import Tombstone
from lms.courses.models import Course
from lms.quizzes.models import QuizAttempt
from lms.sync import service
from lms.sync.types import TYPES
from tests.helpers import API


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def changes(client, headers, since, query: str = "") -> dict:
    response = client.get(f"{API}/changes?since={iso(since)}{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(*rows) -> list[str]:
    return sorted(str(row.id) for row in rows)


@pytest.fixture
def course_tree(instructor, student, make_course, make_lesson, make_enrollment, make_progress, make_quiz,
                make_question, make_assignment, make_submission):
    """A course with one of everything a course deletion takes with it."""
    course = make_course(instructor)
    lesson = make_lesson(course)
    enrollment = make_enrollment(student, course)
    progress = make_progress(enrollment, lesson)
    quiz = make_quiz(course)
    question = make_question(quiz)
    attempt = QuizAttempt(quiz_id=quiz.id, enrollment_id=enrollment.id, attempt_number=1, status="in_progress")
    certificate = Certificate(certificate_number=f"CERT-{uuid.uuid4().hex[:12]}", enrollment_id=enrollment.id,
                              student_id=student.id, course_id=course.id, completion_date=date.today())
    db.session.add_all([attempt, certificate])
    db.session.commit()
    assignment = make_assignment(course)
    submission = make_submission(assignment, enrollment)
    quiz_lesson = db.session.get(type(lesson), quiz.lesson_id)
    return {"courses": [course], "lessons": [lesson, quiz_lesson], "enrollments": [enrollment],
            "lesson_progress": [progress], "quizzes": [quiz], "questions": [question], "quiz_attempts": [attempt],
            "certificates": [certificate], "assignments": [assignment], "submissions": [submission]}


# --- who may read -----------------------------------------------------------------------------------

def test_anonymous_callers_are_401(client):
    response = client.get(f"{API}/changes?since=2026-01-01T00:00:00Z")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_students_and_instructors_are_403(client, auth_headers, student, instructor):
    for user in (student, instructor):
        response = client.get(f"{API}/changes?since=2026-01-01T00:00:00Z", headers=auth_headers(user))
        assert response.status_code == 403
        assert response.get_json() == {"detail": "Only admins can read the change feed"}


def test_a_demoted_admin_is_403_with_the_token_issued_as_admin(client, auth_headers, make_user):
    former = make_user("admin")
    headers = auth_headers(former)
    assert client.get(f"{API}/changes?since=2026-01-01T00:00:00Z", headers=headers).status_code == 200
    former.role = "instructor"
    db.session.commit()

    assert client.get(f"{API}/changes?since=2026-01-01T00:00:00Z", headers=headers).status_code == 403


@pytest.mark.parametrize("query", [
    "since=2026-01-01T00:00:00",  # no offset
    "since=2026-01-01",
    "since=soon",
    "since=2026-01-01T00:00:00Z&types=courses,spaceships",
    "since=2026-01-01T00:00:00Z&after=bm90LWEtY3Vyc29y",
    "since=2026-01-01T00:00:00Z&after=eyJ1bnRpbCI6IjIwMjYtMTItMDZUMDI6MDA6MDAiLCJhdCI6IjIwMjYtMTItMDZUMDE6MDA6MDAiLCJ0eXBlIjoiY291cnNlcyIsImlkIjoiM2ZhODVmNjQ1NzE3NDU2MmIzZmMyYzk2M2Y2NmFmYTYifQ",  # a crafted cursor with naive times
])
def test_malformed_input_is_a_400(client, auth_headers, admin, query):
    response = client.get(f"{API}/changes?{query}", headers=auth_headers(admin))
    assert response.status_code == 400
    assert isinstance(response.get_json()["detail"], str)


def test_a_missing_since_is_a_422(client, auth_headers, admin):
    response = client.get(f"{API}/changes", headers=auth_headers(admin))
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["query", "since"]


# --- created, updated, deleted ------------------------------------------------------------------

def test_created_updated_and_deleted_are_told_apart(client, auth_headers, admin, instructor, make_course):
    old, doomed = make_course(instructor), make_course(instructor)
    db.session.execute(update(Course).where(Course.id.in_([old.id, doomed.id]))
                       .values(created_at=utcnow() - timedelta(days=3), updated_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    since = utcnow()
    new = make_course(instructor, created_at=utcnow())
    response = client.patch(f"{API}/courses/{old.id}", headers=auth_headers(instructor), json={"title": "Renamed"})
    assert response.status_code == 200
    assert client.delete(f"{API}/courses/{doomed.id}", headers=auth_headers(instructor)).status_code == 204

    body = changes(client, auth_headers(admin), since, "&types=courses")

    assert body["changes"] == {"courses": {"created": [str(new.id)], "updated": [str(old.id)],
                                           "deleted": [str(doomed.id)]}}
    assert body["since"] == iso(since) and body["until"] > body["since"]
    assert body["next_cursor"] is None


def test_every_type_is_answered_by_default_and_types_narrows_it(client, auth_headers, admin):
    since = utcnow()
    assert set(changes(client, auth_headers(admin), since)["changes"]) == set(TYPES)
    narrowed = changes(client, auth_headers(admin), since, "&types=users&types=lessons,quizzes,users")
    assert set(narrowed["changes"]) == {"users", "lessons", "quizzes"}


def test_a_type_named_twice_is_reported_once(client, auth_headers, admin, make_user):
    since = utcnow()
    user = make_user()
    body = changes(client, auth_headers(admin), since, "&types=users,users")
    assert body["changes"]["users"]["created"] == [str(user.id)]


def test_the_next_since_is_the_until_and_misses_nothing(client, auth_headers, admin, instructor, make_course):
    first = changes(client, auth_headers(admin), utcnow() - timedelta(minutes=1), "&types=courses")
    course = make_course(instructor, created_at=utcnow())
    second = client.get(f"{API}/changes?since={first['until']}&types=courses", headers=auth_headers(admin)).get_json()
    assert str(course.id) in second["changes"]["courses"]["created"]


def test_changes_before_until_only_with_a_settling_lag(client, auth_headers, admin, instructor, make_course, app,
                                                       monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_SETTLE_SECONDS", 60)
    since = utcnow() - timedelta(minutes=5)
    make_course(instructor)  # changed now: after the watermark (now - 60 s), so reported next time
    body = changes(client, auth_headers(admin), since, "&types=courses")
    assert body["changes"]["courses"]["created"] == []
    assert body["until"] < iso(utcnow() - timedelta(seconds=59))


# --- tombstones ---------------------------------------------------------------------------------

def test_deleting_a_course_records_everything_the_database_cascades(client, auth_headers, admin, instructor,
                                                                     course_tree):
    since = utcnow()
    course = course_tree["courses"][0]
    assert client.delete(f"{API}/courses/{course.id}", headers=auth_headers(instructor)).status_code == 204

    body = changes(client, auth_headers(admin), since)

    for name, rows in course_tree.items():
        assert sorted(body["changes"][name]["deleted"]) == ids(*rows), name
    courses_of = dict(db.session.execute(select(Tombstone.object_id, Tombstone.course_id)).all())
    assert set(courses_of.values()) == {course.id}  # each tombstone names the course it belonged to


def test_deleting_a_lesson_records_its_progress_and_its_quiz_with_questions_and_attempts(
        client, auth_headers, admin, instructor, course_tree):
    since = utcnow()
    quiz = course_tree["quizzes"][0]
    progress = course_tree["lesson_progress"][0]
    for lesson_id in (progress.lesson_id, quiz.lesson_id):
        assert client.delete(f"{API}/lessons/{lesson_id}", headers=auth_headers(instructor)).status_code == 204

    body = changes(client, auth_headers(admin), since)["changes"]

    assert sorted(body["lessons"]["deleted"]) == ids(*course_tree["lessons"])
    for name in ("lesson_progress", "quizzes", "questions", "quiz_attempts"):
        assert sorted(body[name]["deleted"]) == ids(*course_tree[name]), name
    assert body["courses"]["deleted"] == [] and body["enrollments"]["deleted"] == []


def test_deleting_an_assignment_records_its_submissions(client, auth_headers, admin, instructor, course_tree):
    since = utcnow()
    assignment = course_tree["assignments"][0]
    assert client.delete(f"{API}/assignments/{assignment.id}", headers=auth_headers(instructor)).status_code == 204

    body = changes(client, auth_headers(admin), since)["changes"]

    assert body["assignments"]["deleted"] == ids(assignment)
    assert sorted(body["submissions"]["deleted"]) == ids(*course_tree["submissions"])


def test_a_refused_deletion_leaves_no_tombstone(client, auth_headers, other_instructor, course_tree):
    course = course_tree["courses"][0]
    assert client.delete(f"{API}/courses/{course.id}", headers=auth_headers(other_instructor)).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Tombstone)) == 0


def test_a_deletion_that_fails_leaves_no_tombstone(client, auth_headers, instructor, course_tree):
    course = course_tree["courses"][0]

    def fail(_sender, **_payload):
        raise RuntimeError("a subscriber failed after the tombstones were written")

    with events.signal(events.COURSE_DELETED).connected_to(fail):
        response = client.delete(f"{API}/courses/{course.id}", headers=auth_headers(instructor))

    assert response.status_code == 500
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Tombstone)) == 0
    assert db.session.get(Course, course.id) is not None


def test_tombstones_past_the_retention_are_pruned(app, monkeypatch):
    monkeypatch.setitem(app.config, "TOMBSTONE_RETENTION_DAYS", 30)
    old, recent = uuid.uuid4(), uuid.uuid4()
    db.session.add_all([Tombstone(object_type="courses", object_id=old, deleted_at=utcnow() - timedelta(days=31)),
                        Tombstone(object_type="courses", object_id=recent, deleted_at=utcnow() - timedelta(days=29))])
    db.session.commit()

    assert service.prune() == 1
    assert list(db.session.scalars(select(Tombstone.object_id))) == [recent]


# --- paging, statements ---------------------------------------------------------------------------

def test_a_cursor_walk_reads_every_change_once_under_one_watermark(client, auth_headers, admin, instructor,
                                                                   make_course):
    since = utcnow()
    made = [make_course(instructor, created_at=utcnow()) for _ in range(5)]
    seen, cursor, untils = [], None, set()
    while True:
        body = changes(client, auth_headers(admin), since, "&types=courses&limit=2" + (f"&after={cursor}" if cursor else ""))
        seen += body["changes"]["courses"]["created"]
        untils.add(body["until"])
        if len(untils) == 1 and len(seen) == 2:
            make_course(instructor, created_at=utcnow())  # after the watermark: for the next sync, not this walk
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == ids(*made)
    assert len(untils) == 1


def test_the_statement_count_does_not_grow_with_the_changes(client, auth_headers, admin, instructor, make_course,
                                                            count_queries):
    headers = auth_headers(admin)
    since = utcnow()
    counts = []
    for _ in range(2):
        with count_queries() as counter:
            changes(client, headers, since)
        counts.append(counter.count)
        for _ in range(5):
            make_course(instructor)
    assert counts[0] == counts[1]


# --- updated_at kept by every write -----------------------------------------------------------------

def test_grading_an_attempt_moves_its_updated_at(client, auth_headers, student, instructor, make_course, make_quiz,
                                                 make_question, make_enrollment):
    course = make_course(instructor)
    make_enrollment(student, course)
    quiz = make_quiz(course)
    question = make_question(quiz)
    started = client.post(f"{API}/quizzes/{quiz.id}/attempts", headers=auth_headers(student))
    assert started.status_code == 201, started.get_json()
    attempt = db.session.get(QuizAttempt, uuid.UUID(started.get_json()["id"]))
    db.session.execute(update(QuizAttempt).where(QuizAttempt.id == attempt.id)
                       .values(updated_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    before = utcnow()

    submitted = client.post(f"{API}/quizzes/{quiz.id}/attempts/{attempt.id}/submit", headers=auth_headers(student),
                            json={"answers": [{"question_id": str(question.id), "selected_option_id": "a"}]})

    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["updated_at"] >= iso(before)[:19]
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt.id).updated_at >= before


def test_assignment_rows_keep_updated_at_on_update(client, auth_headers, instructor, make_course, make_assignment):
    assignment = make_assignment(make_course(instructor))
    db.session.execute(update(Assignment).where(Assignment.id == assignment.id)
                       .values(updated_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    before = utcnow()
    response = client.put(f"{API}/assignments/{assignment.id}", headers=auth_headers(instructor),
                          json={"title": "Renamed"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["updated_at"] >= iso(before)[:19]


@pytest.mark.redis
def test_the_cron_process_prunes_tombstones_daily(make_app):
    import importlib
    import sys

    from rq import cron

    from lms.core.redis import redis_bytes_client

    cron._job_data_registry.clear()
    sys.modules.pop("lms.cron", None)
    importlib.import_module("lms.cron")  # registers its jobs with RQ's cron registry, as `rq cron lms.cron` does
    jobs = {job.name: job for job in cron.create_cron(redis_bytes_client(make_app())).get_jobs()}
    job = jobs["prune-expired-tombstones"]
    assert (job.interval, job.queue_name, job.args[0]) == (24 * 3600, "default", "lms.sync.service:prune")


def test_deleting_a_webhook_endpoint_records_it(client, auth_headers, admin, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", True)
    created = client.post(f"{API}/webhooks", headers=auth_headers(admin),
                          json={"url": "https://sis.example.edu/hooks", "events": ["user.created"]}).get_json()
    since = utcnow()
    assert client.delete(f"{API}/webhooks/{created['id']}", headers=auth_headers(admin)).status_code == 204

    body = changes(client, auth_headers(admin), since, "&types=webhook_endpoints")

    assert body["changes"]["webhook_endpoints"] == {"created": [], "updated": [], "deleted": [created["id"]]}


def test_deleting_a_parent_lesson_stamps_its_children_as_updated(client, auth_headers, admin, instructor,
                                                                 make_course, make_lesson):
    course = make_course(instructor)
    parent = make_lesson(course, created_at=utcnow() - timedelta(days=2))
    child = make_lesson(course, parent_lesson_id=parent.id, created_at=utcnow() - timedelta(days=2))
    since = utcnow()
    assert client.delete(f"{API}/lessons/{parent.id}", headers=auth_headers(instructor)).status_code == 204

    body = changes(client, auth_headers(admin), since, "&types=lessons")["changes"]["lessons"]

    assert body == {"created": [], "updated": [str(child.id)], "deleted": [str(parent.id)]}
    response = client.get(f"{API}/lessons/{child.id}", headers=auth_headers(instructor))
    assert response.get_json()["parent_lesson_id"] is None
