"""Courses and lessons: catalog, management, visibility.

The access helpers at the top are the one way every module checks who may see or manage a course.
"""

from __future__ import annotations

import uuid

from lms.core.errors import Forbidden, NotFound
from lms.core.permissions import Role
from lms.courses.models import Course
from lms.extensions import db
from lms.users.models import User

MANAGE_DENIED = "Not authorized to manage this course"


def can_manage_course(user: User | None, course: Course) -> bool:
    """The course's instructor or any admin."""
    return user is not None and (user.role == Role.ADMIN.value or course.instructor_id == user.id)


def get_course(course_id: uuid.UUID) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("Course not found")
    return course


def get_visible_course(course_id: uuid.UUID, user: User | None) -> Course:
    """A course the caller may read: published, or theirs to manage. Drafts are 404 to others (§5.19)."""
    course = get_course(course_id)
    if not course.is_published and not can_manage_course(user, course):
        raise NotFound("Course not found")
    return course


def get_managed_course(course_id: uuid.UUID, user: User, message: str = MANAGE_DENIED) -> Course:
    """A course the caller manages; 404 when they may not even see it, 403 when they only may read it."""
    course = get_visible_course(course_id, user)
    if not can_manage_course(user, course):
        raise Forbidden(message)
    return course
