from lms.core.api import Blueprint

blp = Blueprint("assignments", __name__, url_prefix="/assignments")
