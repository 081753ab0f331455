"""Enrollment tests reuse the course builders (courses, lessons, enrollments made with the models)."""

from tests.courses.conftest import (  # noqa: F401 - fixtures shared with the course tests
    API,
    make_course,
    make_enrollment,
    make_lesson,
    other_instructor,
    other_student,
)
