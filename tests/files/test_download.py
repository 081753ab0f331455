"""GET /files/download/{id} (contract §4.9, §5.19): who may fetch a file, and how it is served."""

from __future__ import annotations

import io
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from lms.core.extensions import db
from lms.files.models import StoredFile
from tests.files.helpers import PDF, PNG


def download(backend, file_id, headers):
    return backend.client.get(f"/api/v1/files/download/{file_id}", headers=headers)


def test_the_uploader_downloads_the_bytes_as_an_attachment(backend, upload, student, auth_headers):
    file_id = upload(student, "notes.pdf", PDF).get_json()["id"]

    response = download(backend, file_id, auth_headers(student))

    content, headers = backend.downloaded(response)
    assert content == PDF
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == 'attachment; filename="notes.pdf"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_non_ascii_name_is_sent_with_rfc_6266_encoding(backend, upload, student, auth_headers):
    file_id = upload(student, "Zoë Ångström.pdf", PDF).get_json()["id"]

    _, headers = backend.downloaded(download(backend, file_id, auth_headers(student)))

    assert headers["Content-Disposition"] == (
        "attachment; filename=\"Zoe Angstrom.pdf\"; filename*=UTF-8''Zo%C3%AB%20%C3%85ngstr%C3%B6m.pdf")


def test_s3_downloads_redirect_to_a_short_lived_presigned_url(s3_app, make_user, auth_headers):
    client = s3_app.test_client()
    owner = make_user("student")
    response = client.post("/api/v1/files/upload", data={"file": (io.BytesIO(PNG), "a.png")},
                           content_type="multipart/form-data", headers=auth_headers(owner))
    file_id = response.get_json()["id"]

    redirect = client.get(f"/api/v1/files/download/{file_id}", headers=auth_headers(owner))

    assert redirect.status_code == 307
    location = urlsplit(redirect.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == s3_app.config["AWS_S3_ENDPOINT_URL"]
    query = parse_qs(location.query)
    assert query["X-Amz-Expires"] == [str(s3_app.config["FILE_DOWNLOAD_URL_EXPIRE_SECONDS"])]
    assert query["response-content-disposition"] == ['attachment; filename="a.png"']
    assert redirect.headers["Cache-Control"] == "private, no-store"


def test_an_admin_downloads_anyone_s_private_file(backend, upload, student, admin, auth_headers):
    file_id = upload(student, "private.pdf", PDF).get_json()["id"]

    content, _ = backend.downloaded(download(backend, file_id, auth_headers(admin)))

    assert content == PDF


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_someone_else_s_private_file_is_404(backend, upload, student, make_user, auth_headers, role):
    file_id = upload(student, "private.pdf", PDF).get_json()["id"]

    response = download(backend, file_id, auth_headers(make_user(role)))

    assert response.status_code == 404
    assert response.get_json() == {"detail": "File not found"}


def test_a_public_file_is_downloadable_by_any_logged_in_user(backend, upload, student, make_user, auth_headers):
    file_id = upload(student, "shared.pdf", PDF, is_public="true").get_json()["id"]

    content, _ = backend.downloaded(download(backend, file_id, auth_headers(make_user("student"))))

    assert content == PDF


def test_a_public_file_still_needs_a_login(backend, upload, student):
    file_id = upload(student, "shared.pdf", PDF, is_public="true").get_json()["id"]

    response = download(backend, file_id, {})

    assert response.status_code == 401


def test_an_unknown_file_is_404_and_a_malformed_id_is_422(backend, student, auth_headers):
    unknown = download(backend, uuid.uuid4(), auth_headers(student))
    malformed = download(backend, "not-a-uuid", auth_headers(student))

    assert (unknown.status_code, unknown.get_json()) == (404, {"detail": "File not found"})
    assert malformed.status_code == 422
    assert malformed.get_json()["detail"][0]["loc"] == ["path", "file_id"]


@pytest.mark.parametrize("path", ["..%2f..%2fetc%2fpasswd", "../../etc/passwd", "%2e%2e%2fconfig.py"])
def test_a_traversal_on_the_download_route_reaches_no_file(backend, student, auth_headers, path):
    response = download(backend, path, auth_headers(student))

    assert response.status_code == 404
    assert response.get_json() == {"detail": "Not found"}


def test_a_file_whose_object_is_gone_is_404(backend, upload, student, auth_headers):
    body = upload(student, "gone.pdf", PDF).get_json()
    row = db.session.get(StoredFile, uuid.UUID(body["id"]))
    backend.storage().delete(row.storage_key)

    response = download(backend, body["id"], auth_headers(student))

    assert response.status_code == 404
    assert response.get_json() == {"detail": "File no longer exists"}


@pytest.mark.parametrize("mime_type", ["text/html", "image/svg+xml"])
def test_active_content_is_never_served_for_rendering(backend, student, make_stored_file, auth_headers, mime_type):
    """Rows like this cannot come from an upload; should one exist, it is still served inertly."""
    key = f"legacy/{uuid.uuid4().hex}.html"
    backend.storage().save(key, b"<script>alert(1)</script>", mime_type)
    row = make_stored_file(student, filename=key.rsplit("/", 1)[1], original_filename="page.html", storage_key=key,
                           folder="legacy", file_type="other", mime_type=mime_type, file_size=25,
                           storage_provider=backend.name, is_public=False)

    content, headers = backend.downloaded(download(backend, row.id, auth_headers(student)))

    assert content == b"<script>alert(1)</script>"
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"] == 'attachment; filename="page.html"'
