"""Quizzes and questions under a course, and attempts under a quiz (contract §4.5–4.7)."""

from __future__ import annotations

from flask.views import MethodView

from lms.core.api import Blueprint
from lms.core.http import dumped_response
from lms.core.permissions import current_user, login_optional, login_required
from lms.quizzes import service
from lms.quizzes.schemas import (
    ATTEMPT_VIEWS,
    AttemptResultSchema,
    AttemptSchema,
    AttemptStartedSchema,
    QuestionCreateSchema,
    QuestionPublicSchema,
    QuestionSchema,
    QuestionUpdateSchema,
    QuizCreateSchema,
    QuizListSchema,
    QuizSchema,
    QuizUpdateSchema,
    SubmitAttemptSchema,
    TakeQuizSchema,
)

blp = Blueprint("quizzes", __name__, url_prefix="/courses",
                description="Quizzes of a course and their questions (instructors write them, students see them without answers)")
attempts_blp = Blueprint("quiz-attempts", __name__, url_prefix="/quizzes",
                         description="Taking a quiz: start an attempt, submit answers, get it graded")


@blp.route("/<uuid:course_id>/quizzes")
class QuizList(MethodView):
    @blp.doc(operationId="listQuizzes")
    @blp.response(200, QuizListSchema)
    @blp.answers(404)
    @login_optional
    def get(self, course_id):
        """List a course's quizzes, newest first (drafts only for the owner or an admin)."""
        return service.list_quizzes(course_id, current_user())

    @blp.doc(operationId="createQuiz")
    @blp.arguments(QuizCreateSchema)
    @blp.response(201, QuizSchema)
    @blp.answers(403, 404, 409)
    @login_required
    def post(self, data, course_id):
        """Create a quiz on one of the course's lessons (one quiz per lesson)."""
        return service.create_quiz(course_id, data, current_user())


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>")
class QuizItem(MethodView):
    @blp.doc(operationId="getQuiz")
    @blp.response(200, QuizSchema)
    @blp.answers(404)
    @login_optional
    def get(self, course_id, quiz_id):
        """Get a quiz (drafts only for the course's owner or an admin)."""
        return service.get_quiz(course_id, quiz_id, current_user())

    @blp.doc(operationId="updateQuiz")
    @blp.arguments(QuizUpdateSchema)
    @blp.response(200, QuizSchema)
    @blp.answers(403, 404, 409)
    @login_required
    def patch(self, data, course_id, quiz_id):
        """Update a quiz; null values are ignored."""
        return service.update_quiz(course_id, quiz_id, data, current_user())


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>/publish")
class QuizPublish(MethodView):
    @blp.doc(operationId="publishQuiz")
    @blp.response(200, QuizSchema)
    @blp.answers(400, 403, 404)
    @login_required
    def post(self, course_id, quiz_id):
        """Publish a quiz that has questions, all of them valid."""
        return service.publish_quiz(course_id, quiz_id, current_user())


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>/questions")
class QuestionList(MethodView):
    @blp.doc(operationId="listQuestions")
    @blp.response(200, QuestionPublicSchema(many=True))
    @blp.answers(404)
    @login_optional
    def get(self, course_id, quiz_id):
        """A quiz's questions without answers or explanations, by order."""
        return service.list_public_questions(course_id, quiz_id, current_user())

    @blp.doc(operationId="createQuestion")
    @blp.arguments(QuestionCreateSchema)
    @blp.response(201, QuestionSchema)
    @blp.answers(400, 403, 404)
    @login_required
    def post(self, data, course_id, quiz_id):
        """Add a question at the end of the quiz."""
        return service.create_question(course_id, quiz_id, data, current_user())


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>/questions/manage")
class QuestionManageList(MethodView):
    @blp.doc(operationId="listQuestionsWithAnswers")
    @blp.response(200, QuestionSchema(many=True))
    @blp.answers(403, 404)
    @login_required
    def get(self, course_id, quiz_id):
        """A quiz's questions with their answer keys, for the course's owner or an admin."""
        return service.list_managed_questions(course_id, quiz_id, current_user())


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>/questions/<uuid:question_id>")
class QuestionItem(MethodView):
    @blp.doc(operationId="updateQuestion")
    @blp.arguments(QuestionUpdateSchema)
    @blp.response(200, QuestionSchema)
    @blp.answers(400, 403, 404)
    @login_required
    def patch(self, data, course_id, quiz_id, question_id):
        """Update a question; the merged result must satisfy its type's rules."""
        return service.update_question(course_id, quiz_id, question_id, data, current_user())


@attempts_blp.route("/<uuid:quiz_id>/attempts")
class AttemptList(MethodView):
    @attempts_blp.doc(operationId="startQuizAttempt")
    @attempts_blp.response(201, AttemptStartedSchema)
    @attempts_blp.answers(403, 404)
    @login_required
    def post(self, quiz_id):
        """Start an attempt (enrolled students; one in progress at a time, within max_attempts)."""
        return service.start_attempt(quiz_id, current_user())


@attempts_blp.route("/<uuid:quiz_id>/attempts/start")
class AttemptTake(MethodView):
    @attempts_blp.doc(operationId="getQuizToTake")
    @attempts_blp.response(200, TakeQuizSchema)
    @attempts_blp.answers(403, 404)
    @login_required
    def get(self, quiz_id):
        """The quiz as it is taken: questions without answers, shuffled when the quiz says so."""
        return service.take_quiz(quiz_id, current_user())


@attempts_blp.route("/<uuid:quiz_id>/attempts/my-attempts")
class MyAttempts(MethodView):
    @attempts_blp.doc(operationId="listMyQuizAttempts")
    @attempts_blp.response(200, AttemptSchema(many=True))
    @attempts_blp.answers(403, 404)
    @login_required
    def get(self, quiz_id):
        """The caller's attempts at this quiz, by attempt number."""
        return service.my_attempts(quiz_id, current_user())


@attempts_blp.route("/<uuid:quiz_id>/attempts/<uuid:attempt_id>")
class AttemptItem(MethodView):
    @attempts_blp.doc(operationId="getQuizAttempt")
    @attempts_blp.response(200, AttemptResultSchema)
    @attempts_blp.answers(404)
    @login_required
    def get(self, quiz_id, attempt_id):
        """An attempt with its answers (its student, or the course's owner or an admin)."""
        viewed = service.get_attempt(quiz_id, attempt_id, current_user())
        return dumped_response(ATTEMPT_VIEWS[viewed.view], viewed.attempt)


@attempts_blp.route("/<uuid:quiz_id>/attempts/<uuid:attempt_id>/submit")
class AttemptSubmit(MethodView):
    @attempts_blp.doc(operationId="submitQuizAttempt")
    @attempts_blp.arguments(SubmitAttemptSchema)
    @attempts_blp.response(200, AttemptResultSchema)
    @attempts_blp.answers(400, 403, 404)
    @login_required
    def post(self, data, quiz_id, attempt_id):
        """Submit answers: graded at once; passing completes the quiz's lesson."""
        viewed = service.submit_attempt(quiz_id, attempt_id, data["answers"], current_user())
        return dumped_response(ATTEMPT_VIEWS[viewed.view], viewed.attempt)
