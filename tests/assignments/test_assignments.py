"""Assignment authoring and visibility (contract §4.11 with §5.4 and §5.19)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from lms.assignments.models import Submission
from lms.core.extensions import db

API = "/api/v1/assignments"


def create(client, headers, course, **fields):
    return client.post(API, json={"course_id": str(course.id), "title": "Build a parser", **fields},
                       headers=headers)


# --- create ---------------------------------------------------------------------------------

def test_the_course_instructor_creates_a_draft_assignment(client, auth_headers, cast):
    response = create(client, auth_headers(cast.owner), cast.course, description="Parse JSON",
                      instructions="Use recursion", due_date="2030-01-31T23:59:00Z", max_points=20,
                      grading_type="points", assignment_metadata={"rubric": ["tests", "style"]})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {
        "id": body["id"], "course_id": str(cast.course.id), "instructor_id": str(cast.owner.id),
        "title": "Build a parser", "description": "Parse JSON", "instructions": "Use recursion",
        "due_date": "2030-01-31T23:59:00Z", "max_points": 20, "grading_type": "points",
        "assignment_metadata": {"rubric": ["tests", "style"]}, "status": "draft", "is_published": False,
        "weight": "1.00", "late_penalty_percent_per_day": None, "late_penalty_max_percent": None,
        "late_cutoff_at": None, "created_at": body["created_at"], "updated_at": body["updated_at"],
    }
    assert body["created_at"].endswith("Z")


@pytest.mark.parametrize("caller", ["admin", "learner"])
def test_admins_and_students_cannot_create_assignments(client, auth_headers, cast, caller):
    response = create(client, auth_headers(getattr(cast, caller)), cast.course)
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Only instructors can manage assignments"}


def test_another_instructor_cannot_create_in_a_published_course(client, auth_headers, cast):
    response = create(client, auth_headers(cast.stranger), cast.course)
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Not authorized to manage assignments for this course"}


def test_another_instructors_draft_course_is_not_found(client, auth_headers, cast):
    response = create(client, auth_headers(cast.stranger), cast.draft_course)
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Course not found"}


def test_creating_in_an_unknown_course_is_not_found(client, auth_headers, cast):
    response = client.post(API, json={"course_id": str(uuid.uuid4()), "title": "Lost"},
                           headers=auth_headers(cast.owner))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Course not found"}


def test_an_invalid_status_is_a_422_not_a_500(client, auth_headers, cast):
    response = create(client, auth_headers(cast.owner), cast.course, status="finished")
    assert response.status_code == 422
    (error,) = response.get_json()["detail"]
    assert error["loc"] == ["body", "status"]


@pytest.mark.parametrize("body, field", [
    ({"title": "No course"}, "course_id"),
    ({"course_id": "COURSE"}, "title"),
    ({"course_id": "COURSE", "title": "x" * 256}, "title"),
    ({"course_id": "COURSE", "title": "Ok", "max_points": -1}, "max_points"),
    ({"course_id": "COURSE", "title": "Ok", "instructor_id": str(uuid.uuid4())}, "instructor_id"),
])
def test_invalid_assignment_bodies_are_422(client, auth_headers, cast, body, field):
    body = {key: str(cast.course.id) if value == "COURSE" else value for key, value in body.items()}
    response = client.post(API, json=body, headers=auth_headers(cast.owner))
    assert response.status_code == 422
    assert [error["loc"] for error in response.get_json()["detail"]] == [["body", field]]


# --- read -----------------------------------------------------------------------------------

@pytest.mark.parametrize("reader", ["owner", "admin", "learner"])
def test_an_open_assignment_is_readable_by_its_instructor_an_admin_and_enrolled_students(
        client, auth_headers, cast, reader):
    response = client.get(f"{API}/{cast.assignment.id}", headers=auth_headers(getattr(cast, reader)))
    assert response.status_code == 200
    assert response.get_json()["title"] == "Essay on testing"


@pytest.mark.parametrize("reader", ["outsider", "dropout", "stranger"])
def test_an_assignment_is_not_found_for_those_outside_the_course(client, auth_headers, cast, reader):
    response = client.get(f"{API}/{cast.assignment.id}", headers=auth_headers(getattr(cast, reader)))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Assignment not found"}


@pytest.mark.parametrize("status, is_published", [("draft", False), ("draft", True), ("published", False),
                                                   ("archived", True)])
def test_students_see_an_assignment_only_when_published_both_ways(client, auth_headers, cast, make_assignment,
                                                                  status, is_published):
    hidden = make_assignment(cast.course, status=status, is_published=is_published)
    response = client.get(f"{API}/{hidden.id}", headers=auth_headers(cast.learner))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Assignment not found"}
    assert client.get(f"{API}/{hidden.id}", headers=auth_headers(cast.owner)).status_code == 200


def test_an_unknown_assignment_is_not_found(client, auth_headers, cast):
    response = client.get(f"{API}/{uuid.uuid4()}", headers=auth_headers(cast.admin))
    assert response.status_code == 404


def test_reading_an_assignment_needs_a_token(client, cast):
    assert client.get(f"{API}/{cast.assignment.id}").status_code == 401


# --- list by course -------------------------------------------------------------------------

def test_the_instructor_lists_every_assignment_of_the_course(client, auth_headers, cast):
    response = client.get(f"{API}/course/{cast.course.id}", headers=auth_headers(cast.owner))
    assert response.status_code == 200
    body = response.get_json()
    assert {item["title"] for item in body["assignments"]} == {"Essay on testing", "Unfinished"}
    assert (body["total"], body["page"], body["page_size"]) == (2, 1, 100)


def test_an_admin_lists_every_assignment_of_any_course(client, auth_headers, cast):
    body = client.get(f"{API}/course/{cast.course.id}", headers=auth_headers(cast.admin)).get_json()
    assert body["total"] == 2


def test_an_enrolled_student_lists_only_open_assignments(client, auth_headers, cast):
    response = client.get(f"{API}/course/{cast.course.id}", headers=auth_headers(cast.learner))
    assert response.status_code == 200
    body = response.get_json()
    assert [item["id"] for item in body["assignments"]] == [str(cast.assignment.id)]
    assert body["total"] == 1


@pytest.mark.parametrize("reader", ["outsider", "dropout", "stranger"])
def test_those_outside_a_published_course_cannot_list_its_assignments(client, auth_headers, cast, reader):
    response = client.get(f"{API}/course/{cast.course.id}", headers=auth_headers(getattr(cast, reader)))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Not authorized to view assignments for this course"}


def test_the_assignments_of_someone_elses_draft_course_are_not_found(client, auth_headers, cast):
    response = client.get(f"{API}/course/{cast.draft_course.id}", headers=auth_headers(cast.stranger))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Course not found"}


def test_the_list_pages_with_skip_and_limit(client, auth_headers, cast, make_assignment):
    for _ in range(3):
        make_assignment(cast.course)
    first = client.get(f"{API}/course/{cast.course.id}?skip=0&limit=2", headers=auth_headers(cast.owner)).get_json()
    second = client.get(f"{API}/course/{cast.course.id}?skip=2&limit=2", headers=auth_headers(cast.owner)).get_json()
    third = client.get(f"{API}/course/{cast.course.id}?skip=4&limit=2", headers=auth_headers(cast.owner)).get_json()
    assert (second["total"], second["page"], second["page_size"]) == (5, 2, 2)
    ids = [item["id"] for page in (first, second, third) for item in page["assignments"]]
    assert len(ids) == len(set(ids)) == 5


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize("reader", ["owner", "learner"])
def test_listing_runs_a_fixed_number_of_statements(client, auth_headers, assert_max_queries, cast,
                                                   make_assignment, size, reader):
    for _ in range(size):
        make_assignment(cast.course)
    headers, url = auth_headers(getattr(cast, reader)), f"{API}/course/{cast.course.id}"
    db.session.expunge_all()  # no object preloaded: a production request starts with an empty session
    # caller, course, (students: their enrollment), count, page
    with assert_max_queries(5 if reader == "learner" else 4):
        response = client.get(url, headers=headers)
    assert response.get_json()["total"] == size + (2 if reader == "owner" else 1)


# --- update ---------------------------------------------------------------------------------

def test_the_instructor_updates_only_the_fields_sent(client, auth_headers, cast):
    response = client.put(f"{API}/{cast.draft.id}", json={"title": "Finished", "max_points": 50},
                          headers=auth_headers(cast.owner))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["max_points"], body["status"], body["is_published"]) == ("Finished", 50, "draft", False)


def test_publishing_through_status_and_flag_opens_the_assignment_to_students(client, auth_headers, cast):
    assert client.get(f"{API}/{cast.draft.id}", headers=auth_headers(cast.learner)).status_code == 404
    response = client.put(f"{API}/{cast.draft.id}", json={"status": "published", "is_published": True},
                          headers=auth_headers(cast.owner))
    assert response.status_code == 200
    assert client.get(f"{API}/{cast.draft.id}", headers=auth_headers(cast.learner)).status_code == 200


@pytest.mark.parametrize("body, field", [({"status": "done"}, "status"), ({"title": None}, "title"),
                                         ({"is_published": None}, "is_published"),
                                         ({"course_id": str(uuid.uuid4())}, "course_id")])
def test_invalid_updates_are_422(client, auth_headers, cast, body, field):
    response = client.put(f"{API}/{cast.assignment.id}", json=body, headers=auth_headers(cast.owner))
    assert response.status_code == 422
    assert [error["loc"] for error in response.get_json()["detail"]] == [["body", field]]


def test_another_instructor_cannot_update_an_assignment(client, auth_headers, cast):
    response = client.put(f"{API}/{cast.assignment.id}", json={"title": "Mine"}, headers=auth_headers(cast.stranger))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Assignment not found"}


@pytest.mark.parametrize("caller", ["admin", "learner"])
def test_admins_and_students_cannot_update_assignments(client, auth_headers, cast, caller):
    response = client.put(f"{API}/{cast.assignment.id}", json={"title": "Mine"},
                          headers=auth_headers(getattr(cast, caller)))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Only instructors can manage assignments"}


# --- delete ---------------------------------------------------------------------------------

def test_the_instructor_deletes_an_assignment_with_its_submissions(client, auth_headers, cast, make_submission):
    make_submission(cast.assignment, cast.enrollment)
    response = client.delete(f"{API}/{cast.assignment.id}", headers=auth_headers(cast.owner))
    assert response.status_code == 204
    assert response.data == b""
    assert client.get(f"{API}/{cast.assignment.id}", headers=auth_headers(cast.owner)).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_another_instructor_cannot_delete_an_assignment(client, auth_headers, cast):
    response = client.delete(f"{API}/{cast.assignment.id}", headers=auth_headers(cast.stranger))
    assert response.status_code == 404
    assert client.get(f"{API}/{cast.assignment.id}", headers=auth_headers(cast.owner)).status_code == 200


@pytest.mark.parametrize("caller", ["admin", "learner"])
def test_admins_and_students_cannot_delete_assignments(client, auth_headers, cast, caller):
    response = client.delete(f"{API}/{cast.assignment.id}", headers=auth_headers(getattr(cast, caller)))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Only instructors can manage assignments"}


# --- rate limit -----------------------------------------------------------------------------

def test_every_assignment_route_is_rate_limited_per_endpoint(make_app):
    limited = make_app(RATE_LIMIT_ENABLED=True, ASSIGNMENT_RATE_LIMIT_REQUESTS_PER_MINUTE=2)
    client = limited.test_client()
    item = f"{API}/{uuid.uuid4()}"
    assert [client.get(item).status_code for _ in range(3)] == [401, 401, 429]
    assert client.get(f"{API}/course/{uuid.uuid4()}").status_code == 401  # another endpoint, its own budget
