"""Recording, reading and expiring the audit log.

Recording: each audited event is subscribed to below, without `after_commit`, so that its entry is
added to the session of the change and commits or rolls back with it: a failed change leaves no
entry, a recorded change always has one. An event that records a refusal (a failed login) is
committed by its service on purpose. The actor is the event's `actor` when it names one, else the
authenticated caller of the request (none for a CLI command or an anonymous request); the client
IP and request id come from the request.

Another module's news becomes audited by one more subscriber here (`_record(...)` in a function
decorated with `@events.on(NAME)`), as the webhook endpoints' changes are.

`changes` is a small JSON of what changed; `_scrubbed` drops anything named like a secret
(password, token, code, secret, hash) whatever a subscriber passes, so none can be logged.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, has_request_context, request
from sqlalchemy import and_, delete, or_, select

from lms.audit.models import AuditEntry
from lms.core import events
from lms.core.db import utcnow
from lms.core.errors import BadRequest
from lms.core.extensions import db
from lms.core.pagination import BAD_CURSOR, aware_timestamp, decode_cursor, encode_cursor
from lms.core.permissions import current_user

SECRET_NAME = re.compile(r"password|token|code|secret|hash|otp", re.IGNORECASE)


def _scrubbed(changes: dict[str, Any]) -> dict[str, Any]:
    return {name: _scrubbed(value) if isinstance(value, dict) else value
            for name, value in changes.items() if not SECRET_NAME.search(name)}


def _record(action: str, target_type: str | None, target_id: Any, changes: dict[str, Any] | None = None, *,
            actor: Any = None, anonymous: bool = False) -> AuditEntry:
    """Add an entry to the current transaction. `actor`: a user or a user id; default the caller."""
    if actor is None and not anonymous and has_request_context():
        actor = current_user()
    actor_id = getattr(actor, "id", actor)
    entry = AuditEntry(
        action=action, target_type=target_type, target_id=str(target_id) if target_id is not None else None,
        actor_id=actor_id, changes=_scrubbed(changes or {}),
        client_ip=request.remote_addr if has_request_context() else None,
        request_id=g.get("request_id") if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


# --- what is recorded ---------------------------------------------------------------------------

@events.on(events.LOGIN_SUCCEEDED)
def _login_succeeded(user, **_: Any) -> None:
    _record("auth.login_succeeded", "user", user.id, actor=user)


@events.on(events.LOGIN_FAILED)
def _login_failed(email: str, user=None, reason: str = "", **_: Any) -> None:
    # The e-mail tried only when no account has it: a known account is the target (and its address
    # must not outlive an erasure).
    changes = {"reason": reason} if user else {"email": email, "reason": reason}
    _record("auth.login_failed", "user", user.id if user else None, changes, anonymous=True)


@events.on(events.LOGIN_LOCKED_OUT)
def _login_locked_out(email: str, user=None, **_: Any) -> None:
    _record("auth.login_locked_out", "user", user.id if user else None, {} if user else {"email": email},
            anonymous=True)


@events.on(events.TOKEN_FAMILY_REVOKED)
def _token_family_revoked(user_id: uuid.UUID, family_id: uuid.UUID, reason: str, actor_id: uuid.UUID | None = None,
                          **_: Any) -> None:
    # A logout is its user's act; a reused refresh token has no known actor (the user or a thief).
    _record("auth.token_family_revoked", "user", user_id, {"family_id": str(family_id), "reason": reason},
            actor=actor_id, anonymous=actor_id is None)


@events.on(events.USER_PASSWORD_RESET)
def _password_reset(user, **_: Any) -> None:
    _record("user.password_reset", "user", user.id, actor=user)


@events.on(events.USER_PASSWORD_CHANGED)
def _password_changed(user, **_: Any) -> None:
    _record("user.password_changed", "user", user.id)


@events.on(events.USER_MFA_ENABLED)
def _mfa_enabled(user, **_: Any) -> None:
    _record("user.mfa_enabled", "user", user.id, actor=user)


@events.on(events.USER_MFA_DISABLED)
def _mfa_disabled(user, **_: Any) -> None:
    _record("user.mfa_disabled", "user", user.id, actor=user)


@events.on(events.USER_CREATED)
def _user_created(user, **_: Any) -> None:
    # A sign-up has no caller yet: the new user is the actor of their own registration. The command
    # line (`flask create-admin`) has no actor.
    changes = {"role": user.role}
    if has_request_context():
        _record("user.created", "user", user.id, changes, actor=current_user() or user)
    else:
        _record("user.created", "user", user.id, changes, anonymous=True)


@events.on(events.USER_ROLE_CHANGED)
def _role_changed(user, previous_role: str, **_: Any) -> None:
    _record("user.role_changed", "user", user.id, {"role": [previous_role, user.role]})


@events.on(events.USER_DEACTIVATED)
def _deactivated(user, **_: Any) -> None:
    _record("user.deactivated", "user", user.id, {"is_active": [True, False]})


@events.on(events.USER_ACTIVATED)
def _activated(user, **_: Any) -> None:
    _record("user.activated", "user", user.id, {"is_active": [False, True]})


@events.on(events.USER_DATA_EXPORT_REQUESTED)
def _data_export_requested(user, export, **_: Any) -> None:
    _record("user.data_export_requested", "user", user.id, {"export_id": str(export.id)})


@events.on(events.USER_ERASED)
def _erased(user, **_: Any) -> None:
    _record("user.erased", "user", user.id)


@events.on(events.COURSE_PUBLISHED)
def _course_published(course, **_: Any) -> None:
    _record("course.published", "course", course.id, {"is_published": [False, True]})


@events.on(events.COURSE_UNPUBLISHED)
def _course_unpublished(course, **_: Any) -> None:
    _record("course.unpublished", "course", course.id, {"is_published": [True, False]})


@events.on(events.COURSE_DELETED)
def _course_deleted(course_id: uuid.UUID, **_: Any) -> None:
    _record("course.deleted", "course", course_id)


@events.on(events.CERTIFICATE_REVOKED)
def _certificate_revoked(certificate, **_: Any) -> None:
    _record("certificate.revoked", "certificate", certificate.id,
            {"certificate_number": certificate.certificate_number})


@events.on(events.SUBMISSION_GRADED)
def _submission_graded(submission, previous_grade: float | None = None, **_: Any) -> None:
    _record("submission.graded", "submission", submission.id,
            {"grade": [previous_grade, submission.grade], "max_grade": submission.max_grade})


def _endpoint_facts(endpoint) -> dict[str, Any]:
    """What an admin changed about a webhook endpoint; never its secrets."""
    return {"url": endpoint.url, "events": list(endpoint.events), "is_active": endpoint.is_active}


@events.on(events.WEBHOOK_ENDPOINT_CREATED)
def _webhook_endpoint_created(endpoint, **_: Any) -> None:
    _record("webhook_endpoint.created", "webhook_endpoint", endpoint.id, _endpoint_facts(endpoint))


@events.on(events.WEBHOOK_ENDPOINT_UPDATED)
def _webhook_endpoint_updated(endpoint, changes: list[str], **_: Any) -> None:
    _record("webhook_endpoint.updated", "webhook_endpoint", endpoint.id,
            {**_endpoint_facts(endpoint), "fields": list(changes)})


@events.on(events.WEBHOOK_ENDPOINT_DELETED)
def _webhook_endpoint_deleted(endpoint, **_: Any) -> None:
    _record("webhook_endpoint.deleted", "webhook_endpoint", endpoint.id, _endpoint_facts(endpoint))


@events.on(events.WEBHOOK_ENDPOINT_SECRET_ROTATED)
def _webhook_endpoint_secret_rotated(endpoint, **_: Any) -> None:
    _record("webhook_endpoint.secret_rotated", "webhook_endpoint", endpoint.id)


# --- reading ------------------------------------------------------------------------------------

def list_entries(args: dict[str, Any]) -> dict[str, Any]:
    """Entries newest first, filtered; `after` (a cursor of the last entry's time and id, the same
    opaque form as every list's `next_cursor`) continues a list."""
    stmt = select(AuditEntry)
    if args.get("actor_id"):
        stmt = stmt.where(AuditEntry.actor_id == args["actor_id"])
    if args.get("target_type"):
        stmt = stmt.where(AuditEntry.target_type == args["target_type"])
    if args.get("target_id"):
        stmt = stmt.where(AuditEntry.target_id == str(args["target_id"]))
    if args.get("action"):
        stmt = stmt.where(AuditEntry.action == args["action"])
    if args.get("since"):
        stmt = stmt.where(AuditEntry.occurred_at >= args["since"])
    if args.get("until"):
        stmt = stmt.where(AuditEntry.occurred_at < args["until"])
    if args.get("after"):
        at, entry_id = _position(args["after"])
        stmt = stmt.where(or_(AuditEntry.occurred_at < at,
                              and_(AuditEntry.occurred_at == at, AuditEntry.id < entry_id)))
    limit = args["limit"]
    entries = list(db.session.scalars(
        stmt.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc()).limit(limit + 1)))
    more = len(entries) > limit
    entries = entries[:limit]
    last = entries[-1] if more else None
    return {"items": entries,
            "next_cursor": encode_cursor({"at": last.occurred_at.isoformat(), "id": str(last.id)}) if last else None}


def _position(cursor: str) -> tuple[datetime, uuid.UUID]:
    position = decode_cursor(cursor, ("at", "id"))
    try:
        return aware_timestamp(position["at"]), uuid.UUID(position["id"])
    except ValueError as exc:
        raise BadRequest(BAD_CURSOR) from exc


# --- retention ----------------------------------------------------------------------------------

def purge_expired_entries() -> int:
    """The periodic job (lms/cron.py): delete entries older than AUDIT_LOG_RETENTION_DAYS (0: keep all)."""
    days = current_app.config["AUDIT_LOG_RETENTION_DAYS"]
    if not days:
        return 0
    cutoff: datetime = utcnow() - timedelta(days=days)
    deleted = db.session.execute(delete(AuditEntry).where(AuditEntry.occurred_at < cutoff)).rowcount
    db.session.commit()
    return deleted
