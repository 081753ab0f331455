from __future__ import annotations

import marshmallow as ma

from lms.certificates.urls import pdf_path
from lms.core.schemas import UTCDateTime


class CertificateSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    certificate_number = ma.fields.String(required=True, metadata={"example": "CERT-20261127-3FA9C1"})
    student_id = ma.fields.UUID(required=True)
    course_id = ma.fields.UUID(required=True)
    completion_date = ma.fields.Date(required=True)
    issued_at = UTCDateTime(required=True)
    pdf_url = ma.fields.Function(pdf_path, required=True, metadata={
        "type": "string", "description": "`/api/v1/certificates/{id}/download`"})
    is_revoked = ma.fields.Boolean(required=True)
    revoked_at = UTCDateTime(allow_none=True)
    updated_at = UTCDateTime(required=True, metadata={"description": "Last change (filter lists with `updated_since`)"})


class VerifiedCertificateSchema(CertificateSchema):
    """What verification shows anyone: the certificate, the student's name and the course's title."""

    student_name = ma.fields.String(required=True, attribute="student.full_name")
    course_title = ma.fields.String(required=True, attribute="course.title")


class VerificationSchema(ma.Schema):
    valid = ma.fields.Boolean(required=True)
    certificate = ma.fields.Nested(VerifiedCertificateSchema, allow_none=True, required=True)
    message = ma.fields.String(required=True)
