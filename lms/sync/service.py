"""What changed since a time, per object type, in one statement (whatever the types and sizes).

A row counts as created when its creation time is at or after `since`, as updated when only its
`updated_at` is; a deletion comes from its tombstone. Every change is in `[since, until)`, where
`until` (now, minus `SYNC_SETTLE_SECONDS`) is the watermark the client passes as the next `since`.
A page holds at most `limit` changes, ordered by (time, type, id); `next_cursor` resumes after the
last one, with the same `until`, so a long list is read in pages without repeating an id; a row
changed again during the walk moves past `until`, into the next sync.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, case, literal, select, tuple_, union_all
from flask import current_app

from lms.core.db import commit
from lms.core.errors import BadRequest
from lms.core.extensions import db
from lms.core.pagination import BAD_CURSOR, aware_timestamp, decode_cursor, encode_cursor, parse_since, settled_now
from lms.core.tombstones import Tombstone, prune_tombstones
from lms.sync.types import DEFAULT_LIMIT, TYPES

KINDS = ("created", "updated", "deleted")


def list_changes(args: dict[str, Any]) -> dict[str, Any]:
    """The changes of `args["types"]` (all by default) since `args["since"]`, a page at a time."""
    since = parse_since(args["since"], "since")
    types = list(dict.fromkeys(args.get("types") or TYPES))
    unknown = sorted(set(types) - set(TYPES))
    if unknown:
        raise BadRequest(f"Unknown types: {', '.join(unknown)}; known: {', '.join(TYPES)}")
    after = _position(args["after"]) if args.get("after") else None
    until = after[0] if after else settled_now()
    limit = args.get("limit", DEFAULT_LIMIT)

    changes = union_all(*(_row_changes(name, since, until) for name in types),
                        _deletions(types, since, until)).subquery()
    statement = select(changes).order_by(changes.c.changed_at, changes.c.object_type, changes.c.object_id)
    if after:
        statement = statement.where(tuple_(changes.c.changed_at, changes.c.object_type, changes.c.object_id)
                                    > tuple_(literal(after[1], Tombstone.deleted_at.type),
                                             literal(after[2], String()), literal(after[3], Tombstone.object_id.type)))
    rows = db.session.execute(statement.limit(limit + 1)).all()

    answer = {name: {kind: [] for kind in KINDS} for name in types}
    for row in rows[:limit]:
        answer[row.object_type][row.kind].append(row.object_id)
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = encode_cursor({"until": until.isoformat(), "at": last.changed_at.isoformat(),
                                 "type": last.object_type, "id": last.object_id.hex}) if last else None
    return {"since": since, "until": until, "changes": answer, "next_cursor": next_cursor}


def _row_changes(name: str, since: datetime, until: datetime):
    model, created_at = TYPES[name]
    return (select(literal(name, String()).label("object_type"), model.id.label("object_id"),
                   model.updated_at.label("changed_at"),
                   case((created_at >= since, literal("created", String())),
                        else_=literal("updated", String())).label("kind"))
            .where(model.updated_at >= since, model.updated_at < until))


def _deletions(types: list[str], since: datetime, until: datetime):
    return (select(Tombstone.object_type, Tombstone.object_id, Tombstone.deleted_at.label("changed_at"),
                   literal("deleted", String()).label("kind"))
            .where(Tombstone.object_type.in_(types), Tombstone.deleted_at >= since, Tombstone.deleted_at < until))


def _position(cursor: str) -> tuple[datetime, datetime, str, uuid.UUID]:
    position = decode_cursor(cursor, ("until", "at", "type", "id"))
    try:
        return (aware_timestamp(position["until"]), aware_timestamp(position["at"]),
                position["type"], uuid.UUID(position["id"]))
    except ValueError as exc:
        raise BadRequest(BAD_CURSOR) from exc


def prune() -> int:
    """The daily job (`lms/cron.py`): forget the deletions older than `TOMBSTONE_RETENTION_DAYS`; the
    number forgotten."""
    forgotten = prune_tombstones(timedelta(days=current_app.config["TOMBSTONE_RETENTION_DAYS"]))
    commit()
    return forgotten
