"""Lesson progress, completion and reviews: rules, recomputation, the completion hook (contract §4.4, §5.3)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import select

from lms.enrollments.models import Enrollment, LessonProgress
from lms.core.extensions import db
from lms.webhooks.subscriptions import publish_wanted_event_types
from tests.helpers import API, run_concurrently

PROGRESS_FIELDS = {"id", "updated_at", "enrollment_id", "lesson_id", "status", "started_at", "completed_at",
                   "time_spent_seconds", "last_position_seconds", "completion_percentage"}
DOWNGRADE = {"detail": "Completed lesson progress cannot be downgraded"}
ENROLLMENT_NOT_FOUND = {"detail": "Enrollment not found"}
UPDATE_DENIED = {"detail": "Not authorized to update this enrollment"}


@pytest.fixture
def course(instructor, make_course, make_lesson):
    course = make_course(instructor)
    for _ in range(3):
        make_lesson(course)
    return course


@pytest.fixture
def lessons(course):
    from lms.courses.models import Lesson

    return db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.order_index)).all()


@pytest.fixture
def enrollment(client, course, student, auth_headers):
    response = client.post(f"{API}/enrollments", headers=auth_headers(student), json={"course_id": str(course.id)})
    return db.session.get(Enrollment, uuid.UUID(response.get_json()["id"]))


def progress_url(enrollment, lesson) -> str:
    return f"{API}/enrollments/{enrollment.id}/lessons/{lesson.id}/progress"


def complete_url(enrollment, lesson) -> str:
    return f"{API}/enrollments/{enrollment.id}/lessons/{lesson.id}/complete"


def read_enrollment(client, enrollment, headers) -> dict:
    return client.get(f"{API}/enrollments/{enrollment.id}", headers=headers).get_json()


# --- PUT …/progress -------------------------------------------------------------------------------

def test_a_first_progress_write_without_status_is_in_progress(client, enrollment, lessons, student, auth_headers):
    response = client.put(progress_url(enrollment, lessons[0]), headers=auth_headers(student),
                          json={"time_spent_seconds": 30, "last_position_seconds": 12, "notes": "remember this"})

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PROGRESS_FIELDS  # notes are stored, never returned
    assert (body["status"], body["time_spent_seconds"], body["last_position_seconds"]) == ("in_progress", 30, 12)
    assert (body["completion_percentage"], body["completed_at"]) == ("0.00", None)
    assert body["started_at"] is not None
    assert db.session.get(LessonProgress, uuid.UUID(body["id"])).notes == "remember this"


def test_progress_values_are_set_not_added(client, enrollment, lessons, student, auth_headers):
    headers = auth_headers(student)
    client.put(progress_url(enrollment, lessons[0]), headers=headers, json={"time_spent_seconds": 30})

    body = client.put(progress_url(enrollment, lessons[0]), headers=headers,
                      json={"time_spent_seconds": 20, "completion_percentage": "40.5"}).get_json()

    assert (body["time_spent_seconds"], body["completion_percentage"]) == (20, "40.50")
    assert read_enrollment(client, enrollment, headers)["total_time_spent_seconds"] == 20


def test_not_started_with_any_activity_becomes_in_progress(client, enrollment, lessons, student, auth_headers):
    response = client.put(progress_url(enrollment, lessons[0]), headers=auth_headers(student),
                          json={"status": "not_started", "last_position_seconds": 5})

    assert response.get_json()["status"] == "in_progress"


def test_not_started_without_activity_stays_not_started(client, enrollment, lessons, student, auth_headers):
    response = client.put(progress_url(enrollment, lessons[0]), headers=auth_headers(student),
                          json={"status": "not_started"})

    assert (response.get_json()["status"], response.get_json()["started_at"]) == ("not_started", None)


@pytest.mark.parametrize("body", [{"status": "completed"}, {"completion_percentage": 100},
                                  {"status": "in_progress", "completion_percentage": "100.00"}])
def test_completed_status_or_full_percentage_completes_the_lesson(client, enrollment, lessons, student,
                                                                  auth_headers, body):
    response = client.put(progress_url(enrollment, lessons[0]), headers=auth_headers(student), json=body)

    result = response.get_json()
    assert (result["status"], result["completion_percentage"]) == ("completed", "100.00")
    assert result["completed_at"] is not None


@pytest.mark.parametrize("body", [{"status": "in_progress"}, {"status": "not_started"},
                                  {"completion_percentage": 50}])
def test_completed_progress_cannot_be_downgraded(client, enrollment, lessons, student, auth_headers, body):
    headers = auth_headers(student)
    client.post(complete_url(enrollment, lessons[0]), headers=headers)

    response = client.put(progress_url(enrollment, lessons[0]), headers=headers, json=body)

    assert (response.status_code, response.get_json()) == (400, DOWNGRADE)
    progress = db.session.scalar(select(LessonProgress).where(LessonProgress.lesson_id == lessons[0].id))
    db.session.refresh(progress)
    assert (progress.status, progress.completion_percentage) == ("completed", Decimal("100.00"))


def test_a_completed_lesson_still_records_time(client, enrollment, lessons, student, auth_headers):
    headers = auth_headers(student)
    completed_at = client.post(complete_url(enrollment, lessons[0]), headers=headers).get_json()["completed_at"]

    body = client.put(progress_url(enrollment, lessons[0]), headers=headers,
                      json={"time_spent_seconds": 90, "status": "completed"}).get_json()

    assert (body["status"], body["time_spent_seconds"], body["completed_at"]) == ("completed", 90, completed_at)


@pytest.mark.parametrize("body, field", [({"status": "done"}, "status"), ({"time_spent_seconds": -1},
                                                                          "time_spent_seconds"),
                                         ({"last_position_seconds": -5}, "last_position_seconds"),
                                         ({"time_spent_seconds": 2**31}, "time_spent_seconds"),
                                         ({"completion_percentage": 101}, "completion_percentage"),
                                         ({"completion_percentage": "lots"}, "completion_percentage"),
                                         ({"time_spent_seconds": None}, "time_spent_seconds"),
                                         ({"rating": 5}, "rating")])
def test_invalid_progress_values_are_a_422(client, enrollment, lessons, student, auth_headers, body, field):
    response = client.put(progress_url(enrollment, lessons[0]), headers=auth_headers(student), json=body)

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", field]


def test_a_lesson_of_another_course_is_not_found_in_the_enrollment(client, enrollment, instructor, make_course,
                                                                   make_lesson, student, auth_headers):
    elsewhere = make_lesson(make_course(instructor))
    headers = auth_headers(student)

    for response in (client.put(progress_url(enrollment, elsewhere), headers=headers, json={}),
                     client.post(complete_url(enrollment, elsewhere), headers=headers)):
        assert (response.status_code, response.get_json()) == (
            404, {"detail": "Lesson not found in this enrollment's course"})


def test_an_unknown_lesson_is_not_found_in_the_enrollment(client, enrollment, student, auth_headers):
    response = client.post(f"{API}/enrollments/{enrollment.id}/lessons/{uuid.uuid4()}/complete",
                           headers=auth_headers(student))

    assert response.status_code == 404


def test_an_admin_records_progress_for_a_student(client, enrollment, lessons, admin, auth_headers):
    response = client.post(complete_url(enrollment, lessons[0]), headers=auth_headers(admin))

    assert (response.status_code, response.get_json()["status"]) == (200, "completed")


def test_the_courses_instructor_may_not_record_progress(client, enrollment, lessons, instructor, auth_headers):
    headers = auth_headers(instructor)

    for response in (client.put(progress_url(enrollment, lessons[0]), headers=headers, json={}),
                     client.post(complete_url(enrollment, lessons[0]), headers=headers)):
        assert (response.status_code, response.get_json()) == (403, UPDATE_DENIED)
    assert db.session.scalar(select(LessonProgress)) is None


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_others_do_not_find_the_enrollment_to_write_to(client, enrollment, lessons, make_user, auth_headers, role):
    headers = auth_headers(make_user(role))

    for response in (client.put(progress_url(enrollment, lessons[0]), headers=headers, json={}),
                     client.post(complete_url(enrollment, lessons[0]), headers=headers)):
        assert (response.status_code, response.get_json()) == (404, ENROLLMENT_NOT_FOUND)


def test_progress_needs_a_login(client, enrollment, lessons):
    assert client.put(progress_url(enrollment, lessons[0]), json={}).status_code == 401
    assert client.post(complete_url(enrollment, lessons[0])).status_code == 401


def test_a_dropped_enrollment_records_no_progress(client, enrollment, lessons, student, auth_headers):
    enrollment.status = "dropped"
    db.session.commit()

    response = client.post(complete_url(enrollment, lessons[0]), headers=auth_headers(student))

    assert (response.status_code, response.get_json()) == (403, {"detail": "Enrollment is not active"})


def test_a_percentage_that_rounds_to_100_completes_the_lesson(client, enrollment, lessons, student, auth_headers):
    response = client.put(progress_url(enrollment, lessons[0]), headers=auth_headers(student),
                          json={"completion_percentage": "99.999"})

    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["completion_percentage"]) == ("completed", "100.00")


# --- lessons completed by a quiz ------------------------------------------------------------------

QUIZ_LESSON = {"detail": "This lesson is completed by passing its quiz"}


@pytest.mark.parametrize("write", [
    lambda client, enrollment, lesson, headers: client.post(complete_url(enrollment, lesson), headers=headers),
    lambda client, enrollment, lesson, headers: client.put(progress_url(enrollment, lesson), headers=headers,
                                                           json={"status": "completed"}),
    lambda client, enrollment, lesson, headers: client.put(progress_url(enrollment, lesson), headers=headers,
                                                           json={"completion_percentage": 100}),
], ids=["complete", "status", "percentage"])
def test_a_student_cannot_complete_a_lesson_that_has_a_published_graded_quiz(
        client, enrollment, course, student, auth_headers, make_lesson, make_quiz, write):
    lesson = make_lesson(course, lesson_type="quiz")
    make_quiz(course, lesson=lesson)

    response = write(client, enrollment, lesson, auth_headers(student))

    assert (response.status_code, response.get_json()) == (400, QUIZ_LESSON)
    assert db.session.scalar(select(LessonProgress).where(LessonProgress.lesson_id == lesson.id)) is None


def test_a_student_records_time_on_a_quiz_lesson_without_completing_it(
        client, enrollment, course, student, auth_headers, make_quiz):
    quiz = make_quiz(course)

    response = client.put(f"{API}/enrollments/{enrollment.id}/lessons/{quiz.lesson_id}/progress",
                          headers=auth_headers(student), json={"time_spent_seconds": 60})

    assert (response.status_code, response.get_json()["status"]) == (200, "in_progress")


@pytest.mark.parametrize("quiz_fields", [{"published": False}, {"quiz_type": "practice"}],
                         ids=["draft quiz", "practice quiz"])
def test_a_lesson_whose_quiz_is_a_draft_or_practice_can_be_completed(
        client, enrollment, course, student, auth_headers, make_quiz, quiz_fields):
    quiz = make_quiz(course, **quiz_fields)

    response = client.post(f"{API}/enrollments/{enrollment.id}/lessons/{quiz.lesson_id}/complete",
                           headers=auth_headers(student))

    assert (response.status_code, response.get_json()["status"]) == (200, "completed")


def test_an_admin_may_complete_a_quiz_lesson_for_a_student(client, enrollment, course, admin, auth_headers,
                                                           make_quiz):
    quiz = make_quiz(course)

    response = client.post(f"{API}/enrollments/{enrollment.id}/lessons/{quiz.lesson_id}/complete",
                           headers=auth_headers(admin))

    assert (response.status_code, response.get_json()["status"]) == (200, "completed")


# --- recomputation and completion -----------------------------------------------------------------

def test_completing_lessons_recomputes_the_enrollment_and_fires_the_hook_once(
        client, enrollment, lessons, course, student, auth_headers, make_lesson, completions):
    headers = auth_headers(student)

    first = client.post(complete_url(enrollment, lessons[0]), headers=headers)
    assert (first.status_code, first.get_json()["completion_percentage"]) == (200, "100.00")
    after_one = read_enrollment(client, enrollment, headers)
    assert (after_one["completed_lessons_count"], after_one["total_lessons_count"],
            after_one["progress_percentage"], after_one["status"]) == (1, 3, "33.33", "active")
    assert after_one["last_accessed_at"] is not None

    client.put(progress_url(enrollment, lessons[1]), headers=headers, json={"completion_percentage": 100})
    client.post(complete_url(enrollment, lessons[2]), headers=headers)
    done = read_enrollment(client, enrollment, headers)
    assert (done["completed_lessons_count"], done["progress_percentage"], done["status"]) == (3, "100.00",
                                                                                               "completed")
    assert done["completed_at"] is not None
    assert completions == [enrollment.id]

    client.post(complete_url(enrollment, lessons[2]), headers=headers)  # completing again changes nothing
    assert completions == [enrollment.id]

    # A lesson added later reopens the course at the next progress write...
    new_lesson = make_lesson(course)
    client.put(progress_url(enrollment, lessons[0]), headers=headers, json={"time_spent_seconds": 5})
    reopened = read_enrollment(client, enrollment, headers)
    assert (reopened["status"], reopened["progress_percentage"], reopened["total_lessons_count"]) == (
        "active", "75.00", 4)

    # ...and finishing it completes the course again without a second certificate.
    client.post(complete_url(enrollment, new_lesson), headers=headers)
    assert read_enrollment(client, enrollment, headers)["status"] == "completed"
    assert completions == [enrollment.id]


def test_complete_is_idempotent(client, enrollment, lessons, student, auth_headers):
    headers = auth_headers(student)
    first = client.post(complete_url(enrollment, lessons[0]), headers=headers).get_json()

    second = client.post(complete_url(enrollment, lessons[0]), headers=headers)

    assert second.status_code == 200
    assert second.get_json() == first


def test_progress_writes_refresh_the_courses_analytics(client, enrollment, lessons, student, auth_headers,
                                                       monkeypatch):
    refreshed: list[uuid.UUID] = []
    monkeypatch.setattr("lms.analytics.cache.invalidate_course_analytics", refreshed.append)

    client.put(progress_url(enrollment, lessons[0]), headers=auth_headers(student), json={})

    assert refreshed == [enrollment.course_id]


@pytest.mark.postgres
@pytest.mark.real_commits
def test_concurrent_completions_count_every_lesson_and_complete_the_course_once(
        app, enrollment, lessons, student, auth_headers, completions):
    headers = auth_headers(student)
    urls = [complete_url(enrollment, lesson) for lesson in lessons]

    def complete(url: str, client) -> int:
        return client.post(url, headers=headers).status_code

    statuses = run_concurrently(app, [partial(complete, url) for url in urls])

    assert statuses == [200, 200, 200]
    db.session.expire_all()
    stored = db.session.get(Enrollment, enrollment.id)
    assert (stored.completed_lessons_count, stored.status) == (3, "completed")
    assert len(completions) == 1


@pytest.mark.postgres
@pytest.mark.real_commits
def test_concurrent_first_writes_for_one_lesson_leave_one_progress_row(app, enrollment, lessons, student,
                                                                        auth_headers):
    headers, url = auth_headers(student), progress_url(enrollment, lessons[0])

    def write(seconds: int, client) -> int:
        return client.put(url, headers=headers, json={"time_spent_seconds": seconds}).status_code

    statuses = run_concurrently(app, [partial(write, seconds) for seconds in range(1, 6)])

    assert statuses == [200] * 5
    rows = db.session.scalars(select(LessonProgress)).all()
    assert len(rows) == 1
    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).total_time_spent_seconds == rows[0].time_spent_seconds


def test_deleting_the_last_unfinished_lesson_completes_the_enrollment(client, enrollment, lessons, student,
                                                                      instructor, auth_headers, completions):
    for lesson in lessons[:2]:
        client.post(complete_url(enrollment, lesson), headers=auth_headers(student))

    response = client.delete(f"{API}/lessons/{lessons[2].id}", headers=auth_headers(instructor))

    assert response.status_code == 204
    body = read_enrollment(client, enrollment, auth_headers(student))
    assert (body["status"], body["progress_percentage"], body["total_lessons_count"]) == ("completed", "100.00", 2)
    assert completions == [enrollment.id]


# --- reviews --------------------------------------------------------------------------------------

def review_url(enrollment) -> str:
    return f"{API}/enrollments/{enrollment.id}/review"


REVIEW = {"rating": 4, "review": "Clear and well paced."}


def test_a_review_needs_twenty_percent_of_the_course(client, enrollment, student, auth_headers):
    response = client.post(review_url(enrollment), headers=auth_headers(student), json=REVIEW)

    assert (response.status_code, response.get_json()) == (403, {"detail": "Complete at least 20% before reviewing"})


def test_a_student_reviews_and_then_rewrites_the_review(client, enrollment, lessons, course, student,
                                                        auth_headers):
    headers = auth_headers(student)
    client.post(complete_url(enrollment, lessons[0]), headers=headers)

    first = client.post(review_url(enrollment), headers=headers, json=REVIEW)
    second = client.post(review_url(enrollment), headers=headers,
                         json={"rating": 2, "review": "On reflection, too fast."})

    assert first.status_code == 200
    assert (first.get_json()["rating"], first.get_json()["review"]) == (4, "Clear and well paced.")
    assert (second.get_json()["rating"], second.get_json()["review"]) == (2, "On reflection, too fast.")
    course_body = client.get(f"{API}/courses/{course.id}").get_json()
    assert (course_body["average_rating"], course_body["review_count"]) == ("2.00", 1)


def test_the_catalog_shows_a_new_enrollment_and_review_at_once(client, course, lessons, student, auth_headers):
    def catalog_entry() -> dict:
        return next(item for item in client.get(f"{API}/courses").get_json()["items"] if item["id"] == str(course.id))

    assert catalog_entry()["enrollment_count"] == 0  # now cached
    headers = auth_headers(student)
    enrollment_id = client.post(f"{API}/enrollments", headers=headers, json={"course_id": str(course.id)}).get_json()["id"]
    assert catalog_entry()["enrollment_count"] == 1
    client.post(f"{API}/enrollments/{enrollment_id}/lessons/{lessons[0].id}/complete", headers=headers)
    client.post(f"{API}/enrollments/{enrollment_id}/review", headers=headers, json=REVIEW)
    assert (catalog_entry()["average_rating"], catalog_entry()["review_count"]) == ("4.00", 1)


def test_an_admin_may_review_on_a_students_enrollment(client, enrollment, lessons, student, admin, auth_headers):
    client.post(complete_url(enrollment, lessons[0]), headers=auth_headers(student))

    assert client.post(review_url(enrollment), headers=auth_headers(admin), json=REVIEW).status_code == 200


def test_the_courses_instructor_may_not_review(client, enrollment, instructor, auth_headers):
    response = client.post(review_url(enrollment), headers=auth_headers(instructor), json=REVIEW)

    assert (response.status_code, response.get_json()) == (403, UPDATE_DENIED)


def test_another_student_does_not_find_the_enrollment_to_review(client, enrollment, other_student, auth_headers):
    response = client.post(review_url(enrollment), headers=auth_headers(other_student), json=REVIEW)

    assert (response.status_code, response.get_json()) == (404, ENROLLMENT_NOT_FOUND)


def test_a_review_needs_a_login(client, enrollment):
    assert client.post(review_url(enrollment), json=REVIEW).status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"rating": 0, "review": "Long enough text"}, "rating"),
    ({"rating": 6, "review": "Long enough text"}, "rating"),
    ({"rating": 4.5, "review": "Long enough text"}, "rating"),
    ({"rating": 4, "review": "Too short"}, "review"),
    ({"rating": 4, "review": "    short     "}, "review"),
    ({"rating": 4, "review": "x" * 2001}, "review"),
    ({"review": "Long enough text"}, "rating"),
    ({"rating": 4}, "review"),
])
def test_an_invalid_review_is_a_422(client, enrollment, student, auth_headers, body, field):
    response = client.post(review_url(enrollment), headers=auth_headers(student), json=body)

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", field]


# --- statement budget of a progress write (the performance issue's W6) -----------------------------

@pytest.mark.redis  # as deployed: the webhook subscriptions are published in Redis (without it every event is written)
@pytest.mark.parametrize("write", ["first", "again", "complete"])
def test_a_progress_write_costs_five_statements(client, enrollment, lessons, student, auth_headers,
                                                assert_max_queries, write):
    """The caller, the enrollment (locked) with what the checks need, the row and the figures, the
    row's write, the enrollment's update: whatever the number of lessons and rows. No webhook
    endpoint subscribes to `lesson.completed`, so a completion writes no outbox row."""
    publish_wanted_event_types()
    headers = auth_headers(student)
    for lesson in lessons[1:]:
        client.put(progress_url(enrollment, lesson), headers=headers, json={"time_spent_seconds": 7})
    if write != "first":
        client.put(progress_url(enrollment, lessons[0]), headers=headers, json={"time_spent_seconds": 1})

    with assert_max_queries(5):
        if write == "complete":
            response = client.post(complete_url(enrollment, lessons[0]), headers=headers)
        else:
            response = client.put(progress_url(enrollment, lessons[0]), headers=headers,
                                  json={"status": "in_progress", "completion_percentage": 40,
                                        "time_spent_seconds": 30, "last_position_seconds": 12})

    assert response.status_code == 200
    lesson_time = 1 if write == "complete" else 30  # completing keeps the time recorded before
    figures = read_enrollment(client, enrollment, headers)
    assert figures["total_time_spent_seconds"] == lesson_time + 7 * (len(lessons) - 1)
