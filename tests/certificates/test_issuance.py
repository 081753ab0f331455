"""Certificates are issued on completion (contract §1.10, §5.25): exactly one per enrollment."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.certificates import service
from lms.certificates.models import Certificate
from lms.core.storage import LocalStorage, StorageError, get_storage
from lms.enrollments.models import Enrollment
from lms.extensions import db
from tests.certificates.conftest import certificates_of, finish_course, finish_lesson
from tests.conftest import run_concurrently
from tests.factories import lessons_of

NUMBER = re.compile(r"CERT-\d{8}-[0-9A-F]{6}")


def certificate_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate))


def test_completing_the_last_lesson_issues_one_certificate(app, student, instructor, make_course, make_enrollment,
                                                           mail_outbox):
    course = make_course(instructor, title="Intro to Statistics", lessons=2)
    enrollment = make_enrollment(student, course)
    first, last = lessons_of(course)

    assert finish_lesson(enrollment, first.id) is False
    assert certificates_of(enrollment.id) == []
    assert finish_lesson(enrollment, last.id) is True

    [certificate] = certificates_of(enrollment.id)
    db.session.refresh(enrollment)
    assert NUMBER.fullmatch(certificate.certificate_number)
    assert certificate.certificate_number[5:13] == certificate.issued_at.strftime("%Y%m%d")
    assert (certificate.student_id, certificate.course_id) == (student.id, course.id)
    assert certificate.completion_date == enrollment.completed_at.date()
    assert certificate.is_revoked is False and certificate.revoked_at is None
    assert enrollment.certificate_issued_at == certificate.issued_at
    stored = Path(app.config["CERTIFICATES_DIR"]) / f"{certificate.certificate_number}.pdf"
    assert certificate.storage_key == stored.name
    assert stored.read_bytes().startswith(b"%PDF-")
    [mail] = mail_outbox.to(student.email)
    assert mail["Subject"] == "Your LMS certificate is ready"
    text = mail.get_payload(decode=True).decode()
    assert "Intro to Statistics" in text and certificate.certificate_number in text
    assert f"http://localhost:8000/api/v1/certificates/verify/{certificate.certificate_number}" in text
    assert f"http://localhost:8000/api/v1/certificates/{certificate.id}/download" in text


def test_passing_the_final_quiz_issues_one_certificate(student, instructor, make_course, make_quiz, make_enrollment,
                                                       mail_outbox):
    course = make_course(instructor, lessons=1)
    make_quiz(course, title="Final quiz")
    enrollment = make_enrollment(student, course)
    reading, quiz_lesson = lessons_of(course)
    finish_lesson(enrollment, reading.id)

    # A passing attempt marks the quiz's lesson completed (contract §1.10).
    assert finish_lesson(enrollment, quiz_lesson.id) is True

    assert len(certificates_of(enrollment.id)) == 1
    assert len(mail_outbox.to(student.email)) == 1


def test_completion_schedules_the_issuance_job_on_the_default_queue(enrollment, monkeypatch):
    calls = []
    monkeypatch.setattr(service, "enqueue", lambda func, *args, **kwargs: calls.append((func, args, kwargs)))

    finish_course(enrollment)

    assert calls == [(service.issue_certificate, (str(enrollment.id),), {})]
    assert certificates_of(enrollment.id) == []


def test_running_the_job_twice_leaves_one_certificate_and_one_mail(student, enrollment, mail_outbox):
    finish_course(enrollment)
    [issued] = certificates_of(enrollment.id)

    service.issue_certificate(enrollment.id)
    service.issue_certificate(str(enrollment.id))

    assert certificates_of(enrollment.id) == [issued]
    assert len(mail_outbox.to(student.email)) == 1


def test_a_job_that_loses_the_race_returns_the_winner_s_certificate(app, enrollment, mail_outbox, monkeypatch):
    """The loser's view: its check saw no certificate, then its insert met the winner's row."""
    finish_course(enrollment)
    [winner] = certificates_of(enrollment.id)
    mail_outbox.clear()
    directory = Path(app.config["CERTIFICATES_DIR"])
    files_before = set(directory.glob("*.pdf"))
    real_find = service.find_certificate_for_enrollment
    checks = []

    def first_check_misses(enrollment_id):
        checks.append(enrollment_id)
        return None if len(checks) == 1 else real_find(enrollment_id)

    monkeypatch.setattr(service, "find_certificate_for_enrollment", first_check_misses)

    certificate = service.issue_for_enrollment(db.session.get(Enrollment, enrollment.id))

    assert len(checks) == 2  # the pre-check, then the look-up after the refused insert
    assert certificate.id == winner.id
    assert certificates_of(enrollment.id) == [winner]
    assert mail_outbox.messages == []
    assert set(directory.glob("*.pdf")) == files_before


def test_the_job_does_nothing_for_an_enrollment_that_is_not_completed(enrollment, mail_outbox):

    service.issue_certificate(enrollment.id)
    service.issue_certificate(uuid.uuid4())

    assert certificate_count() == 0
    assert mail_outbox.messages == []


def test_a_number_drawn_twice_is_drawn_again(student, make_user, instructor, make_course, make_enrollment, monkeypatch,
                                             app):
    first = make_enrollment(student, make_course(instructor, lessons=1))
    finish_course(first)
    [taken] = certificates_of(first.id)
    taken_pdf = (Path(app.config["CERTIFICATES_DIR"]) / taken.storage_key).read_bytes()
    numbers = iter([taken.certificate_number, "CERT-20260101-ABCDEF"])
    monkeypatch.setattr(service, "new_certificate_number", lambda: next(numbers))
    second = make_enrollment(make_user("student"), make_course(instructor, lessons=1))

    finish_course(second)

    [certificate] = certificates_of(second.id)
    assert certificate.certificate_number == "CERT-20260101-ABCDEF"
    assert (Path(app.config["CERTIFICATES_DIR"]) / taken.storage_key).read_bytes() == taken_pdf


def test_a_certificate_that_cannot_be_stored_is_not_issued(enrollment, monkeypatch, mail_outbox):
    def refuse(self, key, data, content_type):
        raise StorageError("disk full")

    monkeypatch.setattr(LocalStorage, "save", refuse)

    finish_course(enrollment)  # the inline job fails; the completion itself stands

    db.session.refresh(enrollment)
    assert enrollment.status == "completed"
    assert enrollment.certificate_issued_at is None
    assert certificate_count() == 0
    assert mail_outbox.messages == []


def test_a_failed_commit_leaves_no_certificate_file(enrollment, monkeypatch, app):
    monkeypatch.setattr(service, "enqueue", lambda *args, **kwargs: None)
    finish_course(enrollment)
    numbers = iter(["CERT-20260101-000001"])
    monkeypatch.setattr(service, "new_certificate_number", lambda: next(numbers))

    def database_down():
        raise RuntimeError("connection lost")

    monkeypatch.setattr(db.session, "commit", database_down)
    with pytest.raises(RuntimeError):
        service.issue_certificate(enrollment.id)

    assert not (Path(app.config["CERTIFICATES_DIR"]) / "CERT-20260101-000001.pdf").exists()
    monkeypatch.undo()
    assert certificate_count() == 0


# --- races between threads, with real commits -----------------------------------------------------

def in_own_session(app, work: Callable[[], object]) -> Callable[[FlaskClient], object]:
    """`work()` as a call for `run_concurrently`: in an app context, hence a database session, of its own."""

    def call(_client: FlaskClient) -> object:
        with app.app_context():
            try:
                return work()
            finally:
                db.session.remove()

    return call


@pytest.mark.postgres
@pytest.mark.real_commits
def test_racing_issuance_jobs_leave_one_certificate_and_one_mail(app, enrollment, mail_outbox, monkeypatch):
    monkeypatch.setattr(service, "enqueue", lambda *args, **kwargs: None)
    finish_course(enrollment)
    monkeypatch.undo()
    enrollment_id = enrollment.id
    db.session.remove()
    directory = Path(app.config["CERTIFICATES_DIR"])
    files_before = set(directory.glob("*.pdf"))
    issue = in_own_session(app, lambda: service.issue_certificate(enrollment_id))

    run_concurrently(app, [issue] * 4)  # re-raises any call's exception

    [certificate] = certificates_of(enrollment_id)
    assert len(mail_outbox.wait_for(1)) == 1
    assert set(directory.glob("*.pdf")) - files_before == {directory / certificate.storage_key}


@pytest.mark.postgres
@pytest.mark.real_commits
def test_two_racing_completions_leave_one_certificate_and_one_mail(app, student, instructor, make_course,
                                                                   make_enrollment, make_progress, mail_outbox):
    course = make_course(instructor, lessons=2)
    enrollment = make_enrollment(student, course)
    first, last = lessons_of(course)
    finish_lesson(enrollment, first.id)
    # Both requests update the same progress row, as two clicks on "complete" would.
    make_progress(enrollment, last, completion_percentage=Decimal("50"))
    enrollment_id, lesson_id = enrollment.id, last.id
    db.session.remove()

    def complete():
        finish_lesson(db.session.get(Enrollment, enrollment_id), lesson_id)

    run_concurrently(app, [in_own_session(app, complete)] * 2)  # re-raises any call's exception

    assert len(certificates_of(enrollment_id)) == 1
    assert len(mail_outbox.wait_for(1)) == 1
    assert db.session.get(Enrollment, enrollment_id).status == "completed"


def test_deleting_a_course_removes_its_certificates_and_their_files(client, issue, student, instructor,
                                                                    auth_headers):
    certificate = issue(student)
    certificate_id, course_id, key = certificate.id, certificate.course_id, certificate.storage_key
    storage = get_storage("certificates")
    assert storage.exists(key)

    response = client.delete(f"/api/v1/courses/{course_id}", headers=auth_headers(instructor))

    assert response.status_code == 204
    db.session.expire_all()
    assert db.session.get(Certificate, certificate_id) is None
    assert not storage.exists(key)
