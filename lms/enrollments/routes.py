from lms.core.api import Blueprint

blp = Blueprint("enrollments", __name__, url_prefix="/enrollments")
