"""The readers of a course: `pair`, a published and a draft course of one instructor with a student
enrolled in both, and `headers_for`, the Authorization header of each kind of reader (VIEWERS)."""

from __future__ import annotations

import pytest

from tests.courses.helpers import CoursePair


@pytest.fixture
def pair(instructor, make_user, make_course, make_enrollment) -> CoursePair:
    published = make_course(instructor, published=True, title="Published course")
    draft = make_course(instructor, published=False, title="Draft course")
    learner = make_user("student", full_name="Lea Rner")
    enrollment = make_enrollment(learner, published)
    make_enrollment(learner, draft)  # enrolled, then the course went back to draft
    return CoursePair(owner=instructor, learner=learner, published=published, draft=draft, enrollment=enrollment)


@pytest.fixture
def headers_for(pair, make_user, auth_headers):
    """`headers_for(viewer)`: the Authorization header of each kind of reader of the pair's courses."""
    def headers(viewer: str) -> dict[str, str]:
        user = {
            "anonymous": lambda: None,
            "student": lambda: make_user("student"),
            "enrolled_student": lambda: pair.learner,
            "other_instructor": lambda: make_user("instructor"),
            "owner": lambda: pair.owner,
            "admin": lambda: make_user("admin"),
        }[viewer]()
        return auth_headers(user) if user is not None else {}

    return headers
