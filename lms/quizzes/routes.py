"""Quizzes and questions under a course, and attempts under a quiz (contract §4.5–4.7)."""

from __future__ import annotations

from flask.views import MethodView

from lms.core.api import Blueprint
from lms.core.idempotency import idempotent
from lms.core.http import dumped_response
from lms.core.pagination import SinceQuerySchema, UnpagedQuerySchema
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
    @blp.arguments(UnpagedQuerySchema, location="query")
    @blp.response(200, QuizListSchema)
    @blp.answers(404)
    @login_optional
    def get(self, args, course_id):
        """List a course's quizzes, newest first (drafts only for the owner or an admin).

        Anyone for a published course: its published quizzes; the course's instructor and admins also see
        drafts. 404 for an unknown course or a draft course the caller may not see. `updated_since`/`after` page
        them for incremental sync (ascending id, `limit` per page, `next_cursor`).
        """
        return service.list_quizzes(course_id, current_user(), args)

    @idempotent
    @blp.doc(operationId="createQuiz")
    @blp.arguments(QuizCreateSchema)
    @blp.response(201, QuizSchema)
    @blp.answers(403, 404, 409)
    @login_required
    def post(self, data, course_id):
        """Create a quiz on one of the course's lessons (one quiz per lesson).

        The course's instructor or an admin (403 otherwise). `lesson_id` must be a lesson of this course (404
        otherwise), and a lesson has at most one quiz (409). The quiz starts unpublished; add questions, then
        publish it.
        """
        return service.create_quiz(course_id, data, current_user())


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>")
class QuizItem(MethodView):
    @blp.doc(operationId="getQuiz")
    @blp.response(200, QuizSchema)
    @blp.answers(404)
    @login_optional
    def get(self, course_id, quiz_id):
        """Get a quiz (drafts only for the course's owner or an admin).

        A published quiz of a published course for anyone; drafts only for the course's instructor and admins
        (404 for others).
        """
        return service.get_quiz(course_id, quiz_id, current_user())

    @blp.doc(operationId="updateQuiz")

    @blp.examples(request={"passing_score": 80, "max_attempts": 3})
    @blp.arguments(QuizUpdateSchema)
    @blp.response(200, QuizSchema)
    @blp.answers(403, 404, 409)
    @login_required
    def patch(self, data, course_id, quiz_id):
        """Update a quiz; null values are ignored.

        The course's instructor or an admin. Only the fields sent change, and null values are ignored. Setting
        `is_published` here skips the question checks that `POST .../publish` makes. 409 when `lesson_id`
        names a lesson that already has a quiz.
        """
        return service.update_quiz(course_id, quiz_id, data, current_user())


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>/publish")
class QuizPublish(MethodView):
    @blp.doc(operationId="publishQuiz")
    @blp.response(200, QuizSchema)
    @blp.answers(400, 403, 404)
    @login_required
    def post(self, course_id, quiz_id):
        """Publish a quiz that has questions, all of them valid.

        The course's instructor or an admin. 400 when the quiz has no questions, or one that breaks its type's
        rules (for example a multiple-choice question without exactly one correct option).
        """
        return service.publish_quiz(course_id, quiz_id, current_user())


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>/questions")
class QuestionList(MethodView):
    @blp.doc(operationId="listQuestions")
    @blp.arguments(SinceQuerySchema, location="query")
    @blp.response(200, QuestionPublicSchema(many=True))
    @blp.answers(400, 404)
    @login_optional
    def get(self, args, course_id, quiz_id):
        """A quiz's questions without answers or explanations, by order.

        The learner's view: no `correct_answer`, no `explanation`, no `is_correct` on options. For anyone who
        may read the quiz (anonymous callers included when it is published).
        """
        return service.list_public_questions(course_id, quiz_id, current_user(), args.get("updated_since"))

    @blp.doc(operationId="createQuestion")

    @blp.examples(request={"question_text": "What does len([1, 2, 3]) return?", "question_type": "multiple_choice",
                           "points": 2, "options": [{"option_id": "a", "option_text": "3", "is_correct": True},
                                                    {"option_id": "b", "option_text": "2"}]})
    @blp.arguments(QuestionCreateSchema)
    @blp.response(201, QuestionSchema)
    @blp.answers(400, 403, 404)
    @login_required
    def post(self, data, course_id, quiz_id):
        """Add a question at the end of the quiz.

        The course's instructor or an admin. Each type has rules, a 400 when broken: multiple choice needs two
        or more options with unique ids and texts and exactly one correct; true/false a `correct_answer` of
        true or false and no options; short answer a `correct_answer`; essay neither options nor
        `correct_answer`.
        """
        return service.create_question(course_id, quiz_id, data, current_user())


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>/questions/manage")
class QuestionManageList(MethodView):
    @blp.doc(operationId="listQuestionsWithAnswers")
    @blp.arguments(SinceQuerySchema, location="query")
    @blp.response(200, QuestionSchema(many=True))
    @blp.answers(400, 403, 404)
    @login_required
    def get(self, args, course_id, quiz_id):
        """A quiz's questions with their answer keys, for the course's owner or an admin.

        The management view with `correct_answer`, `explanation` and each option's `is_correct`: the course's
        instructor or an admin only (403 otherwise).
        """
        return service.list_managed_questions(course_id, quiz_id, current_user(), args.get("updated_since"))


@blp.route("/<uuid:course_id>/quizzes/<uuid:quiz_id>/questions/<uuid:question_id>")
class QuestionItem(MethodView):
    @blp.doc(operationId="updateQuestion")
    @blp.examples(request={"points": 3, "explanation": "len counts the items of a list."})
    @blp.arguments(QuestionUpdateSchema)
    @blp.response(200, QuestionSchema)
    @blp.answers(400, 403, 404)
    @login_required
    def patch(self, data, course_id, quiz_id, question_id):
        """Update a question; the merged result must satisfy its type's rules.

        The course's instructor or an admin. Only the fields sent change; `options`, `correct_answer` and
        `explanation` may be cleared with null. The question as changed must still follow its type's rules
        (400 otherwise).
        """
        return service.update_question(course_id, quiz_id, question_id, data, current_user())


@attempts_blp.route("/<uuid:quiz_id>/attempts")
class AttemptList(MethodView):
    @idempotent
    @attempts_blp.doc(operationId="startQuizAttempt")
    @attempts_blp.response(201, AttemptStartedSchema)
    @attempts_blp.answers(403, 404)
    @login_required
    def post(self, quiz_id):
        """Start an attempt (enrolled students; one in progress at a time, within max_attempts).

        An enrolled student, for a published quiz. 403 for non-students, for a student who is not enrolled,
        when `max_attempts` are used up, or while another attempt is in progress (one whose time limit has
        passed expires first). Answers the attempt's id for `.../submit`.
        """
        return service.start_attempt(quiz_id, current_user())


@attempts_blp.route("/<uuid:quiz_id>/attempts/start")
class AttemptTake(MethodView):
    @attempts_blp.doc(operationId="getQuizToTake")
    @attempts_blp.response(200, TakeQuizSchema)
    @attempts_blp.answers(403, 404)
    @login_required
    def get(self, quiz_id):
        """The quiz as it is taken: questions without answers, shuffled when the quiz says so.

        The questions without answers, shuffled when the quiz says so. For an enrolled student when the quiz
        is published, and for the course's instructor or an admin; 403 for other callers.
        """
        return service.take_quiz(quiz_id, current_user())


@attempts_blp.route("/<uuid:quiz_id>/attempts/my-attempts")
class MyAttempts(MethodView):
    @attempts_blp.doc(operationId="listMyQuizAttempts")
    @attempts_blp.arguments(SinceQuerySchema, location="query")
    @attempts_blp.response(200, AttemptSchema(many=True))
    @attempts_blp.answers(400, 403, 404)
    @login_required
    def get(self, args, quiz_id):
        """The caller's attempts at this quiz, by attempt number.

        The caller's attempts at this quiz by `attempt_number`: enrolled students only (403 otherwise).
        """
        return service.my_attempts(quiz_id, current_user(), args.get("updated_since"))


@attempts_blp.route("/<uuid:quiz_id>/attempts/<uuid:attempt_id>")
class AttemptItem(MethodView):
    @attempts_blp.doc(operationId="getQuizAttempt")
    @attempts_blp.response(200, AttemptResultSchema)
    @attempts_blp.answers(404)
    @login_required
    def get(self, quiz_id, attempt_id):
        """An attempt with its answers (its student, or the course's owner or an admin).

        The attempt's student, the course's instructor or an admin (404 for others). `is_correct` and
        `points_earned` of each answer are left out for the student when the quiz hides correct answers.
        """
        viewed = service.get_attempt(quiz_id, attempt_id, current_user())
        return dumped_response(ATTEMPT_VIEWS[viewed.view], viewed.attempt)


@attempts_blp.route("/<uuid:quiz_id>/attempts/<uuid:attempt_id>/submit")
class AttemptSubmit(MethodView):
    @idempotent
    @attempts_blp.doc(operationId="submitQuizAttempt")
    @attempts_blp.examples(request={"answers": [
        {"question_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "selected_option_id": "a"},
        {"question_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "answer_text": "true"}]})
    @attempts_blp.arguments(SubmitAttemptSchema)
    @attempts_blp.response(200, AttemptResultSchema)
    @attempts_blp.answers(400, 403, 404)
    @login_required
    def post(self, data, quiz_id, attempt_id):
        """Submit answers: graded at once; passing completes the quiz's lesson.

        The attempt's student only. Graded at once: unanswered questions score 0 and essays always 0; passing
        (`percentage` ≥ `passing_score`) completes the quiz's lesson, which may complete the course. 400 for
        an attempt already submitted, a question of another quiz or twice, or an answer that does not fit its
        question's type.
        """
        viewed = service.submit_attempt(quiz_id, attempt_id, data["answers"], current_user())
        return dumped_response(ATTEMPT_VIEWS[viewed.view], viewed.attempt)
