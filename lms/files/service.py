"""Uploads and downloads of user files (contract §4.9).

An upload is checked before anything is stored: folder, extension, size (counted while reading, so a
body without Content-Length is bounded too), then content sniffed against the extension. The object
is written under a server-generated name first and the row committed after; a failed commit deletes
the object again, so a file that could not be recorded leaves nothing behind.
"""

from __future__ import annotations

import logging
import mimetypes
import posixpath
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import SplitResult, unquote, urlsplit

import filetype
from flask import Response, current_app, has_request_context, request
from sqlalchemy import String, cast, select
from werkzeug.datastructures import FileStorage
from werkzeug.sansio.utils import host_is_trusted

from lms.assignments.models import Assignment, Submission
from lms.core.errors import BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable
from lms.core.permissions import Role
from lms.core.storage import ObjectMissing, StorageError, download_response, get_storage
from lms.courses.models import Course
from lms.enrollments.models import Enrollment
from lms.extensions import db
from lms.files.models import StoredFile
from lms.users.models import User

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 1024 * 1024
SNIFF_BYTES = 8192  # what `filetype` inspects
MAX_FOLDER_LENGTH = 255
MAX_FILENAME_LENGTH = 255
FOLDER_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
# A file id as the download route (Werkzeug's uuid converter) matches it.
_CANONICAL_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
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


def list_my_files(user: User, file_type: str | None) -> dict:
    stmt = select(StoredFile).where(StoredFile.uploaded_by == user.id)
    if file_type is not None:
        stmt = stmt.where(StoredFile.file_type == file_type)
    files = list(db.session.scalars(stmt.order_by(StoredFile.created_at.desc(), StoredFile.id.desc())))
    return {"files": files, "total": len(files)}


def download_path(file_id: uuid.UUID) -> str:
    """A stored file's one URL on both backends: the API checks access, then streams (local) or
    redirects (S3)."""
    return f"{current_app.config['API_V1_PREFIX'].rstrip('/')}/files/download/{file_id}"


def file_id_of_download_path(path: str) -> uuid.UUID | None:
    """The file id in a path that `download_path` made (any case of the id), or None for any other path.

    Exactly what the download route matches: no trailing slash, and none of the other spellings
    `uuid.UUID` would read ("urn:uuid:...", braces, no hyphens).
    """
    prefix = download_path("")
    if not path.startswith(prefix) or not _CANONICAL_UUID.fullmatch(path[len(prefix):]):
        return None
    return uuid.UUID(path[len(prefix):])


def _own_hosts() -> set[str]:
    """The host names this API answers on: its public base URL's and the request's."""
    hosts = {urlsplit(current_app.config["PUBLIC_API_BASE_URL"]).hostname}
    if has_request_context():
        hosts.add(urlsplit(request.host_url).hostname)
    return {host for host in hosts if host}


def _is_own_host(host: str | None) -> bool:
    if not host:
        return False
    trusted = current_app.config.get("TRUSTED_HOSTS")
    return host in _own_hosts() or (bool(trusted) and host_is_trusted(host, trusted))


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. "http://[": not a URL of ours, whatever it is
        return None


def _api_paths(url: str) -> list[str]:
    """The paths `url` may name on this API: its path, and that path below the public base URL's
    (the API may be mounted under one); none when `url` is on another host.

    Relative URLs are this API's. Any scheme and port of an own host count, so that no spelling of
    one of our download URLs passes for an outside link.
    """
    parts = _split(url)
    if parts is None or ((parts.scheme or parts.netloc) and not _is_own_host(parts.hostname)):
        return []
    base_path = urlsplit(current_app.config["PUBLIC_API_BASE_URL"]).path.rstrip("/")
    paths = [parts.path]
    if parts.netloc and base_path and parts.path.startswith(base_path + "/"):
        paths.append(parts.path[len(base_path):])
    return paths


def _as_served(path: str) -> str:
    """The path a server resolves: percent-escapes decoded, repeated slashes merged, dot segments gone."""
    resolved = posixpath.normpath(re.sub(r"/+", "/", unquote(path)))
    return "" if resolved == "." else resolved


def points_at_downloads(url: str) -> bool:
    """Whether `url` (relative, or absolute on this API's host) leads to the file download route,
    however it is spelled."""
    route = download_path("").rstrip("/")
    served = [_as_served(path) for path in _api_paths(url)]
    return any(path == route or path.startswith(route + "/") for path in served)


def file_id_of_download_url(url: str) -> uuid.UUID | None:
    """The file of a plain download URL of this API (relative or on its own host, no query or
    fragment); None for anything else."""
    if "?" in url or "#" in url:
        return None
    for path in _api_paths(url):
        if (file_id := file_id_of_download_path(path)) is not None:
            return file_id
    return None


def get_downloadable_file(file_id: uuid.UUID, user: User) -> StoredFile:
    """The uploader, an admin, anyone logged in for a public file, and the instructor grading a
    submission the file is attached to; 404 for everyone else (§5.19)."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None or not (stored.is_public or stored.uploaded_by == user.id or user.role == Role.ADMIN.value
                              or _attached_to_a_submission_graded_by(stored, user)):
        raise NotFound("File not found")
    return stored


def _attached_to_a_submission_graded_by(stored: StoredFile, user: User) -> bool:
    """Whether the uploader attached the file to a submission in a course `user` teaches.

    Only the file's canonical download path in `file_urls` attaches it: submissions store their own
    uploads in that form (checked when submitted) and outside links as sent, so an outside link that
    merely contains the id ("https://elsewhere.example/<id>") must grant nothing. The text search on
    the JSON narrows the rows; the exact comparison decides.
    """
    if user.role != Role.INSTRUCTOR.value:
        return False
    candidates = db.session.scalars(
        select(Submission.file_urls)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(Course, Course.id == Assignment.course_id)
        .join(Enrollment, Enrollment.id == Submission.enrollment_id)
        .where(Course.instructor_id == user.id, Enrollment.student_id == stored.uploaded_by,
               cast(Submission.file_urls, String).like(f"%{stored.id}%")))
    attached_as = download_path(stored.id)
    return any(attached_as in (file_urls or ()) for file_urls in candidates)


def download(file_id: uuid.UUID, user: User) -> Response:
    stored = get_downloadable_file(file_id, user)
    try:
        return download_response(get_storage("uploads"), stored.storage_key, stored.original_filename,
                                 stored.mime_type)
    except ObjectMissing as exc:
        raise NotFound("File no longer exists") from exc
    except StorageError as exc:
        log.error("download of %s failed: %s", stored.id, exc)
        raise ServiceUnavailable("File storage is unavailable") from exc
