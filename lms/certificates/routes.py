from lms.core.api import Blueprint

blp = Blueprint("certificates", __name__, url_prefix="/certificates")
