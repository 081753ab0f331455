"""Roles and permissions exactly as the seed defines them (RBAC)."""

from __future__ import annotations

import functools
from copy import deepcopy
from enum import Enum
from typing import Callable

from flask import current_app, g, request

from lms.core.api import BEARER_SECURITY, OPTIONAL_BEARER_SECURITY
from lms.core.auth import authenticate, authenticate_optional, bearer_token, decode_token_of_type
from lms.core.errors import Forbidden, Unauthorized


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


def _documented(wrapper: Callable, responses: dict[str, str], security: list | None) -> Callable:
    """Merge security and error responses into flask-smorest's manual doc for the view."""
    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    if security is not None:
        manual["security"] = security
    manual.setdefault("responses", {}).update(responses)
    wrapper._apidoc = apidoc
    return wrapper


def _guarded(func: Callable, check: Callable[[], object], responses: dict[str, str], security: list) -> Callable:
    """`func` running `check()` first. The check is also exposed as `access_check`, which
    `check_access_before_parsing` runs before the request's path, query and body are validated
    (functools.wraps carries the attribute up through flask-smorest's decorators)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        check()
        return func(*args, **kwargs)

    wrapper.access_check = check
    wrapper.requires_token = check is not authenticate_optional
    return _documented(wrapper, responses, security)


def login_required(func: Callable) -> Callable:
    """Any authenticated, active (and, when required, verified) user."""
    return _guarded(func, authenticate, {"401": "UNAUTHORIZED"}, BEARER_SECURITY)


def login_optional(func: Callable) -> Callable:
    """Public reads that behave differently for a known caller; a bad token means anonymous."""
    return _guarded(func, authenticate_optional, {}, OPTIONAL_BEARER_SECURITY)


def bearer_required(func: Callable) -> Callable:
    """A bearer access token must be present and genuine (signature, expiry, type); the caller's
    state is the view's business (logout accepts an already revoked token, §1.2)."""
    def check() -> None:
        token = bearer_token()
        if token is None:
            raise Unauthorized("Not authenticated")
        decode_token_of_type(token, "access")

    return _guarded(func, check, {"401": "UNAUTHORIZED"}, BEARER_SECURITY)


def require_roles(*roles: Role, message: str = "Insufficient permissions") -> Callable:
    allowed = {Role(role) for role in roles}

    def check() -> None:
        if Role(authenticate().role) not in allowed:
            raise Forbidden(message)

    def decorator(func: Callable) -> Callable:
        return _guarded(func, check, {"401": "UNAUTHORIZED", "403": "FORBIDDEN"}, BEARER_SECURITY)

    return decorator


def require_permissions(*permissions: Permission, message: str = "Insufficient permissions") -> Callable:
    def check() -> None:
        role = authenticate().role
        if not all(has_permission(role, permission) for permission in permissions):
            raise Forbidden(message)

    def decorator(func: Callable) -> Callable:
        return _guarded(func, check, {"401": "UNAUTHORIZED", "403": "FORBIDDEN"}, BEARER_SECURITY)

    return decorator


def check_access_before_parsing() -> None:
    """`before_request`, right after the rate limiter: the view's access check runs before its
    path, query or body are validated, so that a caller without a valid token learns that (401),
    not that its form is wrong (contract §5.31)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = request.method.lower()
        view = getattr(view_class, method, None) or (getattr(view_class, "get", None) if method == "head" else None)
    check = getattr(view, "access_check", None)
    if check is not None:
        check()


def current_user():
    """The authenticated user of this request (after one of the decorators above ran), or None."""
    return g.get("current_user")
