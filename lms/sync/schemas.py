"""GET /changes: its query and its answer."""

from __future__ import annotations

import marshmallow as ma

from lms.core.pagination import CURSOR_EXAMPLE, SINCE_EXAMPLE
from lms.core.schemas import Integer, UTCDateTime
from lms.sync.types import DEFAULT_LIMIT, MAX_LIMIT, TYPES

TYPE_NAMES = list(TYPES)


class CommaSeparated(ma.fields.List):
    """A list sent as `a,b` or as repeated parameters (`types=a&types=b`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        items = [part.strip() for item in value for part in item.split(",") if part.strip()]
        return super()._deserialize(items, attr, data, **kwargs)


class ChangesQuerySchema(ma.Schema):
    since = ma.fields.String(required=True, metadata={
        "format": "date-time", "example": SINCE_EXAMPLE,
        "description": "RFC 3339 timestamp with an offset: the changes at or after it (the previous answer's "
                       "`until`). Without an offset, or malformed: 400."})
    types = CommaSeparated(ma.fields.String(metadata={"enum": TYPE_NAMES}), metadata={
        "example": ["courses", "enrollments"],
        "description": "The object types to report (comma-separated or repeated; default: all). An unknown type "
                       "is a 400."})
    after = ma.fields.String(validate=ma.validate.Length(max=1024), metadata={
        "example": CURSOR_EXAMPLE,
        "description": "The previous page's `next_cursor` (send the same `since` and `types`)."})
    limit = Integer(load_default=DEFAULT_LIMIT, validate=ma.validate.Range(min=1, max=MAX_LIMIT), metadata={
        "description": f"Changes per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})"})


class TypeChangesSchema(ma.Schema):
    created = ma.fields.List(ma.fields.UUID(), required=True, metadata={
        "description": "Created at or after `since` (and maybe updated since)"})
    updated = ma.fields.List(ma.fields.UUID(), required=True, metadata={
        "description": "Created before `since`, updated at or after it"})
    deleted = ma.fields.List(ma.fields.UUID(), required=True, metadata={
        "description": "Deleted at or after `since` (directly, or with what contained them)"})


class ChangesSchema(ma.Schema):
    since = UTCDateTime(required=True)
    until = UTCDateTime(required=True, metadata={
        "description": "The watermark: every change before it is in this answer (and its next pages); pass it "
                       "as `since` next time"})
    changes = ma.fields.Dict(keys=ma.fields.String(metadata={"enum": TYPE_NAMES}),
                             values=ma.fields.Nested(TypeChangesSchema), required=True, metadata={
        "description": "Per type asked for: the ids created, updated and deleted in [since, until)"})
    next_cursor = ma.fields.String(required=True, allow_none=True, metadata={
        "example": CURSOR_EXAMPLE,
        "description": "Pass as `after` for the rest of the changes up to `until`; null when this page is the last"})
