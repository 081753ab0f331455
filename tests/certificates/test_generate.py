"""POST /certificates/enrollments/{id}/generate: on demand, idempotent."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from lms.core.db import utcnow
from lms.core.extensions import db
from tests.certificates.helpers import API, certificates_of, finish_lesson
from tests.helpers import lessons_of


def generate(client, enrollment_id, headers):
    return client.post(f"{API}/enrollments/{enrollment_id}/generate", headers=headers)


@pytest.fixture
def completed(student, instructor, make_course, make_enrollment):
    """A completed enrollment without a certificate: completed before certificates were issued in
    the completing transaction (data of an earlier version)."""
    enrollment = make_enrollment(student, make_course(instructor, lessons=1), status="completed",
                                 completed_at=utcnow(), progress_percentage=Decimal("100"))
    assert certificates_of(enrollment.id) == []
    return enrollment


@pytest.mark.parametrize("who", ["student", "instructor", "admin"])
def test_the_student_the_course_owner_and_an_admin_generate_it(client, completed, student, instructor, admin,
                                                              auth_headers, mail_outbox, who):
    caller = {"student": student, "instructor": instructor, "admin": admin}[who]

    response = generate(client, completed.id, auth_headers(caller))

    assert response.status_code == 201
    body = response.get_json()
    [certificate] = certificates_of(completed.id)
    assert body["id"] == str(certificate.id)
    assert (body["student_id"], body["course_id"]) == (str(student.id), str(completed.course_id))
    assert body["pdf_url"] == f"/api/v1/certificates/{certificate.id}/download"
    db.session.refresh(completed)
    assert completed.certificate_issued_at == certificate.issued_at
    assert len(mail_outbox.to(student.email)) == 1


def test_generating_again_returns_the_same_certificate(client, completed, student, auth_headers, mail_outbox):
    first = generate(client, completed.id, auth_headers(student)).get_json()

    again = generate(client, completed.id, auth_headers(student))

    assert again.status_code == 201
    assert again.get_json() == first
    assert len(certificates_of(completed.id)) == 1
    assert len(mail_outbox.to(student.email)) == 1


def test_generating_after_automatic_issuance_returns_that_certificate(client, student, issue, auth_headers):
    certificate = issue(student)

    response = generate(client, certificate.enrollment_id, auth_headers(student))

    assert response.status_code == 201
    assert response.get_json()["id"] == str(certificate.id)


def test_an_enrollment_that_is_not_complete_is_400(client, student, instructor, make_course, make_enrollment,
                                                   auth_headers):
    course = make_course(instructor, lessons=2)
    enrollment = make_enrollment(student, course)
    finish_lesson(enrollment, lessons_of(course)[0].id)

    response = generate(client, enrollment.id, auth_headers(student))

    assert response.status_code == 400
    assert response.get_json() == {"detail": "Enrollment is not complete yet"}
    assert certificates_of(enrollment.id) == []


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_other_people_s_enrollments_are_404(client, completed, make_user, auth_headers, role):
    response = generate(client, completed.id, auth_headers(make_user(role)))

    assert response.status_code == 404
    assert response.get_json() == {"detail": "Enrollment not found"}
    assert certificates_of(completed.id) == []


def test_an_unknown_enrollment_is_404(client, admin, auth_headers):
    response = generate(client, uuid.uuid4(), auth_headers(admin))

    assert response.status_code == 404
    assert response.get_json() == {"detail": "Enrollment not found"}


def test_generating_needs_a_login(client, completed):
    response = generate(client, completed.id, {})

    assert response.status_code == 401
