"""`/changes`: what was created, updated and deleted since a time, per object type (admins)."""

from __future__ import annotations

from flask.views import MethodView

from lms.core.api import Blueprint
from lms.core.permissions import Role, require_roles
from lms.sync import service
from lms.sync.schemas import ChangesQuerySchema, ChangesSchema

blp = Blueprint("sync", __name__, url_prefix="/changes",
                description="Incremental sync: the ids created, updated and deleted since a time")


@blp.route("")
class Changes(MethodView):
    @blp.doc(operationId="listChanges")
    @blp.arguments(ChangesQuerySchema, location="query")
    @blp.response(200, ChangesSchema)
    @blp.examples(response={
        "since": "2026-12-05T02:00:00Z", "until": "2026-12-06T02:00:00Z",
        "changes": {"courses": {"created": [], "updated": ["3fa85f64-5717-4562-b3fc-2c963f66afa6"],
                                "deleted": ["9b2e4c1a-0d7f-4e8b-a1c3-5f6e7d8c9b0a"]}},
        "next_cursor": None})
    @require_roles(Role.ADMIN, message="Only admins can read the change feed")
    def get(self, args):
        """The ids created, updated and deleted since `since`, per type (admins).

        Admins only (403 for others). `created`: created at or after `since`; `updated`: created before it and
        updated since; `deleted`: from the tombstones, which also record what a deletion removed with it (a
        course's lessons, enrollments, progress, quizzes, attempts, certificates, assignments, submissions) and
        are kept `TOMBSTONE_RETENTION_DAYS`. Every change is in [`since`, `until`); pass `until` as the next
        `since`. At most `limit` changes per answer, in (time, type, id) order: `next_cursor`, passed as `after`,
        resumes. 400 for a `since` without an offset, an unknown type or a foreign cursor.
        """
        return service.list_changes(args)
