"""Personal data: export and erasure bodies."""

from __future__ import annotations

import marshmallow as ma

from lms.core.schemas import Integer, UTCDateTime
from lms.privacy.models import EXPORT_STATUSES


class DataExportSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(EXPORT_STATUSES)})
    requested_at = UTCDateTime(required=True)
    ready_at = UTCDateTime(allow_none=True)
    size_bytes = Integer(allow_none=True)


class ExportDownloadQuerySchema(ma.Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=512),
                             metadata={"description": "The signed token of the mailed link"})


class ErasureSchema(ma.Schema):
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024), load_only=True,
                                metadata={"description": "The caller's current password, to confirm"})
