"""Uploads and downloads of user files (contract §4.9).

An upload is checked before anything is stored: folder, extension, size (counted while reading, so a
body without Content-Length is bounded too), then content sniffed against the extension. The object
is written under a server-generated name first and the row committed after; a failed commit deletes
the object again, so a file that could not be recorded leaves nothing behind.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable

import filetype
from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from lms.core.errors import BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable
from lms.core.pagination import collect
from lms.core.storage import Download, StorageError, get_storage
from lms.core.extensions import db
from lms.files.models import StoredFile
from lms.users.models import User

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 1024 * 1024
SNIFF_BYTES = 8192  # what `filetype` inspects
MAX_FOLDER_LENGTH = 255
MAX_FILENAME_LENGTH = 255
FOLDER_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
# Control, format (e.g. right-to-left override) and line/paragraph separator characters.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"


@dataclass(frozen=True)
class ContentRule:
    """What an extension's content may be: MIME types `filetype` reports, or a container signature."""

    mime_types: frozenset[str] = frozenset()
    container: bytes | None = None
    container_mime: str | None = None


_ISO_VIDEO = frozenset({"video/mp4", "video/x-m4v", "video/quicktime"})
CONTENT_RULES: dict[str, ContentRule] = {
    "mp4": ContentRule(_ISO_VIDEO),
    "mov": ContentRule(_ISO_VIDEO),
    "m4v": ContentRule(_ISO_VIDEO),
    "avi": ContentRule(frozenset({"video/x-msvideo"})),
    "webm": ContentRule(frozenset({"video/webm"})),
    "mkv": ContentRule(frozenset({"video/x-matroska"})),
    "pdf": ContentRule(frozenset({"application/pdf"})),
    "jpg": ContentRule(frozenset({"image/jpeg"})),
    "jpeg": ContentRule(frozenset({"image/jpeg"})),
    "png": ContentRule(frozenset({"image/png", "image/apng"})),
    "gif": ContentRule(frozenset({"image/gif"})),
    "webp": ContentRule(frozenset({"image/webp"})),
    # Word files: legacy OLE compound documents and OOXML zip packages.
    "doc": ContentRule(container=OLE_SIGNATURE, container_mime="application/msword"),
    "docx": ContentRule(container=ZIP_SIGNATURE, container_mime=(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")),
}

DOCUMENT_TYPES = {"application/pdf", "application/msword", "text/plain", "application/rtf"}
SPOOFING = "File content does not match its extension. Possible spoofing attempt"


def check_folder(folder: str) -> str:
    if len(folder) > MAX_FOLDER_LENGTH or not FOLDER_PATTERN.match(folder):
        raise BadRequest("Invalid folder: use letters, digits, '_' or '-', in segments separated by '/'")
    return folder


def sanitize_filename(raw: str) -> str:
    """The client's file name as safe metadata: no path parts, no invisible characters, bounded length."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES).strip()
    if name in {".", ".."}:
        return ""
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) < 16:
            name = stem[: MAX_FILENAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME_LENGTH]
    return name


def extension_of(filename: str) -> str:
    _, dot, extension = filename.rpartition(".")
    return extension.lower() if dot else ""


def measure(stream: BinaryIO, limit: int) -> int:
    """Read the stream to its end in chunks, stopping with 413 past `limit` bytes; rewind it."""
    size = 0
    while chunk := stream.read(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"File exceeds the maximum upload size of {limit // (1024 * 1024)} MB")
    stream.seek(0)
    return size


def sniff_mime_type(extension: str, head: bytes) -> str:
    """The content's MIME type when it agrees with the extension; 400 "Possible spoofing" otherwise."""
    rule = CONTENT_RULES.get(extension)
    kind = filetype.guess(head)
    if rule is None:
        # An extension allowed by configuration without a known signature: accept content that no
        # sniffer recognises as something else (plain text and the like).
        if kind is not None:
            raise BadRequest(SPOOFING)
        return mimetypes.guess_type(f"file.{extension}")[0] or "application/octet-stream"
    if rule.container is not None and head.startswith(rule.container):
        return rule.container_mime or "application/octet-stream"
    if kind is not None and kind.mime in rule.mime_types:
        return kind.mime
    raise BadRequest(SPOOFING)


def classify(mime_type: str) -> str:
    if mime_type.startswith("video/"):
        return "video"
    if mime_type.startswith("image/"):
        return "image"
    if mime_type in DOCUMENT_TYPES or mime_type.startswith("application/vnd.openxmlformats-officedocument."):
        return "document"
    return "other"


def upload_file(user: User, upload: FileStorage, folder: str, is_public: bool) -> StoredFile:
    config = current_app.config
    folder = check_folder(folder)
    original_filename = sanitize_filename(upload.filename or "")
    extension = extension_of(original_filename)
    allowed = config["ALLOWED_UPLOAD_EXTENSIONS"]
    if not extension or extension not in allowed:
        raise BadRequest(f"File extension not allowed. Allowed extensions: {', '.join(allowed)}")

    stream = upload.stream
    size = measure(stream, config["MAX_UPLOAD_MB"] * 1024 * 1024)
    if size == 0:
        raise BadRequest("Uploaded file is empty")
    mime_type = sniff_mime_type(extension, stream.read(SNIFF_BYTES))
    stream.seek(0)

    filename = f"{uuid.uuid4().hex}.{extension}"
    key = f"{folder}/{filename}"
    storage = get_storage("uploads")
    try:
        storage.save(key, stream, mime_type)
    except StorageError as exc:
        log.error("upload could not be stored: %s", exc)
        raise ServiceUnavailable("File storage is unavailable") from exc

    stored = StoredFile(uploaded_by=user.id, filename=filename, original_filename=original_filename,
                        storage_key=key, folder=folder, file_type=classify(mime_type), mime_type=mime_type,
                        file_size=size, storage_provider=storage.provider, is_public=is_public)
    db.session.add(stored)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        _discard(key)
        raise
    return stored


def _discard(key: str) -> None:
    try:
        get_storage("uploads").delete(key)
    except StorageError:
        log.exception("could not delete the orphaned upload %s", key)


def list_my_files(user: User, args: dict[str, Any]) -> dict:
    stmt = select(StoredFile).where(StoredFile.uploaded_by == user.id)
    if args.get("file_type") is not None:
        stmt = stmt.where(StoredFile.file_type == args["file_type"])
    return collect(stmt.order_by(StoredFile.created_at.desc(), StoredFile.id.desc()), args, "files")


# Who may download a file besides its uploader, admins and, for a public file, anyone: the
# modules built on files add grants at import (assignments: the instructor grading a submission
# the file is attached to).
_DOWNLOAD_GRANTS: list[Callable[[StoredFile, User], bool]] = []


def add_download_grant(grants: Callable[[StoredFile, User], bool]) -> None:
    """`grants(stored_file, user)` lets `user` download the file."""
    _DOWNLOAD_GRANTS.append(grants)


def get_file_for_reading(file_id: uuid.UUID, user: User) -> StoredFile:
    """The uploader, an admin, anyone logged in for a public file, and whom a grant admits (the
    instructor grading a submission the file is attached to); 404 for everyone else (§5.19)."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None or not (stored.is_public or stored.uploaded_by == user.id or user.is_admin
                              or any(grants(stored, user) for grants in _DOWNLOAD_GRANTS)):
        raise NotFound("File not found")
    return stored


def download(file_id: uuid.UUID, user: User) -> Download:
    stored = get_file_for_reading(file_id, user)
    return Download("uploads", stored.storage_key, stored.original_filename, stored.mime_type)
