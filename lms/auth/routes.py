from lms.core.api import Blueprint

blp = Blueprint("auth", __name__, url_prefix="/auth")
