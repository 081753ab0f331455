"""The contract's list shapes (§1.5), built one way for every module.

- page/size: `PageQuerySchema` + `paginate(stmt, args)` + `page_schema(ItemSchema)`;
- skip/limit: `SkipLimitQuerySchema` + `skip_limit(stmt, args, key)` + `skip_limit_schema(...)`.
Both run exactly two statements (a COUNT and the page) whatever the page size; whatever the items
need beyond their own row must be loaded by `stmt` itself (joins, `selectinload`).
"""

from __future__ import annotations

import math
from typing import Any

import marshmallow as ma
from sqlalchemy import Select, func, select

from lms.core.schemas import Integer, non_negative_int, positive_int
from lms.core.extensions import db


class PageQuerySchema(ma.Schema):
    # Bounded so that the OFFSET fits the database's integer (a huge page is a 422, not a 500).
    page = Integer(load_default=1, validate=positive_int)
    page_size = Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class SkipLimitQuerySchema(ma.Schema):
    skip = Integer(load_default=0, validate=non_negative_int)
    limit = Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


def count(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def paginate(stmt: Select, args: dict[str, Any], *, scalars: bool = True) -> dict[str, Any]:
    page, page_size = args["page"], args["page_size"]
    total = count(stmt)
    result = db.session.execute(stmt.limit(page_size).offset((page - 1) * page_size))
    items = list(result.scalars().unique() if scalars else result.all())
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "total_pages": math.ceil(total / page_size) if total else 0}


def skip_limit(stmt: Select, args: dict[str, Any], key: str) -> dict[str, Any]:
    skip, limit = args["skip"], args["limit"]
    total = count(stmt)
    items = list(db.session.execute(stmt.limit(limit).offset(skip)).scalars().unique())
    return {key: items, "total": total, "page": skip // limit + 1, "page_size": limit}


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
        }, name=name)
    return _schemas[("skip", name)]


def list_schema(item_schema: type[ma.Schema], key: str) -> type[ma.Schema]:
    """Unpaged lists with their own wrapper key: `{key: [...], "total": n}`."""
    name = f"{item_schema.__name__.removesuffix('Schema')}ListSchema"
    if ("list", name) not in _schemas:
        _schemas[("list", name)] = ma.Schema.from_dict({
            key: ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "total": Integer(required=True),
        }, name=name)
    return _schemas[("list", name)]
