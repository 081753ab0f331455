"""Analytics for students, instructors and admins: SQL aggregates, never Python loops over rows."""

from __future__ import annotations

import uuid

from lms.core.cache import get_app_cache

COURSE_ANALYTICS_CACHE_PREFIX = "analytics:course:"


def invalidate_course_analytics(course_id: uuid.UUID) -> None:
    """Enrollment, progress and review writes make a course's cached analytics stale (§5.3)."""
    get_app_cache().delete_by_prefix(f"{COURSE_ANALYTICS_CACHE_PREFIX}{course_id}")
