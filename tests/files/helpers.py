"""Helpers for the files tests: sample contents of each kind, and `Backend`, one storage behind its own app."""

from __future__ import annotations

import io
import urllib.request
import zipfile
from dataclasses import dataclass

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
