"""Enrolling, my-courses, reading an enrollment, a course's enrollments and stats (contract §4.4, §5.19)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.enrollments.models import Enrollment
from lms.core.extensions import db
from tests.helpers import API, run_concurrently

ENROLLMENT_FIELDS = {"id", "updated_at", "student_id", "course_id", "enrolled_at", "started_at", "completed_at", "status",
                     "progress_percentage", "completed_lessons_count", "total_lessons_count",
                     "total_time_spent_seconds", "last_accessed_at", "certificate_issued_at", "rating", "review"}
ENROLLMENT_NOT_FOUND = {"detail": "Enrollment not found"}
COURSE_NOT_FOUND = {"detail": "Course not found"}
VIEW_DENIED = {"detail": "Not authorized to view course enrollments"}


def enrollment_count(course_id=None) -> int:
    stmt = select(func.count()).select_from(Enrollment)
    if course_id is not None:
        stmt = stmt.where(Enrollment.course_id == course_id)
    return db.session.scalar(stmt)


@pytest.fixture
def course(instructor, make_course, make_lesson):
    course = make_course(instructor, title="Published course")
    make_lesson(course)
    make_lesson(course)
    return course


# --- enroll ---------------------------------------------------------------------------------------

def test_a_student_enrolls_in_a_published_course(client, course, student, auth_headers):
    response = client.post(f"{API}/enrollments", headers=auth_headers(student), json={"course_id": str(course.id)})

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == ENROLLMENT_FIELDS
    assert (body["student_id"], body["course_id"], body["status"]) == (str(student.id), str(course.id), "active")
    assert (body["progress_percentage"], body["completed_lessons_count"], body["total_lessons_count"]) == (
        "0.00", 0, 2)
    assert body["started_at"] == body["enrolled_at"]
    assert (body["completed_at"], body["rating"], body["review"]) == (None, None, None)


def test_enrolling_again_returns_the_existing_enrollment_with_201(client, course, student, auth_headers):
    headers = auth_headers(student)
    first = client.post(f"{API}/enrollments", headers=headers, json={"course_id": str(course.id)})

    again = client.post(f"{API}/enrollments", headers=headers, json={"course_id": str(course.id)})

    assert again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert enrollment_count() == 1


def test_an_admin_may_enroll(client, course, admin, auth_headers):
    response = client.post(f"{API}/enrollments", headers=auth_headers(admin), json={"course_id": str(course.id)})

    assert response.status_code == 201
    assert response.get_json()["student_id"] == str(admin.id)


def test_an_instructor_cannot_enroll(client, course, other_instructor, auth_headers):
    response = client.post(f"{API}/enrollments", headers=auth_headers(other_instructor),
                           json={"course_id": str(course.id)})

    assert response.status_code == 403
    assert response.get_json() == {"detail": "Only students can enroll"}
    assert enrollment_count() == 0


def test_anonymous_cannot_enroll(client, course):
    assert client.post(f"{API}/enrollments", json={"course_id": str(course.id)}).status_code == 401


def test_a_draft_is_not_found_for_a_student_who_tries_to_enroll(client, instructor, make_course, student,
                                                                auth_headers):
    draft = make_course(instructor, published=False)

    response = client.post(f"{API}/enrollments", headers=auth_headers(student), json={"course_id": str(draft.id)})

    assert (response.status_code, response.get_json()) == (404, COURSE_NOT_FOUND)
    assert enrollment_count() == 0


def test_an_admin_cannot_enroll_in_an_unpublished_course(client, instructor, make_course, admin, auth_headers):
    draft = make_course(instructor, published=False)

    response = client.post(f"{API}/enrollments", headers=auth_headers(admin), json={"course_id": str(draft.id)})

    assert (response.status_code, response.get_json()) == (403, {"detail": "Cannot enroll in unpublished course"})


def test_enrolling_in_an_unknown_course_is_not_found(client, student, auth_headers):
    response = client.post(f"{API}/enrollments", headers=auth_headers(student),
                           json={"course_id": str(uuid.uuid4())})

    assert (response.status_code, response.get_json()) == (404, COURSE_NOT_FOUND)


@pytest.mark.parametrize("body", [{}, {"course_id": "not-a-uuid"}, {"course_id": None}])
def test_an_invalid_enroll_body_is_a_422(client, student, auth_headers, body):
    response = client.post(f"{API}/enrollments", headers=auth_headers(student), json=body)

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "course_id"]


@pytest.mark.postgres
@pytest.mark.real_commits
def test_fifty_concurrent_enrollments_leave_exactly_one_row(app, course, student, auth_headers):
    headers, body = auth_headers(student), {"course_id": str(course.id)}

    def enroll(client):
        return client.post(f"{API}/enrollments", headers=headers, json=body)

    responses = run_concurrently(app, [enroll] * 50)

    assert {response.status_code for response in responses} == {201}
    assert len({response.get_json()["id"] for response in responses}) == 1
    assert enrollment_count(course.id) == 1


# --- my-courses -----------------------------------------------------------------------------------

def test_my_courses_lists_the_callers_enrollments_newest_first(client, instructor, make_course, student,
                                                               other_student, auth_headers):
    courses = [make_course(instructor, title=f"Course {number}") for number in range(3)]
    headers = auth_headers(student)
    for each in courses:
        client.post(f"{API}/enrollments", headers=headers, json={"course_id": str(each.id)})
    client.post(f"{API}/enrollments", headers=auth_headers(other_student), json={"course_id": str(courses[0].id)})

    body = client.get(f"{API}/enrollments/my-courses?page_size=2", headers=headers).get_json()

    assert [item["course_id"] for item in body["items"]] == [str(courses[2].id), str(courses[1].id)]
    assert (body["total"], body["page"], body["page_size"], body["total_pages"]) == (3, 1, 2, 2)


def test_an_instructor_has_no_enrollments(client, instructor, auth_headers):
    assert client.get(f"{API}/enrollments/my-courses", headers=auth_headers(instructor)).get_json()["total"] == 0


def test_my_courses_needs_a_login(client):
    response = client.get(f"{API}/enrollments/my-courses")

    assert (response.status_code, response.get_json()) == (401, {"detail": "Not authenticated"})


def test_my_courses_rejects_bad_paging(client, student, auth_headers):
    response = client.get(f"{API}/enrollments/my-courses?page_size=500", headers=auth_headers(student))

    assert response.status_code == 422


@pytest.mark.parametrize("rows", [5, 50])
def test_my_courses_runs_a_fixed_number_of_statements(client, instructor, make_course, make_enrollment, student,
                                                      auth_headers, assert_max_queries, rows):
    for _ in range(rows):
        make_enrollment(student, make_course(instructor))
    headers = auth_headers(student)

    with assert_max_queries(3):  # the caller, the count, the page
        response = client.get(f"{API}/enrollments/my-courses?page_size=100", headers=headers)

    assert response.get_json()["total"] == rows


# --- one enrollment -------------------------------------------------------------------------------

@pytest.fixture
def enrollment(course, student, make_enrollment):
    return make_enrollment(student, course)


@pytest.mark.parametrize("reader", ["student", "instructor", "admin"])
def test_the_student_the_courses_instructor_and_admins_read_an_enrollment(client, enrollment, auth_headers,
                                                                          request, reader):
    response = client.get(f"{API}/enrollments/{enrollment.id}", headers=auth_headers(request.getfixturevalue(reader)))

    assert response.status_code == 200
    assert response.get_json()["id"] == str(enrollment.id)


@pytest.mark.parametrize("reader", ["other_student", "other_instructor"])
def test_others_do_not_find_an_enrollment(client, enrollment, auth_headers, request, reader):
    response = client.get(f"{API}/enrollments/{enrollment.id}", headers=auth_headers(request.getfixturevalue(reader)))

    assert (response.status_code, response.get_json()) == (404, ENROLLMENT_NOT_FOUND)


def test_an_unknown_enrollment_is_not_found(client, student, auth_headers):
    response = client.get(f"{API}/enrollments/{uuid.uuid4()}", headers=auth_headers(student))

    assert (response.status_code, response.get_json()) == (404, ENROLLMENT_NOT_FOUND)


def test_reading_an_enrollment_needs_a_login(client, enrollment):
    assert client.get(f"{API}/enrollments/{enrollment.id}").status_code == 401


# --- a course's enrollments and stats ---------------------------------------------------------------

@pytest.fixture
def class_of_three(course, make_user, make_enrollment):
    """Three enrollments: active at 0 %, active at 50 %, completed at 100 %."""
    return [
        make_enrollment(make_user("student"), course),
        make_enrollment(make_user("student"), course, progress_percentage=Decimal("50")),
        make_enrollment(make_user("student"), course, status="completed", progress_percentage=Decimal("100")),
    ]


@pytest.mark.parametrize("reader", ["instructor", "admin"])
def test_owner_and_admin_list_a_courses_enrollments_newest_first(client, course, class_of_three, auth_headers,
                                                                 request, reader):
    response = client.get(f"{API}/enrollments/courses/{course.id}",
                          headers=auth_headers(request.getfixturevalue(reader)))

    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3
    assert [item["id"] for item in body["items"]] == [str(each.id) for each in reversed(class_of_three)]


@pytest.mark.parametrize("reader", ["instructor", "admin"])
def test_owner_and_admin_read_a_courses_enrollment_stats(client, course, class_of_three, auth_headers, request,
                                                         reader):
    response = client.get(f"{API}/enrollments/courses/{course.id}/stats",
                          headers=auth_headers(request.getfixturevalue(reader)))

    assert response.status_code == 200
    assert response.get_json() == {"course_id": str(course.id), "total_enrollments": 3, "active_enrollments": 2,
                                   "completed_enrollments": 1, "average_progress": "50.00"}


def test_stats_of_a_course_without_enrollments_are_zero(client, course, instructor, auth_headers):
    response = client.get(f"{API}/enrollments/courses/{course.id}/stats", headers=auth_headers(instructor))

    assert response.get_json() == {"course_id": str(course.id), "total_enrollments": 0, "active_enrollments": 0,
                                   "completed_enrollments": 0, "average_progress": "0.00"}


@pytest.mark.parametrize("suffix", ["", "/stats"])
@pytest.mark.parametrize("reader", ["other_instructor", "student"])
def test_others_may_not_see_a_published_courses_enrollments(client, course, auth_headers, request, reader, suffix):
    response = client.get(f"{API}/enrollments/courses/{course.id}{suffix}",
                          headers=auth_headers(request.getfixturevalue(reader)))

    assert (response.status_code, response.get_json()) == (403, VIEW_DENIED)


@pytest.mark.parametrize("suffix", ["", "/stats"])
def test_others_do_not_find_a_drafts_enrollments(client, other_instructor, instructor, make_course, auth_headers,
                                                 suffix):
    draft = make_course(instructor, published=False)

    response = client.get(f"{API}/enrollments/courses/{draft.id}{suffix}", headers=auth_headers(other_instructor))

    assert (response.status_code, response.get_json()) == (404, COURSE_NOT_FOUND)


@pytest.mark.parametrize("suffix", ["", "/stats"])
def test_a_courses_enrollments_need_a_login(client, course, suffix):
    assert client.get(f"{API}/enrollments/courses/{course.id}{suffix}").status_code == 401


@pytest.mark.parametrize("rows", [5, 50])
def test_a_courses_enrollment_list_runs_a_fixed_number_of_statements(client, course, instructor, make_user,
                                                                     make_enrollment, auth_headers,
                                                                     assert_max_queries, rows):
    for _ in range(rows):
        make_enrollment(make_user("student"), course)
    headers = auth_headers(instructor)

    with assert_max_queries(4):  # the caller, the course, the count, the page
        response = client.get(f"{API}/enrollments/courses/{course.id}?page_size=100", headers=headers)

    assert response.get_json()["total"] == rows
