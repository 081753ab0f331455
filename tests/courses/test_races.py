"""Concurrent writes end in distinct rows, never duplicates or errors (design: races end in one row)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.courses.models import Course, Lesson
from lms.core.extensions import db
from tests.helpers import API, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.real_commits]


def test_concurrent_creates_with_one_title_each_get_a_course_with_a_distinct_slug(app, instructor, auth_headers):
    headers = auth_headers(instructor)

    responses = run_concurrently(app, [lambda client: client.post(
        f"{API}/courses", headers=headers, json={"title": "Same Title"})] * 10)

    assert [response.status_code for response in responses] == [201] * 10
    slugs = set(db.session.scalars(select(Course.slug)))
    assert len(slugs) == 10
    assert "same-title" in slugs
    assert {response.get_json()["slug"] for response in responses} == slugs


def test_concurrent_creates_with_one_explicit_slug_leave_one_course_and_conflicts(app, instructor, auth_headers):
    headers = auth_headers(instructor)

    responses = run_concurrently(app, [lambda client: client.post(
        f"{API}/courses", headers=headers, json={"title": "Same Title", "slug": "wanted-slug"})] * 10)

    assert sorted(response.status_code for response in responses) == [201] + [409] * 9
    assert db.session.scalars(select(Course.slug)).all() == ["wanted-slug"]


def test_concurrent_lessons_without_an_order_index_get_distinct_ones(app, instructor, auth_headers, make_course):
    course_id = make_course(instructor).id
    headers = auth_headers(instructor)

    responses = run_concurrently(app, [lambda client: client.post(
        f"{API}/courses/{course_id}/lessons", headers=headers, json={"title": "Parallel lesson",
                                                                    "lesson_type": "text"})] * 8)

    assert [response.status_code for response in responses] == [201] * 8
    assert sorted(db.session.scalars(select(Lesson.order_index).where(Lesson.course_id == course_id))) == \
        list(range(1, 9))
