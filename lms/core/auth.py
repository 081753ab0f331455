"""Who is calling: bearer access tokens (issued and decoded by flask-jwt-extended), once per request.

`authenticate()` verifies the bearer token (signature, HS256 only, expiry, type `access`, the
revocation list, the user's "tokens valid after" time), loads the user and enforces the
active/verified rules. Every failure is a 401 with `WWW-Authenticate: Bearer` (contract §5.9).
Routes use the decorators of `lms.core.permissions`, which call this module.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

from flask import Flask, current_app, g, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from lms.core.db import utcnow
from lms.core.errors import AppError, Unauthorized
from lms.core.state import revocation_store
from lms.core.extensions import jwt
from lms.core.redis import add_read_ahead, value_read_ahead


class User(Protocol):
    """What authentication needs of a user (the users module's model has it)."""

    id: uuid.UUID
    role: str
    is_active: bool
    tokens_valid_after: datetime | None
    email_verified_at: datetime | None


_load_user_by_id: Callable[[uuid.UUID], User | None] | None = None


def user_loader(load: Callable[[uuid.UUID], User | None]) -> Callable[[uuid.UUID], User | None]:
    """Register how a user is loaded by id: the users module does, so that this one needs none."""
    global _load_user_by_id
    _load_user_by_id = load
    return load


_NOT_VERIFIED = "Email is not verified"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# `iat` has whole seconds only; this claim orders a token against `User.tokens_valid_after` exactly,
# so that a token issued just before a reset is void and one issued just after it is not.
ISSUED_AT_MICROSECONDS_CLAIM = "iat_us"


def epoch_microseconds(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(microseconds=1)


def issued_before(payload: dict, instant: datetime) -> bool:
    """Whether the token was issued before `instant` (second precision for tokens without `iat_us`)."""
    issued = payload.get(ISSUED_AT_MICROSECONDS_CLAIM)
    if not isinstance(issued, int) or isinstance(issued, bool):
        issued = int(payload.get("iat", 0)) * 1_000_000
    return issued < epoch_microseconds(instant)


def configure_jwt(app: Flask) -> None:
    config = app.config
    config.update(
        JWT_SECRET_KEY=config["SECRET_KEY"],
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=config["ACCESS_TOKEN_EXPIRE_MINUTES"]),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=config["REFRESH_TOKEN_EXPIRE_DAYS"]),
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ERROR_MESSAGE_KEY="detail",
    )
    jwt.init_app(app)


def access_token_revocation_key(jti: str) -> str:
    return f"{current_app.config['ACCESS_TOKEN_BLACKLIST_PREFIX']}:{jti}"


def revoke_access_token(jti: str, expires_at: int) -> None:
    """Put an access token's jti on the revocation list for the rest of its life."""
    remaining = int(expires_at - utcnow().timestamp())
    if remaining > 0:
        revocation_store().set(access_token_revocation_key(jti), "1", remaining)


def is_access_token_revoked(jti: str) -> bool:
    if not current_app.config["ACCESS_TOKEN_BLACKLIST_ENABLED"]:
        return False
    key = access_token_revocation_key(jti)
    was_read, value = value_read_ahead(key)
    if was_read:
        return value is not None
    return revocation_store().get(key) is not None


def _revocation_key_to_read_ahead() -> str | None:
    """The revocation entry of the request's access token, read with the rate limiter's counter."""
    if not current_app.config["ACCESS_TOKEN_BLACKLIST_ENABLED"]:
        return None
    token = bearer_token()
    # Only a token this process verified before: a new one is verified after the rate limiter.
    claims = current_app.extensions.get("lms.verified_tokens", {}).get(token) if token else None
    return access_token_revocation_key(claims["jti"]) if claims is not None else None


add_read_ahead(_revocation_key_to_read_ahead)


def _load_user(claims: dict) -> User:
    """The active user the claims name, if the token is not older than their `tokens_valid_after`."""
    try:
        user_id = uuid.UUID(claims["sub"])
    except (ValueError, TypeError, KeyError) as exc:
        raise Unauthorized("Could not validate credentials") from exc
    user = _load_user_by_id(user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Could not validate credentials")
    if user.tokens_valid_after is not None and issued_before(claims, user.tokens_valid_after):
        raise Unauthorized("Token has been revoked")
    return user


# A signature check costs more than the rest of an authenticated read: each process remembers the
# claims of the access tokens it verified (bounded, per app and so per key). Expiry, revocation and
# the user's state are still checked on every request.
VERIFIED_TOKENS_KEPT = 2048


def verified_access_claims(token: str) -> dict:
    """The claims of a valid access token (signature, algorithm, expiry, type), or a 401."""
    verified: dict[str, dict] = current_app.extensions.setdefault("lms.verified_tokens", {})
    claims = verified.get(token)
    if claims is None:
        claims = decode_token_of_type(token, "access")
        if len(verified) >= VERIFIED_TOKENS_KEPT:
            verified.pop(next(iter(verified)), None)  # the oldest entry
        verified[token] = claims
    elif claims["exp"] <= time.time():
        verified.pop(token, None)
        raise Unauthorized("Could not validate credentials")
    return claims


def authenticate() -> User:
    """Verify the bearer access token and return the user, or raise a 401 (503 on outage)."""
    if "current_user" in g:
        return g.current_user
    token = bearer_token()
    if token is None:
        raise Unauthorized("Not authenticated")
    claims = verified_access_claims(token)
    if is_access_token_revoked(claims["jti"]):
        raise Unauthorized("Token has been revoked")
    user = _load_user(claims)
    if current_app.config["REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN"] and user.email_verified_at is None:
        raise Unauthorized(_NOT_VERIFIED)
    g.current_user = user
    return user


def authenticate_optional() -> User | None:
    """Public reads: an absent, invalid or uncheckable token means an anonymous reader (§1.2, §5.26)."""
    try:
        return authenticate()
    except AppError:
        return None


def issue_access_token(user: User) -> tuple[str, int]:
    """A signed access token for `user` and its lifetime in seconds."""
    from flask_jwt_extended import create_access_token

    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    claims = {"role": user.role, "typ": "access",
              ISSUED_AT_MICROSECONDS_CLAIM: epoch_microseconds(utcnow())}
    token = create_access_token(identity=str(user.id), additional_claims=claims)
    return token, int(lifetime.total_seconds())


def issue_refresh_token(user: User) -> tuple[str, dict]:
    """A signed refresh token for `user` and its claims (the caller records it by `jti`)."""
    from flask_jwt_extended import create_refresh_token

    token = create_refresh_token(identity=str(user.id), additional_claims={"typ": "refresh"})
    return token, decode_token(token)


def bearer_token() -> str | None:
    """The raw token of an `Authorization: Bearer <token>` header, if the request has one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not token.strip():
        return None
    return token.strip()


def decode_token_of_type(token: str, token_type: str, *, allow_expired: bool = False) -> dict:
    """Verify a token's signature and expiry and that it has `token_type`; 401s as `authenticate()`.

    Revocation and the user's state are the caller's business (logout only decodes, §1.2).
    """
    try:
        payload = decode_token(token, allow_expired=allow_expired)
    except (JWTExtendedException, PyJWTError) as exc:
        raise Unauthorized("Could not validate credentials") from exc
    if payload.get("type") != token_type:
        raise Unauthorized("Invalid token type")
    return payload
