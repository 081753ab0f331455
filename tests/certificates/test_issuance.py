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
from lms.core.db import commit
from lms.core.storage import LocalStorage, StorageError, get_storage
from lms.courses.models import Course
from lms.enrollments.models import Enrollment
from lms.enrollments.service import complete_lesson, lock_enrollment
from lms.core.extensions import db
from tests.certificates.helpers import API, certificates_of, finish_course, finish_lesson
from tests.helpers import lessons_of, run_concurrently

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


def test_the_record_is_written_by_the_completing_transaction_and_the_pdf_by_a_job(enrollment, monkeypatch):
    """Right after the completing commit the certificate exists (§5.35); only its PDF waits for the job."""
    jobs = []
    monkeypatch.setattr(service, "enqueue", lambda func, *args, **kwargs: jobs.append((func, args, kwargs)))

    finish_course(enrollment)

    [certificate] = certificates_of(enrollment.id)
    assert certificate.storage_key is None
    db.session.refresh(enrollment)
    assert enrollment.certificate_issued_at == certificate.issued_at
    assert jobs == [(service.render_certificate_pdf, (str(certificate.id),), {})]


def test_a_completion_that_rolls_back_leaves_no_certificate_and_no_job(enrollment, monkeypatch, mail_outbox):
    jobs = []
    monkeypatch.setattr(service, "enqueue", lambda func, *args, **kwargs: jobs.append(func))
    for lesson in lessons_of(db.session.get(Course, enrollment.course_id)):
        complete_lesson(lock_enrollment(enrollment.id), lesson.id)

    db.session.rollback()

    assert certificate_count() == 0
    assert jobs == [] and mail_outbox.messages == []


def test_rendering_twice_keeps_one_file_and_sends_no_second_mail(app, student, enrollment, mail_outbox):
    finish_course(enrollment)
    [certificate] = certificates_of(enrollment.id)
    stored = Path(app.config["CERTIFICATES_DIR"]) / certificate.storage_key
    first_render = stored.read_bytes()

    service.render_certificate_pdf(certificate.id)
    service.render_certificate_pdf(str(certificate.id))

    assert stored.read_bytes() == first_render
    assert len(mail_outbox.to(student.email)) == 1


def test_rendering_an_unknown_certificate_does_nothing(mail_outbox):
    service.render_certificate_pdf(uuid.uuid4())

    assert mail_outbox.messages == []


def test_issuing_again_returns_the_existing_certificate(enrollment, mail_outbox):
    finish_course(enrollment)
    [issued] = certificates_of(enrollment.id)

    again = service.issue_record(db.session.get(Enrollment, enrollment.id))

    assert again.id == issued.id
    assert certificates_of(enrollment.id) == [issued]


def test_an_issuance_that_loses_the_race_returns_the_winner_s_certificate(enrollment, mail_outbox, monkeypatch):
    """The loser's view: its check saw no certificate, then its insert met the winner's row."""
    finish_course(enrollment)
    [winner] = certificates_of(enrollment.id)
    mail_outbox.clear()
    real_find = service.find_certificate_for_enrollment
    checks = []

    def first_check_misses(enrollment_id):
        checks.append(enrollment_id)
        return None if len(checks) == 1 else real_find(enrollment_id)

    monkeypatch.setattr(service, "find_certificate_for_enrollment", first_check_misses)

    certificate = service.issue_record(db.session.get(Enrollment, enrollment.id))
    commit()

    assert len(checks) == 2  # the pre-check, then the look-up after the refused insert
    assert certificate.id == winner.id
    assert certificates_of(enrollment.id) == [winner]
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


def test_a_pdf_that_cannot_be_stored_leaves_the_certificate_issued(enrollment, monkeypatch, client, student,
                                                                    auth_headers):
    """Storage down when the job runs: the certificate stands, and its PDF is made on the first download."""
    with monkeypatch.context() as patched:
        patched.setattr(LocalStorage, "save", lambda self, key, data, content_type: (_ for _ in ()).throw(
            StorageError("disk full")))
        finish_course(enrollment)  # the inline job fails; the completion and the record stand

    [certificate] = certificates_of(enrollment.id)
    assert certificate.storage_key is None
    db.session.refresh(enrollment)
    assert (enrollment.status, enrollment.certificate_issued_at) == ("completed", certificate.issued_at)
    download = client.get(f"{API}/{certificate.id}/download", headers=auth_headers(student))
    assert download.status_code == 200
    assert download.data.startswith(b"%PDF-")


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
def test_racing_renderings_store_one_file(app, enrollment, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(service, "enqueue", lambda *args, **kwargs: None)
        finish_course(enrollment)
    [certificate] = certificates_of(enrollment.id)
    certificate_id = certificate.id
    db.session.remove()
    directory = Path(app.config["CERTIFICATES_DIR"])
    files_before = set(directory.glob("*.pdf"))
    render = in_own_session(app, lambda: service.render_certificate_pdf(certificate_id))

    run_concurrently(app, [render] * 4)  # re-raises any call's exception

    [stored] = certificates_of(enrollment.id)
    assert set(directory.glob("*.pdf")) - files_before == {directory / stored.storage_key}


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


def test_the_completing_request_answers_with_the_certificate_in_place(client, student, enrollment, monkeypatch,
                                                                     auth_headers):
    """Even when the PDF job is lost, the completion's reader finds the certificate at once (§5.35)."""
    monkeypatch.setattr(service, "enqueue", lambda *args, **kwargs: None)
    headers = auth_headers(student)
    [lesson] = lessons_of(db.session.get(Course, enrollment.course_id))

    completing = client.post(f"/api/v1/enrollments/{enrollment.id}/lessons/{lesson.id}/complete", headers=headers)

    assert completing.status_code == 200
    issued_at = client.get(f"/api/v1/enrollments/{enrollment.id}", headers=headers).get_json()["certificate_issued_at"]
    [listed] = client.get(f"{API}/my-certificates", headers=headers).get_json()["certificates"]
    assert issued_at is not None and listed["issued_at"] == issued_at
    verified = client.get(f"{API}/verify/{listed['certificate_number']}").get_json()
    assert verified["valid"] is True
