from lms.core.api import Blueprint

blp = Blueprint("analytics", __name__, url_prefix="/analytics")
