"""The URLs of a certificate: where it downloads (`pdf_url`) and where anyone verifies it.

Shared by the service (the PDF, the mail) and the schemas; no service here.
"""

from __future__ import annotations

from flask import current_app

from lms.certificates.models import Certificate


def verification_url(certificate_number: str) -> str:
    """The public verification endpoint of a certificate (printed on it and encoded in its QR code)."""
    config = current_app.config
    base = config["PUBLIC_API_BASE_URL"].rstrip("/")
    return f"{base}{config['API_V1_PREFIX']}/certificates/verify/{certificate_number}"


def pdf_path(certificate: Certificate) -> str:
    return f"{current_app.config['API_V1_PREFIX']}/certificates/{certificate.id}/download"
