"""Late policies: a penalty per started day late up to a cap, fixed at submission; a hard cut-off (409)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from lms.assignments.service import late_penalty, started_days_late
from lms.core.db import utcnow
from lms.core.extensions import db

API = "/api/v1/assignments"


def submit(client, headers, assignment, enrollment):
    return client.post(f"{API}/submit", headers=headers, json={
        "assignment_id": str(assignment.id), "enrollment_id": str(enrollment.id), "content": "Late work"})


@pytest.mark.parametrize(("late", "days"), [(timedelta(0), 0), (timedelta(seconds=1), 1), (timedelta(days=1), 1),
                                            (timedelta(days=1, seconds=1), 2), (-timedelta(days=3), 0)])
def test_every_started_day_counts(late, days):
    due = utcnow()
    assert started_days_late(due, due + late) == days
    assert started_days_late(None, due + late) == 0


@pytest.mark.parametrize(("per_day", "cap", "days", "penalty"), [
    ("10", None, 3, "30.00"), ("10", "25", 3, "25.00"), ("40", None, 4, "100.00"), (None, "25", 3, "0.00"),
    ("10", None, 0, "0.00")])
def test_the_penalty_is_per_day_up_to_the_cap(make_course, instructor, make_assignment, per_day, cap, days, penalty):
    assignment = make_assignment(make_course(instructor), late_penalty_percent_per_day=per_day and Decimal(per_day),
                                 late_penalty_max_percent=cap and Decimal(cap))
    assert late_penalty(assignment, days) == Decimal(penalty)


def test_a_late_submission_carries_its_penalty_and_the_grade_keeps_the_raw_value(client, auth_headers, cast,
                                                                                 make_assignment):
    overdue = make_assignment(cast.course, due_date=utcnow() - timedelta(days=2, hours=1), max_points=10,
                              late_penalty_percent_per_day=Decimal("10"), late_penalty_max_percent=Decimal("25"))
    response = submit(client, auth_headers(cast.learner), overdue, cast.enrollment)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["is_late"], body["days_late"], body["late_penalty_percent"]) == (True, 3, "25.00")
    graded = client.post(f"{API}/submissions/{body['id']}/grade", headers=auth_headers(cast.owner),
                         json={"grade": 8}).get_json()
    assert (graded["grade"], graded["final_grade"]) == (8.0, 6.0)
    seen_by_student = client.get(f"{API}/submissions/{body['id']}", headers=auth_headers(cast.learner)).get_json()
    assert (seen_by_student["grade"], seen_by_student["final_grade"]) == (8.0, 6.0)


def test_a_later_policy_change_does_not_touch_earlier_submissions(client, auth_headers, cast, make_assignment):
    overdue = make_assignment(cast.course, due_date=utcnow() - timedelta(hours=1),
                              late_penalty_percent_per_day=Decimal("10"))
    submission_id = submit(client, auth_headers(cast.learner), overdue, cast.enrollment).get_json()["id"]
    assert client.put(f"{API}/{overdue.id}", headers=auth_headers(cast.owner),
                      json={"late_penalty_percent_per_day": 50}).status_code == 200
    body = client.get(f"{API}/submissions/{submission_id}", headers=auth_headers(cast.learner)).get_json()
    assert body["late_penalty_percent"] == "10.00"


def test_after_the_cutoff_a_submission_is_refused(client, auth_headers, cast, make_assignment):
    closed = make_assignment(cast.course, due_date=utcnow() - timedelta(days=3),
                             late_cutoff_at=utcnow() - timedelta(days=1))
    response = submit(client, auth_headers(cast.learner), closed, cast.enrollment)
    assert response.status_code == 409
    assert response.get_json()["detail"].startswith("Submissions closed at ")
    db.session.expire_all()
    assert client.get(f"{API}/submissions/enrollment/{cast.enrollment.id}",
                      headers=auth_headers(cast.learner)).get_json()["total"] == 0


def test_before_the_cutoff_late_work_is_accepted(client, auth_headers, cast, make_assignment):
    open_late = make_assignment(cast.course, due_date=utcnow() - timedelta(days=1),
                                late_cutoff_at=utcnow() + timedelta(days=1))
    assert submit(client, auth_headers(cast.learner), open_late, cast.enrollment).status_code == 201


def test_the_owner_sets_the_policy_and_the_cutoff_cannot_precede_the_due_date(client, auth_headers, cast):
    headers = auth_headers(cast.owner)
    url = f"{API}/{cast.assignment.id}"
    response = client.put(url, headers=headers, json={
        "due_date": "2030-01-10T12:00:00Z", "late_cutoff_at": "2030-01-15T12:00:00Z",
        "late_penalty_percent_per_day": 5, "late_penalty_max_percent": "50"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["late_penalty_percent_per_day"], body["late_penalty_max_percent"]) == ("5.00", "50.00")
    assert body["late_cutoff_at"] == "2030-01-15T12:00:00Z"
    response = client.put(url, headers=headers, json={"late_cutoff_at": "2030-01-09T12:00:00Z"})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "late_cutoff_at cannot be before due_date"}
    assert client.put(url, headers=headers, json={"due_date": "2030-01-16T00:00:00Z"}).status_code == 400
    assert client.put(url, headers=headers, json={"late_penalty_percent_per_day": 101}).status_code == 422
    created = client.post(API, headers=headers, json={
        "course_id": str(cast.course.id), "title": "Closed early", "due_date": "2030-01-10T12:00:00Z",
        "late_cutoff_at": "2030-01-01T00:00:00Z"})
    assert created.status_code == 400


def test_only_the_owner_sets_a_late_policy(client, auth_headers, cast):
    body = {"late_penalty_percent_per_day": 5}
    url = f"{API}/{cast.assignment.id}"
    assert client.put(url, headers=auth_headers(cast.learner), json=body).status_code == 403
    assert client.put(url, headers=auth_headers(cast.stranger), json=body).status_code == 404
    assert client.put(url, headers=auth_headers(cast.admin), json=body).status_code == 403
    cast.owner.role = "student"
    db.session.commit()
    assert client.put(url, headers=auth_headers(cast.owner), json=body).status_code == 403
