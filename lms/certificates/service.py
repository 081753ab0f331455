"""Certificates: issuance on completion, PDF, verification, revocation."""

from __future__ import annotations

import uuid


def schedule_certificate(enrollment_id: uuid.UUID) -> None:
    """Called once an enrollment has turned `completed` and that change is committed."""
