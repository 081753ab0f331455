"""Grading and answer checking as pure functions: plain values in, results out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from lms.quizzes.grading import Answer, InvalidAnswers, answer_key_problem, check_answers, grade, percentage_of

OPTIONS = [{"option_id": "a", "option_text": "Yes", "is_correct": True},
           {"option_id": "b", "option_text": "No", "is_correct": False}]


@dataclass
class Q:
    question_type: str
    points: Decimal = Decimal("1")
    options: list[dict[str, Any]] | None = None
    correct_answer: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def mc(points="1") -> Q:
    return Q("multiple_choice", Decimal(points), options=OPTIONS)


def tf(answer="true", points="1") -> Q:
    return Q("true_false", Decimal(points), correct_answer=answer)


def short(answer="Paris", points="1") -> Q:
    return Q("short_answer", Decimal(points), correct_answer=answer)


def essay(points="1") -> Q:
    return Q("essay", Decimal(points))


@pytest.mark.parametrize(("question", "answer", "correct"), [
    (mc(), {"selected_option_id": "a"}, True),
    (mc(), {"selected_option_id": "b"}, False),
    (tf("true"), {"answer_text": "true"}, True),
    (tf("true"), {"answer_text": "  TRUE "}, True),
    (tf("False"), {"answer_text": "false"}, True),
    (tf("true"), {"answer_text": "false"}, False),
    (short("Paris"), {"answer_text": "paris"}, True),
    (short("Paris"), {"answer_text": "\tPARIS  "}, True),
    (short("  New York "), {"answer_text": "new york"}, True),
    (short("Paris"), {"answer_text": "Pari s"}, False),
    (short("Paris"), {"answer_text": "Lyon"}, False),
    (essay(), {"answer_text": "A long and thoughtful essay."}, False),
])
def test_each_question_type_is_graded_by_its_rule(question, answer, correct):
    result = grade([question], [Answer(question_id=question.id, **answer)], Decimal("50"))

    assert [r.is_correct for r in result.answers] == [correct]
    assert result.answers[0].points_earned == (question.points if correct else 0)
    assert result.score == (question.points if correct else 0)


def test_an_essay_scores_zero_even_with_an_answer_key_present():
    question = Q("essay", Decimal("5"), correct_answer="anything")

    result = grade([question], [Answer(question.id, answer_text="anything")], Decimal("0"))

    assert result.score == 0 and result.max_score == 5 and result.answers[0].is_correct is False


def test_unanswered_questions_score_zero_but_count_toward_the_maximum():
    answered, skipped = mc("2"), short(points="3")

    result = grade([answered, skipped], [Answer(answered.id, selected_option_id="a")], Decimal("40"))

    assert (result.score, result.max_score, result.percentage) == (Decimal("2"), Decimal("5"), Decimal("40.00"))
    assert result.is_passed is True
    assert [r.question_id for r in result.answers] == [answered.id]


def test_results_follow_the_question_order_not_the_submission_order():
    first, second = tf(), short()

    result = grade([first, second], [Answer(second.id, answer_text="Paris"), Answer(first.id, answer_text="true")],
                   Decimal("0"))

    assert [r.question_id for r in result.answers] == [first.id, second.id]


@pytest.mark.parametrize(("score", "max_score", "expected"), [
    ("1", "3", "33.33"),
    ("2", "3", "66.67"),
    ("1", "8", "12.50"),
    ("1", "200", "0.50"),
    ("1", "16", "6.25"),
    ("1", "1600", "0.06"),      # 0.0625
    ("1", "800", "0.13"),       # 0.125: half up, not half even
    ("1", "20000", "0.01"),     # 0.005: half up, not half even
    ("3", "3", "100.00"),
    ("0", "3", "0.00"),
    ("0", "0", "0.00"),         # nothing to score
])
def test_percentage_is_rounded_half_up_to_two_decimals(score, max_score, expected):
    assert str(percentage_of(Decimal(score), Decimal(max_score))) == expected


@pytest.mark.parametrize(("passing_score", "passed"), [("66.67", True), ("66.66", True), ("66.68", False)])
def test_passing_compares_the_rounded_percentage_with_the_passing_score(passing_score, passed):
    questions = [tf(), tf(), tf()]
    answers = [Answer(questions[0].id, answer_text="true"), Answer(questions[1].id, answer_text="true")]

    result = grade(questions, answers, Decimal(passing_score))

    assert result.percentage == Decimal("66.67")
    assert result.is_passed is passed


def test_points_are_weighted():
    heavy, light = mc("3.5"), tf(points="0.5")

    result = grade([heavy, light], [Answer(heavy.id, selected_option_id="a"), Answer(light.id, answer_text="false")],
                   Decimal("80"))

    assert (result.score, result.max_score, result.percentage, result.is_passed) == (
        Decimal("3.5"), Decimal("4.0"), Decimal("87.50"), True)


def test_a_quiz_without_answers_scores_zero_and_fails_a_positive_passing_score():
    result = grade([mc(), tf()], [], Decimal("1"))

    assert (result.score, result.percentage, result.is_passed, result.answers) == (0, Decimal("0.00"), False, [])


# --- checking a submission -----------------------------------------------------------------------

QUESTIONS = {"mc": mc(), "tf": tf(), "short": short(), "essay": essay()}


def answer(kind: str, **fields) -> Answer:
    return Answer(QUESTIONS[kind].id, **fields)


@pytest.mark.parametrize(("answers", "message"), [
    ([answer("tf", answer_text="true"), answer("tf", answer_text="false")], "answered more than once"),
    ([Answer(uuid.uuid4(), answer_text="x")], "does not belong to this quiz"),
    ([answer("mc")], "needs selected_option_id"),
    ([answer("mc", answer_text="a")], "needs selected_option_id"),
    ([answer("mc", selected_option_id="zz")], "is not an option of question"),
    ([answer("short", selected_option_id="a", answer_text="Paris")], "send answer_text instead"),
    ([answer("tf", selected_option_id="a")], "send answer_text instead"),
    ([answer("tf", answer_text="   ")], "needs a non-empty answer_text"),
    ([answer("short")], "needs a non-empty answer_text"),
    ([answer("essay", answer_text="")], "needs a non-empty answer_text"),
    ([answer("tf", answer_text="yes")], "must be true or false"),
])
def test_malformed_submissions_are_refused_with_a_clear_message(answers, message):
    with pytest.raises(InvalidAnswers, match=message):
        check_answers(list(QUESTIONS.values()), answers)


def test_a_well_formed_partial_submission_passes_the_checks():
    check_answers(list(QUESTIONS.values()), [
        answer("mc", selected_option_id="b"), answer("tf", answer_text=" FALSE "), answer("essay", answer_text="Hi")])


# --- answer keys ---------------------------------------------------------------------------------

def option(option_id: str, text: str, correct: bool = False) -> dict:
    return {"option_id": option_id, "option_text": text, "is_correct": correct}


@pytest.mark.parametrize(("question_type", "options", "correct_answer", "problem"), [
    ("multiple_choice", None, None, "at least 2 options"),
    ("multiple_choice", [option("a", "Yes", True)], None, "at least 2 options"),
    ("multiple_choice", [option("a", "Yes", True), option("a", "No")], None, "ids must be unique"),
    ("multiple_choice", [option("a", "Yes", True), option("b", "YES")], None, "texts must be unique"),
    ("multiple_choice", [option("a", "Yes"), option("b", "No")], None, "exactly one correct option"),
    ("multiple_choice", [option("a", "Yes", True), option("b", "No", True)], None, "exactly one correct option"),
    ("multiple_choice", OPTIONS, "a", "takes no correct_answer"),
    ("true_false", OPTIONS, "true", "takes no options"),
    ("true_false", None, None, "true or false"),
    ("true_false", None, "maybe", "true or false"),
    ("short_answer", OPTIONS, "Paris", "takes no options"),
    ("short_answer", None, "  ", "non-empty correct_answer"),
    ("essay", OPTIONS, None, "takes no options"),
    ("essay", None, "model answer", "takes no correct_answer"),
])
def test_answer_keys_that_break_the_type_rules_are_named(question_type, options, correct_answer, problem):
    assert problem in answer_key_problem(question_type, options, correct_answer)


@pytest.mark.parametrize(("question_type", "options", "correct_answer"), [
    ("multiple_choice", OPTIONS, None),
    ("true_false", None, "TRUE"),
    ("true_false", [], " false "),
    ("short_answer", None, "Paris"),
    ("essay", None, None),
])
def test_sound_answer_keys_have_no_problem(question_type, options, correct_answer):
    assert answer_key_problem(question_type, options, correct_answer) is None
