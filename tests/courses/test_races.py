"""Concurrent writes end in distinct rows, never duplicates or errors (design: races end in one row)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from lms.courses.models import Course, Lesson
from lms.extensions import db
from tests.courses.conftest import API

pytestmark = [pytest.mark.postgres, pytest.mark.real_commits]


def run_concurrently(app, count: int, request) -> list:
    """Send `request(client)` from `count` threads at once; the responses, in completion order."""
    barrier = threading.Barrier(count)
    responses, lock = [], threading.Lock()

    def worker() -> None:
        client = app.test_client()
        barrier.wait()
        response = request(client)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_concurrent_creates_with_one_title_each_get_a_course_with_a_distinct_slug(app, instructor, auth_headers):
    headers = auth_headers(instructor)

    responses = run_concurrently(app, 10, lambda client: client.post(
        f"{API}/courses", headers=headers, json={"title": "Same Title"}))

    assert [response.status_code for response in responses] == [201] * 10
    slugs = set(db.session.scalars(select(Course.slug)))
    assert len(slugs) == 10
    assert "same-title" in slugs
    assert {response.get_json()["slug"] for response in responses} == slugs


def test_concurrent_creates_with_one_explicit_slug_leave_one_course_and_conflicts(app, instructor, auth_headers):
    headers = auth_headers(instructor)

    responses = run_concurrently(app, 10, lambda client: client.post(
        f"{API}/courses", headers=headers, json={"title": "Same Title", "slug": "wanted-slug"}))

    assert sorted(response.status_code for response in responses) == [201] + [409] * 9
    assert db.session.scalars(select(Course.slug)).all() == ["wanted-slug"]


def test_concurrent_lessons_without_an_order_index_get_distinct_ones(app, instructor, auth_headers, make_course):
    course_id = make_course(instructor).id
    headers = auth_headers(instructor)

    responses = run_concurrently(app, 8, lambda client: client.post(
        f"{API}/courses/{course_id}/lessons", headers=headers, json={"title": "Parallel lesson",
                                                                    "lesson_type": "text"}))

    assert [response.status_code for response in responses] == [201] * 8
    assert sorted(db.session.scalars(select(Lesson.order_index).where(Lesson.course_id == course_id))) == \
        list(range(1, 9))
