"""GET /certificates/my-certificates: the caller's certificates that are not revoked, newest first."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from lms.certificates.models import Certificate
from lms.core.db import utcnow
from lms.core.extensions import db
from tests.certificates.helpers import API

MINE = f"{API}/my-certificates"


@pytest.fixture
def add_certificates(instructor, make_course, make_enrollment):
    """`add_certificates(student, count)`: rows for completed enrollments (no PDF needed to list them), a
    minute apart, the last newest."""

    def add(student, count: int) -> list[Certificate]:
        start = utcnow() - timedelta(days=1)
        rows = []
        for index in range(count):
            enrollment = make_enrollment(student, make_course(instructor, lessons=1), status="completed")
            rows.append(Certificate(certificate_number=f"CERT-20260101-{index:06X}", enrollment_id=enrollment.id,
                                    student_id=student.id, course_id=enrollment.course_id,
                                    completion_date=date(2026, 1, 1), issued_at=start + timedelta(minutes=index),
                                    storage_key=f"CERT-20260101-{index:06X}.pdf"))
        db.session.add_all(rows)
        db.session.commit()
        return rows

    return add


def test_my_certificates_lists_the_caller_s_newest_first(client, student, instructor, issue, auth_headers):
    older, newer = issue(student), issue(student)
    newer.issued_at = older.issued_at + timedelta(minutes=5)
    db.session.commit()

    response = client.get(MINE, headers=auth_headers(student))

    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2
    assert [item["id"] for item in body["certificates"]] == [str(newer.id), str(older.id)]
    assert body["certificates"][0] == {
        "id": str(newer.id), "certificate_number": newer.certificate_number, "student_id": str(student.id),
        "course_id": str(newer.course_id), "completion_date": newer.completion_date.isoformat(),
        "issued_at": body["certificates"][0]["issued_at"], "pdf_url": f"/api/v1/certificates/{newer.id}/download",
        "is_revoked": False, "revoked_at": None, "updated_at": body["certificates"][0]["updated_at"],
    }
    assert body["certificates"][0]["issued_at"].endswith("Z")


def test_revoked_and_other_people_s_certificates_are_not_listed(client, student, make_user, issue, auth_headers):
    kept, revoked = issue(student), issue(student)
    issue(make_user("student"))
    revoked.is_revoked, revoked.revoked_at = True, utcnow()
    db.session.commit()

    response = client.get(MINE, headers=auth_headers(student))

    assert response.get_json()["total"] == 1
    assert [item["id"] for item in response.get_json()["certificates"]] == [str(kept.id)]


def test_my_certificates_is_empty_without_any(client, instructor, auth_headers):
    response = client.get(MINE, headers=auth_headers(instructor))

    assert response.get_json() == {"certificates": [], "total": 0}


def test_my_certificates_needs_a_login(client):
    response = client.get(MINE)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize("count", [3, 30])
def test_my_certificates_runs_a_fixed_number_of_statements(client, student, add_certificates, auth_headers,
                                                           assert_max_queries, count):
    add_certificates(student, count)
    headers = auth_headers(student)

    with assert_max_queries(2):
        response = client.get(MINE, headers=headers)

    assert response.get_json()["total"] == count
    assert uuid.UUID(response.get_json()["certificates"][0]["id"])
