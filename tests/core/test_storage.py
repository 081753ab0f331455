"""The storage interface: the same behaviour on local disk and on S3 (moto's server on loopback)."""

from __future__ import annotations

import io
import os
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import current_app

from lms.core.storage import (
    LocalStorage,
    ObjectMissing,
    S3Storage,
    StorageError,
    attachment_disposition,
    download_response,
    get_storage,
    safe_content_type,
)


@pytest.fixture(params=["local", "s3"])
def storage(request, app, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "root")
    s3_app = request.getfixturevalue("s3_app")
    with s3_app.app_context():
        return get_storage("uploads")


def test_saved_bytes_read_back_and_exist(storage):
    storage.save("docs/a1b2.pdf", b"%PDF-1.4 first", "application/pdf")

    assert storage.exists("docs/a1b2.pdf")
    with storage.open("docs/a1b2.pdf") as stream:
        assert stream.read() == b"%PDF-1.4 first"


def test_a_stream_is_saved_whole(storage):
    payload = os.urandom(3 * 1024 * 1024 + 17)

    storage.save("big.bin", io.BytesIO(payload), "application/octet-stream")

    with storage.open("big.bin") as stream:
        assert stream.read() == payload


def test_saving_again_replaces_the_object(storage):
    storage.save("same.txt", b"old", "text/plain")
    storage.save("same.txt", b"new", "text/plain")

    with storage.open("same.txt") as stream:
        assert stream.read() == b"new"


def test_a_deleted_object_is_gone_and_deleting_again_is_harmless(storage):
    storage.save("gone.txt", b"x", "text/plain")

    storage.delete("gone.txt")
    storage.delete("gone.txt")

    assert not storage.exists("gone.txt")
    with pytest.raises(ObjectMissing):
        storage.open("gone.txt")


@pytest.mark.parametrize("key", ["../escape.txt", "a/../../escape.txt", "/etc/passwd", "a//b.txt", "",
                                 "a\\..\\b.txt", ".hidden", "a/./b.txt", "a/b.txt\x00.png", "%2e%2e/x"])
def test_keys_that_could_leave_the_area_are_refused(storage, key):
    with pytest.raises(StorageError):
        storage.save(key, b"x", "text/plain")
    with pytest.raises(StorageError):
        storage.exists(key)


def test_local_files_stay_inside_their_root(tmp_path):
    root = tmp_path / "root"
    storage = LocalStorage(root)

    storage.save("uploads/x/abc.png", b"png", "image/png")

    assert (root / "uploads" / "x" / "abc.png").read_bytes() == b"png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]


def test_a_symlink_out_of_the_local_root_is_refused(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)

    with pytest.raises(StorageError, match="outside its root"):
        LocalStorage(root).save("link/evil.txt", b"x", "text/plain")
    assert list(outside.iterdir()) == []


def test_a_failed_local_write_leaves_no_partial_file(tmp_path):
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError("disk vanished")

    storage = LocalStorage(tmp_path)

    with pytest.raises(StorageError):
        storage.save("folder/broken.bin", Broken(), "application/octet-stream")

    assert list((tmp_path / "folder").iterdir()) == []


def test_local_storage_has_no_download_url(tmp_path):
    assert LocalStorage(tmp_path).download_url("a.pdf", "a.pdf", "application/pdf") is None


def test_get_storage_uses_the_configured_folders(app):
    uploads, certificates = get_storage("uploads"), get_storage("certificates")

    assert isinstance(uploads, LocalStorage) and isinstance(certificates, LocalStorage)
    assert uploads.root == Path(app.config["UPLOAD_DIR"]).resolve()
    assert certificates.root == Path(app.config["CERTIFICATES_DIR"]).resolve()


def test_get_storage_refuses_an_unknown_area():
    with pytest.raises(ValueError):
        get_storage("secrets")


def test_s3_areas_are_key_prefixes_in_one_bucket_sharing_one_client(s3_app, s3_settings):
    with s3_app.app_context():
        uploads, certificates = get_storage("uploads"), get_storage("certificates")

    assert isinstance(uploads, S3Storage) and isinstance(certificates, S3Storage)
    assert uploads.client is certificates.client
    assert uploads.bucket == certificates.bucket == s3_settings["AWS_S3_BUCKET"]
    assert (uploads.object_key("a/b.png"), certificates.object_key("C.pdf")) == ("uploads/a/b.png",
                                                                               "certificates/C.pdf")


def test_the_s3_client_adds_checksums_only_when_required(s3_app):
    with s3_app.app_context():
        config = get_storage("uploads").client.meta.config

    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"


def test_an_s3_download_url_is_presigned_short_lived_and_serves_the_bytes_as_attachment(s3_app):
    with s3_app.app_context():
        storage = get_storage("uploads")
        expires = current_app.config["FILE_DOWNLOAD_URL_EXPIRE_SECONDS"]
    storage.save("docs/report.pdf", b"%PDF-1.4 presigned", "application/pdf")

    url = storage.download_url("docs/report.pdf", "Résumé.pdf", "application/pdf")

    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == [str(expires)]
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.read() == b"%PDF-1.4 presigned"
        assert answer.headers["Content-Type"] == "application/pdf"
        assert answer.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''R%C3%A9sum%C3%A9.pdf" in answer.headers["Content-Disposition"]


def test_an_s3_storage_that_cannot_be_reached_raises_storage_error(s3_app):
    with s3_app.app_context():
        client = get_storage("uploads").client
    unreachable = S3Storage(client, "no-such-bucket-here", "uploads", 60)

    with pytest.raises(StorageError):
        unreachable.save("x.txt", b"x", "text/plain")


@pytest.mark.parametrize(("filename", "expected"), [
    ("report.pdf", 'attachment; filename="report.pdf"'),
    ("Zoë Ångström.pdf", "attachment; filename=\"Zoe Angstrom.pdf\"; "
                         "filename*=UTF-8''Zo%C3%AB%20%C3%85ngstr%C3%B6m.pdf"),
    ('x";.png', "attachment; filename=\"x.png\"; filename*=UTF-8''x%22%3B.png"),
    ("a\r\nSet-Cookie: x.png", "attachment; filename=\"aSet-Cookie: x.png\"; "
                               "filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x.png"),
    ("日本.pdf", "attachment; filename=\"download.pdf\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.pdf"),
])
def test_attachment_disposition_is_safe_and_keeps_unicode_names(filename, expected):
    assert attachment_disposition(filename) == expected


@pytest.mark.parametrize(("stored", "served"), [
    ("image/png", "image/png"), ("application/pdf", "application/pdf"), ("text/html", "application/octet-stream"),
    ("image/svg+xml", "application/octet-stream"), ("Text/HTML; charset=utf-8", "application/octet-stream"),
    ("", "application/octet-stream"),
])
def test_active_content_is_served_as_opaque_bytes(stored, served):
    assert safe_content_type(stored) == served


def test_a_local_download_is_an_attachment_never_rendered(app, tmp_path):
    storage = LocalStorage(tmp_path)
    storage.save("page.html", b"<script>alert(1)</script>", "text/html")

    with app.test_request_context():
        response = download_response(storage, "page.html", "page.html", "text/html")
        response.direct_passthrough = False
        body = response.get_data()

    assert body == b"<script>alert(1)</script>"
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_download_of_a_missing_object_raises_object_missing(app, storage):
    with app.test_request_context(), pytest.raises(ObjectMissing):
        download_response(storage, "never/stored.pdf", "x.pdf", "application/pdf")
