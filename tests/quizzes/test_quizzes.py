"""Quizzes under a course: who sees them, who manages them (contract §4.5, §5.18, §5.19)."""

from __future__ import annotations

import uuid

import pytest

from lms.core.extensions import db
from lms.quizzes.models import Quiz
from tests.quizzes.helpers import quiz_url

MANAGE_DENIED = {"detail": "Not authorized to manage quizzes for this course"}

QUIZ_FIELDS = {"id", "lesson_id", "title", "description", "quiz_type", "time_limit_minutes", "passing_score",
               "max_attempts", "shuffle_questions", "shuffle_options", "show_correct_answers", "is_published", "weight",
               "created_at", "updated_at"}
LIST_ITEM_FIELDS = {"id", "updated_at", "title", "description", "quiz_type", "time_limit_minutes", "passing_score",
                    "max_attempts", "total_questions", "total_points", "is_published"}

VIEWERS = ("anonymous", "student", "enrolled_student", "other_instructor", "owner", "admin")
MANAGERS = ("owner", "admin")


@pytest.fixture
def headers_of(capitals, make_user, auth_headers):
    """`headers_of(viewer)` for each kind of reader of the world's course."""
    def headers(viewer: str) -> dict[str, str]:
        user = {
            "anonymous": None,
            "student": lambda: make_user("student"),
            "enrolled_student": lambda: capitals.student,
            "other_instructor": lambda: make_user("instructor"),
            "owner": lambda: capitals.owner,
            "admin": lambda: make_user("admin"),
        }[viewer]
        return auth_headers(user()) if user else {}

    return headers


# --- visibility -----------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("state", ["published", "draft_quiz", "draft_course"])
def test_quiz_reads_follow_the_quiz_and_course_publication(client, capitals, headers_of, viewer, state):
    if state == "draft_quiz":
        capitals.quiz.is_published = False
    if state == "draft_course":
        capitals.course.is_published = False
    db.session.commit()
    headers = headers_of(viewer)
    visible = state == "published" or viewer in MANAGERS

    quiz = client.get(quiz_url(capitals.course.id, capitals.quiz.id), headers=headers)
    questions = client.get(quiz_url(capitals.course.id, capitals.quiz.id, "/questions"), headers=headers)
    listing = client.get(quiz_url(capitals.course.id), headers=headers)

    if visible:
        assert quiz.status_code == 200 and quiz.get_json()["id"] == str(capitals.quiz.id)
        assert questions.status_code == 200 and len(questions.get_json()) == 3
        assert [item["id"] for item in listing.get_json()["quizzes"]] == [str(capitals.quiz.id)]
    else:
        hidden = {"detail": "Course not found" if state == "draft_course" else "Quiz not found"}
        assert (quiz.status_code, quiz.get_json()) == (404, hidden)
        assert (questions.status_code, questions.get_json()) == (404, hidden)
        if state == "draft_course":
            assert (listing.status_code, listing.get_json()) == (404, hidden)
        else:
            assert listing.get_json() == {"quizzes": [], "total": 0}


def test_a_bad_token_on_a_public_read_is_treated_as_anonymous(client, capitals):
    response = client.get(quiz_url(capitals.course.id, capitals.quiz.id), headers={"Authorization": "Bearer nonsense"})

    assert response.status_code == 200


# --- list ----------------------------------------------------------------------------------------

def test_list_gives_counts_and_points_newest_first(client, capitals, make_quiz, make_question, auth_headers):
    empty = make_quiz(capitals.course, title="Empty draft", published=False)

    response = client.get(quiz_url(capitals.course.id), headers=auth_headers(capitals.owner))

    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2
    newest, oldest = body["quizzes"]
    assert set(newest) == LIST_ITEM_FIELDS
    assert (newest["id"], newest["total_questions"], newest["total_points"], newest["is_published"]) == (
        str(empty.id), 0, "0.00", False)
    assert (oldest["id"], oldest["total_questions"], oldest["total_points"], oldest["passing_score"]) == (
        str(capitals.quiz.id), 3, "4.00", "70.00")


def test_list_shows_only_published_quizzes_to_students(client, capitals, make_quiz, auth_headers):
    make_quiz(capitals.course, title="Draft", published=False)

    body = client.get(quiz_url(capitals.course.id), headers=auth_headers(capitals.student)).get_json()

    assert [item["id"] for item in body["quizzes"]] == [str(capitals.quiz.id)] and body["total"] == 1


def test_list_of_an_unknown_course_is_404(client):
    response = client.get(quiz_url("6f1c2a47-32a4-4cf5-9a43-4cdb7a5a5d00"))

    assert (response.status_code, response.get_json()) == (404, {"detail": "Course not found"})


@pytest.mark.parametrize("size", [3, 30])
def test_list_runs_a_fixed_number_of_statements(client, instructor, make_course, make_quiz, make_question,
                                                auth_headers, assert_max_queries, size):
    course = make_course(instructor)
    for _ in range(size):
        quiz = make_quiz(course)
        make_question(quiz)
        make_question(quiz, "essay", points="2")
    headers = auth_headers(instructor)

    with assert_max_queries(3):
        response = client.get(quiz_url(course.id), headers=headers)

    assert response.get_json()["total"] == size
    assert {item["total_points"] for item in response.get_json()["quizzes"]} == {"3.00"}


# --- get -----------------------------------------------------------------------------------------

def test_get_returns_the_quiz(client, capitals):
    response = client.get(quiz_url(capitals.course.id, capitals.quiz.id))

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == QUIZ_FIELDS
    assert (body["lesson_id"], body["passing_score"], body["is_published"]) == (str(capitals.lesson.id), "70.00", True)
    assert body["created_at"].endswith("Z")


def test_get_of_an_unknown_quiz_is_404(client, capitals):
    response = client.get(quiz_url(capitals.course.id, "6f1c2a47-32a4-4cf5-9a43-4cdb7a5a5d00"))

    assert (response.status_code, response.get_json()) == (404, {"detail": "Quiz not found"})


def test_get_of_a_quiz_through_another_course_is_404(client, capitals, make_course):
    other = make_course(capitals.owner)

    response = client.get(quiz_url(other.id, capitals.quiz.id))

    assert (response.status_code, response.get_json()) == (404, {"detail": "Quiz not found in this course"})


def test_a_draft_quiz_through_another_course_does_not_reveal_itself(client, capitals, make_user, make_course):
    capitals.quiz.is_published = False
    db.session.commit()
    other = make_course(make_user("instructor"))

    response = client.get(quiz_url(other.id, capitals.quiz.id))

    assert (response.status_code, response.get_json()) == (404, {"detail": "Quiz not found"})


def test_a_malformed_quiz_id_is_422(client, capitals):
    response = client.get(quiz_url(capitals.course.id, "not-a-uuid"))

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["path", "quiz_id"]


# --- create --------------------------------------------------------------------------------------

def test_owner_creates_a_draft_quiz_with_defaults(client, instructor, make_course, make_lesson, auth_headers):
    course = make_course(instructor)
    lesson = make_lesson(course, lesson_type="quiz")

    response = client.post(quiz_url(course.id), headers=auth_headers(instructor),
                           json={"lesson_id": str(lesson.id), "title": "Week 1"})

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == QUIZ_FIELDS
    assert {k: body[k] for k in ("lesson_id", "title", "quiz_type", "passing_score", "shuffle_questions",
                                 "shuffle_options", "show_correct_answers", "is_published", "time_limit_minutes",
                                 "max_attempts")} == {
        "lesson_id": str(lesson.id), "title": "Week 1", "quiz_type": "graded", "passing_score": "70.00",
        "shuffle_questions": True, "shuffle_options": True, "show_correct_answers": True, "is_published": False,
        "time_limit_minutes": None, "max_attempts": None}
    assert db.session.get(Quiz, uuid.UUID(body["id"])).course_id == course.id


def test_admin_creates_a_quiz_on_any_course_with_every_field(client, capitals, admin, make_lesson, auth_headers):
    lesson = make_lesson(capitals.course, lesson_type="quiz")

    response = client.post(quiz_url(capitals.course.id), headers=auth_headers(admin), json={
        "lesson_id": str(lesson.id), "title": "Final", "description": "All of it", "quiz_type": "practice",
        "time_limit_minutes": 15, "passing_score": 55.5, "max_attempts": 2, "shuffle_questions": False,
        "shuffle_options": False, "show_correct_answers": False})

    assert response.status_code == 201
    body = response.get_json()
    assert (body["quiz_type"], body["passing_score"], body["time_limit_minutes"], body["max_attempts"],
            body["show_correct_answers"]) == ("practice", "55.50", 15, 2, False)


def test_a_lesson_gets_only_one_quiz(client, capitals, auth_headers):
    response = client.post(quiz_url(capitals.course.id), headers=auth_headers(capitals.owner),
                           json={"lesson_id": str(capitals.lesson.id), "title": "Again"})

    assert (response.status_code, response.get_json()) == (409, {"detail": "Lesson already has a quiz"})


def test_the_lesson_must_belong_to_the_course(client, capitals, make_course, make_lesson, auth_headers):
    foreign = make_lesson(make_course(capitals.owner), lesson_type="quiz")

    response = client.post(quiz_url(capitals.course.id), headers=auth_headers(capitals.owner),
                           json={"lesson_id": str(foreign.id), "title": "Elsewhere"})

    assert (response.status_code, response.get_json()) == (404, {"detail": "Lesson not found"})


def test_other_instructors_and_students_cannot_create_quizzes(client, capitals, make_user, make_lesson, auth_headers):
    lesson = make_lesson(capitals.course, lesson_type="quiz")
    body = {"lesson_id": str(lesson.id), "title": "Sneaky"}

    other = client.post(quiz_url(capitals.course.id), headers=auth_headers(make_user("instructor")), json=body)
    learner = client.post(quiz_url(capitals.course.id), headers=auth_headers(capitals.student), json=body)
    anonymous = client.post(quiz_url(capitals.course.id), json=body)

    assert (other.status_code, other.get_json()) == (403, MANAGE_DENIED)
    assert (learner.status_code, learner.get_json()) == (403, MANAGE_DENIED)
    assert (anonymous.status_code, anonymous.get_json()) == (401, {"detail": "Not authenticated"})
    assert db.session.query(Quiz).count() == 1


def test_creating_on_someone_elses_draft_course_is_404(client, make_user, make_course, make_lesson, auth_headers):
    course = make_course(make_user("instructor"), published=False)
    lesson = make_lesson(course, lesson_type="quiz")

    response = client.post(quiz_url(course.id), headers=auth_headers(make_user("instructor")),
                           json={"lesson_id": str(lesson.id), "title": "Sneaky"})

    assert (response.status_code, response.get_json()) == (404, {"detail": "Course not found"})


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "No lesson"}, "lesson_id"),
    ({"lesson_id": "LESSON", "title": "ab"}, "title"),
    ({"lesson_id": "LESSON", "title": "Typed", "quiz_type": "exam"}, "quiz_type"),
    ({"lesson_id": "LESSON", "title": "Score", "passing_score": 100.5}, "passing_score"),
    ({"lesson_id": "LESSON", "title": "Score", "passing_score": "abc"}, "passing_score"),
    ({"lesson_id": "LESSON", "title": "Timed", "time_limit_minutes": 0}, "time_limit_minutes"),
    ({"lesson_id": "LESSON", "title": "Tries", "max_attempts": 0}, "max_attempts"),
    ({"lesson_id": "LESSON", "title": "Extra", "is_published": True}, "is_published"),
])
def test_invalid_quiz_bodies_are_422(client, instructor, make_course, make_lesson, auth_headers, body, field):
    course = make_course(instructor)
    lesson = make_lesson(course, lesson_type="quiz")
    body = {key: (str(lesson.id) if value == "LESSON" else value) for key, value in body.items()}

    response = client.post(quiz_url(course.id), headers=auth_headers(instructor), json=body)

    assert response.status_code == 422
    assert ["body", field] in [error["loc"] for error in response.get_json()["detail"]]


# --- update --------------------------------------------------------------------------------------

def test_owner_updates_a_quiz_and_nulls_are_ignored(client, capitals, auth_headers):
    response = client.patch(quiz_url(capitals.course.id, capitals.quiz.id), headers=auth_headers(capitals.owner),
                            json={"title": "Renamed", "passing_score": "80", "description": None,
                                  "max_attempts": 3, "time_limit_minutes": None})

    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["passing_score"], body["max_attempts"], body["description"]) == (
        "Renamed", "80.00", 3, None)


def test_patch_flips_publication_without_validation(client, capitals, make_quiz, auth_headers):
    empty = make_quiz(capitals.course, published=False)

    response = client.patch(quiz_url(capitals.course.id, empty.id), headers=auth_headers(capitals.owner),
                            json={"is_published": True})

    assert (response.status_code, response.get_json()["is_published"]) == (200, True)


def test_patch_can_move_a_quiz_to_a_free_lesson_only(client, capitals, make_quiz, make_lesson, auth_headers):
    free = make_lesson(capitals.course, lesson_type="quiz")
    taken = make_quiz(capitals.course).lesson_id
    url = quiz_url(capitals.course.id, capitals.quiz.id)

    conflict = client.patch(url, headers=auth_headers(capitals.owner), json={"lesson_id": str(taken)})
    moved = client.patch(url, headers=auth_headers(capitals.owner), json={"lesson_id": str(free.id)})

    assert (conflict.status_code, conflict.get_json()) == (409, {"detail": "Lesson already has a quiz"})
    assert (moved.status_code, moved.get_json()["lesson_id"]) == (200, str(free.id))


def test_others_cannot_update_a_quiz(client, capitals, make_user, auth_headers):
    url = quiz_url(capitals.course.id, capitals.quiz.id)

    other = client.patch(url, headers=auth_headers(make_user("instructor")), json={"title": "Hijacked"})
    learner = client.patch(url, headers=auth_headers(capitals.student), json={"title": "Hijacked"})

    assert (other.status_code, other.get_json()) == (403, MANAGE_DENIED)
    assert (learner.status_code, learner.get_json()) == (403, MANAGE_DENIED)
    assert db.session.get(Quiz, capitals.quiz.id).title == "Capitals"


def test_patch_of_an_unknown_quiz_is_404_and_bad_values_422(client, capitals, auth_headers):
    headers = auth_headers(capitals.owner)

    missing = client.patch(quiz_url(capitals.course.id, "6f1c2a47-32a4-4cf5-9a43-4cdb7a5a5d00"), headers=headers,
                           json={"title": "Whatever"})
    invalid = client.patch(quiz_url(capitals.course.id, capitals.quiz.id), headers=headers, json={"quiz_type": "exam"})

    assert (missing.status_code, missing.get_json()) == (404, {"detail": "Quiz not found"})
    assert invalid.status_code == 422


# --- publish -------------------------------------------------------------------------------------

def test_publishing_a_quiz_with_valid_questions(client, capitals, auth_headers):
    capitals.quiz.is_published = False
    db.session.commit()

    response = client.post(quiz_url(capitals.course.id, capitals.quiz.id, "/publish"), headers=auth_headers(capitals.owner))

    assert (response.status_code, response.get_json()["is_published"]) == (200, True)


def test_a_quiz_without_questions_cannot_be_published(client, capitals, make_quiz, auth_headers):
    empty = make_quiz(capitals.course, published=False)

    response = client.post(quiz_url(capitals.course.id, empty.id, "/publish"), headers=auth_headers(capitals.owner))

    assert (response.status_code, response.get_json()) == (400, {"detail": "Cannot publish quiz without questions"})
    assert db.session.get(Quiz, empty.id).is_published is False


def test_a_quiz_with_an_invalid_question_cannot_be_published(client, capitals, make_quiz, make_question, auth_headers):
    quiz = make_quiz(capitals.course, published=False)
    make_question(quiz, "true_false")
    make_question(quiz, "short_answer", correct_answer="  ")

    response = client.post(quiz_url(capitals.course.id, quiz.id, "/publish"), headers=auth_headers(capitals.owner))

    assert response.status_code == 400
    assert response.get_json() == {"detail": "Cannot publish quiz: question 2 is invalid: "
                                             "A short_answer question needs a non-empty correct_answer"}


def test_only_managers_publish(client, capitals, admin, make_user, auth_headers):
    url = quiz_url(capitals.course.id, capitals.quiz.id, "/publish")

    other = client.post(url, headers=auth_headers(make_user("instructor")))
    learner = client.post(url, headers=auth_headers(capitals.student))
    by_admin = client.post(url, headers=auth_headers(admin))

    assert (other.status_code, other.get_json()) == (403, MANAGE_DENIED)
    assert (learner.status_code, learner.get_json()) == (403, MANAGE_DENIED)
    assert by_admin.status_code == 200


def test_publishing_in_someone_elses_draft_course_is_404(client, capitals, make_user, auth_headers):
    capitals.course.is_published = False
    db.session.commit()

    response = client.post(quiz_url(capitals.course.id, capitals.quiz.id, "/publish"),
                           headers=auth_headers(make_user("instructor")))

    assert (response.status_code, response.get_json()) == (404, {"detail": "Course not found"})
