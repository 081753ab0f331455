"""The audit log's query and answer bodies."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

import marshmallow as ma

from lms.core.schemas import Integer, UTCDateTime


class Cursor(ma.fields.Field):
    """An opaque continuation token: the last entry's time and id, base64url-encoded."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"type": "string", **kwargs.pop("metadata", {})}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        at, entry_id = value
        return base64.urlsafe_b64encode(f"{at.isoformat()}|{entry_id}".encode()).decode().rstrip("=")

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            text = base64.urlsafe_b64decode(str(value) + "=" * (-len(str(value)) % 4)).decode()
            at, entry_id = text.split("|")
            when = datetime.fromisoformat(at)
            if when.tzinfo is None:
                raise ValueError("naive")
            return when, uuid.UUID(entry_id)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise ma.ValidationError("Not a valid cursor: pass next_cursor of the previous page as it is.") from exc


class AuditQuerySchema(ma.Schema):
    actor_id = ma.fields.UUID(metadata={"description": "Entries by this user"})
    target_type = ma.fields.String(validate=ma.validate.Length(max=32),
                                   metadata={"description": "`user`, `course`, `certificate`, `submission`..."})
    target_id = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"description": "The target's id"})
    action = ma.fields.String(validate=ma.validate.Length(max=64),
                              metadata={"description": "e.g. `auth.login_failed`, `user.role_changed`"})
    since = UTCDateTime(metadata={"description": "Entries at or after this instant"})
    until = UTCDateTime(metadata={"description": "Entries before this instant"})
    cursor = Cursor(metadata={"description": "`next_cursor` of the previous page"})
    limit = Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


class AuditEntrySchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    occurred_at = UTCDateTime(required=True)
    actor_id = ma.fields.UUID(allow_none=True, metadata={"description": "Who did it; null: nobody signed in"})
    action = ma.fields.String(required=True)
    target_type = ma.fields.String(allow_none=True)
    target_id = ma.fields.String(allow_none=True)
    client_ip = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    changes = ma.fields.Dict(required=True, metadata={
        "description": "What changed ([before, after] pairs, or facts such as a refused e-mail); never a secret"})


class AuditPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AuditEntrySchema), required=True)
    next_cursor = Cursor(allow_none=True, required=True, metadata={
        "description": "Pass as `cursor` for the next (older) entries; null: no more"})
