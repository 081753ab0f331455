"""Roles and permissions exactly as the seed defines them (RBAC)."""

from __future__ import annotations

import functools
from copy import deepcopy
from enum import Enum
from typing import Callable

from flask import g

from lms.core.auth import authenticate, authenticate_optional
from lms.core.errors import Forbidden


class Role(str, Enum):
    ADMIN = "admin"
    INSTRUCTOR = "instructor"
    STUDENT = "student"


class Permission(str, Enum):
    CREATE_COURSE = "create_course"
    UPDATE_COURSE = "update_course"
    DELETE_COURSE = "delete_course"
    VIEW_ANALYTICS = "view_analytics"
    MANAGE_ENROLLMENTS = "manage_enrollments"
    MANAGE_USERS = "manage_users"
    MANAGE_QUIZZES = "manage_quizzes"


ROLE_PERMISSIONS: dict[Role, set[Permission]] = {
    Role.ADMIN: {
        Permission.CREATE_COURSE,
        Permission.UPDATE_COURSE,
        Permission.DELETE_COURSE,
        Permission.VIEW_ANALYTICS,
        Permission.MANAGE_ENROLLMENTS,
        Permission.MANAGE_USERS,
        Permission.MANAGE_QUIZZES,
    },
    Role.INSTRUCTOR: {
        Permission.CREATE_COURSE,
        Permission.UPDATE_COURSE,
        Permission.VIEW_ANALYTICS,
        Permission.MANAGE_QUIZZES,
    },
    Role.STUDENT: set(),
}


def has_permission(role: Role | str, permission: Permission) -> bool:
    try:
        role = Role(role)
    except ValueError:
        return False
    return permission in ROLE_PERMISSIONS.get(role, set())


# --- Route decorators -------------------------------------------------------------------------
# They authenticate the caller (lms.core.auth), check the role or permission, and document the
# bearer requirement and its 401/403 answers in the OpenAPI spec.

_SECURITY = [{"bearerAuth": []}, {"oauth2Password": []}]


def _documented(wrapper: Callable, responses: dict[str, str], security: list | None) -> Callable:
    """Merge security and error responses into flask-smorest's manual doc for the view."""
    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    if security is not None:
        manual["security"] = security
    manual.setdefault("responses", {}).update(responses)
    wrapper._apidoc = apidoc
    return wrapper


def login_required(func: Callable) -> Callable:
    """Any authenticated, active (and, when required, verified) user."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        authenticate()
        return func(*args, **kwargs)

    return _documented(wrapper, {"401": "UNAUTHORIZED"}, _SECURITY)


def login_optional(func: Callable) -> Callable:
    """Public reads that behave differently for a known caller; a bad token means anonymous."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        authenticate_optional()
        return func(*args, **kwargs)

    return _documented(wrapper, {}, [{}, *_SECURITY])


def require_roles(*roles: Role, message: str = "Insufficient permissions") -> Callable:
    allowed = {Role(role) for role in roles}

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if Role(authenticate().role) not in allowed:
                raise Forbidden(message)
            return func(*args, **kwargs)

        return _documented(wrapper, {"401": "UNAUTHORIZED", "403": "FORBIDDEN"}, _SECURITY)

    return decorator


def require_permissions(*permissions: Permission, message: str = "Insufficient permissions") -> Callable:
    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            role = authenticate().role
            if not all(has_permission(role, permission) for permission in permissions):
                raise Forbidden(message)
            return func(*args, **kwargs)

        return _documented(wrapper, {"401": "UNAUTHORIZED", "403": "FORBIDDEN"}, _SECURITY)

    return decorator


def current_user():
    """The authenticated user of this request (after one of the decorators above ran), or None."""
    return g.get("current_user")
