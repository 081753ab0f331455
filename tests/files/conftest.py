"""Helpers for the files tests: both storage backends, sample contents, an upload call."""

from __future__ import annotations

import io
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.datastructures import Headers

from lms.core.storage import LocalStorage, Storage, get_storage


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = _image("PNG")
JPEG = _image("JPEG")
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free" + bytes(64)
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00\x00\x00\x08wide" + bytes(64)
AVI = b"RIFF\x24\x00\x00\x00AVI LIST\x18\x00\x00\x00hdrlavih" + bytes(64)
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
DOCX = _zip({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>",
             "word/document.xml": b"<w:document/>"})
ZIP = _zip({"notes.txt": b"hello"})
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
ELF = b"\x7fELF\x02\x01\x01" + bytes(64)


@dataclass
class Backend:
    """One storage backend behind its own app: `local` (the shared app) or `s3` (moto's server)."""

    name: str
    app: Flask
    client: FlaskClient

    def storage(self) -> Storage:
        with self.app.app_context():
            return get_storage("uploads")

    def keys_under(self, folder: str) -> list[str]:
        """Every object stored under an upload folder (keys relative to the uploads area)."""
        storage = self.storage()
        if isinstance(storage, LocalStorage):
            root = storage.root / folder
            return sorted(str(p.relative_to(storage.root)) for p in root.rglob("*") if p.is_file())
        listing = storage.client.list_objects_v2(Bucket=storage.bucket, Prefix=f"uploads/{folder}/")
        return sorted(item["Key"].removeprefix("uploads/") for item in listing.get("Contents", []))

    def downloaded(self, response) -> tuple[bytes, Headers]:
        """The bytes and headers a client ends up with, following an S3 redirect with a real HTTP GET."""
        if self.name == "s3":
            assert response.status_code == 307, response.get_data(as_text=True)
            with urllib.request.urlopen(response.headers["Location"], timeout=10) as answer:
                return answer.read(), Headers(list(answer.headers.items()))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(), response.headers


@pytest.fixture(params=["local", "s3"])
def backend(request, app, client) -> Backend:
    if request.param == "local":
        return Backend("local", app, client)
    s3_app = request.getfixturevalue("s3_app")
    return Backend("s3", s3_app, s3_app.test_client())


@pytest.fixture
def folder() -> str:
    """A folder of its own for each test, so that what a test stored can be listed exactly."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def upload(backend, auth_headers, folder):
    """`upload(user, filename, content, **form)` -> the response of POST /files/upload."""

    def post(user, filename: str = "report.pdf", content: bytes = PDF, **form):
        data = {"folder": folder, **form, "file": (io.BytesIO(content), filename)}
        return backend.client.post("/api/v1/files/upload", data=data, content_type="multipart/form-data",
                                   headers=auth_headers(user) if user is not None else {})

    return post


@pytest.fixture
def upload_root(app) -> Path:
    return Path(app.config["UPLOAD_DIR"]).resolve()
