"""Courses: create, read by id and slug, update, publish, delete (contract §4.2, §5.11, §5.19)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.courses.models import Course, Lesson
from lms.courses.service import slugify
from lms.enrollments.models import Enrollment, LessonProgress
from lms.core.extensions import db
from tests.courses.helpers import MANAGERS, OUTSIDERS, VIEWERS
from tests.helpers import API

COURSE_FIELDS = {
    "id", "title", "slug", "description", "instructor_id", "category", "difficulty_level", "is_published",
    "thumbnail_url", "estimated_duration_minutes", "created_at", "updated_at", "price", "currency", "is_free",
    "long_description", "preview_video_url", "requirements", "learning_objectives", "total_reviews",
    "total_quizzes", "enrollment_count", "average_rating", "status", "instructor_name", "rating",
    "review_count", "total_lessons", "duration_hours",
}
NOT_FOUND = {"detail": "Course not found"}
MANAGE_DENIED = {"detail": "Not authorized to manage this course"}


def course_url(course_id, suffix: str = "") -> str:
    return f"{API}/courses/{course_id}{suffix}"


# --- create ------------------------------------------------------------------------------------

def test_instructor_creates_a_draft_course_with_a_slug_from_the_title(client, instructor, auth_headers):
    response = client.post(f"{API}/courses", headers=auth_headers(instructor), json={
        "title": "Intro to C++ & Rust!!", "description": "Systems programming", "category": "programming",
        "difficulty_level": "beginner", "estimated_duration_minutes": 90, "metadata": {"level": 1}})

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == COURSE_FIELDS
    assert body["slug"] == "intro-to-c-rust"
    assert body["is_published"] is False
    assert body["instructor_id"] == str(instructor.id)
    assert body["instructor_name"] == "Ines Tructor"
    figures = ("total_lessons", "enrollment_count", "review_count", "total_reviews")
    assert [body[name] for name in figures] == [0, 0, 0, 0]
    assert body["average_rating"] is None and body["rating"] is None
    assert body["duration_hours"] == 1.5
    assert body["created_at"].endswith("Z")
    assert db.session.get(Course, uuid.UUID(body["id"])).extra_metadata == {"level": 1}


def test_admin_creates_a_course_they_own(client, admin, auth_headers):
    response = client.post(f"{API}/courses", headers=auth_headers(admin), json={"title": "Admin course"})

    assert response.status_code == 201
    assert response.get_json()["instructor_id"] == str(admin.id)


def test_student_cannot_create_a_course(client, student, auth_headers):
    response = client.post(f"{API}/courses", headers=auth_headers(student), json={"title": "Mine"})

    assert response.status_code == 403
    assert response.get_json() == {"detail": "Insufficient permissions"}
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_anonymous_cannot_create_a_course(client):
    response = client.post(f"{API}/courses", json={"title": "Mine"})

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize("title, slug", [
    ("Hello World", "hello-world"),
    ("  Hello -- World  ", "hello-world"),
    ("Café au lait 101", "caf-au-lait-101"),
    ("snake_case & CAPS", "snakecase-caps"),
])
def test_slugify_keeps_lower_case_letters_digits_and_single_hyphens(title, slug):
    assert slugify(title) == slug


def test_a_generated_slug_that_is_taken_gets_the_next_free_suffix(client, instructor, auth_headers):
    slugs = [client.post(f"{API}/courses", headers=auth_headers(instructor), json={"title": "Python Basics"})
             .get_json()["slug"] for _ in range(3)]

    assert slugs == ["python-basics", "python-basics-2", "python-basics-3"]


def test_a_title_without_slug_characters_still_gets_a_slug(client, instructor, auth_headers):
    response = client.post(f"{API}/courses", headers=auth_headers(instructor), json={"title": "日本語!!"})

    assert response.status_code == 201
    assert response.get_json()["slug"] == "course"


def test_an_explicit_slug_that_is_taken_is_a_conflict(client, instructor, auth_headers, make_course):
    make_course(instructor, slug="taken-slug")

    response = client.post(f"{API}/courses", headers=auth_headers(instructor),
                           json={"title": "Another", "slug": "taken-slug"})

    assert response.status_code == 409
    assert response.get_json() == {"detail": "A course with this slug already exists"}
    assert db.session.scalar(select(func.count()).select_from(Course)) == 1


def test_an_explicit_slug_is_kept_as_sent(client, instructor, auth_headers):
    response = client.post(f"{API}/courses", headers=auth_headers(instructor),
                           json={"title": "Another", "slug": "My_Own Slug"})

    assert response.status_code == 201
    assert response.get_json()["slug"] == "My_Own Slug"


@pytest.mark.parametrize("body, field", [
    ({}, "title"),
    ({"title": "ab"}, "title"),
    ({"title": "x" * 256}, "title"),
    ({"title": "Valid", "slug": "ab"}, "slug"),
    ({"title": "Valid", "slug": "a/b/c"}, "slug"),
    ({"title": "Valid", "slug": "paypal\u202egnp.exe"}, "slug"),
    ({"title": "Valid", "slug": "tab\there"}, "slug"),
    ({"title": "Valid", "difficulty_level": "expert"}, "difficulty_level"),
    ({"title": "Valid", "estimated_duration_minutes": 0}, "estimated_duration_minutes"),
    ({"title": "Valid", "estimated_duration_minutes": 90.5}, "estimated_duration_minutes"),
    ({"title": "Valid", "estimated_duration_minutes": 2**31}, "estimated_duration_minutes"),
    ({"title": "Valid", "total_quizzes": 2**31}, "total_quizzes"),
    ({"title": "Valid", "price": -1}, "price"),
    ({"title": "Valid", "currency": "EURO"}, "currency"),
    ({"title": "Valid", "average_rating": 5.5}, "average_rating"),
    ({"title": "Valid", "category": "c" * 101}, "category"),
    ({"title": "Valid", "is_published": True}, "is_published"),
    ({"title": "Valid", "requirements": "not a list"}, "requirements"),
])
def test_an_invalid_course_body_is_a_422_naming_the_field(client, instructor, auth_headers, body, field):
    response = client.post(f"{API}/courses", headers=auth_headers(instructor), json=body)

    assert response.status_code == 422
    assert ["body", field] in [error["loc"] for error in response.get_json()["detail"]]


def test_compatibility_fields_are_stored_and_computed_figures_are_ignored(
        client, instructor, auth_headers):
    response = client.post(f"{API}/courses", headers=auth_headers(instructor), json={
        "title": "Compat", "price": 19.99, "currency": "EUR", "is_free": False, "long_description": "Long",
        "preview_video_url": "https://videos.example/p", "requirements": ["a laptop"],
        "learning_objectives": ["ship it"], "total_quizzes": 3, "status": "draft",
        "total_reviews": 50, "enrollment_count": 999, "average_rating": 4.9})

    body = response.get_json()
    assert (body["price"], body["currency"], body["is_free"], body["long_description"]) == (19.99, "EUR", False, "Long")
    assert body["preview_video_url"] == "https://videos.example/p"
    assert (body["requirements"], body["learning_objectives"]) == (["a laptop"], ["ship it"])
    assert (body["total_quizzes"], body["status"]) == (3, "draft")
    assert (body["enrollment_count"], body["total_reviews"], body["average_rating"]) == (0, 0, None)
    stored = db.session.get(Course, uuid.UUID(body["id"]))
    assert (stored.enrollment_count, stored.total_reviews, stored.average_rating) == (None, None, None)


# --- read ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer", VIEWERS)
def test_everyone_reads_a_published_course(client, pair, headers_for, viewer):
    response = client.get(course_url(pair.published.id), headers=headers_for(viewer))

    assert response.status_code == 200
    assert response.get_json()["id"] == str(pair.published.id)


@pytest.mark.parametrize("viewer", MANAGERS)
def test_owner_and_admin_read_a_draft(client, pair, headers_for, viewer):
    response = client.get(course_url(pair.draft.id), headers=headers_for(viewer))

    assert response.status_code == 200
    assert response.get_json()["is_published"] is False


@pytest.mark.parametrize("viewer", OUTSIDERS)
def test_a_draft_is_not_found_for_everyone_else(client, pair, headers_for, viewer):
    response = client.get(course_url(pair.draft.id), headers=headers_for(viewer))

    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND


@pytest.mark.parametrize("viewer, status", [("anonymous", 200), ("enrolled_student", 200),
                                            ("other_instructor", 200), ("owner", 200), ("admin", 200)])
def test_a_course_is_read_by_its_slug(client, pair, headers_for, viewer, status):
    response = client.get(f"{API}/courses/slug/{pair.published.slug}", headers=headers_for(viewer))

    assert response.status_code == status
    assert response.get_json()["id"] == str(pair.published.id)


@pytest.mark.parametrize("viewer, status", [("anonymous", 404), ("student", 404), ("enrolled_student", 404),
                                            ("other_instructor", 404), ("owner", 200), ("admin", 200)])
def test_a_draft_by_slug_is_only_for_its_owner_and_admins(client, pair, headers_for, viewer, status):
    response = client.get(f"{API}/courses/slug/{pair.draft.slug}", headers=headers_for(viewer))

    assert response.status_code == status
    if status == 404:
        assert response.get_json() == NOT_FOUND


def test_an_unknown_course_is_not_found(client, pair):
    assert client.get(course_url("00000000-0000-4000-8000-000000000000")).get_json() == NOT_FOUND
    assert client.get(f"{API}/courses/slug/no-such-course").status_code == 404


def test_a_malformed_course_id_is_a_422(client):
    response = client.get(course_url("not-a-uuid"))

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["path", "course_id"]


def test_an_invalid_token_reads_a_public_course_as_anonymous(client, pair):
    bad = {"Authorization": "Bearer not-a-token"}

    assert client.get(course_url(pair.published.id), headers=bad).status_code == 200
    assert client.get(course_url(pair.draft.id), headers=bad).status_code == 404


def test_the_course_figures_are_computed_from_the_data(client, instructor, make_course, make_lesson,
                                                       make_enrollment, make_user):
    course = make_course(instructor, estimated_duration_minutes=100)
    for _ in range(3):
        make_lesson(course)
    for rating in (4, 5, None):
        make_enrollment(make_user("student"), course, rating=rating)

    body = client.get(course_url(course.id)).get_json()

    assert body["instructor_name"] == "Ines Tructor"
    assert body["total_lessons"] == 3
    assert body["enrollment_count"] == 3
    assert body["average_rating"] == body["rating"] == "4.50"
    assert body["review_count"] == body["total_reviews"] == 2
    assert body["duration_hours"] == 1.67


def test_a_course_read_sends_an_etag_and_answers_304_until_it_changes(client, pair, auth_headers):
    first = client.get(course_url(pair.published.id))
    etag = first.headers["ETag"]

    again = client.get(course_url(pair.published.id), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""

    client.patch(course_url(pair.published.id), headers=auth_headers(pair.owner), json={"title": "Renamed"})
    changed = client.get(course_url(pair.published.id), headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.get_json()["title"] == "Renamed"
    assert changed.headers["ETag"] != etag


# --- update ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer", MANAGERS)
def test_owner_and_admin_update_a_course(client, pair, headers_for, viewer):
    response = client.patch(course_url(pair.published.id), headers=headers_for(viewer), json={
        "title": "New title", "description": None, "difficulty_level": "advanced", "price": 5})

    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["description"], body["difficulty_level"], body["price"]) == (
        "New title", None, "advanced", 5.0)
    assert body["slug"] == pair.published.slug  # the slug stays: links keep working


def test_patch_can_unpublish_and_republish_a_course(client, pair, auth_headers):
    headers = auth_headers(pair.owner)

    assert client.patch(course_url(pair.published.id), headers=headers,
                        json={"is_published": False}).get_json()["is_published"] is False
    assert client.get(course_url(pair.published.id)).status_code == 404
    assert client.patch(course_url(pair.published.id), headers=headers,
                        json={"is_published": True}).get_json()["is_published"] is True
    assert client.get(course_url(pair.published.id)).status_code == 200


@pytest.mark.parametrize("field, message", [("title", "Course title cannot be null"),
                                            ("is_published", "Course is_published cannot be null")])
def test_an_explicit_null_title_or_is_published_is_a_400(client, pair, auth_headers, field, message):
    response = client.patch(course_url(pair.published.id), headers=auth_headers(pair.owner), json={field: None})

    assert response.status_code == 400
    assert response.get_json() == {"detail": message}
    db.session.refresh(pair.published)
    assert pair.published.title == "Published course"


@pytest.mark.parametrize("body, field", [({"slug": "new-slug"}, "slug"), ({"title": "ab"}, "title"),
                                         ({"difficulty_level": "guru"}, "difficulty_level")])
def test_an_invalid_update_is_a_422(client, pair, auth_headers, body, field):
    response = client.patch(course_url(pair.published.id), headers=auth_headers(pair.owner), json=body)

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", field]


@pytest.mark.parametrize("viewer", ("student", "enrolled_student", "other_instructor"))
def test_others_may_not_update_a_published_course(client, pair, headers_for, viewer):
    response = client.patch(course_url(pair.published.id), headers=headers_for(viewer), json={"title": "Hacked"})

    assert response.status_code == 403
    assert response.get_json() == MANAGE_DENIED


@pytest.mark.parametrize("viewer", ("student", "enrolled_student", "other_instructor"))
def test_others_do_not_even_find_a_draft_to_update(client, pair, headers_for, viewer):
    response = client.patch(course_url(pair.draft.id), headers=headers_for(viewer), json={"title": "Hacked"})

    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND


def test_anonymous_cannot_update_a_course(client, pair):
    assert client.patch(course_url(pair.published.id), json={"title": "Hacked"}).status_code == 401


# --- publish --------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer", MANAGERS)
def test_owner_and_admin_publish_a_draft_without_any_verification_gate(client, pair, headers_for, viewer):
    response = client.post(course_url(pair.draft.id, "/publish"), headers=headers_for(viewer))

    assert response.status_code == 200
    assert response.get_json()["is_published"] is True
    assert client.get(course_url(pair.draft.id)).status_code == 200


def test_publishing_a_published_course_again_is_harmless(client, pair, auth_headers):
    response = client.post(course_url(pair.published.id, "/publish"), headers=auth_headers(pair.owner))

    assert response.status_code == 200
    assert response.get_json()["is_published"] is True


@pytest.mark.parametrize("viewer, course, status", [
    ("other_instructor", "draft", 404), ("student", "draft", 404),
    ("other_instructor", "published", 403), ("student", "published", 403),
])
def test_others_may_not_publish(client, pair, headers_for, viewer, course, status):
    target = getattr(pair, course)

    response = client.post(course_url(target.id, "/publish"), headers=headers_for(viewer))

    assert response.status_code == status
    assert response.get_json() == (NOT_FOUND if status == 404 else MANAGE_DENIED)


def test_anonymous_cannot_publish(client, pair):
    assert client.post(course_url(pair.draft.id, "/publish")).status_code == 401


# --- delete ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer", MANAGERS)
def test_deleting_a_course_removes_its_lessons_enrollments_and_progress(
        client, pair, headers_for, make_lesson, make_progress, viewer):
    lesson = make_lesson(pair.published)
    make_progress(pair.enrollment, lesson, time_spent_seconds=1, completion_percentage=Decimal("10"))
    course_id = pair.published.id

    response = client.delete(course_url(course_id), headers=headers_for(viewer))

    assert response.status_code == 204
    assert response.data == b""
    db.session.expire_all()
    assert db.session.get(Course, course_id) is None
    assert db.session.scalar(select(func.count()).select_from(Lesson).where(Lesson.course_id == course_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(Enrollment)
                             .where(Enrollment.course_id == course_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0
    assert client.get(course_url(course_id)).status_code == 404


@pytest.mark.parametrize("viewer, course, status", [
    ("other_instructor", "draft", 404), ("enrolled_student", "draft", 404),
    ("other_instructor", "published", 403), ("enrolled_student", "published", 403),
])
def test_others_may_not_delete_a_course(client, pair, headers_for, viewer, course, status):
    target = getattr(pair, course)

    response = client.delete(course_url(target.id), headers=headers_for(viewer))

    assert response.status_code == status
    db.session.expire_all()
    assert db.session.get(Course, target.id) is not None


def test_anonymous_cannot_delete_a_course(client, pair):
    assert client.delete(course_url(pair.published.id)).status_code == 401


# --- statement budget of a course read (the performance issue's W3) -------------------------------

def test_a_course_read_costs_one_statement_then_none_while_cached(client, pair, assert_max_queries):
    with assert_max_queries(1):  # the course with every figure
        first = client.get(course_url(pair.published.id))
    with assert_max_queries(0):
        again = client.get(course_url(pair.published.id))

    assert again.get_json() == first.get_json()


def test_a_cached_draft_stays_hidden_from_other_readers(client, pair, headers_for):
    assert client.get(course_url(pair.draft.id), headers=headers_for("owner")).status_code == 200

    for reader in ("anonymous", "student", "other_instructor"):
        response = client.get(course_url(pair.draft.id), headers=headers_for(reader))
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    assert client.get(course_url(pair.draft.id), headers=headers_for("admin")).status_code == 200
