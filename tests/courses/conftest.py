"""The readers of a course: a published and a draft course, an enrolled student, and the other viewers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lms.courses.models import Course
from lms.enrollments.models import Enrollment
from lms.users.models import User

VIEWERS = ("anonymous", "student", "enrolled_student", "other_instructor", "owner", "admin")
OUTSIDERS = ("anonymous", "student", "enrolled_student", "other_instructor")
MANAGERS = ("owner", "admin")


@dataclass
class World:
    """A published and a draft course of one instructor, and a student enrolled in both."""

    owner: User
    learner: User
    published: Course
    draft: Course
    enrollment: Enrollment  # the learner's, in the published course


@pytest.fixture
def world(instructor, make_user, make_course, make_enrollment) -> World:
    published = make_course(instructor, published=True, title="Published course")
    draft = make_course(instructor, published=False, title="Draft course")
    learner = make_user("student", full_name="Lea Rner")
    enrollment = make_enrollment(learner, published)
    make_enrollment(learner, draft)  # enrolled, then the course went back to draft
    return World(owner=instructor, learner=learner, published=published, draft=draft, enrollment=enrollment)


@pytest.fixture
def headers_for(world, make_user, auth_headers):
    """`headers_for(viewer)`: the Authorization header of each kind of reader of the world's courses."""
    def headers(viewer: str) -> dict[str, str]:
        user = {
            "anonymous": lambda: None,
            "student": lambda: make_user("student"),
            "enrolled_student": lambda: world.learner,
            "other_instructor": lambda: make_user("instructor"),
            "owner": lambda: world.owner,
            "admin": lambda: make_user("admin"),
        }[viewer]()
        return auth_headers(user) if user is not None else {}

    return headers
