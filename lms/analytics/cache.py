"""Where course analytics are cached, and how writes elsewhere make them fresh again (§5.3).

Kept apart from the service so that the modules whose writes invalidate them (courses,
enrollments) can import it without importing the analytics queries.
"""

from __future__ import annotations

import uuid
from typing import Any

from lms.core import events
from lms.core.cache import get_app_cache

COURSE_ANALYTICS_CACHE_PREFIX = "analytics:course:"


def course_analytics_key(course_id: uuid.UUID) -> str:
    return f"{COURSE_ANALYTICS_CACHE_PREFIX}{course_id}"


def invalidate_course_analytics(course_id: uuid.UUID) -> None:
    """Enrollment, progress and review writes make a course's cached analytics stale."""
    get_app_cache().delete(course_analytics_key(course_id))


@events.on(events.ENROLLMENT_CREATED, after_commit=True)
@events.on(events.ENROLLMENT_REVIEWED, after_commit=True)
@events.on(events.LEARNING_RECORDED, after_commit=True)
def _refresh_course_analytics(enrollment, **_: Any) -> None:
    invalidate_course_analytics(enrollment.course_id)


@events.on(events.COURSE_CHANGED, after_commit=True)
def _refresh_after_course_change(course_id: uuid.UUID, **_: Any) -> None:
    invalidate_course_analytics(course_id)
