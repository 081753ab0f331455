"""Every analytics endpoint runs a fixed number of SQL statements, whatever the data size."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from lms.core.extensions import db
from tests.analytics.helpers import attempt, counters, utc_midnight
from tests.helpers import lessons_of


@pytest.fixture
def scaled(make_user, make_course, make_quiz, make_enrollment, add_progress):
    """`scaled(n)`: a learner enrolled in n courses (progress and graded attempts on n days) and
    n more students in the first course."""

    def build(size: int) -> SimpleNamespace:
        instructor = make_user("instructor")
        admin = make_user("admin")
        learner = make_user("student")
        courses = [make_course(instructor, lessons=2) for _ in range(size)]
        for index, course in enumerate(courses):
            first, second = lessons_of(course)
            enrollment = make_enrollment(learner, course, **counters("50", 1, 2, 600), rating=4)
            when = utc_midnight(index % 30) + timedelta(hours=1)
            add_progress(enrollment, first, seconds=600, completed_at=when, updated_at=when)
            attempt(enrollment, make_quiz(course, lesson=second), 1, score="3", graded_at=when)
        for _ in range(size):
            make_enrollment(make_user("student"), courses[0], **counters("10", 0, 0, 60), rating=3)
        db.session.commit()
        return SimpleNamespace(instructor=instructor, admin=admin, learner=learner, course=courses[0])

    return build


# (caller, path, statements): authentication loads the caller (1 statement); the rest is the endpoint.
ENDPOINTS = {
    "my-progress": ("learner", "/my-progress", 3),
    "my-dashboard": ("learner", "/my-dashboard", 5),
    "course analytics": ("instructor", "/courses/{course}", 3),
    "instructor overview": ("admin", "/instructors/{instructor}/overview", 3),
    "system overview": ("admin", "/system/overview", 2),
}


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_statement_count_does_not_grow_with_the_data(client, auth_headers, assert_max_queries, scaled,
                                                     endpoint, size):
    data = scaled(size)
    caller, path, statements = ENDPOINTS[endpoint]
    url = "/api/v1/analytics" + path.format(course=data.course.id, instructor=data.instructor.id)
    headers = auth_headers(getattr(data, caller))
    db.session.expunge_all()  # no object preloaded: a production request starts with an empty session
    with assert_max_queries(statements):
        response = client.get(url, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize("size", [3, 30])
def test_dashboard_reports_every_enrollment_and_active_day(client, auth_headers, scaled, size):
    data = scaled(size)
    body = client.get("/api/v1/analytics/my-dashboard", headers=auth_headers(data.learner)).get_json()
    assert len(body["courses"]) == size
    assert len(body["recent_activity"]) == min(size, 30)
    assert sum(day["quizzes_taken"] for day in body["recent_activity"]) == size
