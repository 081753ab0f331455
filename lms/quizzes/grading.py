"""Checking and grading quiz answers: pure functions, no database and no Flask.

`check_answers` refuses a malformed submission (contract §4.7) and `grade` scores a valid one
against the answer key, so both can be tested with plain values.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from lms.core.schemas import to_decimal2

TRUE_FALSE_ANSWERS = ("true", "false")


class GradableQuestion(Protocol):
    """What grading needs of a question (the `Question` model satisfies it)."""

    id: uuid.UUID
    question_type: str
    points: Decimal
    options: list[dict[str, Any]] | None
    correct_answer: str | None


@dataclass(frozen=True)
class Answer:
    question_id: uuid.UUID
    selected_option_id: str | None = None
    answer_text: str | None = None


@dataclass(frozen=True)
class AnswerResult:
    question_id: uuid.UUID
    selected_option_id: str | None
    answer_text: str | None
    is_correct: bool
    points_earned: Decimal


@dataclass(frozen=True)
class Grade:
    answers: list[AnswerResult]
    score: Decimal
    max_score: Decimal
    percentage: Decimal
    is_passed: bool


class InvalidAnswers(ValueError):
    """A submission that cannot be graded; the message says which answer and why."""


def normalize(text: str | None) -> str:
    """Text answers compare case-insensitively after trimming."""
    return (text or "").strip().casefold()


def option_ids(question: GradableQuestion) -> set[str]:
    return {str(option.get("option_id")) for option in question.options or []}


def correct_option_id(question: GradableQuestion) -> str | None:
    return next((str(option.get("option_id")) for option in question.options or []
                 if option.get("is_correct")), None)


def answer_key_problem(question_type: str, options: list[dict[str, Any]] | None,
                       correct_answer: str | None) -> str | None:
    """Why a question's answer key breaks the per-type rules of contract §4.6, or None when it is sound."""
    has_answer = bool((correct_answer or "").strip())
    if question_type == "multiple_choice":
        options = options or []
        if len(options) < 2:
            return "A multiple choice question needs at least 2 options"
        if len({str(option.get("option_id")) for option in options}) != len(options):
            return "Option ids must be unique within a question"
        if len({normalize(option.get("option_text")) for option in options}) != len(options):
            return "Option texts must be unique within a question (case-insensitive)"
        if sum(1 for option in options if option.get("is_correct")) != 1:
            return "A multiple choice question needs exactly one correct option"
        if has_answer:
            return "A multiple choice question takes no correct_answer; mark the correct option instead"
        return None
    if options:
        return f"A {question_type} question takes no options"
    if question_type == "true_false" and normalize(correct_answer) not in TRUE_FALSE_ANSWERS:
        return "A true_false question needs correct_answer true or false"
    if question_type == "short_answer" and not has_answer:
        return "A short_answer question needs a non-empty correct_answer"
    if question_type == "essay" and has_answer:
        return "An essay question takes no correct_answer"
    return None


def check_answers(questions: Sequence[GradableQuestion], answers: Sequence[Answer]) -> None:
    """Raise `InvalidAnswers` for the first answer that breaks a rule of contract §4.7."""
    by_id = {question.id: question for question in questions}
    seen: set[uuid.UUID] = set()
    for answer in answers:
        question = by_id.get(answer.question_id)
        if question is None:
            raise InvalidAnswers(f"Question {answer.question_id} does not belong to this quiz")
        if answer.question_id in seen:
            raise InvalidAnswers(f"Question {answer.question_id} is answered more than once")
        seen.add(answer.question_id)
        if question.question_type == "multiple_choice":
            if answer.selected_option_id is None:
                raise InvalidAnswers(f"Question {question.id} is multiple choice and needs selected_option_id")
            if answer.selected_option_id not in option_ids(question):
                raise InvalidAnswers(f"Option {answer.selected_option_id} is not an option of question {question.id}")
            continue
        if answer.selected_option_id is not None:
            raise InvalidAnswers(f"Question {question.id} has no options; send answer_text instead of "
                                 "selected_option_id")
        if not normalize(answer.answer_text):
            raise InvalidAnswers(f"Question {question.id} needs a non-empty answer_text")
        if question.question_type == "true_false" and normalize(answer.answer_text) not in TRUE_FALSE_ANSWERS:
            raise InvalidAnswers(f"Question {question.id} is true/false; answer_text must be true or false")


def is_correct(question: GradableQuestion, answer: Answer) -> bool:
    if question.question_type == "multiple_choice":
        return answer.selected_option_id is not None and answer.selected_option_id == correct_option_id(question)
    if question.question_type in ("true_false", "short_answer"):
        expected = normalize(question.correct_answer)
        return bool(expected) and normalize(answer.answer_text) == expected
    return False  # essays have no answer key and no manual grading path


def percentage_of(score: Decimal, max_score: Decimal) -> Decimal:
    """score / max_score × 100 to two decimals (half up); 0 when there is nothing to score."""
    if max_score <= 0:
        return Decimal("0.00")
    return to_decimal2(score * 100 / max_score)


def grade(questions: Sequence[GradableQuestion], answers: Sequence[Answer], passing_score: Decimal) -> Grade:
    """Score checked answers. Unanswered questions score 0; results follow the questions' order."""
    answer_for = {answer.question_id: answer for answer in answers}
    results: list[AnswerResult] = []
    for question in questions:
        answer = answer_for.get(question.id)
        if answer is None:
            continue
        correct = is_correct(question, answer)
        results.append(AnswerResult(
            question_id=question.id,
            selected_option_id=answer.selected_option_id,
            answer_text=answer.answer_text,
            is_correct=correct,
            points_earned=Decimal(question.points) if correct else Decimal("0"),
        ))
    score = sum((result.points_earned for result in results), Decimal("0"))
    max_score = sum((Decimal(question.points) for question in questions), Decimal("0"))
    percentage = percentage_of(score, max_score)
    return Grade(answers=results, score=score, max_score=max_score, percentage=percentage,
                 is_passed=percentage >= Decimal(passing_score))
