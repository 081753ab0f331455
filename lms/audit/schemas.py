"""The audit log's query and answer bodies."""

from __future__ import annotations

import marshmallow as ma

from lms.core.schemas import Integer, UTCDateTime


class AuditQuerySchema(ma.Schema):
    actor_id = ma.fields.UUID(metadata={"description": "Entries by this user"})
    target_type = ma.fields.String(validate=ma.validate.Length(max=32),
                                   metadata={"description": "`user`, `course`, `certificate`, `submission`..."})
    target_id = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"description": "The target's id"})
    action = ma.fields.String(validate=ma.validate.Length(max=64),
                              metadata={"description": "e.g. `auth.login_failed`, `user.role_changed`"})
    since = UTCDateTime(metadata={"description": "Entries at or after this instant"})
    until = UTCDateTime(metadata={"description": "Entries before this instant"})
    after = ma.fields.String(validate=ma.validate.Length(max=200), metadata={
        "description": "`next_cursor` of the previous page: the entries older than its last (a cursor this API did "
                       "not write is a 400)"})
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
    next_cursor = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "Pass as `after` for the next (older) entries; null: no more"})
