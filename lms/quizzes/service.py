"""Quizzes, their questions, and graded attempts.

Who may see what: a quiz is readable by anyone when both it and its course are published, and
always by the course's owner and admins; everyone else gets 404 (contract §5.18, §5.19).
Races end in one row: one quiz per lesson and one in-progress attempt per student and quiz are
unique in the database, and an attempt is graded by a conditional UPDATE that only one request
can win.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Subquery, Update, and_, bindparam, func, select, update
from sqlalchemy.orm import with_expression
from sqlalchemy.exc import IntegrityError

from lms.core import events, tombstones
from lms.core.db import commit, insert_object, prepared, set_stored_values, utcnow
from lms.core.errors import BadRequest, Conflict, Forbidden, NotFound
from lms.core.pagination import changed_since, collect
from lms.core.schemas import to_decimal2
from lms.courses.models import Course
from lms.courses.service import (
    CourseAccess,
    CourseAccessValues,
    can_manage_course,
    get_course,
    get_course_for_managing,
    get_course_for_reading,
    get_course_lesson,
)
from lms.enrollments import service as enrollments
from lms.enrollments.models import Enrollment
from lms.core.extensions import db
from lms.quizzes import grading
from lms.quizzes.models import Question, Quiz, QuizAttempt
from lms.users.models import User

MANAGE_DENIED = "Not authorized to manage quizzes for this course"
QUIZ_NOT_FOUND = "Quiz not found"
ATTEMPT_NOT_FOUND = "Attempt not found"
NOT_ENROLLED = "You must enroll in course before attempting quiz"
ALREADY_SUBMITTED = "Attempt is already submitted"
IN_PROGRESS_EXISTS = "You already have an in-progress attempt"
MAX_ATTEMPTS_REACHED = "Maximum attempts reached"
TIME_LIMIT_EXCEEDED = "Time limit exceeded for this attempt"

# Time allowed past a quiz's time limit for the submission to travel over the network.
SUBMISSION_GRACE = timedelta(seconds=30)


# A lesson with a published graded quiz is completed by passing the quiz (or by an admin).
QUIZ_LESSON_COMPLETION = "This lesson is completed by passing its quiz"
enrollments.add_completion_rule(
    lambda lesson_id: select(Quiz.id).where(Quiz.lesson_id == lesson_id, Quiz.is_published.is_(True),
                                            Quiz.quiz_type == "graded").exists(),
    QUIZ_LESSON_COMPLETION)


# --- access ------------------------------------------------------------------------------------

def can_read_quiz(quiz: Quiz | AttemptContext, course: CourseAccess, user: User | None) -> bool:
    return can_manage_course(user, course) or (course.is_published and quiz.is_published)


def get_quiz_for_reading(course_id: uuid.UUID, quiz_id: uuid.UUID, user: User | None) -> tuple[Course, Quiz]:
    """A quiz of a course the caller may read; drafts (quiz or course) are 404 to outsiders."""
    course = get_course_for_reading(course_id, user)
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound(QUIZ_NOT_FOUND)
    if quiz.course_id != course.id:
        # Name the mismatch only for a quiz the caller could read in its own course.
        visible_elsewhere = can_read_quiz(quiz, get_course(quiz.course_id), user)
        raise NotFound("Quiz not found in this course" if visible_elsewhere else QUIZ_NOT_FOUND)
    if not can_read_quiz(quiz, course, user):
        raise NotFound(QUIZ_NOT_FOUND)
    return course, quiz


def get_quiz_for_managing(course_id: uuid.UUID, quiz_id: uuid.UUID, user: User) -> tuple[Course, Quiz]:
    """A quiz of a course the caller manages (404 when they may not see the course, 403 otherwise)."""
    course = get_course_for_managing(course_id, user, MANAGE_DENIED)
    return get_quiz_for_reading(course.id, quiz_id, user)


def get_quiz_for_attempting(quiz_id: uuid.UUID, user: User) -> tuple[Course, Quiz, Enrollment | None]:
    """The quiz behind an `/quizzes/{id}/attempts` route, with the same visibility as a quiz read,
    its course and the caller's enrollment in it (None when there is none), in one statement."""
    row = db.session.execute(_quiz_context_statement(), {"quiz_id": quiz_id, "student_id": user.id}).one_or_none()
    if row is None or not can_read_quiz(row.Quiz, row.Course, user):
        raise NotFound(QUIZ_NOT_FOUND)
    return row.Course, row.Quiz, row.Enrollment


@functools.cache
def _quiz_context_statement() -> Select:
    """Built once (a statement object caches its own cache key): the quiz, its course and the
    student's enrollment."""
    return prepared(select(Quiz, Course, Enrollment)
                    .join(Course, Course.id == Quiz.course_id)
                    .outerjoin(Enrollment, and_(Enrollment.course_id == Quiz.course_id,
                                                Enrollment.student_id == bindparam("student_id")))
                    .where(Quiz.id == bindparam("quiz_id")))


@dataclass(frozen=True)
class AttemptContext:
    """What starting, submitting and reading attempts need of the quiz, its course and the caller's
    enrollment (`enrollment_id` None when there is none)."""

    quiz_id: uuid.UUID
    lesson_id: uuid.UUID
    is_published: bool
    time_limit_minutes: int | None
    max_attempts: int | None
    passing_score: Decimal
    show_correct_answers: bool
    course: CourseAccessValues
    enrollment_id: uuid.UUID | None
    enrollment_status: str | None

    @property
    def is_learning(self) -> bool:
        """The caller's enrollment may learn (active or completed)."""
        return self.enrollment_status in enrollments.LEARNING_STATUSES


@functools.cache
def _attempt_context_statement(with_attempt: bool) -> Select:
    """Built once per form: the columns of an `AttemptContext` (plain columns load for a fraction
    of what objects cost), with the attempt when `with_attempt`."""
    quizzes, courses, enrollment_rows = Quiz.__table__, Course.__table__, Enrollment.__table__
    stmt = (select(quizzes.c.id, quizzes.c.lesson_id, quizzes.c.is_published, quizzes.c.time_limit_minutes,
                   quizzes.c.max_attempts, quizzes.c.passing_score, quizzes.c.show_correct_answers,
                   courses.c.is_published, courses.c.instructor_id, enrollment_rows.c.id, enrollment_rows.c.status)
            .select_from(quizzes)
            .join(courses, courses.c.id == quizzes.c.course_id)
            .outerjoin(enrollment_rows, and_(enrollment_rows.c.course_id == quizzes.c.course_id,
                                             enrollment_rows.c.student_id == bindparam("student_id")))
            .where(quizzes.c.id == bindparam("quiz_id")))
    if with_attempt:
        stmt = stmt.add_columns(QuizAttempt).outerjoin(QuizAttempt, and_(
            QuizAttempt.id == bindparam("attempt_id"), QuizAttempt.quiz_id == quizzes.c.id,
            QuizAttempt.enrollment_id == enrollment_rows.c.id))
    return prepared(stmt)


def _attempt_context(quiz_id: uuid.UUID, user: User, attempt_id: uuid.UUID | None = None
                     ) -> tuple[AttemptContext, QuizAttempt | None]:
    """The `AttemptContext` of the quiz, with the visibility of a quiz read, in one statement; with
    `attempt_id`, also the caller's own attempt at the quiz by that id (None when there is no such
    attempt of theirs)."""
    row = db.session.execute(_attempt_context_statement(with_attempt=attempt_id is not None),
                             {"quiz_id": quiz_id, "student_id": user.id, "attempt_id": attempt_id}).one_or_none()
    if row is None:
        raise NotFound(QUIZ_NOT_FOUND)
    (quiz_id, lesson_id, is_published, time_limit_minutes, max_attempts, passing_score, show_correct_answers,
     course_is_published, instructor_id, enrollment_id, enrollment_status, *attempt) = row
    context = AttemptContext(quiz_id, lesson_id, is_published, time_limit_minutes, max_attempts, passing_score,
                             show_correct_answers, CourseAccessValues(course_is_published, instructor_id),
                             enrollment_id, enrollment_status)
    if not can_read_quiz(context, context.course, user):
        raise NotFound(QUIZ_NOT_FOUND)
    return context, attempt[0] if attempt else None


def ensure_learning(enrollment: Enrollment | None) -> Enrollment:
    """The caller's enrollment, when it is one that may learn (active or completed); else 403."""
    if not enrollments.is_learning_enrollment(enrollment):
        raise Forbidden(NOT_ENROLLED)
    return enrollment


# --- quizzes -----------------------------------------------------------------------------------

def question_totals(course_id: uuid.UUID) -> Subquery:
    """Per quiz of the course: number of questions and sum of points, to join (no query per quiz)."""
    return (select(Question.quiz_id,
                   func.count(Question.id).label("total_questions"),
                   func.sum(Question.points).label("total_points"))
            .join(Quiz, Quiz.id == Question.quiz_id)
            .where(Quiz.course_id == course_id)
            .group_by(Question.quiz_id).subquery())


def list_quizzes(course_id: uuid.UUID, user: User | None, args: dict[str, Any]) -> dict[str, Any]:
    """Newest first; published quizzes only, except for the course's owner and admins."""
    course = get_course_for_reading(course_id, user)
    totals = question_totals(course.id)
    stmt = (select(Quiz)
            .outerjoin(totals, totals.c.quiz_id == Quiz.id)
            .options(with_expression(Quiz.total_questions, func.coalesce(totals.c.total_questions, 0)),
                     with_expression(Quiz.total_points, func.coalesce(totals.c.total_points, Decimal("0"))))
            .where(Quiz.course_id == course.id)
            .order_by(Quiz.created_at.desc(), Quiz.id)
            .execution_options(populate_existing=True))
    if not can_manage_course(user, course):
        stmt = stmt.where(Quiz.is_published.is_(True))
    return collect(stmt, args, "quizzes")


def get_quiz(course_id: uuid.UUID, quiz_id: uuid.UUID, user: User | None) -> Quiz:
    return get_quiz_for_reading(course_id, quiz_id, user)[1]


def ensure_lesson_has_no_quiz(lesson_id: uuid.UUID) -> None:
    if db.session.scalar(select(Quiz.id).where(Quiz.lesson_id == lesson_id)) is not None:
        raise Conflict("Lesson already has a quiz")


def commit_quiz(quiz: Quiz) -> Quiz:
    """Commit; a lesson taken by a concurrent request (unique `lesson_id`) is the same 409."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Lesson already has a quiz") from None
    return quiz


def create_quiz(course_id: uuid.UUID, data: dict[str, Any], user: User) -> Quiz:
    course = get_course_for_managing(course_id, user, MANAGE_DENIED)
    lesson = get_course_lesson(course, data["lesson_id"])
    ensure_lesson_has_no_quiz(lesson.id)
    values = {**data, "lesson_id": lesson.id, "passing_score": to_decimal2(data["passing_score"]),
              "weight": to_decimal2(data["weight"])}
    quiz = Quiz(course_id=course.id, is_published=False, **values)
    db.session.add(quiz)
    return commit_quiz(quiz)


def update_quiz(course_id: uuid.UUID, quiz_id: uuid.UUID, data: dict[str, Any], user: User) -> Quiz:
    """Partial update; nulls are ignored. `is_published` flips without validation (contract §4.5)."""
    course, quiz = get_quiz_for_managing(course_id, quiz_id, user)
    changes = {name: value for name, value in data.items() if value is not None}
    if "lesson_id" in changes and changes["lesson_id"] != quiz.lesson_id:
        ensure_lesson_has_no_quiz(get_course_lesson(course, changes["lesson_id"]).id)
    for decimal in ("passing_score", "weight"):
        if decimal in changes:
            changes[decimal] = to_decimal2(changes[decimal])
    for name, value in changes.items():
        setattr(quiz, name, value)
    return commit_quiz(quiz)


def publish_quiz(course_id: uuid.UUID, quiz_id: uuid.UUID, user: User) -> Quiz:
    """Publish after checking that there are questions and that every one of them is gradable."""
    _, quiz = get_quiz_for_managing(course_id, quiz_id, user)
    questions = quiz_questions(quiz.id)
    if not questions:
        raise BadRequest("Cannot publish quiz without questions")
    for question in questions:
        problem = grading.answer_key_problem(question.question_type, question.options, question.correct_answer)
        if problem:
            raise BadRequest(f"Cannot publish quiz: question {question.order_index} is invalid: {problem}")
    quiz.is_published = True
    db.session.commit()
    return quiz


# --- questions ---------------------------------------------------------------------------------

@functools.cache
def _quiz_questions_statement() -> Select:
    return prepared(select(Question).where(Question.quiz_id == bindparam("quiz_id")).order_by(Question.order_index))


def quiz_questions(quiz_id: uuid.UUID) -> list[Question]:
    return list(db.session.scalars(_quiz_questions_statement(), {"quiz_id": quiz_id}))


def answer_key(quiz_id: uuid.UUID) -> list[grading.GradableQuestion]:
    """What grading needs of the quiz's questions, in their order: rows of columns, which load for
    a fraction of what `Question` objects cost."""
    return db.session.execute(_answer_key_statement(), {"quiz_id": quiz_id}).all()


@functools.cache
def _answer_key_statement() -> Select:
    questions = Question.__table__
    return prepared(select(questions.c.id, questions.c.question_type, questions.c.points, questions.c.options,
                           questions.c.correct_answer)
                    .where(questions.c.quiz_id == bindparam("quiz_id")).order_by(questions.c.order_index))


def list_public_questions(course_id: uuid.UUID, quiz_id: uuid.UUID, user: User | None,
                          updated_since: str | None = None) -> list[Question]:
    _, quiz = get_quiz_for_reading(course_id, quiz_id, user)
    return changed_since(quiz_questions(quiz.id), updated_since)


def list_managed_questions(course_id: uuid.UUID, quiz_id: uuid.UUID, user: User,
                           updated_since: str | None = None) -> list[Question]:
    _, quiz = get_quiz_for_managing(course_id, quiz_id, user)
    return changed_since(quiz_questions(quiz.id), updated_since)


def question_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Request fields → column values: `metadata` is stored as `extra_metadata`, blanks as null."""
    fields = dict(data)
    if "metadata" in fields:
        fields["extra_metadata"] = fields.pop("metadata")
    if "points" in fields:
        fields["points"] = to_decimal2(fields["points"])
    if "correct_answer" in fields and not (fields["correct_answer"] or "").strip():
        fields["correct_answer"] = None
    if "options" in fields and not fields["options"]:
        fields["options"] = None
    return fields


def ensure_gradable(question_type: str, options: list[dict[str, Any]] | None, correct_answer: str | None) -> None:
    problem = grading.answer_key_problem(question_type, options, correct_answer)
    if problem:
        raise BadRequest(problem)


def create_question(course_id: uuid.UUID, quiz_id: uuid.UUID, data: dict[str, Any], user: User) -> Question:
    """Append a question (`order_index` = max + 1 within the quiz)."""
    _, quiz = get_quiz_for_managing(course_id, quiz_id, user)
    fields = question_fields(data)
    ensure_gradable(fields["question_type"], fields.get("options"), fields.get("correct_answer"))
    question = Question(quiz_id=quiz.id, **fields)
    # Lock the quiz row so that concurrent additions take turns choosing the next order_index.
    db.session.execute(select(Quiz.id).where(Quiz.id == quiz.id).with_for_update())
    last = db.session.scalar(select(func.max(Question.order_index)).where(Question.quiz_id == quiz.id))
    question.order_index = (last or 0) + 1
    db.session.add(question)
    db.session.commit()
    return question


def update_question(course_id: uuid.UUID, quiz_id: uuid.UUID, question_id: uuid.UUID, data: dict[str, Any],
                    user: User) -> Question:
    """Partial update; the merged question must still satisfy its type's rules."""
    _, quiz = get_quiz_for_managing(course_id, quiz_id, user)
    question = db.session.get(Question, question_id)
    if question is None or question.quiz_id != quiz.id:
        raise NotFound("Question not found")
    changes = question_fields(data)
    ensure_gradable(changes.get("question_type", question.question_type), changes.get("options", question.options),
                    changes.get("correct_answer", question.correct_answer))
    for name, value in changes.items():
        setattr(question, name, value)
    db.session.commit()
    return question


class PresentedQuestion:
    """A question as a learner is shown it: its options in the order drawn for them."""

    def __init__(self, question: Question, shuffle_options: bool) -> None:
        self._question = question
        options = list(question.options) if question.options else None
        if options and shuffle_options:
            random.shuffle(options)
        self.options = options

    def __getattr__(self, name: str) -> Any:
        return getattr(self._question, name)


@dataclass(frozen=True)
class QuizToTake:
    """The quiz (with its figures) and its questions in the order drawn for this learner."""

    quiz: Quiz
    questions: list[PresentedQuestion]


@dataclass(frozen=True)
class AttemptView:
    """An attempt and the view its reader gets of it: "with_corrections" (which answers were right
    and their points) or "without_corrections" (a student, when the quiz hides correct answers)."""

    attempt: QuizAttempt
    view: str


# --- attempts ----------------------------------------------------------------------------------

def deadline_of(started_at: datetime, context: AttemptContext) -> datetime | None:
    """When a submission to an attempt started at `started_at` stops being accepted, grace included;
    None without a time limit."""
    if not context.time_limit_minutes:
        return None
    return started_at + timedelta(minutes=context.time_limit_minutes) + SUBMISSION_GRACE


def close_attempt(attempt: QuizAttempt, values: dict[str, Any]) -> bool:
    """Grade an in-progress attempt with `values`; False when another request graded it first.

    A conditional UPDATE: of two concurrent closers only one matches `status = 'in_progress'`. The
    winner records what it wrote on `attempt` (`set_stored_values`).
    """
    values = {**values, "status": "graded", "updated_at": utcnow()}
    closed = db.session.execute(_close_attempt_statement(tuple(values)),
                                {"attempt_id": attempt.id, **{f"new_{field}": value for field, value in values.items()}})
    if closed.rowcount != 1:
        return False
    set_stored_values(attempt, values)
    events.emit(events.QUIZ_ATTEMPT_GRADED, attempt=attempt)
    return True


@functools.cache
def _close_attempt_statement(fields: tuple[str, ...]) -> Update:
    """Built once per set of fields written (grading and expiry each have theirs)."""
    attempts = QuizAttempt.__table__
    return prepared(update(attempts)
                    .where(attempts.c.id == bindparam("attempt_id"), attempts.c.status == "in_progress")
                    .values({attempts.c[field]: bindparam(f"new_{field}") for field in fields}))


def expire_attempt(attempt: QuizAttempt, now: datetime) -> None:
    """Close an attempt past its time limit with a score of 0 (it never passes)."""
    close_attempt(attempt, {
        "submitted_at": now, "graded_at": now, "score": Decimal("0"), "percentage": Decimal("0"),
        "is_passed": False, "answers": [],
        "time_taken_seconds": int((now - attempt.started_at).total_seconds())})


def start_attempt(quiz_id: uuid.UUID, user: User) -> QuizAttempt:
    """A new in-progress attempt for an enrolled student, within `max_attempts`.

    An in-progress attempt past its time limit is closed first (graded 0). Concurrent starts end
    in one attempt: the partial unique index and (enrollment, quiz, attempt_number) refuse the rest.
    """
    context, _ = _attempt_context(quiz_id, user)
    if not user.is_student:
        raise Forbidden("Only students can start quiz attempts")
    if not context.is_learning:
        raise Forbidden(NOT_ENROLLED)
    now = utcnow()
    current = _attempts_summary(context.enrollment_id, context.quiz_id)
    attempts_so_far, max_score = current.attempts, current.max_score
    if current.in_progress_id is not None:
        deadline = deadline_of(current.in_progress_started_at, context)
        if deadline is None or now <= deadline:
            raise Forbidden(IN_PROGRESS_EXISTS)
        overdue = db.session.get(QuizAttempt, current.in_progress_id)  # loaded only to be closed
        if overdue is not None:
            expire_attempt(overdue, now)
    if context.max_attempts is not None and attempts_so_far >= context.max_attempts:
        commit()  # keep the expiry of an overdue attempt
        raise Forbidden(MAX_ATTEMPTS_REACHED)
    attempt = QuizAttempt(id=uuid.uuid4(), quiz_id=context.quiz_id, enrollment_id=context.enrollment_id,
                          attempt_number=attempts_so_far + 1, status="in_progress", started_at=now,
                          max_score=max_score or Decimal("0"), updated_at=now)
    try:
        insert_object(attempt)
        commit()
    except IntegrityError:
        db.session.rollback()
        if _attempts_summary(context.enrollment_id, context.quiz_id).in_progress_id is not None:
            raise Forbidden(IN_PROGRESS_EXISTS) from None
        raise Forbidden(MAX_ATTEMPTS_REACHED) from None
    return attempt


@dataclass(frozen=True)
class AttemptsSummary:
    """The student's in-progress attempt at a quiz (its id and start; None when there is none),
    their number of attempts and the quiz's points."""

    in_progress_id: uuid.UUID | None
    in_progress_started_at: datetime | None
    attempts: int
    max_score: Decimal | None


def _attempts_summary(enrollment_id: uuid.UUID, quiz_id: uuid.UUID) -> AttemptsSummary:
    """The `AttemptsSummary`, in one statement of plain columns."""
    in_progress_id, started_at, count, max_score = db.session.execute(
        _attempts_summary_statement(), {"enrollment_id": enrollment_id, "quiz_id": quiz_id}).one()
    return AttemptsSummary(in_progress_id, started_at, count or 0, max_score)


@functools.cache
def _attempts_summary_statement() -> Select:
    enrollment_id, quiz_id = bindparam("enrollment_id"), bindparam("quiz_id")
    quizzes, attempts, questions = Quiz.__table__, QuizAttempt.__table__, Question.__table__
    count = select(func.count(attempts.c.id)).where(
        attempts.c.enrollment_id == enrollment_id, attempts.c.quiz_id == quiz_id).scalar_subquery()
    points = select(func.sum(questions.c.points)).where(questions.c.quiz_id == quiz_id).scalar_subquery()
    return prepared(select(attempts.c.id, attempts.c.started_at, count, points)
                    .select_from(quizzes)
                    .outerjoin(attempts, and_(attempts.c.quiz_id == quizzes.c.id,
                                              attempts.c.enrollment_id == enrollment_id,
                                              attempts.c.status == "in_progress"))
                    .where(quizzes.c.id == quiz_id))


def take_quiz(quiz_id: uuid.UUID, user: User) -> QuizToTake:
    """The quiz as a learner takes it: questions without answers, shuffled when the quiz says so.

    Students must be enrolled; anyone else must manage the course (§5.8).
    """
    course, quiz, enrollment = get_quiz_for_attempting(quiz_id, user)
    if user.is_student:
        ensure_learning(enrollment)
    elif not can_manage_course(user, course):
        raise Forbidden("Only the course owner or an admin can preview this quiz")
    questions = quiz_questions(quiz.id)
    if quiz.shuffle_questions:
        questions = random.sample(questions, len(questions))
    quiz.total_questions = len(questions)
    quiz.total_points = sum((question.points for question in questions), Decimal("0"))
    return QuizToTake(quiz, [PresentedQuestion(question, quiz.shuffle_options) for question in questions])


def submit_attempt(quiz_id: uuid.UUID, attempt_id: uuid.UUID, answers: list[dict[str, Any]],
                   user: User) -> AttemptView:
    """Check, grade and close the caller's in-progress attempt; passing completes the quiz's lesson.

    After the time limit (plus grace) the attempt is closed with 0 and the submission refused.
    Another student's attempt is 404 like a missing one.
    """
    context, attempt = _attempt_context(quiz_id, user, attempt_id)
    if not user.is_student:
        raise Forbidden("Only students can submit attempts")
    if attempt is None:
        raise NotFound(ATTEMPT_NOT_FOUND)
    if attempt.status != "in_progress":
        raise Forbidden(ALREADY_SUBMITTED)
    if not context.is_learning:
        raise Forbidden(NOT_ENROLLED)  # a dropped enrollment must not be completed by a late pass
    now = utcnow()
    deadline = deadline_of(attempt.started_at, context)
    if deadline is not None and now > deadline:
        expire_attempt(attempt, now)
        commit()
        raise Forbidden(TIME_LIMIT_EXCEEDED)

    questions = answer_key(context.quiz_id)
    submitted = [grading.Answer(**answer) for answer in answers]
    try:
        grading.check_answers(questions, submitted)
    except grading.InvalidAnswers as exc:
        raise BadRequest(str(exc)) from None
    result = grading.grade(questions, submitted, context.passing_score)
    graded = close_attempt(attempt, {
        "submitted_at": now, "graded_at": now, "score": result.score, "max_score": result.max_score,
        "percentage": result.percentage, "is_passed": result.is_passed,
        "time_taken_seconds": int((now - attempt.started_at).total_seconds()),
        "answers": [stored_answer(answer) for answer in result.answers]})
    if not graded:
        db.session.rollback()
        raise Forbidden(ALREADY_SUBMITTED)
    if result.is_passed:
        enrollment = enrollments.lock_enrollment(context.enrollment_id)
        enrollments.complete_lesson(enrollment, context.lesson_id)
        events.emit(events.LEARNING_RECORDED, enrollment=enrollment)
    commit()
    return attempt_view(attempt, context, user)


def stored_answer(answer: grading.AnswerResult) -> dict[str, Any]:
    """JSON for the `answers` column; points are stored as an exact decimal string (the response
    sends them as a number, as the contract's AttemptResult has it)."""
    return {"question_id": str(answer.question_id), "selected_option_id": answer.selected_option_id,
            "answer_text": answer.answer_text, "is_correct": answer.is_correct,
            "points_earned": str(answer.points_earned)}


def attempt_view(attempt: QuizAttempt, context: AttemptContext, user: User) -> AttemptView:
    """Students see which answers were right only when the quiz shows correct answers."""
    corrections = context.show_correct_answers or can_manage_course(user, context.course)
    return AttemptView(attempt, "with_corrections" if corrections else "without_corrections")


def my_attempts(quiz_id: uuid.UUID, user: User, updated_since: str | None = None) -> list[QuizAttempt]:
    """The caller's attempts at a quiz, by attempt number (those changed since `updated_since`)."""
    context, _ = _attempt_context(quiz_id, user)
    if not user.is_student:
        raise Forbidden("Only students have quiz attempts")
    if context.enrollment_id is None:
        raise Forbidden("You are not enrolled in this course")
    return changed_since(list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.enrollment_id == context.enrollment_id, QuizAttempt.quiz_id == context.quiz_id,
    ).order_by(QuizAttempt.attempt_number))), updated_since)


def get_attempt(quiz_id: uuid.UUID, attempt_id: uuid.UUID, user: User) -> AttemptView:
    """The owning student's attempt; the course's owner and admins may read any attempt at it."""
    context, attempt = _attempt_context(quiz_id, user, attempt_id)
    if can_manage_course(user, context.course):
        attempt = db.session.get(QuizAttempt, attempt_id)
        if attempt is None or attempt.quiz_id != context.quiz_id:
            raise NotFound(ATTEMPT_NOT_FOUND)
    elif attempt is None:
        raise NotFound(ATTEMPT_NOT_FOUND)
    return attempt_view(attempt, context, user)


# --- tombstones of the rows deleted with a course or a lesson (database cascades) --------------------

def _record_deleted_quizzes(quizzes: Select) -> None:
    """Tombstones for the quizzes of `quizzes` (a SELECT of quiz ids), their questions and attempts."""
    tombstones.record("quizzes", select(Quiz.id, Quiz.course_id).where(Quiz.id.in_(quizzes)))
    tombstones.record("questions", select(Question.id, Quiz.course_id).join(Quiz, Quiz.id == Question.quiz_id)
                      .where(Quiz.id.in_(quizzes)))
    tombstones.record("quiz_attempts", select(QuizAttempt.id, Quiz.course_id).join(Quiz, Quiz.id == QuizAttempt.quiz_id)
                      .where(Quiz.id.in_(quizzes)))


@events.on(events.COURSE_DELETED)
def _record_deleted_course_quizzes(course_id: uuid.UUID, **_: Any) -> None:
    _record_deleted_quizzes(select(Quiz.id).where(Quiz.course_id == course_id))


@events.on(events.LESSON_DELETED)
def _record_deleted_lesson_quiz(lesson_id: uuid.UUID, **_: Any) -> None:
    _record_deleted_quizzes(select(Quiz.id).where(Quiz.lesson_id == lesson_id))
