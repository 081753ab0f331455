from flask.views import MethodView

from lms.certificates import service
from lms.certificates.schemas import CertificateSchema, VerificationSchema, VerifiedCertificateSchema
from lms.core.api import BINARY_BODY, Blueprint
from lms.core.idempotency import idempotent
from lms.core.pagination import UnpagedQuerySchema, list_schema
from lms.core.permissions import Role, current_user, login_required, require_roles
from lms.core.storage import send_download

blp = Blueprint("certificates", __name__, url_prefix="/certificates",
                description="Certificates: issuance on completion, PDF, verification, revocation")


@blp.route("/my-certificates")
class MyCertificates(MethodView):
    @blp.doc(operationId="listMyCertificates")
    @blp.arguments(UnpagedQuerySchema, location="query")
    @blp.response(200, list_schema(CertificateSchema, "certificates"))
    @login_required
    def get(self, args):
        """The caller's certificates that are not revoked, newest first.

        The caller's certificates, revoked ones left out, newest first. `updated_since`/`after` page them for
        incremental sync (ascending id, `limit` per page, `next_cursor`); a revoked one leaves the list.
        """
        return service.my_certificates(current_user(), args)


@blp.route("/<uuid:certificate_id>/download")
class CertificateDownload(MethodView):
    @blp.doc(operationId="downloadCertificate")
    @blp.response(200, description="The certificate PDF as an attachment", content_type="application/pdf", schema=BINARY_BODY)
    @blp.alt_response(307, description="Redirect to a short-lived presigned URL (S3 storage)")
    @blp.answers(404, 503)
    @login_required
    def get(self, certificate_id):
        """Download a certificate: its owner (even when revoked) or an admin.

        The PDF (rendered on the first download when the issuing job has not yet); with S3 storage, a 307 to a
        short-lived presigned URL. Its owner (also once revoked) or an admin; 404 for anyone else.
        """
        return send_download(service.download_certificate(certificate_id, current_user()))


@blp.route("/verify/<certificate_number>")
class VerifyByNumber(MethodView):
    @blp.doc(operationId="verifyCertificateByNumber")
    @blp.response(200, VerificationSchema)
    def get(self, certificate_number):
        """Check a certificate number (public): `valid` is false for unknown or revoked numbers.

        Public. Always 200: `valid` is false, with `certificate` null, for an unknown or revoked number, so
        clients check `valid` rather than the status.
        """
        return service.verify_by_number(certificate_number)


@blp.route("/public/verify/<uuid:certificate_id>")
class VerifyById(MethodView):
    @blp.doc(operationId="verifyCertificateById")
    @blp.response(200, VerifiedCertificateSchema)
    @blp.answers(404)
    def get(self, certificate_id):
        """A valid certificate by id (public; a bearer token is accepted and ignored); unknown or
        revoked ones are 404.

        Public (a bearer token is accepted and ignored). 404 for an unknown or revoked certificate.
        """
        return service.verify_by_id(certificate_id)


@blp.route("/<uuid:certificate_id>/revoke")
class CertificateRevoke(MethodView):
    @blp.doc(operationId="revokeCertificate")
    @blp.response(200, CertificateSchema)
    @blp.answers(404)
    @require_roles(Role.ADMIN, message="Only admins can revoke certificates")
    def post(self, certificate_id):
        """Revoke a certificate (admins): hidden from verification and lists, still downloadable.

        Admins only (403 for others). The certificate disappears from verification and from its owner's list,
        but its owner can still download it. Revoking again answers it unchanged.
        """
        return service.revoke(certificate_id)


@blp.route("/enrollments/<uuid:enrollment_id>/generate")
class CertificateGenerate(MethodView):
    @idempotent
    @blp.doc(operationId="generateCertificate")
    @blp.response(201, CertificateSchema)
    @blp.answers(400, 404, 503)
    @login_required
    def post(self, enrollment_id):
        """Issue the certificate of a completed enrollment now (idempotent: returns the existing one).

        The enrollment's student, the course's instructor, or an admin (404 for others). 400 when the
        enrollment is not completed. Idempotent: a completed enrollment already has its certificate, which is
        answered with 201.
        """
        return service.generate_for_enrollment(enrollment_id, current_user())
