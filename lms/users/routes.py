from lms.core.api import Blueprint

blp = Blueprint("users", __name__, url_prefix="/users")
