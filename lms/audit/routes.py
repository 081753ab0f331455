"""`GET /audit-log` (admins)."""

from __future__ import annotations

from flask.views import MethodView

from lms.audit import service
from lms.audit.schemas import AuditPageSchema, AuditQuerySchema
from lms.core.api import Blueprint
from lms.core.permissions import Role, require_roles

blp = Blueprint("audit-log", __name__, url_prefix="/audit-log",
                description="The append-only record of security events and administrative changes (admins)")


@blp.route("")
class AuditLog(MethodView):
    @blp.doc(operationId="listAuditLog")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    @require_roles(Role.ADMIN)
    def get(self, args):
        """The audit log, newest first, for admins.

        Admins only (403 for others). Filters by `actor_id`, `target_type`, `target_id`, `action` and a time
        range (`since` inclusive, `until` exclusive); `limit` entries a page (50 by default, at most 200), and
        `next_cursor` continues with older ones (a malformed cursor is a 422). Entries are kept for
        `AUDIT_LOG_RETENTION_DAYS`.
        """
        return service.list_entries(args)
