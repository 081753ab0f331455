from lms.core.api import Blueprint

blp = Blueprint("courses", __name__, url_prefix="/courses")
lessons_blp = Blueprint("lessons", __name__, url_prefix="/")
