"""POST /files/upload (contract §4.9): checked before anything is stored, on local disk and on S3."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from lms.core.storage import LocalStorage, S3Storage, StorageError
from lms.core.extensions import db
from lms.files.models import StoredFile
from lms.files.service import sanitize_filename
from tests.files.helpers import AVI, DOC, DOCX, ELF, HTML, JPEG, MOV, MP4, PDF, PNG, SVG, ZIP
from tests.helpers import on_test_connection

UPLOAD = "/api/v1/files/upload"
MIB = 1024 * 1024


def stored_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(StoredFile))


def test_an_upload_is_stored_under_a_server_generated_name(backend, upload, student, folder):
    response = upload(student, "Quarterly report.pdf", PDF)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "filename", "original_filename", "file_url", "file_type", "mime_type",
                         "file_size", "storage_provider", "created_at", "updated_at"}
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", body["filename"])
    assert body["original_filename"] == "Quarterly report.pdf"
    assert body["file_url"] == f"/api/v1/files/download/{body['id']}"
    assert (body["file_type"], body["mime_type"], body["file_size"]) == ("document", "application/pdf", len(PDF))
    assert body["storage_provider"] == backend.name
    assert body["created_at"].endswith("Z")
    assert backend.keys_under(folder) == [f"{folder}/{body['filename']}"]
    with backend.storage().open(f"{folder}/{body['filename']}") as stream:
        assert stream.read() == PDF
    row = db.session.get(StoredFile, uuid.UUID(body["id"]))
    assert (row.uploaded_by, row.folder, row.is_public) == (student.id, folder, False)


def test_the_folder_defaults_to_uploads_and_is_public_is_kept(client, auth_headers, student):
    response = client.post(UPLOAD, data={"file": (io.BytesIO(PNG), "a.png"), "is_public": "true"},
                           content_type="multipart/form-data", headers=auth_headers(student))

    assert response.status_code == 201
    row = db.session.get(StoredFile, uuid.UUID(response.get_json()["id"]))
    assert (row.folder, row.is_public) == ("uploads", True)
    assert row.storage_key == f"uploads/{row.filename}"


@pytest.mark.parametrize(("filename", "content", "file_type", "mime_type"), [
    ("slides.pdf", PDF, "document", "application/pdf"),
    ("photo.png", PNG, "image", "image/png"),
    ("photo.jpg", JPEG, "image", "image/jpeg"),
    ("PHOTO.JPEG", JPEG, "image", "image/jpeg"),
    ("lecture.mp4", MP4, "video", "video/mp4"),
    ("lecture.mov", MOV, "video", "video/quicktime"),
    ("lecture.avi", AVI, "video", "video/x-msvideo"),
    ("essay.doc", DOC, "document", "application/msword"),
    ("essay.docx", DOCX, "document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_each_allowed_type_is_classified_from_its_sniffed_content(client, auth_headers, student, filename,
                                                                  content, file_type, mime_type):
    response = client.post(UPLOAD, data={"file": (io.BytesIO(content), filename)},
                           content_type="multipart/form-data", headers=auth_headers(student))

    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["file_type"], response.get_json()["mime_type"]) == (file_type, mime_type)


def test_a_word_file_saved_as_a_generic_zip_package_is_accepted_as_docx(client, auth_headers, student):
    response = client.post(UPLOAD, data={"file": (io.BytesIO(ZIP), "essay.docx")},
                           content_type="multipart/form-data", headers=auth_headers(student))

    assert response.status_code == 201
    assert response.get_json()["mime_type"].endswith("wordprocessingml.document")


def test_an_empty_file_is_refused(backend, upload, student, folder):
    response = upload(student, "empty.pdf", b"")

    assert response.status_code == 400
    assert response.get_json() == {"detail": "Uploaded file is empty"}
    assert stored_rows() == 0 and backend.keys_under(folder) == []


@pytest.mark.parametrize("filename", ["tool.exe", "page.html", "image.svg", "x.png.html", "noextension",
                                      "archive.zip", ""])
def test_an_extension_that_is_not_allowed_is_refused(backend, upload, student, folder, filename):
    response = upload(student, filename, PNG)

    assert response.status_code == 400
    assert response.get_json() == {
        "detail": "File extension not allowed. Allowed extensions: mp4, avi, mov, pdf, doc, docx, jpg, jpeg, png"}
    assert stored_rows() == 0 and backend.keys_under(folder) == []


@pytest.mark.parametrize(("filename", "content"), [
    ("avatar.png", HTML),
    ("avatar.png", SVG),
    ("x.html\x00.png", HTML),
    ("avatar.png", JPEG),
    ("photo.jpg", ELF),
    ("report.pdf", ZIP),
    ("report.pdf", PNG),
    ("essay.docx", PDF),
    ("essay.doc", DOCX),
    ("lecture.mp4", AVI),
    ("lecture.avi", HTML),
])
def test_content_that_contradicts_the_extension_is_refused_as_spoofing(backend, upload, student, folder,
                                                                       filename, content):
    response = upload(student, filename, content)

    assert response.status_code == 400
    assert response.get_json() == {"detail": "File content does not match its extension. Possible spoofing attempt"}
    assert stored_rows() == 0 and backend.keys_under(folder) == []


@pytest.mark.parametrize("bad_folder", ["../escape", "a/../../escape", "/etc", "a//b", "a/", "a\\b", "..",
                                        "a b", "%2e%2e", "café", "x" * 256, ""])
def test_a_folder_outside_the_allowed_pattern_is_refused(backend, upload, student, upload_root, bad_folder):
    before = sorted(upload_root.parent.rglob("*"))

    response = upload(student, "report.pdf", PDF, folder=bad_folder)

    assert response.status_code == 400
    assert response.get_json() == {
        "detail": "Invalid folder: use letters, digits, '_' or '-', in segments separated by '/'"}
    assert stored_rows() == 0
    assert sorted(upload_root.parent.rglob("*")) == before


def test_a_nested_folder_becomes_part_of_the_key(backend, upload, student, folder):
    response = upload(student, "lecture.mp4", MP4, folder=f"{folder}/course-1/week_2")

    assert response.status_code == 201
    assert backend.keys_under(folder) == [f"{folder}/course-1/week_2/{response.get_json()['filename']}"]


@pytest.mark.parametrize(("raw", "kept"), [
    ("../../etc/evil.png", "evil.png"),
    ("/abs/path/evil.png", "evil.png"),
    ("in\u202egnp.exe\x07.png", "ingnp.exe.png"),
    ("  spaced name.png  ", "spaced name.png"),
])
def test_a_traversal_in_the_original_filename_only_leaves_its_last_part_as_metadata(
        backend, upload, student, folder, upload_root, raw, kept):
    before = {p for p in upload_root.parent.rglob("*") if not p.is_relative_to(upload_root)}

    response = upload(student, raw, PNG)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["original_filename"] == kept
    assert backend.keys_under(folder) == [f"{folder}/{body['filename']}"]
    assert {p for p in upload_root.parent.rglob("*") if not p.is_relative_to(upload_root)} == before


@pytest.mark.parametrize(("raw", "kept"), [
    ("..\\..\\windows\\evil.png", "evil.png"),
    ("C:\\Users\\me\\photo.png", "photo.png"),
    ("../", ""),
    ("..", ""),
    ("line\r\nbreak.png", "linebreak.png"),
    ("nul\x00byte.png", "nulbyte.png"),
    ("Zoë Ångström.pdf", "Zoë Ångström.pdf"),
    ("Zoe\u0308.pdf", "Zoë.pdf"),
])
def test_original_filenames_are_reduced_to_a_safe_last_part(raw, kept):
    assert sanitize_filename(raw) == kept


def test_a_very_long_original_filename_is_shortened_keeping_its_extension(upload, student):
    response = upload(student, "n" * 300 + ".png", PNG)

    assert response.status_code == 201
    name = response.get_json()["original_filename"]
    assert len(name) == 255 and name.endswith("n.png")


def test_a_file_at_the_size_limit_is_accepted(upload, student, backend, monkeypatch):
    monkeypatch.setitem(backend.app.config, "MAX_UPLOAD_MB", 1)

    response = upload(student, "big.pdf", PDF + bytes(MIB - len(PDF)))

    assert response.status_code == 201
    assert response.get_json()["file_size"] == MIB


def test_a_file_over_the_size_limit_is_413(backend, upload, student, folder, monkeypatch):
    monkeypatch.setitem(backend.app.config, "MAX_UPLOAD_MB", 1)

    response = upload(student, "big.pdf", PDF + bytes(MIB))

    assert response.status_code == 413
    assert response.get_json() == {"detail": "File exceeds the maximum upload size of 1 MB"}
    assert stored_rows() == 0 and backend.keys_under(folder) == []


def test_a_body_over_the_request_limit_is_413_before_it_is_read(backend, upload, student, folder, monkeypatch):
    monkeypatch.setitem(backend.app.config, "MAX_CONTENT_LENGTH", MIB)

    response = upload(student, "big.pdf", PDF + bytes(2 * MIB))

    assert response.status_code == 413
    assert response.get_json() == {"detail": "Request body is too large"}
    assert stored_rows() == 0 and backend.keys_under(folder) == []


def _chunked_upload(backend, headers, folder, content: bytes):
    """A multipart body sent without Content-Length, as a server that de-chunks the body presents it."""
    file = FileStorage(io.BytesIO(content), filename="big.pdf", content_type="application/pdf")
    boundary, body = encode_multipart({"folder": folder, "file": file})
    return backend.client.post(
        UPLOAD, input_stream=io.BytesIO(body), content_type=f"multipart/form-data; boundary={boundary}",
        headers={**headers, "Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})


def test_a_file_over_the_limit_in_a_body_without_content_length_is_413(backend, auth_headers, student, folder,
                                                                      monkeypatch):
    monkeypatch.setitem(backend.app.config, "MAX_UPLOAD_MB", 1)

    response = _chunked_upload(backend, auth_headers(student), folder, PDF + bytes(MIB))

    assert response.status_code == 413
    assert response.get_json() == {"detail": "File exceeds the maximum upload size of 1 MB"}
    assert stored_rows() == 0 and backend.keys_under(folder) == []


def test_a_body_without_content_length_over_the_request_limit_is_413(backend, auth_headers, student, folder,
                                                                    monkeypatch):
    monkeypatch.setitem(backend.app.config, "MAX_CONTENT_LENGTH", MIB)

    response = _chunked_upload(backend, auth_headers(student), folder, PDF + bytes(2 * MIB))

    assert response.status_code == 413
    assert response.get_json() == {"detail": "Request body is too large"}
    assert stored_rows() == 0 and backend.keys_under(folder) == []


def test_a_body_without_content_length_within_the_limit_is_stored(backend, auth_headers, student, folder):
    response = _chunked_upload(backend, auth_headers(student), folder, PDF)

    assert response.status_code == 201
    assert response.get_json()["file_size"] == len(PDF)


def test_a_request_without_a_file_is_422(client, auth_headers, student):
    response = client.post(UPLOAD, data={"folder": "uploads"}, content_type="multipart/form-data",
                           headers=auth_headers(student))

    assert response.status_code == 422
    assert [error["loc"] for error in response.get_json()["detail"]] == [["body", "file"]]


def test_an_unknown_form_field_is_422(client, auth_headers, student):
    response = client.post(UPLOAD, data={"file": (io.BytesIO(PDF), "a.pdf"), "owner": "someone-else"},
                           content_type="multipart/form-data", headers=auth_headers(student))

    assert response.status_code == 422
    assert [error["loc"] for error in response.get_json()["detail"]] == [["body", "owner"]]


def test_an_anonymous_upload_is_401(upload):
    response = upload(None, "a.pdf", PDF)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}
    assert stored_rows() == 0


def test_a_file_the_storage_refuses_leaves_no_row(backend, upload, student, monkeypatch):
    def refuse(self, key, data, content_type):
        raise StorageError("bucket is gone")

    monkeypatch.setattr(S3Storage if backend.name == "s3" else LocalStorage, "save", refuse)

    response = upload(student, "a.pdf", PDF)

    assert response.status_code == 503
    assert response.get_json() == {"detail": "File storage is unavailable"}
    assert stored_rows() == 0


def test_a_row_that_cannot_be_committed_leaves_no_stored_object(backend, upload, student, folder, monkeypatch):
    def database_down():
        raise OperationalError("COMMIT", {}, Exception("connection lost"))

    monkeypatch.setattr(db.session, "commit", database_down)

    response = upload(student, "a.pdf", PDF)

    assert response.status_code == 503
    assert backend.keys_under(folder) == []


def test_uploads_are_rate_limited_per_user(make_app, auth_headers, student, make_user):
    other = make_user("student")
    with on_test_connection(make_app(RATE_LIMIT_ENABLED=True, FILE_UPLOAD_RATE_LIMIT_REQUESTS_PER_HOUR=2)) as limited:
        client = limited.test_client()

        def send(user):
            return client.post(UPLOAD, data={"file": (io.BytesIO(PDF), "a.pdf")},
                               content_type="multipart/form-data", headers=auth_headers(user))

        statuses = [send(student).status_code for _ in range(3)]
        assert statuses == [201, 201, 429]
        assert send(other).status_code == 201
