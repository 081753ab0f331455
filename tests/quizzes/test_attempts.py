"""Quiz attempts: start, take, submit, time limits, results and history (contract §4.7, §5.8)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from lms.core.db import utcnow
from lms.enrollments.models import Enrollment, LessonProgress
from lms.core.extensions import db
from lms.quizzes.models import QuizAttempt
from lms.quizzes.service import SUBMISSION_GRACE
from lms.webhooks.subscriptions import publish_wanted_event_types
from tests.quizzes.helpers import attempts_url

STARTED_FIELDS = {"id", "updated_at", "quiz_id", "attempt_number", "status", "started_at", "max_score"}
ATTEMPT_FIELDS = {"id", "updated_at", "enrollment_id", "quiz_id", "attempt_number", "status", "started_at", "submitted_at",
                  "graded_at", "score", "max_score", "percentage", "is_passed", "time_taken_seconds"}


def start(client, headers, quiz_id):
    return client.post(attempts_url(quiz_id), headers=headers)


def start_aged(client, headers, quiz_id, age: timedelta) -> dict:
    """Start an attempt, then move its start `age` into the past; its body as the start answered it."""
    attempt = start(client, headers, quiz_id).get_json()
    stored(attempt["id"]).started_at = utcnow() - age
    db.session.commit()
    return attempt


def submit(client, headers, quiz_id, attempt_id, answers):
    return client.post(attempts_url(quiz_id, f"/{attempt_id}/submit"), headers=headers, json={"answers": answers})


def stored(attempt_id) -> QuizAttempt:
    db.session.expire_all()
    return db.session.get(QuizAttempt, uuid.UUID(str(attempt_id)))


def lesson_status(world) -> str | None:
    return db.session.scalar(select(LessonProgress.status).where(
        LessonProgress.enrollment_id == world.enrollment.id, LessonProgress.lesson_id == world.lesson.id))


# --- start ---------------------------------------------------------------------------------------

def test_an_enrolled_student_starts_an_attempt(client, capitals, auth_headers):
    response = start(client, auth_headers(capitals.student), capitals.quiz.id)

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == STARTED_FIELDS
    assert (body["quiz_id"], body["attempt_number"], body["status"], body["max_score"]) == (
        str(capitals.quiz.id), 1, "in_progress", "4.00")
    assert body["started_at"].endswith("Z")
    assert stored(body["id"]).enrollment_id == capitals.enrollment.id


def test_a_completed_enrollment_may_still_take_quizzes(client, capitals, auth_headers):
    capitals.enrollment.status = "completed"
    db.session.commit()

    assert start(client, auth_headers(capitals.student), capitals.quiz.id).status_code == 201


@pytest.mark.parametrize("enrollment_status", [None, "dropped", "expired"])
def test_a_student_must_be_learning_in_the_course(client, capitals, make_user, make_enrollment, auth_headers,
                                                 enrollment_status):
    learner = make_user("student")
    if enrollment_status:
        make_enrollment(learner, capitals.course, status=enrollment_status)

    response = start(client, auth_headers(learner), capitals.quiz.id)

    assert (response.status_code, response.get_json()) == (
        403, {"detail": "You must enroll in course before attempting quiz"})


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_only_students_start_attempts(client, capitals, admin, auth_headers, role):
    user = capitals.owner if role == "instructor" else admin

    response = start(client, auth_headers(user), capitals.quiz.id)

    assert (response.status_code, response.get_json()) == (403, {"detail": "Only students can start quiz attempts"})


def test_starting_requires_authentication(client, capitals):
    response = start(client, {}, capitals.quiz.id)

    assert (response.status_code, response.get_json()) == (401, {"detail": "Not authenticated"})


@pytest.mark.parametrize("hidden", ["quiz", "course"])
def test_a_draft_quiz_or_course_cannot_be_started_and_is_not_revealed(client, capitals, auth_headers, hidden):
    (capitals.quiz if hidden == "quiz" else capitals.course).is_published = False
    db.session.commit()

    response = start(client, auth_headers(capitals.student), capitals.quiz.id)

    assert (response.status_code, response.get_json()) == (404, {"detail": "Quiz not found"})
    assert db.session.query(QuizAttempt).count() == 0


def test_an_unknown_quiz_is_404(client, student, auth_headers):
    response = start(client, auth_headers(student), uuid.uuid4())

    assert (response.status_code, response.get_json()) == (404, {"detail": "Quiz not found"})


def test_one_attempt_in_progress_at_a_time(client, capitals, auth_headers):
    headers = auth_headers(capitals.student)
    start(client, headers, capitals.quiz.id)

    response = start(client, headers, capitals.quiz.id)

    assert (response.status_code, response.get_json()) == (403, {"detail": "You already have an in-progress attempt"})
    assert db.session.query(QuizAttempt).count() == 1


def test_attempts_are_numbered_and_limited_by_max_attempts(client, capitals, auth_headers):
    capitals.quiz.max_attempts = 2
    db.session.commit()
    headers = auth_headers(capitals.student)

    numbers = []
    for _ in range(2):
        attempt = start(client, headers, capitals.quiz.id).get_json()
        numbers.append(attempt["attempt_number"])
        assert submit(client, headers, capitals.quiz.id, attempt["id"], []).status_code == 200
    refused = start(client, headers, capitals.quiz.id)

    assert numbers == [1, 2]
    assert (refused.status_code, refused.get_json()) == (403, {"detail": "Maximum attempts reached"})


def test_starting_again_expires_an_overdue_attempt(client, capitals, auth_headers):
    capitals.quiz.time_limit_minutes = 10
    db.session.commit()
    headers = auth_headers(capitals.student)
    deadline = timedelta(minutes=10) + SUBMISSION_GRACE
    overdue = start_aged(client, headers, capitals.quiz.id, deadline + timedelta(seconds=1))

    response = start(client, headers, capitals.quiz.id)

    assert (response.status_code, response.get_json()["attempt_number"]) == (201, 2)
    expired = stored(overdue["id"])
    assert (expired.status, expired.score, expired.percentage, expired.is_passed) == (
        "graded", Decimal("0"), Decimal("0"), False)
    assert expired.graded_at is not None


def test_an_attempt_within_its_time_limit_blocks_a_new_start(client, capitals, auth_headers):
    capitals.quiz.time_limit_minutes = 10
    db.session.commit()
    headers = auth_headers(capitals.student)
    start_aged(client, headers, capitals.quiz.id, timedelta(minutes=10))

    response = start(client, headers, capitals.quiz.id)

    assert (response.status_code, response.get_json()) == (403, {"detail": "You already have an in-progress attempt"})


def test_an_expired_last_attempt_still_counts_toward_max_attempts(client, capitals, auth_headers):
    capitals.quiz.time_limit_minutes, capitals.quiz.max_attempts = 5, 1
    db.session.commit()
    headers = auth_headers(capitals.student)
    overdue = start_aged(client, headers, capitals.quiz.id, timedelta(hours=1))

    response = start(client, headers, capitals.quiz.id)

    assert (response.status_code, response.get_json()) == (403, {"detail": "Maximum attempts reached"})
    assert stored(overdue["id"]).status == "graded"


# --- take ----------------------------------------------------------------------------------------

def test_an_enrolled_student_takes_the_quiz_without_answers(client, capitals, auth_headers):
    capitals.quiz.time_limit_minutes = 20
    db.session.commit()

    response = client.get(attempts_url(capitals.quiz.id, "/start"), headers=auth_headers(capitals.student))

    assert response.status_code == 200
    body = response.get_json()
    assert body["quiz"] == {"id": str(capitals.quiz.id), "title": "Capitals", "time_limit_minutes": 20,
                            "total_questions": 3, "total_points": "4.00"}
    assert [q["id"] for q in body["questions"]] == [str(q.id) for q in capitals.questions]
    assert all(set(q) == {"id", "question_text", "question_type", "points", "options", "updated_at"} for q in body["questions"])
    assert body["questions"][0]["options"] == [{"option_id": "a", "option_text": "Paris"},
                                               {"option_id": "b", "option_text": "Lyon"},
                                               {"option_id": "c", "option_text": "Nice"}]


def test_shuffling_returns_every_question_and_option_exactly_once(client, capitals, make_question, auth_headers):
    for _ in range(27):
        make_question(capitals.quiz, "multiple_choice")
    capitals.quiz.shuffle_questions = capitals.quiz.shuffle_options = True
    db.session.commit()
    headers = auth_headers(capitals.student)
    in_order = [str(q.id) for q in sorted(capitals.quiz_questions(), key=lambda q: q.order_index)]

    orders = []
    for _ in range(3):
        questions = client.get(attempts_url(capitals.quiz.id, "/start"), headers=headers).get_json()["questions"]
        orders.append([q["id"] for q in questions])
        assert sorted(orders[-1]) == sorted(in_order) and len(orders[-1]) == 30
        for question in questions:
            if question["question_type"] == "multiple_choice":
                assert sorted(o["option_id"] for o in question["options"]) == ["a", "b", "c"]
    assert any(order != in_order for order in orders)  # 30 questions: identity thrice is ~1/30!^3


def test_a_student_who_is_not_enrolled_cannot_take_the_quiz(client, capitals, make_user, auth_headers):
    response = client.get(attempts_url(capitals.quiz.id, "/start"), headers=auth_headers(make_user("student")))

    assert (response.status_code, response.get_json()) == (
        403, {"detail": "You must enroll in course before attempting quiz"})


def test_a_draft_quiz_cannot_be_taken_by_students_but_its_owner_previews_it(client, capitals, admin, auth_headers):
    capitals.quiz.is_published = False
    db.session.commit()

    learner = client.get(attempts_url(capitals.quiz.id, "/start"), headers=auth_headers(capitals.student))
    owner = client.get(attempts_url(capitals.quiz.id, "/start"), headers=auth_headers(capitals.owner))
    by_admin = client.get(attempts_url(capitals.quiz.id, "/start"), headers=auth_headers(admin))

    assert (learner.status_code, learner.get_json()) == (404, {"detail": "Quiz not found"})
    assert owner.status_code == by_admin.status_code == 200
    assert len(owner.get_json()["questions"]) == 3


def test_other_instructors_cannot_preview_a_quiz(client, capitals, make_user, auth_headers):
    response = client.get(attempts_url(capitals.quiz.id, "/start"), headers=auth_headers(make_user("instructor")))

    assert (response.status_code, response.get_json()) == (
        403, {"detail": "Only the course owner or an admin can preview this quiz"})


def test_taking_requires_authentication(client, capitals):
    assert client.get(attempts_url(capitals.quiz.id, "/start")).status_code == 401


# --- submit --------------------------------------------------------------------------------------

def test_a_perfect_submission_is_graded_and_completes_the_lesson(client, capitals, auth_headers):
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    response = submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers())

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == ATTEMPT_FIELDS | {"answers"}
    assert (body["status"], body["score"], body["max_score"], body["percentage"], body["is_passed"]) == (
        "graded", "4.00", "4.00", "100.00", True)
    assert body["submitted_at"] and body["graded_at"] and body["time_taken_seconds"] >= 0
    assert body["answers"] == [
        {"question_id": str(capitals.mc.id), "selected_option_id": "a", "answer_text": None, "is_correct": True,
         "points_earned": 1.0},
        {"question_id": str(capitals.tf.id), "selected_option_id": None, "answer_text": "True", "is_correct": True,
         "points_earned": 2.0},
        {"question_id": str(capitals.short.id), "selected_option_id": None, "answer_text": " paris ", "is_correct": True,
         "points_earned": 1.0},
    ]
    assert lesson_status(capitals) == "completed"


def test_a_partial_failing_submission_does_not_complete_the_lesson(client, capitals, auth_headers):
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    response = submit(client, headers, capitals.quiz.id, attempt["id"], [
        {"question_id": str(capitals.tf.id), "answer_text": "false"},
        {"question_id": str(capitals.short.id), "answer_text": "PARIS"}])

    body = response.get_json()
    assert (response.status_code, body["score"], body["percentage"], body["is_passed"]) == (200, "1.00", "25.00", False)
    assert [answer["is_correct"] for answer in body["answers"]] == [False, True]
    assert lesson_status(capitals) is None


def test_hidden_correct_answers_leave_out_correctness_but_keep_the_score(client, capitals, auth_headers):
    capitals.quiz.show_correct_answers = False
    db.session.commit()
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    body = submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers()).get_json()

    assert body["score"] == "4.00"
    assert all(set(answer) == {"question_id", "selected_option_id", "answer_text"} for answer in body["answers"])


def test_a_second_submission_is_refused_and_grades_nothing(client, capitals, auth_headers):
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()
    first = submit(client, headers, capitals.quiz.id, attempt["id"], [{"question_id": str(capitals.tf.id),
                                                                     "answer_text": "false"}])

    second = submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers())

    assert (second.status_code, second.get_json()) == (403, {"detail": "Attempt is already submitted"})
    graded = stored(attempt["id"])
    assert (graded.score, graded.graded_at.isoformat().replace("+00:00", "Z")) == (
        Decimal("0"), first.get_json()["graded_at"])
    assert lesson_status(capitals) is None


def test_another_students_attempt_is_not_found(client, capitals, make_user, make_enrollment, auth_headers):
    attempt = start(client, auth_headers(capitals.student), capitals.quiz.id).get_json()
    classmate = make_user("student")
    make_enrollment(classmate, capitals.course)

    response = submit(client, auth_headers(classmate), capitals.quiz.id, attempt["id"], capitals.perfect_answers())

    assert (response.status_code, response.get_json()) == (404, {"detail": "Attempt not found"})
    assert stored(attempt["id"]).status == "in_progress"


def test_an_attempt_submitted_through_another_quiz_is_not_found(client, capitals, make_quiz, make_question,
                                                                auth_headers):
    other = make_quiz(capitals.course)
    make_question(other, "essay")
    attempt = start(client, auth_headers(capitals.student), capitals.quiz.id).get_json()

    response = submit(client, auth_headers(capitals.student), other.id, attempt["id"], [])

    assert (response.status_code, response.get_json()) == (404, {"detail": "Attempt not found"})


def test_a_student_who_dropped_the_course_cannot_submit(client, capitals, auth_headers):
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()
    capitals.enrollment.status = "dropped"
    db.session.commit()

    response = submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers())

    assert (response.status_code, response.get_json()) == (
        403, {"detail": "You must enroll in course before attempting quiz"})
    assert (stored(attempt["id"]).status, lesson_status(capitals)) == ("in_progress", None)


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_only_students_submit(client, capitals, admin, auth_headers, role):
    attempt = start(client, auth_headers(capitals.student), capitals.quiz.id).get_json()
    user = capitals.owner if role == "owner" else admin

    response = submit(client, auth_headers(user), capitals.quiz.id, attempt["id"], [])

    assert (response.status_code, response.get_json()) == (403, {"detail": "Only students can submit attempts"})


def _answers(world, case: str) -> tuple[list[dict], str]:
    mc, tf, short = str(world.mc.id), str(world.tf.id), str(world.short.id)
    return {
        "duplicate question": ([{"question_id": tf, "answer_text": "true"},
                                {"question_id": tf, "answer_text": "false"}],
                               f"Question {tf} is answered more than once"),
        "foreign question": ([{"question_id": "OTHER", "answer_text": "x"}], "does not belong to this quiz"),
        "mc without option": ([{"question_id": mc, "answer_text": "Paris"}],
                              f"Question {mc} is multiple choice and needs selected_option_id"),
        "mc unknown option": ([{"question_id": mc, "selected_option_id": "z"}],
                              f"Option z is not an option of question {mc}"),
        "option on non-mc": ([{"question_id": short, "selected_option_id": "a", "answer_text": "Paris"}],
                             f"Question {short} has no options; send answer_text instead of selected_option_id"),
        "empty text": ([{"question_id": short, "answer_text": "   "}],
                       f"Question {short} needs a non-empty answer_text"),
        "missing text": ([{"question_id": tf}], f"Question {tf} needs a non-empty answer_text"),
        "tf not boolean": ([{"question_id": tf, "answer_text": "maybe"}],
                           f"Question {tf} is true/false; answer_text must be true or false"),
    }[case]


@pytest.mark.parametrize("case", ["duplicate question", "foreign question", "mc without option", "mc unknown option",
                                  "option on non-mc", "empty text", "missing text", "tf not boolean"])
def test_malformed_answers_are_400_and_leave_the_attempt_open(client, capitals, make_quiz, make_question, auth_headers,
                                                              case):
    foreign = make_question(make_quiz(capitals.course), "essay")
    answers, detail = _answers(capitals, case)
    answers = [{**a, "question_id": str(foreign.id)} if a["question_id"] == "OTHER" else a for a in answers]
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    response = submit(client, headers, capitals.quiz.id, attempt["id"], answers)

    assert response.status_code == 400
    assert detail in response.get_json()["detail"]
    assert stored(attempt["id"]).status == "in_progress"


@pytest.mark.parametrize("body", [{}, {"answers": "all"}, {"answers": [{"answer_text": "x"}]},
                                  {"answers": [{"question_id": "nope"}]}, {"answers": [], "score": 100}])
def test_malformed_submission_bodies_are_422(client, capitals, auth_headers, body):
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    response = client.post(attempts_url(capitals.quiz.id, f"/{attempt['id']}/submit"), headers=headers, json=body)

    assert response.status_code == 422


# --- time limit ----------------------------------------------------------------------------------

def test_a_submission_after_the_time_limit_is_refused_and_the_attempt_closed(client, capitals, auth_headers):
    capitals.quiz.time_limit_minutes = 10
    db.session.commit()
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    with time_machine.travel(utcnow() + timedelta(minutes=10) + SUBMISSION_GRACE + timedelta(seconds=5)):
        response = submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers())

    assert (response.status_code, response.get_json()) == (403, {"detail": "Time limit exceeded for this attempt"})
    closed = stored(attempt["id"])
    assert (closed.status, closed.score, closed.percentage, closed.is_passed) == (
        "graded", Decimal("0"), Decimal("0"), False)
    assert lesson_status(capitals) is None
    again = submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers())
    assert (again.status_code, again.get_json()) == (403, {"detail": "Attempt is already submitted"})


def test_a_submission_within_the_grace_period_is_graded(client, capitals, auth_headers):
    capitals.quiz.time_limit_minutes = 10
    db.session.commit()
    headers = auth_headers(capitals.student)
    deadline = timedelta(minutes=10) + SUBMISSION_GRACE
    attempt = start_aged(client, headers, capitals.quiz.id, deadline - timedelta(seconds=5))

    response = submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers())

    assert (response.status_code, response.get_json()["is_passed"]) == (200, True)


def test_a_quiz_without_a_time_limit_accepts_late_submissions(client, capitals, auth_headers):
    attempt = start(client, auth_headers(capitals.student), capitals.quiz.id).get_json()

    with time_machine.travel(utcnow() + timedelta(days=3)):
        response = submit(client, auth_headers(capitals.student), capitals.quiz.id, attempt["id"], capitals.perfect_answers())

    assert (response.status_code, response.get_json()["time_taken_seconds"] >= 3 * 86400) == (200, True)


# --- completing the course -----------------------------------------------------------------------

def test_passing_the_quiz_of_the_last_lesson_completes_the_enrollment_once(client, capitals, auth_headers,
                                                                            completions):
    headers = auth_headers(capitals.student)
    capitals.quiz.max_attempts = None
    db.session.commit()

    for _ in range(2):
        attempt = start(client, headers, capitals.quiz.id).get_json()
        assert submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers()).status_code == 200

    enrollment = db.session.get(Enrollment, capitals.enrollment.id)
    db.session.refresh(enrollment)
    assert (enrollment.status, enrollment.progress_percentage, enrollment.completed_lessons_count) == (
        "completed", Decimal("100.00"), 1)
    assert enrollment.completed_at is not None
    assert completions == [capitals.enrollment.id]


def test_passing_with_lessons_left_only_advances_progress(client, capitals, make_lesson, auth_headers, completions):
    make_lesson(capitals.course, lesson_type="text")
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers())

    enrollment = db.session.get(Enrollment, capitals.enrollment.id)
    db.session.refresh(enrollment)
    assert (enrollment.status, enrollment.progress_percentage) == ("active", Decimal("50.00"))
    assert completions == []


def test_failing_completes_nothing(client, capitals, auth_headers, completions):
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    submit(client, headers, capitals.quiz.id, attempt["id"], [])

    db.session.refresh(capitals.enrollment)
    assert (capitals.enrollment.status, completions) == ("active", [])


# --- my attempts and one attempt -----------------------------------------------------------------

def test_my_attempts_lists_the_callers_attempts_by_number(client, capitals, make_user, make_enrollment, auth_headers):
    headers = auth_headers(capitals.student)
    first = start(client, headers, capitals.quiz.id).get_json()
    submit(client, headers, capitals.quiz.id, first["id"], capitals.perfect_answers())
    second = start(client, headers, capitals.quiz.id).get_json()
    classmate = make_user("student")
    make_enrollment(classmate, capitals.course)
    start(client, auth_headers(classmate), capitals.quiz.id)

    response = client.get(attempts_url(capitals.quiz.id, "/my-attempts"), headers=headers)

    assert response.status_code == 200
    body = response.get_json()
    assert [a["id"] for a in body] == [first["id"], second["id"]]
    assert all(set(a) == ATTEMPT_FIELDS for a in body)
    assert (body[0]["status"], body[0]["percentage"], body[1]["status"], body[1]["score"]) == (
        "graded", "100.00", "in_progress", None)


def test_my_attempts_is_for_enrolled_students(client, capitals, make_user, auth_headers):
    stranger = client.get(attempts_url(capitals.quiz.id, "/my-attempts"), headers=auth_headers(make_user("student")))
    owner = client.get(attempts_url(capitals.quiz.id, "/my-attempts"), headers=auth_headers(capitals.owner))
    anonymous = client.get(attempts_url(capitals.quiz.id, "/my-attempts"))

    assert (stranger.status_code, stranger.get_json()) == (403, {"detail": "You are not enrolled in this course"})
    assert (owner.status_code, owner.get_json()) == (403, {"detail": "Only students have quiz attempts"})
    assert anonymous.status_code == 401


def test_my_attempts_of_a_draft_quiz_is_404(client, capitals, auth_headers):
    capitals.quiz.is_published = False
    db.session.commit()

    response = client.get(attempts_url(capitals.quiz.id, "/my-attempts"), headers=auth_headers(capitals.student))

    assert (response.status_code, response.get_json()) == (404, {"detail": "Quiz not found"})


@pytest.mark.parametrize("size", [3, 30])
def test_my_attempts_runs_a_fixed_number_of_statements(client, capitals, auth_headers, assert_max_queries, size):
    now = utcnow()
    db.session.add_all([QuizAttempt(quiz_id=capitals.quiz.id, enrollment_id=capitals.enrollment.id, attempt_number=n,
                                    status="graded", started_at=now, submitted_at=now, graded_at=now,
                                    score=Decimal("1"), max_score=Decimal("4"), percentage=Decimal("25"),
                                    is_passed=False, time_taken_seconds=5, answers=[])
                        for n in range(1, size + 1)])
    db.session.commit()
    headers = auth_headers(capitals.student)

    with assert_max_queries(4):
        response = client.get(attempts_url(capitals.quiz.id, "/my-attempts"), headers=headers)

    assert [a["attempt_number"] for a in response.get_json()] == list(range(1, size + 1))


def test_a_student_reads_their_attempt_with_its_answers(client, capitals, auth_headers):
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()
    submitted = submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers()).get_json()

    response = client.get(attempts_url(capitals.quiz.id, f"/{attempt['id']}"), headers=headers)

    assert (response.status_code, response.get_json()) == (200, submitted)


def test_an_attempt_in_progress_has_no_answers_yet(client, capitals, auth_headers):
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    body = client.get(attempts_url(capitals.quiz.id, f"/{attempt['id']}"), headers=headers).get_json()

    assert (body["status"], body["answers"], body["score"]) == ("in_progress", [], None)


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_the_course_owner_and_admins_read_any_attempt_with_full_answers(client, capitals, admin, auth_headers, role):
    capitals.quiz.show_correct_answers = False
    db.session.commit()
    attempt = start(client, auth_headers(capitals.student), capitals.quiz.id).get_json()
    submit(client, auth_headers(capitals.student), capitals.quiz.id, attempt["id"], capitals.perfect_answers())
    user = capitals.owner if role == "owner" else admin

    response = client.get(attempts_url(capitals.quiz.id, f"/{attempt['id']}"), headers=auth_headers(user))

    assert response.status_code == 200
    assert [answer["is_correct"] for answer in response.get_json()["answers"]] == [True, True, True]


def test_others_cannot_read_an_attempt(client, capitals, make_user, make_enrollment, auth_headers):
    attempt = start(client, auth_headers(capitals.student), capitals.quiz.id).get_json()
    classmate = make_user("student")
    make_enrollment(classmate, capitals.course)
    url = attempts_url(capitals.quiz.id, f"/{attempt['id']}")

    by_classmate = client.get(url, headers=auth_headers(classmate))
    by_instructor = client.get(url, headers=auth_headers(make_user("instructor")))
    unknown = client.get(attempts_url(capitals.quiz.id, f"/{uuid.uuid4()}"), headers=auth_headers(capitals.student))

    for response in (by_classmate, by_instructor, unknown):
        assert (response.status_code, response.get_json()) == (404, {"detail": "Attempt not found"})


# --- statement budgets of a quiz attempt (the performance issue's W7) ------------------------------

def test_starting_an_attempt_costs_at_most_six_statements(client, capitals, auth_headers, assert_max_queries):
    with assert_max_queries(6):  # the caller, quiz with course and enrollment, the attempts' summary, insert
        response = start(client, auth_headers(capitals.student), capitals.quiz.id)

    assert response.status_code == 201


@pytest.mark.redis  # as deployed: the webhook subscriptions are published in Redis (without it every event is written)
def test_a_passing_submission_costs_at_most_eight_statements(client, capitals, auth_headers, make_lesson,
                                                             assert_max_queries):
    make_lesson(capitals.course)  # the course stays unfinished: no certificate in this budget
    publish_wanted_event_types()  # no webhook endpoint: its events write no outbox row
    headers = auth_headers(capitals.student)
    attempt = start(client, headers, capitals.quiz.id).get_json()

    # The caller, the context, the questions, the grading; then the lesson's completion. With a
    # webhook endpoint subscribed to them, the outbox rows of its events add one INSERT.
    with assert_max_queries(8):
        response = submit(client, headers, capitals.quiz.id, attempt["id"], capitals.perfect_answers())

    assert response.get_json()["is_passed"] is True
    assert lesson_status(capitals) == "completed"
