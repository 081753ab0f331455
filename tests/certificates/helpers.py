"""Helpers for the certificate tests: the certificates API prefix, completing an enrollment, reading
its certificates.

Completion is driven the way the learning endpoints drive it: the enrollment locked,
`complete_lesson`, then `commit` (the certificate record is written in that transaction by the
`enrollment.completed` subscriber; its PDF job and mail run after the commit, inline in tests).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from lms.certificates.models import Certificate
from lms.core.db import commit
from lms.courses.models import Course
from lms.enrollments.models import Enrollment
from lms.enrollments.service import complete_lesson, lock_enrollment
from lms.core.extensions import db
from tests.helpers import lessons_of

API = "/api/v1/certificates"  # not tests.helpers.API: the certificates endpoints' own prefix


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
