"""Certificates: issued once per completed enrollment, stored as PDFs, verifiable by anyone.

The certificate *record* (number, dates, `enrollment.certificate_issued_at`) is written in the
transaction that completes the enrollment (a subscriber of `enrollment.completed`), so a client
reading right after the completing request finds it, and nothing can lose it (contract §5.35).
The PDF is rendered afterwards by a job (`render_certificate_pdf`), or on the first download if
that job has not run; the student is mailed once the completion commits.

Idempotent (§5.25): the unique constraint on `enrollment_id` leaves one row whatever runs twice
(completions take turns on the locked enrollment; the on-demand endpoint may race them and then
returns the winner's row). A number drawn twice is drawn again, in a savepoint.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms.certificates.models import Certificate
from lms.certificates.urls import pdf_path, verification_url
from lms.core import events, tombstones
from lms.core.db import after_commit, commit, utcnow
from lms.core.errors import BadRequest, NotFound, ServiceUnavailable
from lms.core.mail import send_email
from lms.core.pagination import collect
from lms.core.storage import Download, Storage, StorageError, get_storage
from lms.core.tasks import enqueue
from lms.courses.service import can_manage_course, get_course
from lms.enrollments.models import Enrollment
from lms.core.extensions import db
from lms.users.models import User

log = logging.getLogger(__name__)

CERTIFICATE_NOT_FOUND = "Certificate not found"
NUMBER_ATTEMPTS = 5


# --- issuance -----------------------------------------------------------------------------------

@events.on(events.ENROLLMENT_COMPLETED)
def issue_on_completion(enrollment: Enrollment, **_: Any) -> None:
    """In the completing transaction: the enrollment's certificate record."""
    issue_record(enrollment)


def find_certificate_for_enrollment(enrollment_id: uuid.UUID) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.enrollment_id == enrollment_id))


def new_certificate_number() -> str:
    """`CERT-YYYYMMDD-XXXXXX`: the issue date and 6 uppercase hex digits."""
    return f"CERT-{utcnow():%Y%m%d}-{secrets.token_hex(3).upper()}"


def issue_record(enrollment: Enrollment) -> Certificate:
    """The enrollment's certificate: the existing one, or a new record in the current transaction
    (not committed), whose PDF is rendered and whose student is mailed once it commits."""
    existing = find_certificate_for_enrollment(enrollment.id)
    if existing is not None:
        return existing
    completion_date = (enrollment.completed_at or utcnow()).date()
    for _ in range(NUMBER_ATTEMPTS):
        issued_at = utcnow()
        certificate = Certificate(certificate_number=new_certificate_number(), enrollment_id=enrollment.id,
                                  student_id=enrollment.student_id, course_id=enrollment.course_id,
                                  completion_date=completion_date, issued_at=issued_at, is_revoked=False)
        try:
            with db.session.begin_nested():  # a taken number or enrollment undoes this insert only
                db.session.add(certificate)
        except IntegrityError:
            existing = find_certificate_for_enrollment(enrollment.id)
            if existing is not None:
                return existing  # a concurrent issuance won
            continue  # the number was drawn before: draw another
        enrollment.certificate_issued_at = issued_at
        events.emit(events.CERTIFICATE_ISSUED, certificate=certificate)
        certificate_id = certificate.id
        after_commit(lambda: enqueue(render_certificate_pdf, str(certificate_id)))
        after_commit(lambda: _mail_student(certificate_id))
        return certificate
    raise RuntimeError(f"no unique certificate number after {NUMBER_ATTEMPTS} attempts")


def render_certificate_pdf(certificate_id: uuid.UUID | str) -> None:
    """The job: render and store a certificate's PDF unless it is stored already (idempotent)."""
    certificate = db.session.scalar(_with_names().where(Certificate.id == uuid.UUID(str(certificate_id))))
    if certificate is None or certificate.storage_key is not None:
        return
    _store_pdf(get_storage("certificates"), certificate)
    db.session.commit()


def _store_pdf(storage: Storage, certificate: Certificate) -> None:
    """Render the certificate (student, course and instructor names), store it under its key
    (`<number>.pdf`) and record the key (not committed)."""
    # fpdf2 and its fonts weigh about 50 MB: only the processes that render load them.
    from lms.certificates.pdf import CertificateContent, render_certificate

    course = certificate.course
    instructor = db.session.get(User, course.instructor_id)
    content = CertificateContent(
        certificate_number=certificate.certificate_number,
        student_name=certificate.student.full_name,
        course_title=course.title,
        instructor_name=instructor.full_name if instructor is not None else "",
        completion_date=certificate.completion_date,
        verification_url=verification_url(certificate.certificate_number),
    )
    key = f"{certificate.certificate_number}.pdf"
    storage.save(key, render_certificate(content), "application/pdf")
    certificate.storage_key = key


def _discard_pdf(storage: Storage, key: str) -> None:
    try:
        storage.delete(key)
    except StorageError:
        log.exception("could not delete the unused certificate file %s", key)


@events.on(events.COURSE_DELETED)
def _discard_files_of_deleted_course(course_id: uuid.UUID, **_: Any) -> None:
    """The course's certificates go with it (database cascade): their tombstones now, their PDFs
    once that commits."""
    tombstones.record("certificates", select(Certificate.id, Certificate.course_id)
                      .where(Certificate.course_id == course_id))
    keys = certificate_files_of_course(course_id)
    if keys:
        after_commit(lambda: enqueue(discard_certificate_files, keys))


def certificate_files_of_course(course_id: uuid.UUID) -> list[str]:
    """The stored PDFs of a course's certificates (read before the course is deleted)."""
    return list(db.session.scalars(select(Certificate.storage_key).where(
        Certificate.course_id == course_id, Certificate.storage_key.is_not(None))))


def discard_certificate_files(keys: list[str]) -> None:
    """The job that removes PDFs whose certificates were deleted with their course."""
    storage = get_storage("certificates")
    for key in keys:
        _discard_pdf(storage, key)


def _mail_student(certificate_id: uuid.UUID) -> None:
    certificate = db.session.scalar(_with_names().where(Certificate.id == certificate_id))
    student, course = certificate.student, certificate.course
    send_email(
        student.email, "Your LMS certificate is ready", "email/certificate_ready.txt",
        student_name=student.full_name, course_title=course.title,
        certificate_number=certificate.certificate_number,
        verification_url=verification_url(certificate.certificate_number),
        download_url=f"{current_app.config['PUBLIC_API_BASE_URL'].rstrip('/')}{pdf_path(certificate)}",
    )


def generate_for_enrollment(enrollment_id: uuid.UUID, user: User) -> Certificate:
    """On demand, for an admin, the enrolled student or the course's instructor (others: 404)."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or not can_generate_certificate(user, enrollment):
        raise NotFound("Enrollment not found")
    if enrollment.status != "completed":
        raise BadRequest("Enrollment is not complete yet")
    certificate = issue_record(enrollment)
    commit()
    return certificate


def can_generate_certificate(user: User, enrollment: Enrollment) -> bool:
    return enrollment.student_id == user.id or can_manage_course(user, get_course(enrollment.course_id))


# --- reading, downloading, verifying, revoking ----------------------------------------------------

def my_certificates(user: User, args: dict[str, Any]) -> dict[str, Any]:
    return collect(select(Certificate).where(Certificate.student_id == user.id, Certificate.is_revoked.is_(False))
                   .order_by(Certificate.issued_at.desc(), Certificate.id.desc()), args, "certificates")


def _with_names():
    return select(Certificate).options(joinedload(Certificate.student), joinedload(Certificate.course))


def download_certificate(certificate_id: uuid.UUID, user: User) -> Download:
    """The owner (revoked or not) or an admin; 404 for everyone else, instructors included (§5.19).

    A PDF that is not stored (its job has not run, or the file was lost) is rendered now.
    """
    certificate = db.session.scalar(_with_names().where(Certificate.id == certificate_id))
    if certificate is None or not (certificate.student_id == user.id or user.is_admin):
        raise NotFound(CERTIFICATE_NOT_FOUND)
    storage = get_storage("certificates")
    try:
        if certificate.storage_key is None or not storage.exists(certificate.storage_key):
            if certificate.storage_key is not None:
                log.warning("certificate %s has no stored PDF; rendering it again", certificate.certificate_number)
            _store_pdf(storage, certificate)
            db.session.commit()
    except StorageError as exc:
        log.error("certificate %s could not be stored: %s", certificate.certificate_number, exc)
        raise ServiceUnavailable("File storage is unavailable") from exc
    return Download("certificates", certificate.storage_key, f"{certificate.certificate_number}.pdf",
                    "application/pdf")


def verify_by_number(certificate_number: str) -> dict[str, Any]:
    """Always an answer, never an error: unknown and revoked numbers are simply not valid."""
    certificate = db.session.scalar(_with_names().where(
        Certificate.certificate_number == certificate_number, Certificate.is_revoked.is_(False)))
    if certificate is None:
        return {"valid": False, "certificate": None, "message": "Certificate not found"}
    return {"valid": True, "certificate": certificate, "message": "Certificate is valid"}


def verify_by_id(certificate_id: uuid.UUID) -> Certificate:
    certificate = db.session.scalar(_with_names().where(
        Certificate.id == certificate_id, Certificate.is_revoked.is_(False)))
    if certificate is None:
        raise NotFound("Certificate not found or invalid")
    return certificate


def revoke(certificate_id: uuid.UUID) -> Certificate:
    """Admins only (checked by the route). Revoking twice keeps the first revocation time."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound(CERTIFICATE_NOT_FOUND)
    if not certificate.is_revoked:
        certificate.is_revoked = True
        certificate.revoked_at = utcnow()
        events.emit(events.CERTIFICATE_REVOKED, certificate=certificate)
        commit()
    return certificate
