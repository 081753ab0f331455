"""Certificate tests: completing an enrollment; courses and enrollments come from the shared factories.

Completion is driven the way the learning endpoints drive it: the enrollment locked,
`complete_lesson`, then `commit` (the certificate record is written in that transaction by the
`enrollment.completed` subscriber; its PDF job and mail run after the commit, inline in tests).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.enrollments.models import Enrollment
from lms.core.db import commit
from lms.enrollments.service import complete_lesson, lock_enrollment
from lms.extensions import db
from lms.users.models import User
from tests.factories import lessons_of

API = "/api/v1/certificates"


def finish_lesson(enrollment: Enrollment, lesson_id: uuid.UUID) -> bool:
    """Complete one lesson as the learning endpoints do; True when this completed the course."""
    became_completed = complete_lesson(lock_enrollment(enrollment.id), lesson_id)
    commit()
    return became_completed


def finish_course(enrollment: Enrollment) -> None:
    for lesson in lessons_of(db.session.get(Course, enrollment.course_id)):
        finish_lesson(enrollment, lesson.id)


def certificates_of(enrollment_id: uuid.UUID) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.enrollment_id == enrollment_id)))


@pytest.fixture
def enrollment(student, instructor, make_course, make_enrollment) -> Enrollment:
    """The student's active enrollment in a new published course of one lesson."""
    return make_enrollment(student, make_course(instructor, lessons=1))


@pytest.fixture
def issue(instructor, make_course, make_enrollment):
    """`issue(student, course=None)` -> the Certificate issued by completing a course (by default a new one)."""

    def factory(student: User, course: Course | None = None) -> Certificate:
        course = course or make_course(instructor, title="Introduction to Data Science", lessons=2)
        enrollment = make_enrollment(student, course)
        finish_course(enrollment)
        [certificate] = certificates_of(enrollment.id)
        return certificate

    return factory
