from lms.core.api import Blueprint

blp = Blueprint("files", __name__, url_prefix="/files")
