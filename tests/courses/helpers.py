"""Helpers for the course tests: the kinds of readers of a course, and the `pair` scene's type."""

from __future__ import annotations

from dataclasses import dataclass

from lms.courses.models import Course
from lms.enrollments.models import Enrollment
from lms.users.models import User

VIEWERS = ("anonymous", "student", "enrolled_student", "other_instructor", "owner", "admin")
OUTSIDERS = ("anonymous", "student", "enrolled_student", "other_instructor")
MANAGERS = ("owner", "admin")


@dataclass
class CoursePair:
    """A published and a draft course of one instructor, and a student enrolled in both."""

    owner: User
    learner: User
    published: Course
    draft: Course
    enrollment: Enrollment  # the learner's, in the published course
