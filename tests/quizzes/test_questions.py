"""Quiz questions: the public view, the management view, and the per-type rules (contract §4.6)."""

from __future__ import annotations

import uuid

import pytest

from lms.core.extensions import db
from lms.quizzes.models import Question
from tests.quizzes.helpers import quiz_url

MANAGE_DENIED = {"detail": "Not authorized to manage quizzes for this course"}
PUBLIC_FIELDS = {"id", "updated_at", "question_text", "question_type", "points", "options"}
MANAGED_FIELDS = {"id", "updated_at", "quiz_id", "question_text", "question_type", "points", "order_index", "explanation",
                  "options", "correct_answer"}


def questions_url(world, suffix: str = "") -> str:
    return quiz_url(world.course.id, world.quiz.id, "/questions" + suffix)


def option(option_id: str | None, text: str, correct: bool = False) -> dict:
    item = {"option_text": text, "is_correct": correct}
    if option_id is not None:
        item["option_id"] = option_id
    return item


# --- public list ---------------------------------------------------------------------------------

def test_public_questions_hide_answers_and_explanations(client, capitals):
    response = client.get(questions_url(capitals))

    assert response.status_code == 200
    body = response.get_json()
    assert [item["id"] for item in body] == [str(q.id) for q in capitals.questions]
    assert all(set(item) == PUBLIC_FIELDS for item in body)
    assert body[0]["options"] == [{"option_id": "a", "option_text": "Paris"}, {"option_id": "b", "option_text": "Lyon"},
                                  {"option_id": "c", "option_text": "Nice"}]
    assert (body[1]["options"], body[1]["points"]) == (None, "2.00")


def test_public_questions_of_an_unknown_quiz_are_404(client, capitals):
    response = client.get(quiz_url(capitals.course.id, uuid.uuid4(), "/questions"))

    assert (response.status_code, response.get_json()) == (404, {"detail": "Quiz not found"})


# --- management list -----------------------------------------------------------------------------

@pytest.mark.parametrize("manager", ["owner", "admin"])
def test_managers_see_the_answer_keys(client, capitals, admin, auth_headers, manager):
    user = capitals.owner if manager == "owner" else admin

    response = client.get(questions_url(capitals, "/manage"), headers=auth_headers(user))

    assert response.status_code == 200
    body = response.get_json()
    assert all(set(item) == MANAGED_FIELDS for item in body)
    assert [item["order_index"] for item in body] == [1, 2, 3]
    assert body[0]["options"][0] == {"option_id": "a", "option_text": "Paris", "is_correct": True}
    assert (body[1]["correct_answer"], body[2]["correct_answer"], body[0]["explanation"]) == (
        "true", "Paris", "Because.")


def test_the_answer_keys_are_not_for_others(client, capitals, make_user, auth_headers):
    other = client.get(questions_url(capitals, "/manage"), headers=auth_headers(make_user("instructor")))
    learner = client.get(questions_url(capitals, "/manage"), headers=auth_headers(capitals.student))
    anonymous = client.get(questions_url(capitals, "/manage"))

    assert (other.status_code, other.get_json()) == (403, MANAGE_DENIED)
    assert (learner.status_code, learner.get_json()) == (403, MANAGE_DENIED)
    assert anonymous.status_code == 401


def test_the_answer_keys_of_a_draft_course_are_404_to_others(client, capitals, make_user, auth_headers):
    capitals.course.is_published = False
    db.session.commit()

    response = client.get(questions_url(capitals, "/manage"), headers=auth_headers(make_user("instructor")))

    assert (response.status_code, response.get_json()) == (404, {"detail": "Course not found"})


@pytest.mark.parametrize("size", [3, 30])
def test_question_lists_run_a_fixed_number_of_statements(client, capitals, make_question, auth_headers,
                                                         assert_max_queries, size):
    for _ in range(size - 3):
        make_question(capitals.quiz, "short_answer")
    headers = auth_headers(capitals.owner)

    with assert_max_queries(4):
        public = client.get(questions_url(capitals), headers=headers)
    with assert_max_queries(4):
        managed = client.get(questions_url(capitals, "/manage"), headers=headers)

    assert len(public.get_json()) == len(managed.get_json()) == size


# --- create --------------------------------------------------------------------------------------

def test_owner_adds_a_multiple_choice_question_at_the_end(client, capitals, auth_headers):
    response = client.post(questions_url(capitals), headers=auth_headers(capitals.owner), json={
        "question_text": "Largest planet?", "question_type": "multiple_choice", "points": 2.5,
        "explanation": "By mass.", "metadata": {"tag": "space"},
        "options": [option(None, "Jupiter", True), option("s", "Saturn")]})

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == MANAGED_FIELDS
    assert (body["quiz_id"], body["order_index"], body["points"], body["correct_answer"], body["explanation"]) == (
        str(capitals.quiz.id), 4, "2.50", None, "By mass.")
    generated, given = body["options"]
    uuid.UUID(generated["option_id"])
    assert (generated["option_text"], generated["is_correct"]) == ("Jupiter", True)
    assert given == {"option_id": "s", "option_text": "Saturn", "is_correct": False}
    assert db.session.get(Question, uuid.UUID(body["id"])).extra_metadata == {"tag": "space"}


@pytest.mark.parametrize(("body", "stored_answer"), [
    ({"question_type": "true_false", "correct_answer": "False"}, "False"),
    ({"question_type": "short_answer", "correct_answer": "Mercury"}, "Mercury"),
    ({"question_type": "essay"}, None),
    ({"question_type": "essay", "correct_answer": "", "options": []}, None),
])
def test_each_question_type_can_be_added(client, capitals, admin, auth_headers, body, stored_answer):
    response = client.post(questions_url(capitals), headers=auth_headers(admin),
                           json={"question_text": "Tell me about planets", **body})

    assert response.status_code == 201
    created = response.get_json()
    assert (created["correct_answer"], created["options"], created["points"]) == (stored_answer, None, "1.00")


def test_the_first_question_of_a_quiz_gets_order_index_1(client, capitals, make_quiz, auth_headers):
    quiz = make_quiz(capitals.course, published=False)

    response = client.post(quiz_url(capitals.course.id, quiz.id, "/questions"), headers=auth_headers(capitals.owner),
                           json={"question_text": "First?", "question_type": "essay"})

    assert (response.status_code, response.get_json()["order_index"]) == (201, 1)


@pytest.mark.parametrize(("body", "detail"), [
    ({"question_type": "multiple_choice", "options": [option("a", "Only", True)]},
     "A multiple choice question needs at least 2 options"),
    ({"question_type": "multiple_choice", "options": [option("a", "One", True), option("a", "Two")]},
     "Option ids must be unique within a question"),
    ({"question_type": "multiple_choice", "options": [option("a", "Same", True), option("b", "SAME")]},
     "Option texts must be unique within a question (case-insensitive)"),
    ({"question_type": "multiple_choice", "options": [option("a", "One", True), option("b", "Two", True)]},
     "A multiple choice question needs exactly one correct option"),
    ({"question_type": "multiple_choice", "options": [option("a", "One"), option("b", "Two")]},
     "A multiple choice question needs exactly one correct option"),
    ({"question_type": "multiple_choice", "correct_answer": "a",
      "options": [option("a", "One", True), option("b", "Two")]},
     "A multiple choice question takes no correct_answer; mark the correct option instead"),
    ({"question_type": "true_false", "correct_answer": "true", "options": [option("a", "T"), option("b", "F")]},
     "A true_false question takes no options"),
    ({"question_type": "true_false", "correct_answer": "yes"},
     "A true_false question needs correct_answer true or false"),
    ({"question_type": "short_answer"}, "A short_answer question needs a non-empty correct_answer"),
    ({"question_type": "essay", "correct_answer": "Model answer"}, "An essay question takes no correct_answer"),
])
def test_questions_breaking_their_type_rules_are_400(client, capitals, auth_headers, body, detail):
    response = client.post(questions_url(capitals), headers=auth_headers(capitals.owner),
                           json={"question_text": "Which one?", **body})

    assert (response.status_code, response.get_json()) == (400, {"detail": detail})
    assert db.session.query(Question).count() == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"question_type": "essay"}, "question_text"),
    ({"question_text": "ab", "question_type": "essay"}, "question_text"),
    ({"question_text": "Which?", "question_type": "matching"}, "question_type"),
    ({"question_text": "Which?", "question_type": "essay", "points": -1}, "points"),
    ({"question_text": "Which?", "question_type": "essay", "points": 1_000_000}, "points"),
    ({"question_text": "Which?", "question_type": "multiple_choice", "options": [{"is_correct": True}]}, "options"),
    ({"question_text": "Which?", "question_type": "multiple_choice", "options": [{"option_text": ""}]}, "options"),
    ({"question_text": "Which?", "question_type": "essay", "order_index": 1}, "order_index"),
])
def test_malformed_question_bodies_are_422(client, capitals, auth_headers, body, field):
    response = client.post(questions_url(capitals), headers=auth_headers(capitals.owner), json=body)

    assert response.status_code == 422
    assert field in {error["loc"][1] for error in response.get_json()["detail"]}


def test_only_managers_add_questions(client, capitals, make_user, auth_headers):
    body = {"question_text": "Sneaky?", "question_type": "essay"}

    other = client.post(questions_url(capitals), headers=auth_headers(make_user("instructor")), json=body)
    learner = client.post(questions_url(capitals), headers=auth_headers(capitals.student), json=body)
    anonymous = client.post(questions_url(capitals), json=body)

    assert (other.status_code, other.get_json()) == (403, MANAGE_DENIED)
    assert (learner.status_code, learner.get_json()) == (403, MANAGE_DENIED)
    assert anonymous.status_code == 401
    assert db.session.query(Question).count() == 3


def test_adding_to_a_quiz_of_another_course_is_404(client, capitals, make_course, auth_headers):
    other = make_course(capitals.owner)

    response = client.post(quiz_url(other.id, capitals.quiz.id, "/questions"), headers=auth_headers(capitals.owner),
                           json={"question_text": "Where?", "question_type": "essay"})

    assert (response.status_code, response.get_json()) == (404, {"detail": "Quiz not found in this course"})


# --- update --------------------------------------------------------------------------------------

def test_owner_edits_a_question(client, capitals, auth_headers):
    response = client.patch(questions_url(capitals, f"/{capitals.short.id}"), headers=auth_headers(capitals.owner),
                            json={"question_text": "Capital of Italy?", "correct_answer": "Rome", "points": "3"})

    assert response.status_code == 200
    body = response.get_json()
    assert (body["question_text"], body["correct_answer"], body["points"], body["order_index"]) == (
        "Capital of Italy?", "Rome", "3.00", 3)


def test_the_merged_question_is_revalidated(client, capitals, auth_headers):
    url = questions_url(capitals, f"/{capitals.mc.id}")
    headers = auth_headers(capitals.owner)

    keeps_options = client.patch(url, headers=headers, json={"question_type": "true_false", "correct_answer": "true"})
    two_correct = client.patch(url, headers=headers, json={"options": [option("a", "X", True), option("b", "Y", True)]})
    converted = client.patch(url, headers=headers,
                             json={"question_type": "true_false", "options": None, "correct_answer": "false"})

    assert (keeps_options.status_code, keeps_options.get_json()) == (
        400, {"detail": "A true_false question takes no options"})
    assert (two_correct.status_code, two_correct.get_json()) == (
        400, {"detail": "A multiple choice question needs exactly one correct option"})
    assert converted.status_code == 200
    assert (converted.get_json()["question_type"], converted.get_json()["options"]) == ("true_false", None)


def test_a_rejected_edit_changes_nothing(client, capitals, auth_headers):
    client.patch(questions_url(capitals, f"/{capitals.short.id}"), headers=auth_headers(capitals.owner),
                 json={"question_text": "Changed text", "correct_answer": " "})

    db.session.expire_all()
    stored = db.session.get(Question, capitals.short.id)
    assert (stored.question_text, stored.correct_answer) == ("Question 3?", "Paris")


def test_editing_an_unknown_or_foreign_question_is_404(client, capitals, make_quiz, make_question, auth_headers):
    foreign = make_question(make_quiz(capitals.course), "essay")
    headers = auth_headers(capitals.owner)

    unknown = client.patch(questions_url(capitals, f"/{uuid.uuid4()}"), headers=headers, json={"points": 2})
    elsewhere = client.patch(questions_url(capitals, f"/{foreign.id}"), headers=headers, json={"points": 2})

    assert (unknown.status_code, unknown.get_json()) == (404, {"detail": "Question not found"})
    assert (elsewhere.status_code, elsewhere.get_json()) == (404, {"detail": "Question not found"})


def test_only_managers_edit_questions(client, capitals, admin, make_user, auth_headers):
    url = questions_url(capitals, f"/{capitals.short.id}")

    other = client.patch(url, headers=auth_headers(make_user("instructor")), json={"points": 9})
    learner = client.patch(url, headers=auth_headers(capitals.student), json={"points": 9})
    by_admin = client.patch(url, headers=auth_headers(admin), json={"points": 5})

    assert (other.status_code, other.get_json()) == (403, MANAGE_DENIED)
    assert (learner.status_code, learner.get_json()) == (403, MANAGE_DENIED)
    assert (by_admin.status_code, by_admin.get_json()["points"]) == (200, "5.00")


@pytest.mark.parametrize("body", [{"question_type": "matching"}, {"points": -2}, {"question_text": None},
                                  {"quiz_id": "x"}])
def test_malformed_question_edits_are_422(client, capitals, auth_headers, body):
    response = client.patch(questions_url(capitals, f"/{capitals.short.id}"), headers=auth_headers(capitals.owner), json=body)

    assert response.status_code == 422
