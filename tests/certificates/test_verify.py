"""Public verification (contract §4.10): by number (always 200) and by id (404 when not valid)."""

from __future__ import annotations

import uuid

from lms.core.db import utcnow
from lms.core.extensions import db
from tests.certificates.helpers import API


def revoke(certificate) -> None:
    certificate.is_revoked, certificate.revoked_at = True, utcnow()
    db.session.commit()


def test_a_valid_number_shows_the_certificate_with_the_name_and_course(client, make_user, issue):
    student = make_user("student", full_name="Zoë Ångström")
    certificate = issue(student)

    response = client.get(f"{API}/verify/{certificate.certificate_number}")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["valid"], body["message"]) == (True, "Certificate is valid")
    assert body["certificate"] == {
        "id": str(certificate.id), "certificate_number": certificate.certificate_number,
        "student_id": str(student.id), "course_id": str(certificate.course_id),
        "completion_date": certificate.completion_date.isoformat(), "issued_at": body["certificate"]["issued_at"],
        "pdf_url": f"/api/v1/certificates/{certificate.id}/download", "is_revoked": False, "revoked_at": None,
        "updated_at": body["certificate"]["updated_at"], "student_name": "Zoë Ångström", "course_title": "Introduction to Data Science",
    }
    assert "email" not in str(body)


def test_an_unknown_number_is_200_and_not_valid(client):
    response = client.get(f"{API}/verify/CERT-20260101-000000")

    assert response.status_code == 200
    assert response.get_json() == {"valid": False, "certificate": None, "message": "Certificate not found"}


def test_a_revoked_number_is_not_valid(client, student, issue):
    certificate = issue(student)
    revoke(certificate)

    response = client.get(f"{API}/verify/{certificate.certificate_number}")

    assert response.status_code == 200
    assert response.get_json() == {"valid": False, "certificate": None, "message": "Certificate not found"}


def test_verify_by_number_ignores_a_bad_token(client, student, issue):
    certificate = issue(student)

    response = client.get(f"{API}/verify/{certificate.certificate_number}",
                          headers={"Authorization": "Bearer not-a-token"})

    assert response.get_json()["valid"] is True


def test_public_verify_by_id_returns_a_valid_certificate(client, student, issue):
    certificate = issue(student)

    response = client.get(f"{API}/public/verify/{certificate.id}")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["certificate_number"]) == (str(certificate.id), certificate.certificate_number)
    assert (body["student_name"], body["course_title"]) == ("Stu Dent", "Introduction to Data Science")


def test_public_verify_by_id_accepts_an_invalid_token_as_anonymous(client, student, issue):
    certificate = issue(student)

    response = client.get(f"{API}/public/verify/{certificate.id}", headers={"Authorization": "Bearer junk"})

    assert response.status_code == 200


def test_public_verify_of_a_revoked_or_unknown_certificate_is_404(client, student, issue):
    certificate = issue(student)
    revoke(certificate)

    revoked = client.get(f"{API}/public/verify/{certificate.id}")
    unknown = client.get(f"{API}/public/verify/{uuid.uuid4()}")

    for response in (revoked, unknown):
        assert response.status_code == 404
        assert response.get_json() == {"detail": "Certificate not found or invalid"}


def test_public_verify_with_a_malformed_id_is_422(client):
    response = client.get(f"{API}/public/verify/CERT-20260101-000000")

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["path", "certificate_id"]


def test_verification_by_number_and_by_id_agree_after_revocation_through_the_api(client, student, admin, issue,
                                                                                   auth_headers):
    certificate = issue(student)

    assert client.post(f"{API}/{certificate.id}/revoke", headers=auth_headers(admin)).status_code == 200

    assert client.get(f"{API}/verify/{certificate.certificate_number}").get_json()["valid"] is False
    assert client.get(f"{API}/public/verify/{certificate.id}").status_code == 404
