"""Fixtures for the certificate tests: an enrollment to complete, and `issue`, a certificate earned by
completing a course (courses and enrollments come from the shared factories)."""

from __future__ import annotations

import pytest

from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.enrollments.models import Enrollment
from lms.users.models import User
from tests.certificates.helpers import certificates_of, finish_course


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
