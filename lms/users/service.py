"""Accounts: creation (shared by registration and the admin endpoints), lookup and admin changes."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from lms.core import events
from lms.core.auth import user_loader
from lms.core.db import commit, contains_text, prepared, utcnow
from lms.core.errors import Conflict, Forbidden, NotFound
from lms.core.pagination import paginate
from lms.core.permissions import Role
from lms.core.security import hash_password
from lms.core.extensions import db
from lms.users.models import User

EMAIL_TAKEN = "Email is already registered"
ADMIN_ROLES_BY_CLI = "Admin roles are managed with the CLI"
LAST_ADMIN = "The last active admin cannot be deactivated"
ERASED = "The account was erased and cannot be changed"


@functools.cache
def _user_by_id() -> Select:
    """Built once: a statement object keeps its own cache key, so executing it costs less."""
    return prepared(select(User).where(User.id == bindparam("user_id")))


@user_loader
def load_user(user_id: uuid.UUID) -> User | None:
    """The user with this id (authentication loads the caller with it, once per request)."""
    return db.session.execute(_user_by_id(), {"user_id": user_id}).scalar_one_or_none()


def find_user_by_email(email: str) -> User | None:
    """`email` as the schemas give it: normalized and lower-cased, as stored."""
    return db.session.scalar(select(User).where(User.email == email))


def get_user(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def new_user(*, email: str, password: str, full_name: str, role: str) -> User:
    """Add an account (flushed, not committed); verified at once unless verification is required (§1.3).

    The e-mail is unique in the database too, so a concurrent twin ends in a 409, not a second row.
    """
    if find_user_by_email(email) is not None:
        raise Conflict(EMAIL_TAKEN)
    verified_at = None if current_app.config["REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN"] else utcnow()
    user = User(email=email, full_name=full_name.strip(), role=role, password_hash=hash_password(password),
                is_active=True, mfa_enabled=False, email_verified_at=verified_at)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(EMAIL_TAKEN) from exc
    events.emit(events.USER_CREATED, user=user)
    return user


def list_users(args: dict[str, Any]) -> dict[str, Any]:
    """A page of users, newest first, optionally of one role and matching a search text."""
    stmt = select(User).order_by(User.created_at.desc(), User.id.desc())
    if args.get("role"):
        stmt = stmt.where(User.role == args["role"])
    if args.get("search"):
        stmt = stmt.where(or_(contains_text(User.email, args["search"]), contains_text(User.full_name, args["search"])))
    return paginate(stmt, args)


def create_user(data: dict[str, Any]) -> User:
    """An admin creates a student or an instructor; no mail is sent (§4.1, §5.11)."""
    if data["role"] == Role.ADMIN.value:
        raise Forbidden(ADMIN_ROLES_BY_CLI)
    user = new_user(email=data["email"], password=data["password"], full_name=data["full_name"],
                    role=data["role"])
    commit()
    return user


def update_user(user_id: uuid.UUID, changes: dict[str, Any]) -> User:
    """Admin changes; `None` values are ignored. A password change or a deactivation ends every session."""
    user = get_user(user_id)
    if user.erased_at is not None:  # an anonymised record must not become an account again
        raise Conflict(ERASED)
    changes = {field: value for field, value in changes.items() if value is not None}
    if "role" in changes and (changes["role"] == Role.ADMIN.value or user.is_admin):
        raise Forbidden(ADMIN_ROLES_BY_CLI)
    if changes.get("is_active") is False and user.is_active and user.is_admin:
        _ensure_another_active_admin(user)
    if "full_name" in changes:
        user.full_name = changes["full_name"].strip()
    if "role" in changes and changes["role"] != user.role:
        previous_role, user.role = user.role, changes["role"]
        events.emit(events.USER_ROLE_CHANGED, user=user, previous_role=previous_role)
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
        user.password_changed_at = utcnow()
        events.emit(events.USER_PASSWORD_CHANGED, user=user)
    if "is_active" in changes:
        was_active, user.is_active = user.is_active, changes["is_active"]
        if was_active and not user.is_active:
            events.emit(events.USER_DEACTIVATED, user=user)
        elif user.is_active and not was_active:
            events.emit(events.USER_ACTIVATED, user=user)
    commit()
    return user


def _ensure_another_active_admin(admin: User) -> None:
    """Refuse to deactivate the last active admin; the rows are locked so two admins cannot both go."""
    active_admins = db.session.scalars(
        select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
        .order_by(User.id).with_for_update()
    ).all()
    if not any(admin_id != admin.id for admin_id in active_admins):
        raise Conflict(LAST_ADMIN)
