"""The contract's list shapes (§1.5), built one way for every module.

- page/size: `PageQuerySchema` + `paginate(stmt, args)` + `page_schema(ItemSchema)`;
- skip/limit: `SkipLimitQuerySchema` + `skip_limit(stmt, args, key)` + `skip_limit_schema(...)`;
- unpaged: `UnpagedQuerySchema` + `collect(stmt, args, key)` + `list_schema(...)`.
The first two run exactly two statements (a COUNT and the page) whatever the page size, the third
one; whatever the items need beyond their own row must be loaded by `stmt` itself (joins, `selectinload`).

All three also page for incremental sync (issue 13). Without `updated_since` and `after` a list
answers its usual shape in its usual order. With either, the list is in sync mode:

- `updated_since` (RFC 3339 with an offset) keeps the items whose `updated_at` is at or after it;
- the items come in ascending `id` order, an order no update changes, and `after=<next_cursor>`
  answers the items after the cursor's (the page/skip offset is then not used): a walk sees each
  item that exists throughout it exactly once, however they are updated meanwhile;
- an unpaged list then pages too, by `limit`;
- the answer adds `next_cursor` (null on the last page) and `until`, a watermark fixed when the
  walk began (minus `SYNC_SETTLE_SECONDS`, for transactions still committing): the next sync passes
  it as `updated_since`, so what changed during a walk is picked up by the next one.
`total` counts every item matching the filters (the cursor aside).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from datetime import datetime, timedelta
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import Select, func, select

from lms.core.db import utcnow
from lms.core.errors import BadRequest
from lms.core.schemas import Integer, UTCDateTime, non_negative_int, positive_int
from lms.core.extensions import db

SINCE_EXAMPLE = "2026-12-01T00:00:00Z"
CURSOR_EXAMPLE = "eyJ1bnRpbCI6IjIwMjYtMTItMDZUMDI6MDA6MDArMDA6MDAiLCJpZCI6IjNmYTg1ZjY0NTcxNzQ1NjJiM2ZjMmM5NjNmNjZhZmE2In0"
BAD_CURSOR = "after is not a cursor this API returned (use next_cursor as it is)"


def aware_timestamp(value: str) -> datetime:
    """An ISO 8601 date and time with an offset; ValueError for anything else (a date alone, no offset)."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None or "T" not in value.upper():
        raise ValueError(f"not a date and time with an offset: {value!r}")
    return parsed


def parse_since(value: str, name: str) -> datetime:
    """An RFC 3339 timestamp with an offset (`Z` or `+hh:mm`); anything else is a 400 naming `name`."""
    try:
        return aware_timestamp(value)
    except ValueError as exc:
        raise BadRequest(f"{name} must be an RFC 3339 timestamp with an offset, such as {SINCE_EXAMPLE}") from exc


def encode_cursor(position: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: tuple[str, ...]) -> dict[str, str]:
    """The position an `encode_cursor` text carries; a cursor this server did not write is a 400."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(position, dict) or set(position) != set(keys) or \
                not all(isinstance(value, str) for value in position.values()):
            raise ValueError(cursor)
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest(BAD_CURSOR) from exc


def settled_now() -> datetime:
    """Now, minus the time a transaction may still take to commit what it stamped earlier."""
    return utcnow() - timedelta(seconds=current_app.config["SYNC_SETTLE_SECONDS"])


class SyncQuerySchema(ma.Schema):
    """The sync parameters of every list (see the module docstring); checked by `paginate`, `skip_limit`
    and `collect`, after authentication, so that a malformed value is a 400."""

    updated_since = ma.fields.String(metadata={
        "format": "date-time", "example": SINCE_EXAMPLE,
        "description": "RFC 3339 timestamp with an offset: only the items whose `updated_at` is at or after it. "
                       "Switches the list to sync mode: ascending `id` order, `next_cursor` and `until` in the "
                       "answer. A timestamp without an offset, or a malformed one, is a 400."})
    after = ma.fields.String(validate=ma.validate.Length(max=512), metadata={
        "example": CURSOR_EXAMPLE,
        "description": "Opaque cursor: the `next_cursor` of the previous page. Answers the items after it (sync "
                       "mode; send the same filters again, `page`/`skip` are not used). A cursor this API did "
                       "not return is a 400."})


class SinceQuerySchema(ma.Schema):
    """`updated_since` alone, for the lists the contract answers as a bare JSON array (a quiz's
    questions, one's attempts at a quiz): small, bounded lists, filtered whole, with no cursor."""

    updated_since = ma.fields.String(metadata={
        "format": "date-time", "example": SINCE_EXAMPLE,
        "description": "RFC 3339 timestamp with an offset: only the items whose `updated_at` is at or after it "
                       "(the list keeps its order; deletions are in `GET /changes`). A timestamp without an "
                       "offset, or a malformed one, is a 400."})


def changed_since(items: list[Any], updated_since: str | None) -> list[Any]:
    """The items of a bounded list whose `updated_at` is at or after `updated_since` (all without it)."""
    if not updated_since:
        return items
    since = parse_since(updated_since, "updated_since")
    return [item for item in items if item.updated_at >= since]


class UnpagedQuerySchema(SyncQuerySchema):
    """The unpaged lists (`collect`): their sync mode pages, by `limit`."""

    limit = Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000), metadata={
        "description": "Sync mode only (with `updated_since` or `after`): items per page, 1 to 1000 (default 100). "
                       "Without them the whole list is answered, as always."})


class PageQuerySchema(SyncQuerySchema):
    # Bounded so that the OFFSET fits the database's integer (a huge page is a 422, not a 500).
    page = Integer(load_default=1, validate=positive_int)
    page_size = Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class SkipLimitQuerySchema(SyncQuerySchema):
    skip = Integer(load_default=0, validate=non_negative_int)
    limit = Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


def count(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def is_sync(args: dict[str, Any]) -> bool:
    return bool(args.get("updated_since") or args.get("after"))


def _sync_page(stmt: Select, args: dict[str, Any], size: int, offset: int) -> tuple[list[Any], int, dict[str, Any]]:
    """Sync mode: the page after the cursor (or at `offset`), the filtered total, and the answer's
    `next_cursor`/`until`. Two statements, as in the default mode."""
    model = stmt.column_descriptions[0]["entity"]
    if args.get("updated_since"):
        stmt = stmt.where(model.updated_at >= parse_since(args["updated_since"], "updated_since"))
    stmt = stmt.order_by(None).order_by(model.id)
    if args.get("after"):
        position = decode_cursor(args["after"], ("until", "id"))
        try:
            until, last_id = aware_timestamp(position["until"]), uuid.UUID(position["id"])
        except ValueError as exc:
            raise BadRequest(BAD_CURSOR) from exc
        total = count(stmt)
        page_stmt = stmt.where(model.id > last_id)
    else:
        until, total, page_stmt = settled_now(), count(stmt), stmt.offset(offset)
    rows = list(db.session.execute(page_stmt.limit(size + 1)).scalars().unique())
    items = rows[:size]
    next_cursor = encode_cursor({"until": until.isoformat(), "id": items[-1].id.hex}) if len(rows) > size else None
    return items, total, {"next_cursor": next_cursor, "until": until}


def paginate(stmt: Select, args: dict[str, Any], *, scalars: bool = True) -> dict[str, Any]:
    page, page_size = args["page"], args["page_size"]
    if is_sync(args):
        items, total, sync = _sync_page(stmt, args, page_size, (page - 1) * page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size,
                "total_pages": math.ceil(total / page_size) if total else 0, **sync}
    total = count(stmt)
    result = db.session.execute(stmt.limit(page_size).offset((page - 1) * page_size))
    items = list(result.scalars().unique() if scalars else result.all())
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "total_pages": math.ceil(total / page_size) if total else 0}


def skip_limit(stmt: Select, args: dict[str, Any], key: str) -> dict[str, Any]:
    skip, limit = args["skip"], args["limit"]
    if is_sync(args):
        items, total, sync = _sync_page(stmt, args, limit, skip)
        return {key: items, "total": total, "page": skip // limit + 1, "page_size": limit, **sync}
    total = count(stmt)
    items = list(db.session.execute(stmt.limit(limit).offset(skip)).scalars().unique())
    return {key: items, "total": total, "page": skip // limit + 1, "page_size": limit}


def collect(stmt: Select, args: dict[str, Any], key: str) -> dict[str, Any]:
    """An unpaged list, `{key: [...], "total": n}`: the whole list in one statement; in sync mode,
    a page of `limit` items with `next_cursor` and `until` (two statements)."""
    if is_sync(args):
        items, total, sync = _sync_page(stmt, args, args["limit"], 0)
        return {key: items, "total": total, **sync}
    items = list(db.session.execute(stmt).scalars().unique())
    return {key: items, "total": len(items)}


def sync_fields() -> dict[str, ma.fields.Field]:
    """The fields a list answer adds in sync mode (absent otherwise)."""
    return {
        "next_cursor": ma.fields.String(allow_none=True, metadata={
            "example": CURSOR_EXAMPLE,
            "description": "Sync mode only: pass as `after` for the next page; null on the last page."}),
        "until": UTCDateTime(metadata={
            "example": "2026-12-06T02:00:00Z",
            "description": "Sync mode only: the walk's watermark; pass it as `updated_since` in the next sync."}),
    }


_schemas: dict[tuple[str, str], type[ma.Schema]] = {}


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    name = f"{item_schema.__name__.removesuffix('Schema')}PageSchema"
    if ("page", name) not in _schemas:
        _schemas[("page", name)] = ma.Schema.from_dict({
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "total": Integer(required=True),
            "page": Integer(required=True),
            "page_size": Integer(required=True),
            "total_pages": Integer(required=True),
            **sync_fields(),
        }, name=name)
    return _schemas[("page", name)]


def skip_limit_schema(item_schema: type[ma.Schema], key: str) -> type[ma.Schema]:
    name = f"{item_schema.__name__.removesuffix('Schema')}ListSchema"
    if ("skip", name) not in _schemas:
        _schemas[("skip", name)] = ma.Schema.from_dict({
            key: ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "total": Integer(required=True),
            "page": Integer(required=True),
            "page_size": Integer(required=True),
            **sync_fields(),
        }, name=name)
    return _schemas[("skip", name)]


def list_schema(item_schema: type[ma.Schema], key: str) -> type[ma.Schema]:
    """Unpaged lists with their own wrapper key: `{key: [...], "total": n}`."""
    name = f"{item_schema.__name__.removesuffix('Schema')}ListSchema"
    if ("list", name) not in _schemas:
        _schemas[("list", name)] = ma.Schema.from_dict({
            key: ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "total": Integer(required=True),
            **sync_fields(),
        }, name=name)
    return _schemas[("list", name)]
