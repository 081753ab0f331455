"""Request and response bodies of `/auth` (contract §3)."""

from __future__ import annotations

import marshmallow as ma

from lms.core.schemas import Integer, one_of
from lms.users.schemas import ROLES, EmailField, UserCreateSchema, UserSchema, new_password_field

# Tokens sent in bodies (JWTs, mailed tokens, MFA challenges): bounded, so a huge value is a 422.
_TOKEN_FIELD = {"validate": ma.validate.Length(min=1, max=4096)}


class RegisterSchema(UserCreateSchema):
    """The same fields as an account an admin creates; which roles are allowed differs (§5.12)."""

    # Any role parses, so that `admin` is refused with the contract's 403 rather than a 422; the
    # document offers only the roles a sign-up can have.
    role = ma.fields.String(load_default="student", validate=one_of(*ROLES), metadata={
        "enum": ["student", "instructor"],
        "description": "`instructor` only where the deployment allows public instructor sign-up (403 otherwise)"})


class LoginSchema(ma.Schema):
    """No length rule on the password: one that could never have been set simply does not match (401)."""

    email = EmailField(required=True)
    password = ma.fields.String(required=True, metadata={"format": "password"})


class TokenFormSchema(ma.Schema):
    """The OAuth2 password grant form (`application/x-www-form-urlencoded`), as Swagger UI sends it."""

    username = EmailField(required=True, metadata={"description": "The account's e-mail address"})
    password = ma.fields.String(required=True, metadata={"format": "password"})
    grant_type = ma.fields.String(validate=one_of("password"))
    scope = ma.fields.String(load_default="")
    client_id = ma.fields.String()
    client_secret = ma.fields.String()


class MfaLoginSchema(ma.Schema):
    challenge_token = ma.fields.String(required=True, **_TOKEN_FIELD)
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=4, max=12))


class RefreshSchema(ma.Schema):
    refresh_token = ma.fields.String(required=True, **_TOKEN_FIELD)


class EmailSchema(ma.Schema):
    email = EmailField(required=True)


class ResetPasswordSchema(ma.Schema):
    token = ma.fields.String(required=True, **_TOKEN_FIELD)
    new_password = new_password_field(required=True)


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True, **_TOKEN_FIELD)


class PasswordConfirmationSchema(ma.Schema):
    """The current password, re-entered to change MFA."""

    password = ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=128),
                                metadata={"format": "password"})


class MfaCodeSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=4, max=12))


class TokensSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "bearer"})
    expires_in = Integer(required=True, metadata={"description": "Access token lifetime in seconds"})


class AuthResponseSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema, required=True)
    tokens = ma.fields.Nested(TokensSchema, required=True)


class MfaChallengeSchema(ma.Schema):
    mfa_required = ma.fields.Boolean(required=True)
    challenge_token = ma.fields.String(required=True, metadata={"description": "Opaque; send it to /auth/login/mfa"})
    expires_in_seconds = Integer(required=True)
    message = ma.fields.String(required=True, metadata={"example": "MFA verification required"})
