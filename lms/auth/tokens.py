"""Sessions (an access token plus a stored, rotating refresh token) and mailed one-time tokens.

A login starts a refresh-token *family*; every `/auth/refresh` revokes the presented token, links it
to its successor and issues a new pair in the same family. Presenting a token that was already
rotated means it leaked: the whole family is revoked (contract §5.16). Rotation is one conditional
UPDATE, so concurrent refreshes with one token produce exactly one new pair.

Password-reset and e-mail-verification tokens are opaque random strings; only their SHA-256 is
stored, with a purpose and an expiry.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from lms.auth.models import RefreshToken, UserToken
from lms.core.auth import issue_access_token, issue_refresh_token
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.users.models import User


PASSWORD_RESET = "password_reset"
EMAIL_VERIFICATION = "email_verification"


# --- sessions --------------------------------------------------------------------------------------

def start_session(user: User, family_id: uuid.UUID | None = None) -> tuple[dict, RefreshToken]:
    """A new token pair for `user` (the contract's Tokens object) and its refresh-token row (not committed)."""
    access_token, expires_in = issue_access_token(user)
    refresh_token, claims = issue_refresh_token(user)
    row = RefreshToken(jti=claims["jti"], user_id=user.id, family_id=family_id or uuid.uuid4(),
                       expires_at=datetime.fromtimestamp(claims["exp"], timezone.utc))
    db.session.add(row)
    tokens = {"access_token": access_token, "refresh_token": refresh_token, "token_type": "bearer",
              "expires_in": expires_in}
    return tokens, row


def find_refresh_token(jti: str) -> RefreshToken | None:
    return db.session.scalar(select(RefreshToken).where(RefreshToken.jti == jti))


def mark_rotated(row: RefreshToken, successor_jti: str) -> bool:
    """Revoke `row` in favour of its successor, unless another request got there first."""
    result = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), replaced_by_jti=successor_jti)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def revoke_family(family_id: uuid.UUID) -> None:
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def end_all_sessions(user: User) -> None:
    """Void every token of `user` issued until now: access tokens by time, refresh tokens by row (§5.7)."""
    now = utcnow()
    user.tokens_valid_after = now
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


# --- one-time tokens mailed to the user ------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user_token(user: User, purpose: str, lifetime: timedelta) -> str:
    """A new opaque token for `purpose`; a newer reset token voids the older ones (§5.7). Not committed."""
    now = utcnow()
    if purpose == PASSWORD_RESET:
        db.session.execute(
            update(UserToken)
            .where(UserToken.user_id == user.id, UserToken.purpose == purpose, UserToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
    token = secrets.token_urlsafe(32)
    db.session.add(UserToken(user_id=user.id, purpose=purpose, token_hash=_digest(token),
                             expires_at=now + lifetime, created_at=now))
    return token


def find_user_token(token: str, purpose: str) -> UserToken | None:
    """The unexpired token row for `token` and `purpose`, used or not."""
    row = db.session.scalar(select(UserToken).where(UserToken.token_hash == _digest(token)))
    if row is None or row.purpose != purpose or row.expires_at <= utcnow():
        return None
    return row


def consume_user_token(row: UserToken) -> bool:
    """Mark a single-use token used; False when it already was (also by a concurrent request)."""
    result = db.session.execute(
        update(UserToken)
        .where(UserToken.id == row.id, UserToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
