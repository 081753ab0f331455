"""Personal data: `POST /users/me/export`, its download link, and erasure (`DELETE /users/me`,
`DELETE /users/{id}`)."""

from __future__ import annotations

from flask.views import MethodView

from lms.core.api import BINARY_BODY, Blueprint
from lms.core.http import client_ip
from lms.core.permissions import Role, current_user, login_required, require_roles
from lms.core.storage import send_download
from lms.privacy import service
from lms.privacy.schemas import DataExportSchema, ErasureSchema, ExportDownloadQuerySchema

blp = Blueprint("personal-data", __name__, url_prefix="/users",
                description="Personal data: a user's export of everything about them, and erasure of an account")


@blp.route("/me/export")
class MyExport(MethodView):
    @blp.doc(operationId="requestMyDataExport")
    @blp.response(202, DataExportSchema)
    @login_required
    def post(self):
        """Ask for an export of the caller's personal data; a link to it is mailed when it is ready.

        Any signed-in user. A job builds a ZIP (profile, enrollments with progress and reviews, quiz attempts
        with answers, submissions, certificates, uploaded files, security events about the account) and mails
        a link that works for `DATA_EXPORT_LINK_EXPIRE_HOURS`. While one export is pending, asking again
        answers that one.
        """
        return service.request_export(current_user())


@blp.route("/exports/<uuid:export_id>/download")
class ExportDownload(MethodView):
    @blp.doc(operationId="downloadMyDataExport", security=[])
    @blp.arguments(ExportDownloadQuerySchema, location="query")
    @blp.response(200, description="The export as a ZIP attachment", content_type="application/zip",
                  schema=BINARY_BODY)
    @blp.alt_response(307, description="Redirect to a short-lived presigned URL (S3 storage)")
    @blp.answers(401, 404, 503)
    def get(self, args, export_id):
        """Download a personal data export from the mailed link (no bearer token: the link's token is the key).

        The `token` of the mailed link, signed by the server, valid for `DATA_EXPORT_LINK_EXPIRE_HOURS` (401
        when wrong or expired); 404 once the export is gone (expired, or the account erased).
        """
        return send_download(service.download_export(export_id, args["token"]))


@blp.route("/me")
class EraseMe(MethodView):
    @blp.doc(operationId="eraseMyAccount")
    @blp.arguments(ErasureSchema)
    @blp.response(204)
    @blp.answers(401, 403)
    @login_required
    def delete(self, data):
        """Erase the caller's account and personal data, confirmed with the password.

        Any signed-in user but an admin (403). A wrong password is a 401 and counts as a failed login. The
        account is anonymised (e-mail, name and password replaced, deactivated, every token void); review
        texts, notes, quiz answers, submission contents and uploaded files are deleted; grades, enrollments
        and ratings stay in the course figures; certificates still verify, with the name withheld.
        """
        service.erase_own_account(current_user(), data["password"], client_ip())


@blp.route("/<uuid:user_id>")
class EraseUser(MethodView):
    @blp.doc(operationId="eraseUser")
    @blp.response(204)
    @blp.answers(403, 404)
    @require_roles(Role.ADMIN)
    def delete(self, user_id):
        """Erase a student's or an instructor's account and personal data (admins).

        Admins only (403 for others, and for an admin account: admins are managed with the CLI); 404 for an
        unknown user. Erases as `DELETE /users/me` does; an instructor's courses stay, under the name withheld.
        """
        service.erase_account(user_id)
