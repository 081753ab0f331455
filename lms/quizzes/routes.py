from lms.core.api import Blueprint

blp = Blueprint("quizzes", __name__, url_prefix="/courses")
attempts_blp = Blueprint("quiz-attempts", __name__, url_prefix="/quizzes")
