"""Personal data: export (a ZIP built by a job, mailed as an expiring signed link) and erasure.

Export: `request_export` records a pending `DataExport` and enqueues `build_export`, which writes a
ZIP (profile, enrollments with progress and reviews, quiz attempts with answers, submissions,
certificates, uploaded files and their bytes, the audit entries about the account) into the
`exports` storage area and mails the user a link signed with the app's key. The link works for
DATA_EXPORT_LINK_EXPIRE_HOURS; the hourly `purge_expired_exports` job then deletes the ZIP.

Erasure (`erase_own_account` with the password, `erase_account` by an admin; never an admin
account): the account row stays, anonymised, because enrollments, attempts, grades and
certificates point at it and the course figures (enrollment counts, ratings, scores) must stay
correct; everything that identifies the person or is their own writing is removed: e-mail, name,
password, review texts, lesson notes, free-text quiz answers, submission contents and links,
feedback on them, uploaded files (rows, and objects in storage once the erasure commits),
certificate PDFs (re-rendered with the name withheld if ever downloaded again), exports, one-time
tokens and refresh tokens. Every token issued before is void. A certificate still verifies, under
the name "Name withheld".
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import shutil
import tempfile
import uuid
import zipfile
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select, update

from lms.assignments.models import Submission
from lms.audit.models import AuditEntry
from lms.auth.models import RefreshToken, UserToken
from lms.auth.service import confirm_password
from lms.auth.tokens import end_all_sessions
from lms.certificates.models import Certificate
from lms.core import events
from lms.core.db import after_commit, commit, utcnow
from lms.core.errors import Forbidden, NotFound, Unauthorized
from lms.core.extensions import db
from lms.core.mail import send_email
from lms.core.security import hash_password
from lms.core.storage import Download, ObjectMissing, StorageError, get_storage
from lms.core.tasks import enqueue
from lms.courses.models import Course
from lms.enrollments.models import Enrollment, LessonProgress
from lms.files.models import StoredFile
from lms.privacy.models import DataExport
from lms.quizzes.models import QuizAttempt
from lms.users.models import User
from lms.users.service import get_user

log = logging.getLogger(__name__)

ERASED_NAME = "Name withheld"
ADMINS_NOT_ERASED = "Admin accounts cannot be erased over the API"
LINK_INVALID = "The download link is invalid or has expired"
EXPORT_NOT_FOUND = "Export not found"
EXPORT_READY_SUBJECT = "Your LMS data export is ready"
_SIGNING_SALT = "lms.privacy.data-export"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


# --- export -------------------------------------------------------------------------------------

def request_export(user: User) -> DataExport:
    """A pending export of the caller's data (the one already pending, if any), built by a job."""
    pending = db.session.scalar(select(DataExport).where(DataExport.user_id == user.id,
                                                         DataExport.status == "pending"))
    if pending is not None:
        return pending
    export = DataExport(id=uuid.uuid4(), user_id=user.id, status="pending", requested_at=utcnow())
    db.session.add(export)
    events.emit(events.USER_DATA_EXPORT_REQUESTED, user=user, export=export)
    export_id = str(export.id)
    after_commit(lambda: enqueue(build_export, export_id))
    commit()
    return export


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SIGNING_SALT)


def _link_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["DATA_EXPORT_LINK_EXPIRE_HOURS"])


def download_link(export: DataExport) -> str:
    config = current_app.config
    token = _serializer().dumps(str(export.id))
    return (f"{config['PUBLIC_API_BASE_URL'].rstrip('/')}{config['API_V1_PREFIX']}"
            f"/users/exports/{export.id}/download?token={token}")


def _json(data: Any) -> bytes:
    """Times, ids and decimals as their text."""
    return json.dumps(data, default=str, indent=2, ensure_ascii=False).encode("utf-8")


def _columns(row: Any, *exclude: str) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__mapper__.column_attrs
            if column.key not in exclude}


def _personal_data(user: User) -> tuple[dict[str, Any], list[StoredFile]]:
    """Everything about the user as JSON-ready values (one statement per kind), and their uploads."""
    enrollments = db.session.execute(
        select(Enrollment, Course.title).join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.student_id == user.id).order_by(Enrollment.enrolled_at)).all()
    enrollment_ids = [row.Enrollment.id for row in enrollments]
    progress = db.session.scalars(select(LessonProgress).where(LessonProgress.enrollment_id.in_(enrollment_ids))
                                  .order_by(LessonProgress.enrollment_id, LessonProgress.started_at)).all()
    attempts = db.session.scalars(select(QuizAttempt).where(QuizAttempt.enrollment_id.in_(enrollment_ids))
                                  .order_by(QuizAttempt.started_at)).all()
    submissions = db.session.scalars(select(Submission).where(Submission.enrollment_id.in_(enrollment_ids))
                                     .order_by(Submission.submitted_at)).all()
    certificates = db.session.scalars(select(Certificate).where(Certificate.student_id == user.id)
                                      .order_by(Certificate.issued_at)).all()
    files = db.session.scalars(select(StoredFile).where(StoredFile.uploaded_by == user.id)
                               .order_by(StoredFile.created_at)).all()
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "user",
                                                        AuditEntry.target_id == str(user.id))
                               .order_by(AuditEntry.occurred_at)).all()
    return {
        "profile": _columns(user, "password_hash", "tokens_valid_after"),
        "enrollments": [{**_columns(row.Enrollment), "course_title": row.title} for row in enrollments],
        "lesson_progress": [_columns(row) for row in progress],
        "quiz_attempts": [_columns(row) for row in attempts],
        "submissions": [_columns(row) for row in submissions],
        "certificates": [_columns(row, "storage_key") for row in certificates],
        "files": [_columns(row, "storage_key") for row in files],
        "security_events": [_columns(row) for row in audit],
    }, list(files)


def _archive_name(stored: StoredFile) -> str:
    return f"files/{stored.id}-{_UNSAFE_NAME.sub('_', stored.original_filename)[:100]}"


def _write_zip(data: dict[str, Any], files: list[StoredFile]) -> tempfile.SpooledTemporaryFile:
    """The ZIP in a temporary file (in memory while small): one JSON per kind, and the uploads."""
    archive = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    uploads = get_storage("uploads")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, content in data.items():
            bundle.writestr(f"{name}.json", _json(content))
        for stored in files:
            try:
                with uploads.open(stored.storage_key) as source, bundle.open(_archive_name(stored), "w") as target:
                    shutil.copyfileobj(source, target)
            except StorageError:
                log.warning("export: upload %s is missing from storage", stored.id)
        bundle.writestr("README.txt", "Your personal data held by the LMS, as JSON files, and the files you "
                                      "uploaded (files/). Times are UTC.\n")
    archive.seek(0)
    return archive


def build_export(export_id: str) -> None:
    """The job: build the ZIP, store it, mark the export ready, mail the link (idempotent)."""
    export = db.session.get(DataExport, uuid.UUID(export_id))
    if export is None or export.status != "pending":
        return
    user = db.session.get(User, export.user_id)
    archive = _write_zip(*_personal_data(user))
    size = archive.seek(0, io.SEEK_END)
    archive.seek(0)
    key = f"{export.id}.zip"
    get_storage("exports").save(key, archive, "application/zip")
    export.storage_key, export.size_bytes = key, size
    export.status, export.ready_at = "ready", utcnow()
    email, name, link = user.email, user.full_name, download_link(export)
    db.session.commit()
    send_email(email, EXPORT_READY_SUBJECT, "email/data_export_ready.txt", full_name=name, link=link,
               expires_in_hours=current_app.config["DATA_EXPORT_LINK_EXPIRE_HOURS"])


def download_export(export_id: uuid.UUID, token: str) -> Download:
    """The ZIP behind a signed, unexpired link to this export; 401 for a bad or expired link."""
    try:
        signed_id = _serializer().loads(token, max_age=int(_link_lifetime().total_seconds()))
    except (SignatureExpired, BadSignature) as exc:
        raise Unauthorized(LINK_INVALID) from exc
    if signed_id != str(export_id):
        raise Unauthorized(LINK_INVALID)
    export = db.session.get(DataExport, export_id)
    if export is None or export.status != "ready" or export.storage_key is None:
        raise NotFound(EXPORT_NOT_FOUND)
    return Download(area="exports", key=export.storage_key, filename=f"lms-data-export-{export.id}.zip",
                    content_type="application/zip", missing_detail=EXPORT_NOT_FOUND)


def purge_expired_exports() -> int:
    """The periodic job (lms/cron.py): delete exports whose link has expired, and their ZIPs."""
    expired = db.session.scalars(select(DataExport).where(
        DataExport.requested_at < utcnow() - _link_lifetime())).all()
    keys = [export.storage_key for export in expired if export.storage_key]
    for export in expired:
        db.session.delete(export)
    db.session.commit()
    delete_stored_objects({"exports": keys})
    return len(expired)


# --- erasure ------------------------------------------------------------------------------------

def erase_own_account(user: User, password: str, client_ip: str) -> None:
    """The caller erases their account, confirming with their password (checked like a login)."""
    confirm_password(user, password, client_ip)
    _erase(user)


def erase_account(user_id: uuid.UUID) -> None:
    """An admin erases a student's or an instructor's account."""
    _erase(get_user(user_id))


def _erase(user: User) -> None:
    if user.is_admin:
        raise Forbidden(ADMINS_NOT_ERASED)
    if user.erased_at is not None:
        return  # erased already
    enrollments = select(Enrollment.id).where(Enrollment.student_id == user.id).scalar_subquery()
    stored = {
        "uploads": list(db.session.scalars(select(StoredFile.storage_key).where(StoredFile.uploaded_by == user.id))),
        "certificates": list(db.session.scalars(select(Certificate.storage_key).where(
            Certificate.student_id == user.id, Certificate.storage_key.is_not(None)))),
        "exports": list(db.session.scalars(select(DataExport.storage_key).where(
            DataExport.user_id == user.id, DataExport.storage_key.is_not(None)))),
    }
    for statement in (
        delete(StoredFile).where(StoredFile.uploaded_by == user.id),
        delete(DataExport).where(DataExport.user_id == user.id),
        delete(UserToken).where(UserToken.user_id == user.id),
        delete(RefreshToken).where(RefreshToken.user_id == user.id),
        update(Certificate).where(Certificate.student_id == user.id).values(storage_key=None),
        update(Enrollment).where(Enrollment.student_id == user.id).values(review=None),
        update(LessonProgress).where(LessonProgress.enrollment_id.in_(enrollments)).values(notes=None),
        update(QuizAttempt).where(QuizAttempt.enrollment_id.in_(enrollments)).values(answers=None),
        update(Submission).where(Submission.enrollment_id.in_(enrollments)).values(
            content=None, file_urls=None, submission_metadata=None, feedback=None, feedback_attachments=None),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))
    end_all_sessions(user)
    user.email = f"erased-{user.id.hex}@erased.invalid"
    user.full_name = ERASED_NAME
    user.password_hash = hash_password(secrets.token_urlsafe(32))  # nobody knows it
    user.is_active, user.mfa_enabled = False, False
    user.email_verified_at = user.last_login_at = user.password_changed_at = None
    user.erased_at = utcnow()
    events.emit(events.USER_ERASED, user=user)
    # The name shown on the courses they teach, and the reviews of those they took, are cached.
    for course_id in db.session.scalars(select(Course.id).where(Course.instructor_id == user.id).union(
            select(Enrollment.course_id).where(Enrollment.student_id == user.id))):
        events.emit(events.COURSE_CHANGED, course_id=course_id)
    after_commit(lambda: enqueue(delete_stored_objects, stored))
    commit()
    db.session.expire_all()  # the bulk updates above bypassed the loaded objects


def delete_stored_objects(keys_by_area: dict[str, list[str]]) -> None:
    """The job that deletes objects from storage (a missing one is already gone)."""
    for area, keys in keys_by_area.items():
        storage = get_storage(area)
        for key in keys:
            try:
                storage.delete(key)
            except ObjectMissing:
                continue
            except StorageError:
                log.exception("could not delete %s/%s", area, key)
