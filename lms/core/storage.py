"""File storage: one interface, two backends chosen by `FILE_STORAGE_PROVIDER`.

- `local`: each area is a folder (`UPLOAD_DIR`, `CERTIFICATES_DIR`, `EXPORTS_DIR`); every resolved
  path must stay inside its root.
- `s3`: one bucket through boto3 (any S3-compatible endpoint with `AWS_S3_ENDPOINT_URL`); each area
  is a key prefix (`uploads/`, `certificates/`, `exports/`). Downloads are presigned GET URLs that expire after
  `FILE_DOWNLOAD_URL_EXPIRE_SECONDS` and make the browser save the file (attachment).

Keys are server-generated and relative to their area (`<folder>/<hex>.<ext>`, `<number>.pdf`);
`get_storage(area)` is the one way to reach a backend.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol
from urllib.parse import quote

from flask import Flask, Response, current_app, redirect, send_file

from lms.core.errors import NotFound, ServiceUnavailable

log = logging.getLogger(__name__)

Area = Literal["uploads", "certificates", "exports"]
AREA_DIRECTORIES: dict[str, str] = {"uploads": "UPLOAD_DIR", "certificates": "CERTIFICATES_DIR",
                                    "exports": "EXPORTS_DIR"}

# A segment never starts with a dot, so `.`, `..` and hidden names are not keys.
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")


class StorageError(Exception):
    """The storage backend could not carry out an operation."""


class ObjectMissing(StorageError):
    """No object is stored under the key."""


def check_key(key: str) -> str:
    """A relative key of safe segments: no absolute path, no `..`, no empty or hidden segment."""
    segments = key.split("/")
    if not key or len(key) > 512 or not all(_KEY_SEGMENT.match(segment) for segment in segments):
        raise StorageError(f"invalid storage key {key!r}")
    return key


def attachment_disposition(filename: str) -> str:
    """`Content-Disposition: attachment` with an ASCII fallback and RFC 6266 `filename*` when needed."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch for ch in fallback if ch.isprintable() and ch not in '"\\;').strip()
    if not fallback or fallback.startswith("."):
        fallback = "download" + fallback
    if fallback == filename:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# Types a browser would render as a page (scripts included); served as opaque bytes instead.
ACTIVE_CONTENT_TYPES = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                        "text/javascript", "application/javascript"}


def safe_content_type(content_type: str) -> str:
    base = content_type.split(";", 1)[0].strip().lower()
    return "application/octet-stream" if not base or base in ACTIVE_CONTENT_TYPES else base


class Storage(Protocol):
    provider: str

    def save(self, key: str, data: bytes | BinaryIO, content_type: str) -> None: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def download_url(self, key: str, filename: str, content_type: str) -> str | None: ...


def _as_stream(data: bytes | BinaryIO) -> BinaryIO:
    return io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data


class LocalStorage:
    """Files under one root folder; downloads are served by the app itself."""

    provider = "local"

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        resolved = (self.root / check_key(key)).resolve()
        if not resolved.is_relative_to(self.root):
            raise StorageError(f"storage key {key!r} resolves outside its root")
        return resolved

    def save(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target, then rename: a reader never sees half a file.
            fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    shutil.copyfileobj(_as_stream(data), handle, length=1024 * 1024)
                os.replace(partial, target)
            except BaseException:
                Path(partial).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"could not write {key!r}: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        except OSError as exc:
            raise StorageError(f"could not read {key!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"could not delete {key!r}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def download_url(self, key: str, filename: str, content_type: str) -> str | None:
        return None


class S3Storage:
    """Objects under `<prefix>/` in one bucket; downloads are presigned URLs."""

    provider = "s3"

    def __init__(self, client, bucket: str, prefix: str, url_expires_seconds: int):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.url_expires_seconds = url_expires_seconds

    def object_key(self, key: str) -> str:
        return f"{self.prefix}/{check_key(key)}"

    def save(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_fileobj(_as_stream(data), self.bucket, self.object_key(key),
                                       ExtraArgs={"ContentType": content_type})
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"could not write {key!r}: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
        except ClientError as exc:
            if _is_missing(exc):
                raise ObjectMissing(key) from exc
            raise StorageError(f"could not read {key!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not read {key!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"could not delete {key!r}: {exc}") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
            return True
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise StorageError(f"could not check {key!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not check {key!r}: {exc}") from exc

    def download_url(self, key: str, filename: str, content_type: str) -> str | None:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.object_key(key),
                    "ResponseContentDisposition": attachment_disposition(filename),
                    "ResponseContentType": content_type},
            ExpiresIn=self.url_expires_seconds,
        )


def _is_missing(error) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


_client_lock = threading.Lock()


def s3_client(app: Flask):
    """The process's boto3 S3 client for this app (clients are thread-safe; create one, reuse it)."""
    client = app.extensions.get("lms.storage.s3_client")
    if client is not None:
        return client
    with _client_lock:
        client = app.extensions.get("lms.storage.s3_client")
        if client is None:
            import boto3
            from botocore.config import Config

            config = app.config
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=config["AWS_S3_ENDPOINT_URL"] or None,
                region_name=config["AWS_REGION"],
                aws_access_key_id=config["AWS_ACCESS_KEY_ID"] or None,
                aws_secret_access_key=config["AWS_SECRET_ACCESS_KEY"] or None,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path" if config["AWS_S3_PATH_STYLE"] else "auto"},
                    retries={"mode": "standard", "max_attempts": 3},
                    # S3-compatible stores reject the checksums boto3 adds by default since 1.36.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    connect_timeout=5,
                    read_timeout=30,
                ),
            )
            app.extensions["lms.storage.s3_client"] = client
    return client


def get_storage(area: Area) -> Storage:
    """The storage of `area` ("uploads", "certificates" or "exports") for the current app."""
    if area not in AREA_DIRECTORIES:
        raise ValueError(f"unknown storage area {area!r}")
    app = current_app._get_current_object()
    config = app.config
    if config["FILE_STORAGE_PROVIDER"] == "s3":
        return S3Storage(s3_client(app), config["AWS_S3_BUCKET"], area,
                         config["FILE_DOWNLOAD_URL_EXPIRE_SECONDS"])
    return LocalStorage(config[AREA_DIRECTORIES[area]])


@dataclass(frozen=True)
class Download:
    """A stored object to send as an attachment: what a service answers, and the route turns into
    the HTTP answer with `send_download`."""

    area: str  # "uploads" or "certificates" (see `get_storage`)
    key: str
    filename: str
    content_type: str
    missing_detail: str = "File no longer exists"  # the 404's message when the object is gone


def send_download(download: Download) -> Response:
    """The answer for a Download: 404 when its object is gone, 503 when the storage fails."""
    try:
        return download_response(get_storage(download.area), download.key, download.filename,
                                 download.content_type)
    except ObjectMissing as exc:
        raise NotFound(download.missing_detail) from exc
    except StorageError as exc:
        log.error("download of %s/%s failed: %s", download.area, download.key, exc)
        raise ServiceUnavailable("File storage is unavailable") from exc


def download_response(storage: Storage, key: str, filename: str, content_type: str) -> Response:
    """A stored object as a download: 307 to a presigned URL (S3), or the bytes (local).

    Always an attachment with `nosniff`, never HTML or SVG rendered inline; raises `ObjectMissing`.
    """
    content_type = safe_content_type(content_type)
    url = storage.download_url(key, filename, content_type)
    if url is not None:
        if not storage.exists(key):
            raise ObjectMissing(key)
        response = redirect(url, code=307)
    else:
        response = send_file(storage.open(key), mimetype=content_type, etag=False, conditional=False)
        response.headers["Content-Disposition"] = attachment_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
