"""POST /certificates/{id}/revoke: admins only."""

from __future__ import annotations

import uuid

import pytest

from lms.core.extensions import db
from tests.certificates.helpers import API


def test_an_admin_revokes_a_certificate(client, student, admin, issue, auth_headers):
    certificate = issue(student)

    response = client.post(f"{API}/{certificate.id}/revoke", headers=auth_headers(admin))

    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["is_revoked"]) == (str(certificate.id), True)
    assert body["revoked_at"].endswith("Z")
    db.session.refresh(certificate)
    assert certificate.is_revoked is True and certificate.revoked_at is not None


def test_revoking_twice_keeps_the_first_revocation_time(client, student, admin, issue, auth_headers):
    certificate = issue(student)
    first = client.post(f"{API}/{certificate.id}/revoke", headers=auth_headers(admin)).get_json()

    second = client.post(f"{API}/{certificate.id}/revoke", headers=auth_headers(admin))

    assert second.status_code == 200
    assert second.get_json()["revoked_at"] == first["revoked_at"]


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_only_admins_revoke(client, student, instructor, issue, auth_headers, role):
    certificate = issue(student)
    caller = student if role == "student" else instructor

    response = client.post(f"{API}/{certificate.id}/revoke", headers=auth_headers(caller))

    assert response.status_code == 403
    assert response.get_json() == {"detail": "Only admins can revoke certificates"}
    db.session.refresh(certificate)
    assert certificate.is_revoked is False


def test_revoking_an_unknown_certificate_is_404(client, admin, auth_headers):
    response = client.post(f"{API}/{uuid.uuid4()}/revoke", headers=auth_headers(admin))

    assert response.status_code == 404
    assert response.get_json() == {"detail": "Certificate not found"}


def test_revoking_needs_a_login(client, student, issue):
    certificate = issue(student)

    response = client.post(f"{API}/{certificate.id}/revoke")

    assert response.status_code == 401
