"""Analytics figures against hand-computed expectations on the fixed data set of conftest.py."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from lms.core.extensions import db
from tests.analytics.helpers import utc_midnight

ZERO_PROGRESS = {
    "total_enrollments": 0, "active_enrollments": 0, "completed_enrollments": 0, "average_progress": "0.00",
    "total_time_hours": "0.00", "total_lessons_completed": 0, "quizzes_taken": 0, "quizzes_passed": 0,
    "average_quiz_score": "0.00", "average_quiz_percentage": "0.00",
}

# stu: e1 (A, active, 33.33, 1 lesson, 2400 s) and e2 (B, completed, 100, 2 lessons, 5400 s);
# graded attempts 3/4, 2/4, 9/10, 5/10, 10/10 -> 5 taken, 3 passed (>= 70 %).
STU_PROGRESS = {
    "total_enrollments": 2,
    "active_enrollments": 1,
    "completed_enrollments": 1,
    "average_progress": "66.67",          # (33.33 + 100) / 2 = 66.665, half up
    "total_time_hours": "2.17",           # 7800 s
    "total_lessons_completed": 3,
    "quizzes_taken": 5,
    "quizzes_passed": 3,
    "average_quiz_score": "5.80",         # (3 + 2 + 9 + 5 + 10) / 5 raw points
    "average_quiz_percentage": "73.00",   # (75 + 50 + 90 + 50 + 100) / 5
}


def day(days_ago: int) -> str:
    return utc_midnight(days_ago).date().isoformat()


def test_my_progress_sums_a_students_enrollments_and_graded_attempts(client, auth_headers, dataset):
    response = client.get("/api/v1/analytics/my-progress", headers=auth_headers(dataset.stu))
    assert response.status_code == 200
    assert response.get_json() == {"student_id": str(dataset.stu.id), **STU_PROGRESS}


def test_my_progress_counts_a_dropped_enrollment_in_totals_only(client, auth_headers, dataset):
    response = client.get("/api/v1/analytics/my-progress", headers=auth_headers(dataset.dee))
    assert response.status_code == 200
    assert response.get_json() == {
        "student_id": str(dataset.dee.id), "total_enrollments": 1, "active_enrollments": 0,
        "completed_enrollments": 0, "average_progress": "66.67", "total_time_hours": "0.17",
        "total_lessons_completed": 2, "quizzes_taken": 1, "quizzes_passed": 0,
        "average_quiz_score": "1.00", "average_quiz_percentage": "25.00",
    }


def test_my_progress_is_zero_for_non_students(client, auth_headers, dataset):
    for user in (dataset.ines, dataset.admin):
        response = client.get("/api/v1/analytics/my-progress", headers=auth_headers(user))
        assert response.status_code == 200
        assert response.get_json() == {"student_id": str(user.id), **ZERO_PROGRESS}


def test_my_progress_is_zero_for_a_student_without_enrollments(client, auth_headers, make_user):
    newcomer = make_user("student")
    response = client.get("/api/v1/analytics/my-progress", headers=auth_headers(newcomer))
    assert response.get_json() == {"student_id": str(newcomer.id), **ZERO_PROGRESS}


def test_my_dashboard_lists_each_enrollment_newest_first(client, auth_headers, dataset):
    response = client.get("/api/v1/analytics/my-dashboard", headers=auth_headers(dataset.stu))
    assert response.status_code == 200
    body = response.get_json()
    assert body["student_id"] == str(dataset.stu.id)
    assert body["summary"] == {"student_id": str(dataset.stu.id), **STU_PROGRESS}
    assert body["courses"] == [
        {"course_id": str(dataset.course_b.id), "course_title": "Course B", "progress_percentage": "100.00",
         "completed_lessons": 2, "total_lessons": 2, "time_spent_hours": "1.50", "quizzes_completed": 3,
         "average_quiz_score": "8.00", "average_quiz_percentage": "80.00"},
        {"course_id": str(dataset.course_a.id), "course_title": "Course A", "progress_percentage": "33.33",
         "completed_lessons": 1, "total_lessons": 3, "time_spent_hours": "0.67", "quizzes_completed": 2,
         "average_quiz_score": "2.50", "average_quiz_percentage": "62.50"},
    ]


def test_my_dashboard_activity_covers_thirty_utc_days_newest_first(client, auth_headers, dataset):
    body = client.get("/api/v1/analytics/my-dashboard", headers=auth_headers(dataset.stu)).get_json()
    # Days without activity are left out; the progress row last updated 40 days ago and the attempt
    # graded one second before the window do not count, the attempt at its first second does.
    assert body["recent_activity"] == [
        {"date": day(0), "lessons_completed": 0, "time_spent_minutes": 40, "quizzes_taken": 1},
        {"date": day(1), "lessons_completed": 2, "time_spent_minutes": 50, "quizzes_taken": 0},
        {"date": day(2), "lessons_completed": 1, "time_spent_minutes": 30, "quizzes_taken": 2},
        {"date": day(29), "lessons_completed": 0, "time_spent_minutes": 0, "quizzes_taken": 1},
    ]


@pytest.mark.postgres
def test_activity_days_are_utc_days_whatever_the_database_time_zone(client, auth_headers, dataset):
    db.session.execute(text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))  # UTC+14, until the test ends
    body = client.get("/api/v1/analytics/my-dashboard", headers=auth_headers(dataset.stu)).get_json()
    assert [entry["date"] for entry in body["recent_activity"]] == [day(0), day(1), day(2), day(29)]
    assert body["recent_activity"][0]["time_spent_minutes"] == 40


def test_my_dashboard_is_empty_for_non_students(client, auth_headers, dataset):
    response = client.get("/api/v1/analytics/my-dashboard", headers=auth_headers(dataset.ines))
    assert response.status_code == 200
    assert response.get_json() == {"student_id": str(dataset.ines.id),
                                   "summary": {"student_id": str(dataset.ines.id), **ZERO_PROGRESS},
                                   "courses": [], "recent_activity": []}


def test_course_analytics_aggregate_every_enrollment_of_the_course(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/courses/{dataset.course_a.id}", headers=auth_headers(dataset.ines))
    assert response.status_code == 200
    assert response.get_json() == {
        "course_id": str(dataset.course_a.id),
        "course_title": "Course A",
        "total_enrollments": 3,             # active, completed and dropped
        "active_students": 1,
        "completed_students": 1,
        "completion_rate": "33.33",
        "average_progress": "66.67",        # (33.33 + 100 + 66.67) / 3
        "average_time_hours": "1.11",       # (2400 + 9000 + 600) s / 3
        "average_rating": "3.00",           # (4 + 2) / 2
        "total_reviews": 2,
    }


def test_course_analytics_of_a_course_without_enrollments_are_zero(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/courses/{dataset.course_d.id}", headers=auth_headers(dataset.ines))
    assert response.status_code == 200
    assert response.get_json() == {
        "course_id": str(dataset.course_d.id), "course_title": "Course D", "total_enrollments": 0,
        "active_students": 0, "completed_students": 0, "completion_rate": "0.00", "average_progress": "0.00",
        "average_time_hours": "0.00", "average_rating": "0.00", "total_reviews": 0,
    }


def test_instructor_overview_counts_courses_distinct_students_and_ratings(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/instructors/{dataset.ines.id}/overview",
                          headers=auth_headers(dataset.ines))
    assert response.status_code == 200
    assert response.get_json() == {
        "instructor_id": str(dataset.ines.id),
        "total_courses": 3,                 # A, B and the draft D
        "published_courses": 2,
        "total_students": 3,                # stu is enrolled twice but counted once
        "total_enrollments": 4,
        "average_course_rating": "3.67",    # (5 + 4 + 2) / 3
    }


def test_instructor_overview_of_an_instructor_without_ratings(client, auth_headers, dataset):
    response = client.get(f"/api/v1/analytics/instructors/{dataset.otto.id}/overview",
                          headers=auth_headers(dataset.admin))
    assert response.status_code == 200
    assert response.get_json() == {"instructor_id": str(dataset.otto.id), "total_courses": 1,
                                   "published_courses": 1, "total_students": 1, "total_enrollments": 1,
                                   "average_course_rating": "0.00"}


def test_system_overview_counts_the_whole_platform(client, auth_headers, dataset):
    response = client.get("/api/v1/analytics/system/overview", headers=auth_headers(dataset.admin))
    assert response.status_code == 200
    assert response.get_json() == {"total_users": 6, "total_students": 3, "total_instructors": 2,
                                   "total_courses": 4, "published_courses": 3, "total_enrollments": 5,
                                   "active_enrollments": 2}
