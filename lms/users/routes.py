"""`/users`: the caller's own account, and user management for admins (contract §4.1, §5.10, §5.11)."""

from __future__ import annotations

from flask.views import MethodView

from lms.core.api import Blueprint
from lms.core.pagination import page_schema
from lms.core.permissions import Role, current_user, login_required, require_roles
from lms.users import service
from lms.users.schemas import UserCreateSchema, UserListQuerySchema, UserSchema, UserUpdateSchema

blp = Blueprint("users", __name__, url_prefix="/users", description="Accounts and user management")


@blp.route("/me")
class Me(MethodView):
    @blp.doc(operationId="getMyProfile")
    @blp.response(200, UserSchema)
    @login_required
    def get(self):
        """The authenticated user.

        The account the bearer token belongs to (the same as `GET /auth/me`). 401 for a missing, expired or
        revoked token, or a deactivated account.
        """
        return current_user()


@blp.route("")
class UserList(MethodView):
    @blp.doc(operationId="listUsers")
    @blp.arguments(UserListQuerySchema, location="query")
    @blp.response(200, page_schema(UserSchema))
    @require_roles(Role.ADMIN)
    def get(self, args):
        """Users, newest first, optionally of one role or matching a search text (admins).

        Admins only (403 for others). Paged with `page` and `page_size`; `role` filters exactly and `search`
        matches a part of the e-mail or full name, case-insensitively.
        """
        return service.list_users(args)

    @blp.doc(operationId="createUser")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.answers(409)
    @require_roles(Role.ADMIN)
    def post(self, data):
        """Create a student or an instructor (admins; admin accounts come from the CLI).

        Admins only (403 for others, and for the role `admin`: further admins are made with `flask create-
        admin`). 409 when the e-mail is registered.
        """
        return service.create_user(data)


@blp.route("/<uuid:user_id>")
class UserItem(MethodView):
    @blp.doc(operationId="getUser")
    @blp.response(200, UserSchema)
    @blp.answers(404)
    @require_roles(Role.ADMIN)
    def get(self, user_id):
        """One user (admins).

        Admins only (403 for others); 404 for an unknown id.
        """
        return service.get_user(user_id)

    @blp.doc(operationId="updateUser")

    @blp.examples(request={"role": "instructor", "is_active": True})
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.answers(404, 409)
    @require_roles(Role.ADMIN)
    def patch(self, changes, user_id):
        """Change a user's name, role, password or active state (admins); `null` leaves a field as it is.

        Admins only. Only the fields sent change, and `null` leaves a field as it is. A new password or
        deactivation revokes every token of the user. 403 for the role `admin` or a role change of an admin;
        409 when it would deactivate the last active admin, or for an erased account.
        """
        return service.update_user(user_id, changes)
