"""Field types shared by every module's schemas."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import marshmallow as ma

TWO_PLACES = Decimal("0.01")


def to_decimal2(value) -> Decimal:
    return Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


class Decimal2(ma.fields.Field):
    """A decimal sent as a JSON string with two decimals ("66.67"); accepts numbers or strings."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "format": "decimal", "example": "70.00", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return f"{to_decimal2(value):.2f}"

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ma.ValidationError("Not a valid number.")
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise ma.ValidationError("Not a valid number.") from exc
        if not number.is_finite():
            raise ma.ValidationError("Not a valid number.")
        return number


class UTCDateTime(ma.fields.DateTime):
    """ISO-8601 with a UTC offset, written `...Z`; naive input is taken as UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=timezone.utc)
        try:
            return parsed.astimezone(timezone.utc)
        except OverflowError as exc:  # e.g. year 9999 at -05:00 is past datetime.max in UTC
            raise ma.ValidationError("Not a valid datetime.") from exc


def one_of(*choices: str) -> ma.validate.OneOf:
    """Enumerated strings: anything else is a 422 naming the allowed values (contract §5.4)."""
    return ma.validate.OneOf(choices)


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)


# Integer columns are 32-bit: a larger value is a 422 at the schema, never a database error.
INT32_MAX = 2**31 - 1
positive_int = ma.validate.Range(min=1, max=INT32_MAX)
non_negative_int = ma.validate.Range(min=0, max=INT32_MAX)
