"""Who may read which analytics, and in which order the checks answer (contract §4.8, §5.19)."""

from __future__ import annotations

import uuid

import pytest


@pytest.mark.parametrize("path", ["/my-progress", "/my-dashboard", f"/courses/{uuid.uuid4()}",
                                  f"/instructors/{uuid.uuid4()}/overview", "/system/overview"])
def test_every_analytics_endpoint_needs_a_token(client, path):
    response = client.get(f"/api/v1/analytics{path}")
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}


def test_a_student_cannot_read_course_analytics(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/courses/{dataset.course_a.id}", headers=auth_headers(dataset.stu))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Insufficient permissions"}


def test_the_role_check_comes_first_so_a_student_gets_403_for_a_missing_course(client, auth_headers, student):
    response = client.get(f"/api/v1/analytics/courses/{uuid.uuid4()}", headers=auth_headers(student))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Insufficient permissions"}


def test_an_instructor_gets_404_for_a_missing_course(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/courses/{uuid.uuid4()}", headers=auth_headers(dataset.ines))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Course not found"}


def test_another_instructor_cannot_read_analytics_of_a_published_course(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/courses/{dataset.course_a.id}", headers=auth_headers(dataset.otto))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Not authorized to view analytics for this course"}


def test_another_instructors_draft_course_is_not_found(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/courses/{dataset.course_d.id}", headers=auth_headers(dataset.otto))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Course not found"}


def test_an_admin_reads_analytics_of_any_course(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/courses/{dataset.course_c.id}", headers=auth_headers(dataset.admin))
    assert response.status_code == 200
    assert response.get_json()["course_id"] == str(dataset.course_c.id)


def test_an_instructor_cannot_read_another_instructors_overview(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/instructors/{dataset.ines.id}/overview",
                          headers=auth_headers(dataset.otto))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Not authorized to view this instructor's analytics"}


def test_a_student_cannot_read_an_instructor_overview_even_with_their_own_id(client, auth_headers, dataset):
    for instructor_id in (dataset.ines.id, dataset.stu.id):
        response = client.get(f"/api/v1/analytics/instructors/{instructor_id}/overview",
                              headers=auth_headers(dataset.stu))
        assert response.status_code == 403
        assert response.get_json() == {"detail": "Not authorized to view this instructor's analytics"}


def test_an_admin_gets_404_for_an_unknown_instructor(client, auth_headers, dataset):
    for instructor_id in (uuid.uuid4(), dataset.stu.id):
        response = client.get(f"/api/v1/analytics/instructors/{instructor_id}/overview",
                              headers=auth_headers(dataset.admin))
        assert response.status_code == 404
        assert response.get_json() == {"detail": "Instructor not found"}


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_only_admins_read_the_system_overview(client, auth_headers, make_user, role):
    response = client.get("/api/v1/analytics/system/overview", headers=auth_headers(make_user(role)))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Insufficient permissions"}
