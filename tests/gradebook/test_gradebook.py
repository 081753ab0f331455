"""GET /courses/{id}/gradebook: who may read it, what a row holds, the weighted total, paging, CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.quizzes.models import QuizAttempt
from tests.helpers import API


def graded_attempt(enrollment, quiz, number: int, percentage: str) -> QuizAttempt:
    row = QuizAttempt(enrollment_id=enrollment.id, quiz_id=quiz.id, attempt_number=number, status="graded",
                      score=Decimal(percentage) / 25, max_score=Decimal("4"), percentage=Decimal(percentage),
                      is_passed=Decimal(percentage) >= 70, submitted_at=utcnow(), graded_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


def url(course) -> str:
    return f"{API}/courses/{course.id}/gradebook"


@pytest.fixture
def classroom(instructor, make_user, make_course, make_quiz, make_assignment, make_enrollment, make_submission):
    """Two students: Ada (quiz 60 then 90, essay 8/10 two days late at 10 %/day, report not submitted),
    Bob (nothing graded); a draft quiz and a draft assignment that the gradebook leaves out."""
    course = make_course(instructor, lessons=2)
    quiz = make_quiz(course, weight=Decimal("2"))
    make_quiz(course, published=False)
    essay = make_assignment(course, title="Essay", max_points=10)
    report = make_assignment(course, title="Report", max_points=20)
    make_assignment(course, published=False)
    ada = make_enrollment(make_user(full_name="Ada Lovelace"), course, progress_percentage=Decimal("50"))
    bob = make_enrollment(make_user(full_name="Bob Babbage"), course)
    graded_attempt(ada, quiz, 1, "60")
    graded_attempt(ada, quiz, 2, "90")
    make_submission(essay, ada, grade=8.0, max_grade=10.0, is_late=True, days_late=2,
                    late_penalty_percent=Decimal("20"))
    return course, quiz, essay, report, ada, bob


def test_a_row_per_student_with_best_quiz_score_late_grades_and_weighted_total(client, auth_headers, instructor,
                                                                               classroom):
    course, quiz, essay, report, ada, bob = classroom
    response = client.get(url(course), headers=auth_headers(instructor))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [q["id"] for q in body["quizzes"]] == [str(quiz.id)]
    assert body["quizzes"][0]["weight"] == "2.00"
    assert [a["title"] for a in body["assignments"]] == ["Essay", "Report"]
    assert body["total"] == 2 and body["total_pages"] == 1
    first, second = body["items"]
    assert (first["student_name"], second["student_name"]) == ("Ada Lovelace", "Bob Babbage")
    assert first["progress_percentage"] == "50.00"
    assert first["quiz_scores"] == [{"quiz_id": str(quiz.id), "best_percentage": "90.00"}]
    essay_grade, report_grade = first["assignment_grades"]
    assert essay_grade["grade"] == 8.0 and essay_grade["final_grade"] == 6.4
    assert essay_grade["percentage"] == "64.00"
    assert (essay_grade["is_late"], essay_grade["days_late"], essay_grade["late_penalty_percent"]) == (True, 2, "20.00")
    assert report_grade["submission_id"] is None and report_grade["percentage"] is None
    # (90 * 2 + 64 * 1) / 3: the report, not submitted, is not counted
    assert first["weighted_total"] == "81.33"
    assert second["quiz_scores"][0]["best_percentage"] is None
    assert second["weighted_total"] is None


def test_weights_are_set_on_the_quiz_and_the_assignment(client, auth_headers, instructor, classroom):
    course, quiz, essay, *_ = classroom
    headers = auth_headers(instructor)
    assert client.patch(f"{API}/courses/{course.id}/quizzes/{quiz.id}", headers=headers,
                        json={"weight": 0}).status_code == 200
    assert client.put(f"{API}/assignments/{essay.id}", headers=headers,
                      json={"weight": "3"}).get_json()["weight"] == "3.00"
    row = client.get(url(course), headers=headers).get_json()["items"][0]
    assert row["weighted_total"] == "64.00"  # the quiz weighs nothing now


def test_a_weight_out_of_bounds_is_a_422(client, auth_headers, instructor, classroom):
    course, quiz, essay, *_ = classroom
    headers = auth_headers(instructor)
    assert client.patch(f"{API}/courses/{course.id}/quizzes/{quiz.id}", headers=headers,
                        json={"weight": -1}).status_code == 422
    assert client.put(f"{API}/assignments/{essay.id}", headers=headers, json={"weight": 1001}).status_code == 422
    assert client.put(f"{API}/assignments/{essay.id}", headers=headers, json={"weight": None}).status_code == 422


def test_admins_read_any_gradebook(client, auth_headers, admin, classroom):
    assert client.get(url(classroom[0]), headers=auth_headers(admin)).status_code == 200


@pytest.mark.parametrize("caller", ["student", "other_instructor", "enrolled_student"])
def test_other_callers_are_refused(client, auth_headers, request, classroom, caller):
    course, *_, ada, _bob = classroom
    user = db.session.get(type(request.getfixturevalue("student")), ada.student_id) if caller == "enrolled_student" \
        else request.getfixturevalue(caller)
    response = client.get(url(course), headers=auth_headers(user))
    assert response.status_code == 403
    assert client.get(url(course), headers=auth_headers(user) | {"Accept": "text/csv"}).status_code == 403


def test_a_demoted_owner_loses_the_gradebook(client, auth_headers, instructor, classroom):
    headers = auth_headers(instructor)
    assert client.get(url(classroom[0]), headers=headers).status_code == 200
    instructor.role = "student"
    db.session.commit()
    assert client.get(url(classroom[0]), headers=headers).status_code == 403


def test_anonymous_is_401_and_unknown_course_404(client, auth_headers, admin, classroom):
    assert client.get(url(classroom[0])).status_code == 401
    assert client.get(f"{API}/courses/00000000-0000-4000-8000-000000000000/gradebook",
                      headers=auth_headers(admin)).status_code == 404


def test_bad_query_is_a_422(client, auth_headers, instructor, classroom):
    headers = auth_headers(instructor)
    assert client.get(url(classroom[0]) + "?format=xml", headers=headers).status_code == 422
    assert client.get(url(classroom[0]) + "?page_size=0", headers=headers).status_code == 422


def test_paged_by_student_name(client, auth_headers, instructor, classroom):
    body = client.get(url(classroom[0]) + "?page=2&page_size=1", headers=auth_headers(instructor)).get_json()
    assert [row["student_name"] for row in body["items"]] == ["Bob Babbage"]
    assert (body["total"], body["page"], body["total_pages"]) == (2, 2, 2)


@pytest.mark.parametrize("ask", [{"headers": {"Accept": "text/csv"}}, {"query": "?format=csv"}])
def test_csv_streams_every_row_with_a_header(client, auth_headers, instructor, classroom, ask):
    course, *_ = classroom
    response = client.get(url(course) + ask.get("query", ""), headers=auth_headers(instructor) | ask.get("headers", {}))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert f'filename="gradebook-{course.slug}.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ["student_id", "student_name", "student_email", "enrollment_status", "progress_percentage"]
    assert rows[0][5].startswith("quiz: ") and rows[0][-1] == "weighted_total"
    assert len(rows) == 3
    ada = dict(zip(rows[0], rows[1]))
    assert ada["student_name"] == "Ada Lovelace"
    assert ada["assignment: Essay [final grade]"] == "6.4"
    assert ada["assignment: Essay [days late]"] == "2"
    assert ada["weighted_total"] == "81.33"
    assert dict(zip(rows[0], rows[2]))["weighted_total"] == ""


def test_csv_neutralises_spreadsheet_formulas(client, auth_headers, instructor, make_user, make_course,
                                              make_enrollment):
    course = make_course(instructor)
    make_enrollment(make_user(full_name="=HYPERLINK(\"http://evil\")"), course)
    rows = list(csv.reader(io.StringIO(client.get(url(course) + "?format=csv", headers=auth_headers(instructor))
                                       .get_data(as_text=True))))
    assert rows[1][1] == "'=HYPERLINK(\"http://evil\")"


@pytest.mark.parametrize("size", [2, 25])
@pytest.mark.parametrize("form", ["json", "csv"])
def test_statement_count_does_not_grow_with_the_students(client, auth_headers, assert_max_queries, instructor,
                                                         make_user, make_course, make_quiz, make_assignment,
                                                         make_enrollment, make_submission, size, form):
    course = make_course(instructor, lessons=1)
    quizzes = [make_quiz(course) for _ in range(2)]
    assignments = [make_assignment(course) for _ in range(2)]
    for _ in range(size):
        enrollment = make_enrollment(make_user(), course)
        graded_attempt(enrollment, quizzes[0], 1, "75")
        make_submission(assignments[1], enrollment, grade=5.0)
    headers = auth_headers(instructor)
    db.session.expunge_all()
    # the caller, the course, the two column lists, then COUNT and the page (JSON) or the stream (CSV)
    with assert_max_queries(6 if form == "json" else 5):
        response = client.get(url(course) + f"?format={form}&page_size=100", headers=headers)
        rows = response.get_data(as_text=True).count("\n") - 1 if form == "csv" else len(response.get_json()["items"])
    assert rows == size


def test_due_dates_and_weights_in_the_columns(client, auth_headers, instructor, make_course, make_assignment):
    course = make_course(instructor)
    due = utcnow().replace(microsecond=0) + timedelta(days=3)
    make_assignment(course, due_date=due, weight=Decimal("0.5"))
    column = client.get(url(course), headers=auth_headers(instructor)).get_json()["assignments"][0]
    assert column["weight"] == "0.50" and column["due_date"].startswith(due.strftime("%Y-%m-%dT%H:%M:%S"))


@pytest.mark.real_commits
def test_csv_streams_from_a_server_side_cursor_outside_the_test_transaction(client, auth_headers, instructor,
                                                                           make_user, make_course, make_enrollment):
    """As in production: the read request's statements run on the autocommit pool, and the stream on a
    transaction of its own (a server-side cursor cannot live in autocommit mode)."""
    course = make_course(instructor)
    for _ in range(3):
        make_enrollment(make_user(), course)
    response = client.get(url(course) + "?format=csv", headers=auth_headers(instructor))
    assert response.status_code == 200
    assert len(response.get_data(as_text=True).splitlines()) == 4
