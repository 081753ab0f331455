"""The User object (contract §3) and the fields shared by every body that carries an e-mail or a password."""

from __future__ import annotations

import unicodedata

import marshmallow as ma
from email_validator import EmailNotValidError, validate_email

from lms.core.pagination import PageQuerySchema
from lms.core.schemas import Boolean, UTCDateTime, one_of
from lms.core.security import PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH, password_too_long
from lms.users.models import ROLES


class EmailField(ma.fields.String):
    """An e-mail address, syntax-checked (no DNS lookup), NFKC-normalised and lower-cased, so that
    addresses differing only by compatibility characters (a full-width `ｆ`, a long `ſ`) are one
    account."""

    def __init__(self, **kwargs):
        metadata = {"format": "email", "example": "ada@example.com", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, validate=ma.validate.Length(max=320), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        raw = unicodedata.normalize("NFKC", super()._deserialize(value, attr, data, **kwargs))
        try:
            return validate_email(raw, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            raise ma.ValidationError("value is not a valid email address") from exc


def _fits_bcrypt(password: str) -> None:
    if password_too_long(password):
        raise ma.ValidationError(f"Password must be at most {PASSWORD_MAX_BYTES} bytes in UTF-8")


def new_password_field(**kwargs) -> ma.fields.String:
    """A password being set: 8 characters or more and at most 72 bytes in UTF-8 (bcrypt's limit,
    §5.17). The document's maxLength of 72 characters is the byte limit for ASCII; JSON Schema
    counts characters, so the description names the byte rule."""
    return ma.fields.String(
        validate=[ma.validate.Length(min=PASSWORD_MIN_LENGTH), _fits_bcrypt],
        metadata={"format": "password", "maxLength": PASSWORD_MAX_BYTES, "description": (
            f"At least {PASSWORD_MIN_LENGTH} characters and at most {PASSWORD_MAX_BYTES} bytes of UTF-8 "
            f"(bcrypt's limit: {PASSWORD_MAX_BYTES} ASCII characters, fewer with accents or other scripts)")},
        **kwargs,
    )


def _not_blank(text: str) -> None:
    if len(text.strip()) < 2:
        raise ma.ValidationError("Must contain at least 2 characters other than spaces.")


def full_name_field(**kwargs) -> ma.fields.String:
    """2–255 characters; stored without surrounding spaces."""
    return ma.fields.String(validate=[ma.validate.Length(min=2, max=255), _not_blank], **kwargs)


class UserSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    email = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    role = ma.fields.String(required=True, metadata={"enum": list(ROLES)})
    is_active = ma.fields.Boolean(required=True)
    mfa_enabled = ma.fields.Boolean(required=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True, metadata={"description": "Last change (filter lists with `updated_since`)"})
    email_verified_at = UTCDateTime(required=True, allow_none=True)


class UserCreateSchema(ma.Schema):
    """An account made by an admin: students and instructors only (admins come from the CLI, §5.11)."""

    email = EmailField(required=True)
    password = new_password_field(required=True)
    full_name = full_name_field(required=True)
    role = ma.fields.String(load_default="student", validate=one_of(*ROLES))


class UserUpdateSchema(ma.Schema):
    """Partial update by an admin; a `null` value leaves the field as it is."""

    full_name = full_name_field(allow_none=True)
    role = ma.fields.String(allow_none=True, validate=one_of(*ROLES))
    password = new_password_field(allow_none=True)
    is_active = Boolean(allow_none=True)


class UserListQuerySchema(PageQuerySchema):
    role = ma.fields.String(validate=one_of(*ROLES))
    search = ma.fields.String(validate=ma.validate.Length(max=255), metadata={
        "description": "Case-insensitive substring of the e-mail or full name; empty means no filter"})
