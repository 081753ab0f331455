"""Builders for certificate tests: a course with lessons, an enrollment, and completing it.

Completion is driven the way the learning endpoints drive it: `complete_lesson`, commit, then
`after_learning_write`, which runs the completion hook (and so the issuance job, inline in tests).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.certificates.models import Certificate
from lms.core.db import utcnow
from lms.courses.models import Course, Lesson
from lms.enrollments.models import Enrollment
from lms.enrollments.service import after_learning_write, complete_lesson
from lms.extensions import db
from lms.quizzes.models import Quiz
from lms.users.models import User

API = "/api/v1/certificates"


def make_course(owner: User, *, title: str = "Introduction to Data Science", lessons: int = 2,
                with_quiz: bool = False) -> Course:
    """A published course with `lessons` lessons; with `with_quiz`, the last one is a quiz lesson."""
    course = Course(title=title, slug=f"course-{uuid.uuid4().hex[:10]}", instructor_id=owner.id, is_published=True)
    db.session.add(course)
    db.session.flush()
    for index in range(lessons):
        is_quiz = with_quiz and index == lessons - 1
        lesson = Lesson(course_id=course.id, title=f"Lesson {index + 1}", slug=f"lesson-{index + 1}",
                        lesson_type="quiz" if is_quiz else "text", order_index=index + 1)
        db.session.add(lesson)
        if is_quiz:
            db.session.flush()
            db.session.add(Quiz(course_id=course.id, lesson_id=lesson.id, title="Final quiz",
                                passing_score=Decimal("70"), is_published=True))
    db.session.commit()
    return course


def lessons_of(course: Course) -> list[Lesson]:
    return list(db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.order_index)))


def enroll(student: User, course: Course) -> Enrollment:
    enrollment = Enrollment(student_id=student.id, course_id=course.id, status="active", enrolled_at=utcnow(),
                            started_at=utcnow(), progress_percentage=Decimal("0"), completed_lessons_count=0,
                            total_lessons_count=len(lessons_of(course)), total_time_spent_seconds=0)
    db.session.add(enrollment)
    db.session.commit()
    return enrollment


def finish_lesson(enrollment: Enrollment, lesson_id: uuid.UUID) -> bool:
    """Complete one lesson as the learning endpoints do; True when this completed the course."""
    became_completed = complete_lesson(enrollment, lesson_id)
    db.session.commit()
    after_learning_write(enrollment, became_completed)
    return became_completed


def finish_course(enrollment: Enrollment) -> None:
    for lesson in lessons_of(db.session.get(Course, enrollment.course_id)):
        finish_lesson(enrollment, lesson.id)


def certificates_of(enrollment_id: uuid.UUID) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.enrollment_id == enrollment_id)))


@pytest.fixture
def issue(instructor):
    """`issue(student, course=None)` -> the Certificate issued by completing a (new) course."""

    def factory(student: User, course: Course | None = None) -> Certificate:
        enrollment = enroll(student, course or make_course(instructor))
        finish_course(enrollment)
        [certificate] = certificates_of(enrollment.id)
        return certificate

    return factory
