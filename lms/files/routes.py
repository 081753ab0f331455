from flask.views import MethodView

from lms.core.api import BINARY_BODY, Blueprint
from lms.core.idempotency import idempotent
from lms.core.pagination import list_schema
from lms.core.permissions import current_user, login_required
from lms.core.ratelimit import upload_rate_limit
from lms.core.storage import send_download
from lms.files import service
from lms.files.schemas import FileSchema, MyFilesQuerySchema, UploadFileSchema, UploadFormSchema

blp = Blueprint("files", __name__, url_prefix="/files", description="Uploads and downloads of user files")

# flask-smorest documents only one request body per view; the upload's form fields and its file
# travel in the same multipart body, so the documentation states that body whole. Other fields are
# refused (422), as in every JSON body.
UPLOAD_REQUEST_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "additionalProperties": False,
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "folder": {"type": "string", "default": "uploads", "pattern": "^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$"},
            "is_public": {"type": "boolean", "default": False},
        },
    }}},
}


@blp.route("/upload")
class FileUpload(MethodView):
    @idempotent
    @blp.doc(operationId="uploadFile")
    @blp.arguments(UploadFormSchema, location="form")
    @blp.arguments(UploadFileSchema, location="files")
    @blp.response(201, FileSchema)
    @blp.answers(400, 413, 429, 503)
    @blp.doc(parameters=[], requestBody=UPLOAD_REQUEST_BODY)
    @upload_rate_limit
    @login_required
    def post(self, form, files):
        """Upload a file (multipart): stored under a server-generated name after its content is checked.

        A `multipart/form-data` body with `file`, and optionally `folder` and `is_public`; any other field is
        a 422. The type is checked by content, not only by name: the extensions allowed and the size limit are
        the deployment's (`ALLOWED_UPLOAD_EXTENSIONS`, by default mp4, avi, mov, pdf, doc, docx, jpg, jpeg,
        png; `MAX_UPLOAD_MB`, by default 100). 400 for an empty file, an extension not allowed, content that
        does not match its extension, or a bad folder; 413 for a file over the limit. Rate rule: upload.
        """
        return service.upload_file(current_user(), files["file"], form["folder"], form["is_public"])


@blp.route("/my-files")
class MyFiles(MethodView):
    @blp.doc(operationId="listMyFiles")
    @blp.arguments(MyFilesQuerySchema, location="query")
    @blp.response(200, list_schema(FileSchema, "files"))
    @login_required
    def get(self, args):
        """The caller's files, newest first, optionally of one `file_type`.

        The caller's own uploads, newest first; `file_type` (`video`, `image`, `document`, `other`) filters
        exactly.
        """
        return service.list_my_files(current_user(), args)


@blp.route("/download/<uuid:file_id>")
class FileDownload(MethodView):
    @blp.doc(operationId="downloadFile")
    @blp.response(200, description="The file as an attachment, with its stored media type",
                  content_type="application/octet-stream", schema=BINARY_BODY)
    @blp.alt_response(307, description="Redirect to a short-lived presigned URL (S3 storage)")
    @blp.answers(404, 503)
    @login_required
    def get(self, file_id):
        """Download a file: the uploader, an admin, any logged-in user for a public file, or the
        instructor grading a submission it is attached to.

        The bytes with their stored media type and `Content-Disposition: attachment` with the original name;
        with S3 storage, a 307 to a short-lived presigned URL. The uploader, an admin, any logged-in user for
        a public file, or the instructor grading a submission it is attached to; 404 for anyone else, so that
        others' files are not revealed.
        """
        return send_download(service.download(file_id, current_user()))
