"""The catalog `GET /courses`: visibility, filters, search, caching, ETags, statement count (§4.2, §1.11, §5.2)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from lms.courses.models import Course
from lms.core.extensions import db
from tests.helpers import API, PASSWORD, bearer, redis_commands_sent

CATALOG = f"{API}/courses"


def titles(response) -> list[str]:
    return [course["title"] for course in response.get_json()["items"]]


@pytest.fixture
def catalog(instructor, other_instructor, make_course):
    """Published and draft courses of two instructors, created oldest to newest in this order."""
    return {
        "own_published": make_course(instructor, title="Own published"),
        "own_draft": make_course(instructor, published=False, title="Own draft"),
        "other_published": make_course(other_instructor, title="Other published"),
        "other_draft": make_course(other_instructor, published=False, title="Other draft"),
    }


# --- who sees what --------------------------------------------------------------------------------

def test_anonymous_readers_see_published_courses_newest_first(client, catalog):
    response = client.get(CATALOG)

    assert response.status_code == 200
    assert response.get_json() | {"items": None} == {"items": None, "total": 2, "page": 1, "page_size": 20,
                                                      "total_pages": 1}
    assert titles(response) == ["Other published", "Own published"]


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_students_and_instructors_without_mine_see_published_courses(client, catalog, make_user, auth_headers,
                                                                     role):
    response = client.get(CATALOG, headers=auth_headers(make_user(role)))

    assert titles(response) == ["Other published", "Own published"]


def test_an_instructor_with_mine_sees_all_of_their_courses_drafts_included(client, catalog, instructor,
                                                                            auth_headers):
    response = client.get(f"{CATALOG}?mine=true", headers=auth_headers(instructor))

    assert titles(response) == ["Own draft", "Own published"]


def test_an_admin_sees_every_course(client, catalog, admin, auth_headers):
    response = client.get(CATALOG, headers=auth_headers(admin))

    assert titles(response) == ["Other draft", "Other published", "Own draft", "Own published"]


def test_an_admin_with_mine_sees_only_their_own_courses(client, catalog, admin, auth_headers, make_course):
    make_course(admin, published=False, title="Admin draft")

    response = client.get(f"{CATALOG}?mine=true", headers=auth_headers(admin))

    assert titles(response) == ["Admin draft"]


def test_a_student_with_mine_teaches_no_course(client, catalog, student, auth_headers):
    response = client.get(f"{CATALOG}?mine=true", headers=auth_headers(student))

    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_mine_without_a_valid_token_is_a_401(client, catalog):
    response = client.get(f"{CATALOG}?mine=true", headers={"Authorization": "Bearer expired-or-bad"})

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}


# --- paging and filters ---------------------------------------------------------------------------

def test_pages_follow_page_and_page_size(client, instructor, make_course):
    for number in range(5):
        make_course(instructor, title=f"Course {number}")

    body = client.get(f"{CATALOG}?page=2&page_size=2").get_json()

    assert [course["title"] for course in body["items"]] == ["Course 2", "Course 1"]
    assert (body["total"], body["page"], body["page_size"], body["total_pages"]) == (5, 2, 2, 3)


def test_an_empty_catalog_has_zero_pages(client):
    assert client.get(CATALOG).get_json() == {"items": [], "total": 0, "page": 1, "page_size": 20,
                                              "total_pages": 0}


@pytest.mark.parametrize("query, field", [("page=0", "page"), ("page=100000000000000000000", "page"),
                                          ("page_size=0", "page_size"),
                                          ("page_size=101", "page_size"), ("difficulty_level=expert",
                                                                           "difficulty_level"),
                                          ("mine=perhaps", "mine")])
def test_bad_catalog_queries_are_a_422(client, query, field):
    response = client.get(f"{CATALOG}?{query}")

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["query", field]


def test_unknown_query_parameters_are_ignored(client, catalog):
    assert titles(client.get(f"{CATALOG}?utm_source=mail")) == ["Other published", "Own published"]


def test_the_catalog_filters_by_exact_category_and_difficulty(client, instructor, make_course):
    make_course(instructor, title="Py beginner", category="python", difficulty_level="beginner")
    make_course(instructor, title="Py advanced", category="python", difficulty_level="advanced")
    make_course(instructor, title="Go beginner", category="go", difficulty_level="beginner")
    make_course(instructor, title="Pythonic", category="python-extra", difficulty_level="beginner")

    assert titles(client.get(f"{CATALOG}?category=python")) == ["Py advanced", "Py beginner"]
    assert titles(client.get(f"{CATALOG}?difficulty_level=beginner")) == ["Pythonic", "Go beginner", "Py beginner"]
    assert titles(client.get(f"{CATALOG}?category=python&difficulty_level=beginner")) == ["Py beginner"]


def test_search_is_a_case_insensitive_substring_of_title_or_description(client, instructor, make_course):
    make_course(instructor, title="Learning FLASK", description="web")
    make_course(instructor, title="Databases", description="SQL with flask-sqlalchemy")
    make_course(instructor, title="Cooking", description="pasta")

    assert titles(client.get(f"{CATALOG}?search=fLaSk")) == ["Databases", "Learning FLASK"]


def test_search_matches_percent_underscore_and_backslash_literally(client, instructor, make_course):
    make_course(instructor, title="100% Python")
    make_course(instructor, title="100 Python")
    make_course(instructor, title="snake_case names")
    make_course(instructor, title="snakeXcase names")
    make_course(instructor, title=r"Paths like C:\temp")
    make_course(instructor, title="Paths like C:temp")

    assert titles(client.get(f"{CATALOG}?search=%25")) == ["100% Python"]
    assert titles(client.get(f"{CATALOG}?search=e_c")) == ["snake_case names"]
    assert titles(client.get(f"{CATALOG}?search=C:%5Ct")) == [r"Paths like C:\temp"]


def test_a_search_right_after_an_unfiltered_listing_is_filtered(client, instructor, make_course):
    make_course(instructor, title="Flask APIs")
    make_course(instructor, title="Django sites")

    assert len(titles(client.get(CATALOG))) == 2
    assert titles(client.get(f"{CATALOG}?search=flask")) == ["Flask APIs"]
    assert titles(client.get(f"{CATALOG}?search=django")) == ["Django sites"]


# --- caching --------------------------------------------------------------------------------------

def test_catalog_pages_are_served_from_the_cache(client, catalog):
    assert "Own published" in titles(client.get(CATALOG))
    # A change that bypasses the API (and so the invalidation) is not seen until a write or the TTL.
    db.session.execute(update(Course).where(Course.id == catalog["own_published"].id).values(title="Sneaky"))
    db.session.commit()

    assert "Own published" in titles(client.get(CATALOG))


def test_a_course_write_invalidates_the_cached_catalog(client, catalog, instructor, auth_headers):
    assert titles(client.get(CATALOG)) == ["Other published", "Own published"]

    client.post(f"{API}/courses/{catalog['own_draft'].id}/publish", headers=auth_headers(instructor))
    assert titles(client.get(CATALOG)) == ["Other published", "Own draft", "Own published"]

    client.patch(f"{API}/courses/{catalog['own_draft'].id}", headers=auth_headers(instructor),
                 json={"title": "Renamed"})
    assert titles(client.get(CATALOG)) == ["Other published", "Renamed", "Own published"]

    client.delete(f"{API}/courses/{catalog['own_draft'].id}", headers=auth_headers(instructor))
    assert titles(client.get(CATALOG)) == ["Other published", "Own published"]


def test_a_lesson_write_invalidates_the_cached_catalog(client, catalog, instructor, auth_headers):
    course_id = catalog["own_published"].id
    assert client.get(CATALOG).get_json()["items"][1]["total_lessons"] == 0

    client.post(f"{API}/courses/{course_id}/lessons", headers=auth_headers(instructor),
                json={"title": "First lesson", "lesson_type": "text"})

    assert client.get(CATALOG).get_json()["items"][1]["total_lessons"] == 1


def test_a_new_course_appears_in_the_cached_mine_listing(client, instructor, auth_headers):
    headers = auth_headers(instructor)
    assert titles(client.get(f"{CATALOG}?mine=true", headers=headers)) == []

    client.post(CATALOG, headers=headers, json={"title": "Fresh draft"})

    assert titles(client.get(f"{CATALOG}?mine=true", headers=headers)) == ["Fresh draft"]


def test_cached_pages_never_cross_viewer_scopes(client, catalog, admin, instructor, other_instructor,
                                                auth_headers):
    admin_titles = titles(client.get(CATALOG, headers=auth_headers(admin)))
    assert "Other draft" in admin_titles

    assert titles(client.get(CATALOG)) == ["Other published", "Own published"]
    assert titles(client.get(f"{CATALOG}?mine=true", headers=auth_headers(instructor))) == ["Own draft",
                                                                                            "Own published"]
    assert titles(client.get(f"{CATALOG}?mine=true", headers=auth_headers(other_instructor))) == [
        "Other draft", "Other published"]


# --- ETag -----------------------------------------------------------------------------------------

def test_the_catalog_sends_an_etag_and_answers_304_to_a_match(client, catalog):
    etag = client.get(CATALOG).headers["ETag"]

    response = client.get(CATALOG, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag


def test_the_catalog_etag_changes_with_the_content(client, catalog, instructor, auth_headers):
    etag = client.get(CATALOG).headers["ETag"]
    client.post(f"{API}/courses/{catalog['own_draft'].id}/publish", headers=auth_headers(instructor))

    response = client.get(CATALOG, headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_viewers_who_see_different_catalogs_get_different_etags(client, catalog, admin, auth_headers):
    admin_etag = client.get(CATALOG, headers=auth_headers(admin)).headers["ETag"]

    response = client.get(CATALOG, headers={"If-None-Match": admin_etag})

    assert response.status_code == 200
    assert response.headers["ETag"] != admin_etag
    assert "Other draft" not in titles(response)


# --- statement count ------------------------------------------------------------------------------

@pytest.mark.parametrize("course_count", [5, 50])
def test_the_catalog_runs_a_fixed_number_of_statements(client, admin, auth_headers, make_user, make_course,
                                                       make_lesson, make_enrollment, assert_max_queries,
                                                       course_count):
    teachers = [make_user("instructor") for _ in range(3)]
    learner = make_user("student")
    for number in range(course_count):
        course = make_course(teachers[number % 3])
        make_lesson(course)
        make_enrollment(learner, course, rating=4)
    headers = auth_headers(admin)

    with assert_max_queries(3):  # the caller, the count, the page with every figure
        response = client.get(f"{CATALOG}?page_size=100", headers=headers)

    assert len(response.get_json()["items"]) == course_count
    assert {item["total_lessons"] for item in response.get_json()["items"]} == {1}


# --- statement budget of an anonymous catalog page (the performance issue's W2) --------------------

def test_an_anonymous_catalog_page_costs_two_statements_then_none_while_cached(client, catalog, assert_max_queries):
    with assert_max_queries(2):  # the count, the page with every figure
        first = client.get(f"{CATALOG}?page=1&page_size=20")
    with assert_max_queries(0):
        again = client.get(f"{CATALOG}?page=1&page_size=20")

    assert again.get_json() == first.get_json()
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.redis
@pytest.mark.real_commits
def test_a_cached_page_or_course_is_read_in_the_rate_limiters_round_trip(make_app, catalog, instructor):
    """While cached, an anonymous catalog page or a course costs one Redis round trip: its GET rides
    with the rate-limit counter (`lms.core.redis`, reads sent ahead), and a write is still seen next.
    Before it is cached, the view does not look it up a second time: the counter's round trip, then
    the store."""
    limited = make_app(RATE_LIMIT_ENABLED=True, RATE_LIMIT_REQUESTS_PER_MINUTE=1000).test_client()
    course = catalog["own_published"]
    limited.get(f"{CATALOG}?page=1&page_size=19")  # the Redis connections are open
    for path in (f"{CATALOG}?page=1&page_size=20", f"{CATALOG}/{course.id}"):
        with redis_commands_sent() as sent_uncached:
            first = limited.get(path)
        with redis_commands_sent() as sent:
            again = limited.get(path)

        assert len(sent_uncached) == 2
        assert len(sent) == 1
        assert (again.status_code, again.get_data()) == (200, first.get_data())

    token = limited.post(f"{API}/auth/login", json={"email": instructor.email, "password": PASSWORD}).get_json()
    renamed = limited.patch(f"{CATALOG}/{course.id}", json={"title": "Renamed"},
                            headers=bearer(token["tokens"]["access_token"]))
    assert renamed.status_code == 200
    assert limited.get(f"{CATALOG}/{course.id}").get_json()["title"] == "Renamed"
    assert "Renamed" in titles(limited.get(f"{CATALOG}?page=1&page_size=20"))
