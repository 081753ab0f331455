"""Helpers for the quiz tests: the quiz and attempt URLs, and the `capitals` scene's type."""

from __future__ import annotations

from dataclasses import dataclass

from lms.courses.models import Course, Lesson
from lms.enrollments.models import Enrollment
from lms.core.extensions import db
from lms.quizzes.models import Question, Quiz
from lms.users.models import User


def quiz_url(course_id, quiz_id=None, suffix: str = "") -> str:
    url = f"/api/v1/courses/{course_id}/quizzes"
    if quiz_id is not None:
        url += f"/{quiz_id}"
    return url + suffix


def attempts_url(quiz_id, suffix: str = "") -> str:
    return f"/api/v1/quizzes/{quiz_id}/attempts{suffix}"


@dataclass
class CapitalsQuiz:
    """A published course of one quiz lesson, its owner, and an enrolled student.

    The quiz has three questions worth 1, 2 and 1 points: multiple choice (correct "a"),
    true/false (correct "true") and short answer (correct "Paris").
    """

    owner: User
    student: User
    course: Course
    lesson: Lesson
    quiz: Quiz
    enrollment: Enrollment
    questions: list[Question]

    @property
    def mc(self) -> Question:
        return self.questions[0]

    @property
    def tf(self) -> Question:
        return self.questions[1]

    @property
    def short(self) -> Question:
        return self.questions[2]

    def quiz_questions(self) -> list[Question]:
        return list(db.session.query(Question).filter(Question.quiz_id == self.quiz.id))

    def perfect_answers(self) -> list[dict]:
        return [{"question_id": str(self.mc.id), "selected_option_id": "a"},
                {"question_id": str(self.tf.id), "answer_text": "True"},
                {"question_id": str(self.short.id), "answer_text": " paris "}]
