"""Quiz fixtures: `capitals`, the quiz "Capitals" of three questions in a published course, with its owner
and an enrolled student, built on the shared factories' rows."""

from __future__ import annotations

import pytest

from tests.quizzes.helpers import CapitalsQuiz


@pytest.fixture
def capitals(make_user, make_course, make_lesson, make_quiz, make_question, make_enrollment) -> CapitalsQuiz:
    owner = make_user("instructor", full_name="Quiz Owner")
    learner = make_user("student", full_name="Quiz Taker")
    course = make_course(owner)
    lesson = make_lesson(course, lesson_type="quiz")
    quiz = make_quiz(course, lesson=lesson, title="Capitals")
    questions = [make_question(quiz, "multiple_choice"), make_question(quiz, "true_false", points="2"),
                 make_question(quiz, "short_answer")]
    return CapitalsQuiz(owner=owner, student=learner, course=course, lesson=lesson, quiz=quiz,
                        enrollment=make_enrollment(learner, course), questions=questions)
