"""Course analytics are cached for a short TTL and dropped by enrollment, progress and review writes."""

from __future__ import annotations

import pytest

from lms.analytics.cache import COURSE_ANALYTICS_CACHE_PREFIX, invalidate_course_analytics
from lms.core.cache import get_app_cache
from lms.core.redis import redis_client
from lms.core.extensions import cache


def course_analytics(client, headers, course):
    response = client.get(f"/api/v1/analytics/courses/{course.id}", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_a_cached_answer_is_identical_to_the_computed_one(client, auth_headers, dataset):
    headers = auth_headers(dataset.ines)
    computed = course_analytics(client, headers, dataset.course_a)
    assert get_app_cache().get_json(f"{COURSE_ANALYTICS_CACHE_PREFIX}{dataset.course_a.id}") is not None
    assert course_analytics(client, headers, dataset.course_a) == computed


def test_writes_without_invalidation_are_not_seen_until_the_entry_is_dropped(client, auth_headers, dataset,
                                                                              make_user, make_enrollment):
    headers = auth_headers(dataset.ines)
    assert course_analytics(client, headers, dataset.course_a)["total_enrollments"] == 3
    make_enrollment(make_user("student"), dataset.course_a, rating=5)
    assert course_analytics(client, headers, dataset.course_a)["total_enrollments"] == 3  # served from cache

    invalidate_course_analytics(dataset.course_a.id)  # what enrollment, progress and review writes call

    fresh = course_analytics(client, headers, dataset.course_a)
    assert fresh["total_enrollments"] == 4
    assert fresh["total_reviews"] == 3
    assert fresh["average_rating"] == "3.67"


def test_invalidating_one_course_keeps_the_others_cached(client, auth_headers, dataset):
    headers = auth_headers(dataset.ines)
    course_analytics(client, headers, dataset.course_a)
    course_analytics(client, headers, dataset.course_b)
    invalidate_course_analytics(dataset.course_a.id)
    cache = get_app_cache()
    assert cache.get_json(f"{COURSE_ANALYTICS_CACHE_PREFIX}{dataset.course_a.id}") is None
    assert cache.get_json(f"{COURSE_ANALYTICS_CACHE_PREFIX}{dataset.course_b.id}") is not None


def test_a_forbidden_caller_is_refused_even_when_the_answer_is_cached(client, auth_headers, dataset):
    course_analytics(client, auth_headers(dataset.ines), dataset.course_a)
    response = client.get(f"/api/v1/analytics/courses/{dataset.course_a.id}", headers=auth_headers(dataset.otto))
    assert response.status_code == 403


@pytest.mark.redis
def test_the_cache_entry_lives_at_most_the_configured_ttl(app, client, auth_headers, dataset):
    course_analytics(client, auth_headers(dataset.ines), dataset.course_a)
    ttl = app.config["COURSE_ANALYTICS_CACHE_TTL_SECONDS"]
    assert ttl == 60
    key = f"{cache.cache.key_prefix}{COURSE_ANALYTICS_CACHE_PREFIX}{dataset.course_a.id}"  # as Redis stores it
    assert 0 < redis_client(app).ttl(key) <= ttl
