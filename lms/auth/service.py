"""Authentication use cases: registration, login (with lockout and MFA), sessions, password reset,
e-mail verification and MFA settings (contract §1.2, §1.3, §1.7, §1.9, §3 as changed by §5)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable, NoReturn

from flask import current_app

from lms.auth import lockout, mfa
from lms.auth.tokens import (
    EMAIL_VERIFICATION,
    PASSWORD_RESET,
    consume_user_token,
    create_user_token,
    end_all_sessions,
    find_refresh_token,
    find_user_token,
    mark_rotated,
    revoke_family,
    start_session,
)
from lms.core import events
from lms.core.auth import decode_token_of_type, revoke_access_token
from lms.core.db import commit, utcnow
from lms.core.errors import BadRequest, Forbidden, Unauthorized
from lms.core.mail import send_email
from lms.core.permissions import Role
from lms.core.security import burn_password_check, hash_password, verify_password
from lms.core.extensions import db
from lms.users.models import User
from lms.users.service import find_user_by_email, new_user

log = logging.getLogger(__name__)

INVALID_CREDENTIALS = "Invalid email or password"
ACCOUNT_DISABLED = "User account is disabled"
EMAIL_NOT_VERIFIED = "Email is not verified"
USER_INACTIVE = "User is inactive"
REFRESH_INVALID = "Refresh token is invalid or revoked"
TOKEN_MISMATCH = "Access token does not match refresh token"
MFA_CHALLENGE_INVALID = "MFA challenge expired or invalid"
MFA_CODE_INVALID = "Invalid MFA code"
MFA_NOT_ENABLED = "MFA is not enabled for this account"
INVALID_PASSWORD = "Invalid password"
ONE_TIME_TOKEN_INVALID = "Invalid or expired token"
MFA_USE_LOGIN = "MFA is enabled for this account. Use /api/v1/auth/login then /api/v1/auth/login/mfa."

RESET_REQUESTED = "If the email is registered, a reset link has been sent"
VERIFICATION_REQUESTED = "If the email is registered, a verification link has been sent"


def _auth_response(user: User, tokens: dict) -> dict:
    return {"user": user, "tokens": tokens}


# --- registration ----------------------------------------------------------------------------------

def register(data: dict[str, Any]) -> dict:
    """A public sign-up: students only, instructors too when allowed, never admins (§5.12)."""
    allowed = {Role.STUDENT.value}
    if current_app.config["ALLOW_PUBLIC_ROLE_REGISTRATION"]:
        allowed.add(Role.INSTRUCTOR.value)
    if data["role"] not in allowed:
        raise Forbidden("Public registration is limited to student accounts")
    user = new_user(email=data["email"], password=data["password"], full_name=data["full_name"],
                    role=data["role"])
    tokens, _ = start_session(user)
    verification_token = create_user_token(user, EMAIL_VERIFICATION, _verification_lifetime())
    commit()
    send_email(user.email, "Welcome to LMS", "email/welcome.txt", full_name=user.full_name)
    _send_verification_mail(user, verification_token)
    return _auth_response(user, tokens)


# --- login -------------------------------------------------------------------------------------------

def _check_credentials(email: str, password: str, client_ip: str) -> User:
    """The user behind a correct e-mail and password, or a 401 that says nothing about which was wrong.

    Unknown e-mails cost the same bcrypt work as wrong passwords. Every refusal counts towards the
    lockout, which is checked before anything else.
    """
    lockout.ensure_not_locked(email, client_ip)
    user = find_user_by_email(email)
    if user is None:
        burn_password_check()
        password_ok = False
    else:
        password_ok = verify_password(password, user.password_hash)
    if user is None or not password_ok:
        refusal = INVALID_CREDENTIALS
    elif not user.is_active:
        refusal = ACCOUNT_DISABLED
    elif current_app.config["REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN"] and user.email_verified_at is None:
        refusal = EMAIL_NOT_VERIFIED
    else:
        return user
    _record_refusal(email, user, client_ip, refusal)
    raise Unauthorized(refusal)


def _record_refusal(email: str, user: User | None, client_ip: str, reason: str) -> None:
    """Count a refused login towards the lockout and commit its audit entries: the login fails, the
    record of it must stay."""
    locked = lockout.record_failure(email, client_ip)
    events.emit(events.LOGIN_FAILED, email=email, user=user, reason=reason)
    if locked:
        events.emit(events.LOGIN_LOCKED_OUT, email=email, user=user)
    db.session.commit()


def _complete_login(user: User, client_ip: str) -> dict:
    """Tokens for a user who passed every check; clears the failure counters."""
    lockout.record_success(user.email, client_ip)
    user.last_login_at = utcnow()
    tokens, _ = start_session(user)
    events.emit(events.LOGIN_SUCCEEDED, user=user)
    db.session.commit()
    return tokens


def login(email: str, password: str, client_ip: str) -> dict:
    """AuthResponse, or for an MFA user a challenge whose code is mailed (the login ends at /login/mfa).

    The password step of an MFA user does not clear the failure count: only a correct code does.
    """
    user = _check_credentials(email, password, client_ip)
    if not user.mfa_enabled:
        return _auth_response(user, _complete_login(user, client_ip))
    ttl = current_app.config["MFA_CHALLENGE_TOKEN_EXPIRE_MINUTES"] * 60
    challenge_token, code = mfa.open_login_challenge(str(user.id), ttl)
    send_email(user.email, "Your LMS login verification code", "email/mfa_login_code.txt",
               code=code, expires_in_minutes=ttl // 60)
    return {"mfa_required": True, "challenge_token": challenge_token, "expires_in_seconds": ttl,
            "message": "MFA verification required"}


def login_for_token(email: str, password: str, client_ip: str) -> dict:
    """The OAuth2 password grant: bare Tokens; MFA users must use the two-step login (400)."""
    user = _check_credentials(email, password, client_ip)
    if user.mfa_enabled:
        raise BadRequest(MFA_USE_LOGIN)
    return _complete_login(user, client_ip)


def login_with_mfa_code(challenge_token: str, code: str, client_ip: str) -> dict:
    """Second login step, under the lockout of the challenged user's e-mail and this client."""
    user = _challenged_user(challenge_token)
    try:
        _redeem_code_like_a_login(user, client_ip, lambda: mfa.redeem_login_challenge(challenge_token, code))
    except mfa.CodeRejected as rejected:
        raise Unauthorized(MFA_CHALLENGE_INVALID if rejected.void else MFA_CODE_INVALID) from rejected
    if not user.is_active:
        raise Unauthorized(ACCOUNT_DISABLED)
    if not user.mfa_enabled:
        raise Unauthorized(MFA_NOT_ENABLED)
    return _auth_response(user, _complete_login(user, client_ip))


def _challenged_user(challenge_token: str) -> User:
    """The user of an open, current login challenge (its code is not tried yet), or a 401."""
    try:
        user_id = mfa.challenged_user_id(challenge_token)
    except mfa.CodeRejected as rejected:
        raise Unauthorized(MFA_CHALLENGE_INVALID) from rejected
    user = db.session.get(User, uuid.UUID(user_id))
    if user is None:
        raise Unauthorized(MFA_CHALLENGE_INVALID)
    return user


def _redeem_code_like_a_login(user: User, client_ip: str, redeem: Callable[[], object]) -> None:
    """Run a code check of `user` under the login lockout (§5.36): refused before the check while
    the user's e-mail and this client are locked; a wrong code counts as a failed login. A void
    slot (none pending, used up) is not a guess and does not count. Raises CodeRejected."""
    lockout.ensure_not_locked(user.email, client_ip)
    try:
        redeem()
    except mfa.CodeRejected as rejected:
        if not rejected.void:
            lockout.record_failure(user.email, client_ip)
        raise


@events.on(events.USER_DEACTIVATED)
@events.on(events.USER_PASSWORD_CHANGED)
def _end_sessions(user: User, **_: Any) -> None:
    """A deactivated account, or one whose password an admin changed, keeps no session (§5.7)."""
    end_all_sessions(user)


# --- sessions ----------------------------------------------------------------------------------------

def refresh(refresh_token: str, bearer: str | None) -> dict:
    """Rotate a refresh token into a new pair (§1.2, §5.16).

    A token that was already rotated is a reuse: 401, and its whole family is revoked, since either
    the client or a thief now holds a stolen copy and there is no telling which. Losing a race with
    a concurrent refresh of the same token is a reuse too. Only an operator's
    `REFRESH_TOKEN_REUSE_GRACE_SECONDS` spares a reuse that soon after the rotation (retries, tabs).
    An access token presented as bearer must be the same user's and is revoked once the rotation
    succeeds; that revocation happens first, so when the revocation store is down (503) nothing
    has changed.
    """
    claims = decode_token_of_type(refresh_token, "refresh")
    row = find_refresh_token(claims["jti"])
    if row is None or str(row.user_id) != claims["sub"]:
        raise Unauthorized(REFRESH_INVALID)
    family_id, user_id = row.family_id, row.user_id
    if row.revoked_at is not None:
        if row.replaced_by_jti is not None:  # rotated, not revoked by a logout or a reset
            _refuse_reuse(family_id, user_id, rotated_at=row.revoked_at)
        raise Unauthorized(REFRESH_INVALID)
    presented_access = _presented_access_claims(bearer)
    if presented_access is not None and presented_access["sub"] != claims["sub"]:
        raise Unauthorized(TOKEN_MISMATCH)
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized(USER_INACTIVE)
    if presented_access is not None:
        revoke_access_token(presented_access["jti"], presented_access["exp"])
    tokens, successor = start_session(user, family_id=family_id)
    if not mark_rotated(row, successor.jti):
        db.session.rollback()  # a concurrent refresh with the same token rotated it just now
        _refuse_reuse(family_id, user_id, rotated_at=utcnow())
    db.session.commit()
    return _auth_response(user, tokens)


def _refuse_reuse(family_id: uuid.UUID, user_id: uuid.UUID, *, rotated_at: datetime) -> NoReturn:
    """401 for a rotated token presented again; the family is revoked unless within the grace."""
    grace = current_app.config["REFRESH_TOKEN_REUSE_GRACE_SECONDS"]
    if grace <= 0 or utcnow() - rotated_at > timedelta(seconds=grace):
        _revoke_reused_family(family_id, user_id)
    raise Unauthorized(REFRESH_INVALID)


def _presented_access_claims(bearer: str | None) -> dict | None:
    """The optional bearer of /auth/refresh: an access token of ours, expired or not."""
    if bearer is None:
        return None
    return decode_token_of_type(bearer, "access", allow_expired=True)


def _revoke_reused_family(family_id: uuid.UUID, user_id: uuid.UUID) -> None:
    log.warning("refresh token reuse: revoking family %s of user %s", family_id, user_id)
    revoke_family(family_id)
    events.emit(events.TOKEN_FAMILY_REVOKED, user_id=user_id, family_id=family_id, reason="reuse")
    db.session.commit()


def logout(refresh_token: str, bearer: str) -> None:
    """End the session of the bearer: its access token and the refresh token's family. Idempotent.

    The bearer is only decoded (a repeated logout with the same tokens is 204 again). The access
    token is revoked in Redis before the database change is committed, so a 503 changes nothing.
    """
    access = decode_token_of_type(bearer, "access")
    claims = decode_token_of_type(refresh_token, "refresh")
    if claims["sub"] != access["sub"]:
        raise Unauthorized(TOKEN_MISMATCH)
    row = find_refresh_token(claims["jti"])
    if row is None or str(row.user_id) != claims["sub"]:
        raise Unauthorized(REFRESH_INVALID)
    revoke_access_token(access["jti"], access["exp"])
    revoke_family(row.family_id)
    events.emit(events.TOKEN_FAMILY_REVOKED, user_id=row.user_id, family_id=row.family_id, reason="logout",
                actor_id=row.user_id)
    db.session.commit()


# --- password reset ----------------------------------------------------------------------------------

def request_password_reset(email: str) -> str:
    """Mail a reset link to an active account; the answer is the same for any address."""
    user = find_user_by_email(email)
    if user is not None and user.is_active:
        lifetime = timedelta(minutes=current_app.config["PASSWORD_RESET_TOKEN_EXPIRE_MINUTES"])
        token = create_user_token(user, PASSWORD_RESET, lifetime)
        db.session.commit()
        send_email(user.email, "Reset your LMS password", "email/reset_password.txt",
                   full_name=user.full_name, link=_frontend_link("reset-password", token), token=token)
    return RESET_REQUESTED


def reset_password(token: str, new_password: str) -> str:
    """Set a new password with a single-use token; every earlier session of the user ends (§5.7)."""
    row = find_user_token(token, PASSWORD_RESET)
    user = db.session.get(User, row.user_id) if row is not None else None
    if row is None or row.used_at is not None or user is None or (
            user.password_changed_at is not None and row.created_at < user.password_changed_at):
        raise Unauthorized(ONE_TIME_TOKEN_INVALID)
    if not user.is_active:
        raise Unauthorized(USER_INACTIVE)
    if not consume_user_token(row):
        raise Unauthorized(ONE_TIME_TOKEN_INVALID)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    events.emit(events.USER_PASSWORD_RESET, user=user)
    db.session.commit()
    return "Password has been reset successfully"


# --- e-mail verification -----------------------------------------------------------------------------

def _verification_lifetime() -> timedelta:
    return timedelta(minutes=current_app.config["EMAIL_VERIFICATION_TOKEN_EXPIRE_MINUTES"])


def _frontend_link(page: str, token: str) -> str:
    return f"{current_app.config['FRONTEND_BASE_URL'].rstrip('/')}/{page}?token={token}"


def _send_verification_mail(user: User, token: str) -> None:
    send_email(user.email, "Verify your LMS email", "email/verify_email.txt",
               full_name=user.full_name, link=_frontend_link("verify-email", token), token=token)


def request_email_verification(email: str) -> str:
    """Mail a verification link to any active account, verified or not; same answer for any address."""
    user = find_user_by_email(email)
    if user is not None and user.is_active:
        token = create_user_token(user, EMAIL_VERIFICATION, _verification_lifetime())
        db.session.commit()
        _send_verification_mail(user, token)
    return VERIFICATION_REQUESTED


def confirm_email(token: str) -> str:
    """Mark the address verified. The token may be confirmed again until it expires (kept quirk)."""
    row = find_user_token(token, EMAIL_VERIFICATION)
    if row is None:
        raise Unauthorized(ONE_TIME_TOKEN_INVALID)
    user = db.session.get(User, row.user_id)
    if not user.is_active:
        raise Unauthorized(USER_INACTIVE)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    row.used_at = row.used_at or utcnow()
    db.session.commit()
    return "Email has been verified successfully"


# --- MFA settings ------------------------------------------------------------------------------------

def confirm_password(user: User, password: str, client_ip: str) -> None:
    """A re-entered password is checked like a login (§5.36), so that a stolen session cannot guess
    it without limit: refused unchecked while locked out, a wrong one counts as a failed login, a
    right one clears the count."""
    lockout.ensure_not_locked(user.email, client_ip)
    if not verify_password(password, user.password_hash):
        lockout.record_failure(user.email, client_ip)
        raise Unauthorized(INVALID_PASSWORD)
    lockout.record_success(user.email, client_ip)


def request_mfa_setup(user: User, password: str, client_ip: str) -> str:
    """Mail a setup code to the user (nothing happens if MFA is already on)."""
    confirm_password(user, password, client_ip)
    if not user.mfa_enabled:
        ttl = max(60, current_app.config["MFA_LOGIN_CODE_EXPIRE_MINUTES"] * 60)
        code = mfa.issue_code(mfa.setup_slot(str(user.id)), ttl)
        send_email(user.email, "Your LMS MFA setup code", "email/mfa_setup_code.txt",
                   code=code, expires_in_minutes=ttl // 60)
    return "A verification code has been sent to your email"


def confirm_mfa_setup(user: User, code: str, client_ip: str) -> str:
    """Turn MFA on with the mailed setup code; a wrong code counts as a failed login. A right one
    does not clear the count: it proves the mailbox, not the password."""
    try:
        _redeem_code_like_a_login(user, client_ip, lambda: mfa.redeem_code(mfa.setup_slot(str(user.id)), code))
    except mfa.CodeRejected as rejected:
        raise Unauthorized(MFA_CODE_INVALID) from rejected
    user.mfa_enabled = True
    events.emit(events.USER_MFA_ENABLED, user=user)
    db.session.commit()
    return "MFA has been enabled successfully"


def disable_mfa(user: User, password: str, client_ip: str) -> str:
    confirm_password(user, password, client_ip)
    if user.mfa_enabled:
        user.mfa_enabled = False
        events.emit(events.USER_MFA_DISABLED, user=user)
        db.session.commit()
    return "MFA has been disabled successfully"
