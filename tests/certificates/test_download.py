"""GET /certificates/{id}/download: the owner (even when revoked) or an admin; 404 for others."""

from __future__ import annotations

import urllib.request
import uuid
from pathlib import Path

import pytest

from lms.core.db import utcnow
from lms.core.storage import get_storage
from lms.enrollments.models import Enrollment
from lms.core.extensions import db
from tests.certificates.helpers import API, certificates_of, finish_course


def download(client, certificate_id, headers):
    return client.get(f"{API}/{certificate_id}/download", headers=headers)


def test_the_owner_downloads_the_pdf_as_an_attachment(client, student, issue, auth_headers):
    certificate = issue(student)

    response = download(client, certificate.id, auth_headers(student))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{certificate.certificate_number}.pdf"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data().startswith(b"%PDF-")


def test_an_admin_downloads_any_certificate(client, student, admin, issue, auth_headers):
    certificate = issue(student)

    response = download(client, certificate.id, auth_headers(admin))

    assert response.status_code == 200
    assert response.get_data().startswith(b"%PDF-")


def test_the_owner_still_downloads_a_revoked_certificate(client, student, issue, auth_headers):
    certificate = issue(student)
    certificate.is_revoked, certificate.revoked_at = True, utcnow()
    db.session.commit()

    response = download(client, certificate.id, auth_headers(student))

    assert response.status_code == 200


@pytest.mark.parametrize("who", ["other_student", "course_instructor", "other_instructor"])
def test_anyone_else_gets_404(client, student, instructor, make_user, issue, auth_headers, who):
    certificate = issue(student)
    caller = {"other_student": make_user("student"), "course_instructor": instructor,
              "other_instructor": make_user("instructor")}[who]

    response = download(client, certificate.id, auth_headers(caller))

    assert response.status_code == 404
    assert response.get_json() == {"detail": "Certificate not found"}


def test_an_unknown_certificate_is_404_and_anonymous_is_401(client, student, issue, auth_headers):
    certificate = issue(student)

    unknown = download(client, uuid.uuid4(), auth_headers(student))
    anonymous = download(client, certificate.id, {})

    assert (unknown.status_code, unknown.get_json()) == (404, {"detail": "Certificate not found"})
    assert (anonymous.status_code, anonymous.get_json()) == (401, {"detail": "Not authenticated"})


def test_a_missing_pdf_is_rendered_again(app, client, student, issue, auth_headers):
    certificate = issue(student)
    stored = Path(app.config["CERTIFICATES_DIR"]) / certificate.storage_key
    stored.unlink()

    response = download(client, certificate.id, auth_headers(student))

    assert response.status_code == 200
    assert response.get_data().startswith(b"%PDF-")
    assert stored.read_bytes() == response.get_data()


def test_a_certificate_without_a_stored_file_gets_one(app, client, student, issue, auth_headers):
    certificate = issue(student)
    (Path(app.config["CERTIFICATES_DIR"]) / certificate.storage_key).unlink()
    certificate.storage_key = None
    db.session.commit()

    response = download(client, certificate.id, auth_headers(student))

    assert response.status_code == 200
    db.session.refresh(certificate)
    assert certificate.storage_key == f"{certificate.certificate_number}.pdf"


def test_on_s3_the_download_redirects_to_a_presigned_url_serving_the_pdf(s3_app, student, enrollment,
                                                                           auth_headers, mail_outbox):
    with s3_app.app_context():  # issued by the S3 app (its own session): the PDF goes to the bucket
        finish_course(db.session.get(Enrollment, enrollment.id))
        storage = get_storage("certificates")
    [certificate] = certificates_of(enrollment.id)
    assert storage.exists(certificate.storage_key)

    response = download(s3_app.test_client(), certificate.id, auth_headers(student))

    assert response.status_code == 307
    with urllib.request.urlopen(response.headers["Location"], timeout=10) as answer:
        assert answer.read().startswith(b"%PDF-")
        assert answer.headers["Content-Type"] == "application/pdf"
        assert answer.headers["Content-Disposition"] == (
            f'attachment; filename="{certificate.certificate_number}.pdf"')
    assert len(mail_outbox.to(student.email)) == 1


def test_on_s3_a_missing_pdf_is_rendered_again_before_the_redirect(s3_app, student, enrollment, auth_headers):
    with s3_app.app_context():
        finish_course(db.session.get(Enrollment, enrollment.id))
        storage = get_storage("certificates")
    [certificate] = certificates_of(enrollment.id)
    storage.delete(certificate.storage_key)

    response = download(s3_app.test_client(), certificate.id, auth_headers(student))

    assert response.status_code == 307
    assert storage.exists(certificate.storage_key)
