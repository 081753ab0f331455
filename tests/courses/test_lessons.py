"""Lessons: create/update rules, ordering, visibility and content gating (contract §4.3, §5.18, §5.19)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.courses.models import Lesson
from lms.enrollments.models import LessonProgress
from lms.core.extensions import db
from tests.courses.helpers import MANAGERS, OUTSIDERS, VIEWERS
from tests.helpers import API

LESSON_FIELDS = {"id", "course_id", "title", "slug", "description", "content", "lesson_type", "order_index",
                 "parent_lesson_id", "duration_minutes", "video_url", "is_preview", "created_at", "updated_at"}
MANAGE_DENIED = {"detail": "Not authorized to manage lessons for this course"}
LESSON_NOT_FOUND = {"detail": "Lesson not found"}
COURSE_NOT_FOUND = {"detail": "Course not found"}
ORDER_TAKEN = {"detail": "A lesson with this order_index already exists in this course"}


def lessons_url(course_id) -> str:
    return f"{API}/courses/{course_id}/lessons"


def lesson_url(lesson_id) -> str:
    return f"{API}/lessons/{lesson_id}"


def lesson_count(course_id) -> int:
    return db.session.scalar(select(func.count()).select_from(Lesson).where(Lesson.course_id == course_id))


# --- create ---------------------------------------------------------------------------------------

def test_the_owner_adds_lessons_numbered_one_after_another(client, pair, auth_headers):
    headers = auth_headers(pair.owner)

    first = client.post(lessons_url(pair.draft.id), headers=headers, json={
        "title": "Getting Started!", "lesson_type": "text", "content": "Hello", "description": "Intro",
        "duration_minutes": 5, "metadata": {"x": 1}})
    second = client.post(lessons_url(pair.draft.id), headers=headers,
                         json={"title": "Second steps", "lesson_type": "text"})

    assert first.status_code == 201
    body = first.get_json()
    assert set(body) == LESSON_FIELDS
    assert (body["slug"], body["order_index"], body["content"], body["is_preview"]) == (
        "getting-started", 1, "Hello", False)
    assert (body["course_id"], body["description"], body["duration_minutes"]) == (str(pair.draft.id), "Intro", 5)
    assert second.get_json()["order_index"] == 2


def test_an_admin_adds_a_lesson_to_any_course(client, pair, admin, auth_headers):
    response = client.post(lessons_url(pair.draft.id), headers=auth_headers(admin),
                           json={"title": "By the admin", "lesson_type": "text", "slug": "custom-slug"})

    assert response.status_code == 201
    assert response.get_json()["slug"] == "custom-slug"


@pytest.mark.parametrize("slug", ["part/one", "right\u202eleft"])
def test_a_lesson_slug_with_a_slash_or_a_formatting_character_is_a_422(client, pair, admin, auth_headers, slug):
    response = client.post(lessons_url(pair.draft.id), headers=auth_headers(admin),
                           json={"title": "Sliced", "lesson_type": "text", "slug": slug})

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "slug"]


def test_an_explicit_order_index_is_used_and_a_duplicate_is_a_conflict(client, pair, auth_headers):
    headers = auth_headers(pair.owner)

    created = client.post(lessons_url(pair.draft.id), headers=headers,
                          json={"title": "Tenth", "lesson_type": "text", "order_index": 10})
    duplicate = client.post(lessons_url(pair.draft.id), headers=headers,
                            json={"title": "Also tenth", "lesson_type": "text", "order_index": 10})
    following = client.post(lessons_url(pair.draft.id), headers=headers,
                            json={"title": "Next", "lesson_type": "text"})

    assert created.get_json()["order_index"] == 10
    assert duplicate.status_code == 409
    assert duplicate.get_json() == ORDER_TAKEN
    assert following.get_json()["order_index"] == 11
    assert lesson_count(pair.draft.id) == 2


@pytest.mark.parametrize("viewer", ("student", "enrolled_student", "other_instructor"))
def test_others_may_not_add_lessons_to_a_published_course(client, pair, headers_for, viewer):
    response = client.post(lessons_url(pair.published.id), headers=headers_for(viewer),
                           json={"title": "Intruder", "lesson_type": "text"})

    assert response.status_code == 403
    assert response.get_json() == MANAGE_DENIED
    assert lesson_count(pair.published.id) == 0


@pytest.mark.parametrize("viewer", ("student", "enrolled_student", "other_instructor"))
def test_others_do_not_find_a_draft_to_add_lessons_to(client, pair, headers_for, viewer):
    response = client.post(lessons_url(pair.draft.id), headers=headers_for(viewer),
                           json={"title": "Intruder", "lesson_type": "text"})

    assert response.status_code == 404
    assert response.get_json() == COURSE_NOT_FOUND


def test_anonymous_cannot_add_a_lesson(client, pair):
    assert client.post(lessons_url(pair.draft.id), json={"title": "Intruder", "lesson_type": "text"}
                       ).status_code == 401


def test_a_lesson_for_an_unknown_course_is_not_found(client, instructor, auth_headers):
    response = client.post(lessons_url(uuid.uuid4()), headers=auth_headers(instructor),
                           json={"title": "Orphan", "lesson_type": "text"})

    assert response.status_code == 404
    assert response.get_json() == COURSE_NOT_FOUND


@pytest.mark.parametrize("body, field", [
    ({"lesson_type": "text"}, "title"),
    ({"title": "No type"}, "lesson_type"),
    ({"title": "Bad type", "lesson_type": "podcast"}, "lesson_type"),
    ({"title": "ab", "lesson_type": "text"}, "title"),
    ({"title": "Zero", "lesson_type": "text", "order_index": 0}, "order_index"),
    ({"title": "Zero", "lesson_type": "text", "duration_minutes": 0}, "duration_minutes"),
    ({"title": "Both", "lesson_type": "video", "video_url": "https://a.b/c", "video_link": "https://a.b/c"},
     "video_link"),
    ({"title": "Bad parent", "lesson_type": "text", "parent_lesson_id": "nope"}, "parent_lesson_id"),
])
def test_an_invalid_lesson_body_is_a_422(client, pair, auth_headers, body, field):
    response = client.post(lessons_url(pair.draft.id), headers=auth_headers(pair.owner), json=body)

    assert response.status_code == 422
    assert ["body", field] in [error["loc"] for error in response.get_json()["detail"]]


@pytest.mark.parametrize("key", ["video_url", "video_link"])
def test_a_video_lesson_takes_an_http_url_under_either_name(client, pair, auth_headers, key):
    response = client.post(lessons_url(pair.draft.id), headers=auth_headers(pair.owner),
                           json={"title": "Video", "lesson_type": "video", key: "https://videos.example/1"})

    assert response.status_code == 201
    assert response.get_json()["video_url"] == "https://videos.example/1"


def test_a_video_url_only_on_video_lessons(client, pair, auth_headers):
    response = client.post(lessons_url(pair.draft.id), headers=auth_headers(pair.owner),
                           json={"title": "Video", "lesson_type": "text", "video_url": "https://videos.example/1"})

    assert response.status_code == 400
    assert response.get_json() == {"detail": "video_url is only allowed on video lessons"}
    assert lesson_count(pair.draft.id) == 0


@pytest.mark.parametrize("video_url", ["ftp://videos.example/1", "javascript:alert(1)", "https://", "http://[",
                                       "http://exa mple.com/v", "//videos.example/1"])
def test_a_video_url_must_be_an_absolute_http_url(client, pair, auth_headers, video_url):
    """Malformed is a 422 naming the field, never a 500 (`http://[` made the URL parser raise)."""
    for send in (lambda: client.post(lessons_url(pair.draft.id), headers=auth_headers(pair.owner),
                                     json={"title": "Video", "lesson_type": "video", "video_url": video_url}),
                 lambda: client.post(lessons_url(pair.draft.id), headers=auth_headers(pair.owner),
                                     json={"title": "Video", "lesson_type": "video", "video_link": video_url})):
        response = send()
        assert response.status_code == 422
        assert response.get_json()["detail"][0]["loc"] == ["body", "video_url"]
    assert lesson_count(pair.draft.id) == 0


def test_a_parent_lesson_must_exist_and_be_in_the_same_course(client, pair, auth_headers, make_lesson):
    headers = auth_headers(pair.owner)
    parent = make_lesson(pair.draft)
    elsewhere = make_lesson(pair.published)

    nested = client.post(lessons_url(pair.draft.id), headers=headers,
                         json={"title": "Child", "lesson_type": "text", "parent_lesson_id": str(parent.id)})
    foreign = client.post(lessons_url(pair.draft.id), headers=headers,
                          json={"title": "Child", "lesson_type": "text", "parent_lesson_id": str(elsewhere.id)})
    missing = client.post(lessons_url(pair.draft.id), headers=headers,
                          json={"title": "Child", "lesson_type": "text", "parent_lesson_id": str(uuid.uuid4())})

    assert nested.status_code == 201
    assert nested.get_json()["parent_lesson_id"] == str(parent.id)
    assert foreign.status_code == 400
    assert foreign.get_json() == {"detail": "Parent lesson must belong to the same course"}
    assert missing.status_code == 404
    assert missing.get_json() == {"detail": "Parent lesson not found"}


def test_a_parent_lesson_in_a_draft_the_caller_cannot_see_is_not_found(client, pair, auth_headers, make_user,
                                                                      make_course, make_lesson):
    someone_elses_draft = make_course(make_user("instructor"), published=False)
    hidden = make_lesson(someone_elses_draft)

    response = client.post(lessons_url(pair.draft.id), headers=auth_headers(pair.owner),
                           json={"title": "Child", "lesson_type": "text", "parent_lesson_id": str(hidden.id)})

    assert (response.status_code, response.get_json()) == (404, {"detail": "Parent lesson not found"})


# --- update ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer", MANAGERS)
def test_owner_and_admin_update_a_lesson(client, pair, headers_for, make_lesson, viewer):
    lesson = make_lesson(pair.published)

    response = client.patch(lesson_url(lesson.id), headers=headers_for(viewer), json={
        "title": "Renamed lesson", "content": "New content", "is_preview": True, "order_index": 7,
        "description": None})

    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["content"], body["is_preview"], body["order_index"], body["description"]) == (
        "Renamed lesson", "New content", True, 7, None)


@pytest.mark.parametrize("field", ["title", "lesson_type", "order_index", "is_preview"])
def test_an_explicit_null_for_a_required_lesson_field_is_a_400(client, pair, auth_headers, make_lesson, field):
    lesson = make_lesson(pair.published)

    response = client.patch(lesson_url(lesson.id), headers=auth_headers(pair.owner), json={field: None})

    assert response.status_code == 400
    assert response.get_json() == {"detail": f"Lesson {field} cannot be null"}


def test_leaving_the_video_type_clears_the_video_url(client, pair, auth_headers, make_lesson):
    lesson = make_lesson(pair.published, lesson_type="video", video_url="https://videos.example/1")

    response = client.patch(lesson_url(lesson.id), headers=auth_headers(pair.owner), json={"lesson_type": "text"})

    assert response.status_code == 200
    assert (response.get_json()["lesson_type"], response.get_json()["video_url"]) == ("text", None)


def test_a_video_url_on_a_text_lesson_is_refused_on_update(client, pair, auth_headers, make_lesson):
    lesson = make_lesson(pair.published, lesson_type="text")

    response = client.patch(lesson_url(lesson.id), headers=auth_headers(pair.owner),
                            json={"video_link": "https://videos.example/1"})

    assert response.status_code == 400
    assert response.get_json() == {"detail": "video_url is only allowed on video lessons"}


def test_moving_a_lesson_onto_a_taken_order_index_is_a_conflict(client, pair, auth_headers, make_lesson):
    first, second = make_lesson(pair.published), make_lesson(pair.published)

    response = client.patch(lesson_url(second.id), headers=auth_headers(pair.owner),
                            json={"order_index": first.order_index, "title": "Not saved"})

    assert response.status_code == 409
    assert response.get_json() == ORDER_TAKEN
    db.session.expire_all()
    assert db.session.get(Lesson, second.id).title == "Lesson 2"


def test_a_lesson_cannot_be_nested_under_itself_or_its_descendants(client, pair, auth_headers, make_lesson):
    headers = auth_headers(pair.owner)
    root = make_lesson(pair.published)
    child = make_lesson(pair.published, parent_lesson_id=root.id)
    grandchild = make_lesson(pair.published, parent_lesson_id=child.id)

    onto_self = client.patch(lesson_url(root.id), headers=headers, json={"parent_lesson_id": str(root.id)})
    onto_descendant = client.patch(lesson_url(root.id), headers=headers,
                                   json={"parent_lesson_id": str(grandchild.id)})
    detach = client.patch(lesson_url(child.id), headers=headers, json={"parent_lesson_id": None})

    message = {"detail": "A lesson cannot be nested under itself or one of its descendants"}
    assert (onto_self.status_code, onto_self.get_json()) == (400, message)
    assert (onto_descendant.status_code, onto_descendant.get_json()) == (400, message)
    assert (detach.status_code, detach.get_json()["parent_lesson_id"]) == (200, None)


@pytest.mark.parametrize("viewer", ("student", "enrolled_student", "other_instructor"))
def test_others_may_not_update_or_delete_a_published_lesson(client, pair, headers_for, make_lesson, viewer):
    lesson = make_lesson(pair.published)
    headers = headers_for(viewer)

    patched = client.patch(lesson_url(lesson.id), headers=headers, json={"title": "Hacked"})
    deleted = client.delete(lesson_url(lesson.id), headers=headers)

    assert (patched.status_code, patched.get_json()) == (403, MANAGE_DENIED)
    assert (deleted.status_code, deleted.get_json()) == (403, MANAGE_DENIED)
    assert lesson_count(pair.published.id) == 1


@pytest.mark.parametrize("viewer", ("student", "enrolled_student", "other_instructor"))
def test_others_do_not_find_a_draft_lesson_to_update_or_delete(client, pair, headers_for, make_lesson, viewer):
    lesson = make_lesson(pair.draft)
    headers = headers_for(viewer)

    assert client.patch(lesson_url(lesson.id), headers=headers, json={"title": "Hacked"}).get_json() == \
        LESSON_NOT_FOUND
    assert client.delete(lesson_url(lesson.id), headers=headers).status_code == 404


def test_anonymous_cannot_update_or_delete_a_lesson(client, pair, make_lesson):
    lesson = make_lesson(pair.published)

    assert client.patch(lesson_url(lesson.id), json={"title": "Hacked"}).status_code == 401
    assert client.delete(lesson_url(lesson.id)).status_code == 401


# --- delete ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer", MANAGERS)
def test_deleting_a_lesson_removes_its_progress_and_frees_its_children(client, pair, headers_for, make_lesson,
                                                                        make_progress, viewer):
    parent = make_lesson(pair.published)
    child = make_lesson(pair.published, parent_lesson_id=parent.id)
    make_progress(pair.enrollment, parent, status="completed", time_spent_seconds=1,
                  completion_percentage=Decimal("100"))

    response = client.delete(lesson_url(parent.id), headers=headers_for(viewer))

    assert response.status_code == 204
    db.session.expire_all()
    assert db.session.get(Lesson, parent.id) is None
    assert db.session.get(Lesson, child.id).parent_lesson_id is None
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0


def test_deleting_an_unknown_lesson_is_not_found(client, instructor, auth_headers):
    response = client.delete(lesson_url(uuid.uuid4()), headers=auth_headers(instructor))

    assert (response.status_code, response.get_json()) == (404, LESSON_NOT_FOUND)


# --- reading and content gating -------------------------------------------------------------------

@pytest.fixture
def lessons(pair, make_lesson):
    """In the published course: a locked text lesson, a preview lesson and a locked video lesson."""
    return {
        "locked": make_lesson(pair.published, content="Locked text"),
        "preview": make_lesson(pair.published, content="Preview text", is_preview=True),
        "video": make_lesson(pair.published, lesson_type="video", content="Transcript",
                             video_url="https://videos.example/v"),
    }


def test_lessons_are_listed_by_order_index(client, pair, make_lesson):
    for order in (3, 1, 2):
        make_lesson(pair.published, order_index=order, title=f"Lesson number {order}")

    body = client.get(lessons_url(pair.published.id)).get_json()

    assert [item["order_index"] for item in body["items"]] == [1, 2, 3]
    assert body["total"] == 3
    assert set(body["items"][0]) == LESSON_FIELDS


@pytest.mark.parametrize("viewer", ("enrolled_student", "owner", "admin"))
def test_learners_owner_and_admins_read_every_lessons_content(client, pair, lessons, headers_for, viewer):
    items = client.get(lessons_url(pair.published.id), headers=headers_for(viewer)).get_json()["items"]

    assert [item["content"] for item in items] == ["Locked text", "Preview text", "Transcript"]
    assert items[2]["video_url"] == "https://videos.example/v"


@pytest.mark.parametrize("viewer", ("anonymous", "student", "other_instructor"))
def test_everyone_else_reads_only_preview_content(client, pair, lessons, headers_for, viewer):
    items = client.get(lessons_url(pair.published.id), headers=headers_for(viewer)).get_json()["items"]

    assert [item["content"] for item in items] == [None, "Preview text", None]
    assert items[2]["video_url"] is None
    assert [item["title"] for item in items] == ["Lesson 1", "Lesson 2", "Lesson 3"]


@pytest.mark.parametrize("viewer, content, video_url", [
    ("anonymous", None, None), ("student", None, None), ("other_instructor", None, None),
    ("enrolled_student", "Transcript", "https://videos.example/v"),
    ("owner", "Transcript", "https://videos.example/v"), ("admin", "Transcript", "https://videos.example/v"),
])
def test_a_single_lesson_is_gated_the_same_way(client, lessons, headers_for, viewer, content, video_url):
    body = client.get(lesson_url(lessons["video"].id), headers=headers_for(viewer)).get_json()

    assert (body["content"], body["video_url"]) == (content, video_url)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_a_preview_lesson_is_open_to_everyone(client, lessons, headers_for, viewer):
    assert client.get(lesson_url(lessons["preview"].id), headers=headers_for(viewer)).get_json()["content"] == \
        "Preview text"


def test_a_dropped_enrollment_no_longer_unlocks_content(client, pair, lessons, auth_headers):
    pair.enrollment.status = "dropped"
    db.session.commit()

    body = client.get(lesson_url(lessons["locked"].id), headers=auth_headers(pair.learner)).get_json()

    assert body["content"] is None


@pytest.mark.parametrize("viewer", OUTSIDERS)
def test_a_drafts_lessons_are_not_found_for_outsiders(client, pair, make_lesson, headers_for, viewer):
    lesson = make_lesson(pair.draft)
    headers = headers_for(viewer)

    listing = client.get(lessons_url(pair.draft.id), headers=headers)
    single = client.get(lesson_url(lesson.id), headers=headers)

    assert (listing.status_code, listing.get_json()) == (404, COURSE_NOT_FOUND)
    assert (single.status_code, single.get_json()) == (404, LESSON_NOT_FOUND)


@pytest.mark.parametrize("viewer", MANAGERS)
def test_a_drafts_lessons_are_readable_by_owner_and_admins(client, pair, make_lesson, headers_for, viewer):
    lesson = make_lesson(pair.draft, content="Secret content")
    headers = headers_for(viewer)

    assert client.get(lessons_url(pair.draft.id), headers=headers).get_json()["total"] == 1
    assert client.get(lesson_url(lesson.id), headers=headers).get_json()["content"] == "Secret content"


def test_an_unknown_lesson_is_not_found(client):
    response = client.get(lesson_url(uuid.uuid4()))

    assert (response.status_code, response.get_json()) == (404, LESSON_NOT_FOUND)


def test_the_lesson_list_sends_an_etag_and_answers_304(client, pair, lessons):
    etag = client.get(lessons_url(pair.published.id)).headers["ETag"]

    response = client.get(lessons_url(pair.published.id), headers={"If-None-Match": etag})

    assert response.status_code == 304


def test_an_enrolled_reader_does_not_match_an_anonymous_etag(client, pair, lessons, auth_headers):
    anonymous_etag = client.get(lessons_url(pair.published.id)).headers["ETag"]

    response = client.get(lessons_url(pair.published.id), headers={
        "If-None-Match": anonymous_etag, **auth_headers(pair.learner)})

    assert response.status_code == 200
    assert response.get_json()["items"][0]["content"] == "Locked text"


@pytest.mark.parametrize("lesson_count_in_course", [5, 50])
def test_the_lesson_list_runs_a_fixed_number_of_statements(client, pair, make_lesson, auth_headers,
                                                           assert_max_queries, lesson_count_in_course):
    for _ in range(lesson_count_in_course):
        make_lesson(pair.published)
    headers = auth_headers(pair.learner)

    with assert_max_queries(4):  # the caller, the course, the enrollment, the lessons
        response = client.get(lessons_url(pair.published.id), headers=headers)

    assert response.get_json()["total"] == lesson_count_in_course


def test_a_lesson_after_the_largest_order_index_needs_an_explicit_one(client, pair, auth_headers):
    """The review's reproduction: order_index 2147483647, then a lesson without one (a 500 before)."""
    headers = auth_headers(pair.owner)
    last = client.post(lessons_url(pair.draft.id), headers=headers,
                       json={"title": "Last", "lesson_type": "text", "order_index": 2**31 - 1})
    assert last.status_code == 201

    response = client.post(lessons_url(pair.draft.id), headers=headers, json={"title": "Next", "lesson_type": "text"})

    assert response.status_code == 409
    assert "order_index" in response.get_json()["detail"]
    assert lesson_count(pair.draft.id) == 1
