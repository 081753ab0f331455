"""Submissions: one per student and assignment, late marking, files, views and grading (§4.11, §5)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.assignments.models import Submission
from lms.core.db import utcnow
from lms.core.storage import get_storage
from lms.core.extensions import db
from tests.helpers import run_concurrently

API = "/api/v1/assignments"
DUPLICATE = {"detail": "A submission already exists for this assignment and enrollment"}


def submit(client, headers, assignment, enrollment, **fields):
    return client.post(f"{API}/submit", headers=headers, json={
        "assignment_id": str(assignment.id), "enrollment_id": str(enrollment.id), **fields})


def download_url(stored_file) -> str:
    return f"/api/v1/files/download/{stored_file.id}"


# --- submit ---------------------------------------------------------------------------------

def test_a_student_submits_once_and_the_server_sets_status_and_time(client, auth_headers, cast):
    before = utcnow()
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment,
                      content="My essay", submission_type="text", submission_metadata={"words": 900},
                      status="graded", submitted_at="2001-01-01T00:00:00Z")
    assert response.status_code == 201
    body = response.get_json()
    assert body == {
        "id": body["id"], "assignment_id": str(cast.assignment.id), "enrollment_id": str(cast.enrollment.id),
        "submitted_at": body["submitted_at"], "graded_at": None, "returned_at": None, "status": "submitted",
        "content": "My essay", "file_urls": None, "submission_type": "text", "submission_metadata": {"words": 900},
        "grade": None, "max_grade": None, "feedback": None, "feedback_attachments": None, "is_late": False,
        "days_late": 0, "late_penalty_percent": "0.00", "final_grade": None,
        "updated_at": body["updated_at"],
    }
    assert body["submitted_at"] >= before.isoformat().replace("+00:00", "Z")[:19]


def test_a_second_submission_is_a_conflict(client, auth_headers, cast):
    headers = auth_headers(cast.learner)
    assert submit(client, headers, cast.assignment, cast.enrollment).status_code == 201
    response = submit(client, headers, cast.assignment, cast.enrollment, content="Again")
    assert response.status_code == 409
    assert response.get_json() == DUPLICATE


def test_a_submission_after_the_due_date_is_accepted_and_marked_late(client, auth_headers, cast, make_assignment):
    overdue = make_assignment(cast.course, due_date=utcnow() - timedelta(minutes=1))
    response = submit(client, auth_headers(cast.learner), overdue, cast.enrollment)
    assert response.status_code == 201
    assert response.get_json()["is_late"] is True


def test_a_submission_before_the_due_date_is_not_late(client, auth_headers, cast, make_assignment):
    upcoming = make_assignment(cast.course, due_date=utcnow() + timedelta(days=1))
    assert submit(client, auth_headers(cast.learner), upcoming, cast.enrollment).get_json()["is_late"] is False


@pytest.mark.parametrize("enrollment", ["peer_enrollment", "unknown"])
def test_only_the_callers_own_enrollment_can_submit(client, auth_headers, cast, enrollment):
    target = getattr(cast, enrollment, None) or type("Missing", (), {"id": uuid.uuid4()})
    response = submit(client, auth_headers(cast.learner), cast.assignment, target)
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Enrollment not found"}


def test_a_dropped_enrollment_cannot_submit(client, auth_headers, cast):
    response = submit(client, auth_headers(cast.dropout), cast.assignment, cast.dropped_enrollment)
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Only active or completed enrollments can submit assignments"}


def test_an_assignment_of_another_course_is_refused(client, auth_headers, cast, make_assignment):
    elsewhere = make_assignment(cast.other_course)
    response = submit(client, auth_headers(cast.learner), elsewhere, cast.enrollment)
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Assignment not found or does not belong to the course"}


def test_an_unknown_assignment_is_refused(client, auth_headers, cast):
    missing = type("Missing", (), {"id": uuid.uuid4()})
    response = submit(client, auth_headers(cast.learner), missing, cast.enrollment)
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Assignment not found or does not belong to the course"}


def test_an_unpublished_assignment_answers_like_a_missing_one(client, auth_headers, cast):
    response = submit(client, auth_headers(cast.learner), cast.draft, cast.enrollment)
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Assignment not found or does not belong to the course"}


def test_an_assignment_of_a_course_taken_back_to_draft_answers_like_a_missing_one(client, auth_headers, cast):
    cast.course.is_published = False
    db.session.commit()
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment)
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Assignment not found or does not belong to the course"}


@pytest.mark.parametrize("caller", ["owner", "admin"])
def test_only_students_submit(client, auth_headers, cast, caller):
    response = submit(client, auth_headers(getattr(cast, caller)), cast.assignment, cast.enrollment)
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Only students can submit assignments"}


def test_a_submission_body_must_name_the_assignment_and_enrollment(client, auth_headers, cast):
    response = client.post(f"{API}/submit", json={"content": "x"}, headers=auth_headers(cast.learner))
    assert response.status_code == 422
    assert sorted(error["loc"][1] for error in response.get_json()["detail"]) == ["assignment_id", "enrollment_id"]


# --- file_urls (§5.33) ----------------------------------------------------------------------

EXTERNAL = "https://files.example.com/plan.pdf"
NOT_YOURS = "file_urls may only reference files you uploaded"
NOT_PLAIN = "file_urls must be download URLs of files you uploaded through /files"


def stored_file_urls() -> list[list[str] | None]:
    return list(db.session.scalars(select(Submission.file_urls)))


def test_an_external_https_link_is_stored_and_returned_as_given(client, auth_headers, cast):
    headers = auth_headers(cast.learner)
    links = [EXTERNAL, "http://docs.example.org:8080/Essay%20v2.docx?version=3#page=2"]

    response = submit(client, headers, cast.assignment, cast.enrollment, file_urls=links)

    assert response.status_code == 201
    assert response.get_json()["file_urls"] == links
    read = client.get(f"{API}/submissions/{response.get_json()['id']}", headers=headers)
    assert read.get_json()["file_urls"] == links
    assert stored_file_urls() == [links]


def test_file_urls_may_point_to_the_students_own_uploads_and_are_kept_in_canonical_form(
        client, auth_headers, cast, make_stored_file):
    first, second = make_stored_file(cast.learner), make_stored_file(cast.learner)
    urls = [download_url(first), f"http://localhost/api/v1/files/download/{str(second.id).upper()}"]
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=urls)
    assert response.status_code == 201
    assert response.get_json()["file_urls"] == [download_url(first), download_url(second)]


def test_a_download_url_on_the_public_base_url_is_an_own_upload_too(client, auth_headers, cast, make_stored_file,
                                                                     app):
    upload = make_stored_file(cast.learner)
    url = f"{app.config['PUBLIC_API_BASE_URL']}/api/v1/files/download/{upload.id}"

    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=[url])

    assert response.status_code == 201
    assert response.get_json()["file_urls"] == [download_url(upload)]


def test_download_urls_under_a_public_base_path_are_recognised(client, auth_headers, cast, make_stored_file, app,
                                                                monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_API_BASE_URL", "https://lms.example.edu/backend")
    own, foreign = make_stored_file(cast.learner), make_stored_file(cast.peer)
    base = "https://lms.example.edu/backend/api/v1/files/download"
    headers = auth_headers(cast.learner)

    refused = submit(client, headers, cast.assignment, cast.enrollment, file_urls=[f"{base}/{foreign.id}"])
    accepted = submit(client, headers, cast.assignment, cast.enrollment, file_urls=[f"{base}/{own.id}"])

    assert refused.get_json() == {"detail": f"{NOT_YOURS}: {base}/{foreign.id}"}
    assert (accepted.status_code, accepted.get_json()["file_urls"]) == (201, [download_url(own)])


def test_download_urls_on_a_trusted_host_are_recognised(client, auth_headers, cast, make_stored_file, app,
                                                        monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["localhost", ".lms.example.edu"])
    bad = f"https://api.lms.example.edu/api/v1/files/download/{make_stored_file(cast.peer).id}"
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=[bad])
    assert response.status_code == 400
    assert response.get_json() == {"detail": f"{NOT_YOURS}: {bad}"}


def test_links_and_uploads_keep_the_order_sent_without_repeats(client, auth_headers, cast, make_stored_file):
    upload = make_stored_file(cast.learner)
    urls = [EXTERNAL, download_url(upload), f"http://localhost/api/v1/files/download/{upload.id}", EXTERNAL]

    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=urls)

    assert response.status_code == 201
    assert response.get_json()["file_urls"] == [EXTERNAL, download_url(upload)]


@pytest.mark.parametrize("spelling", [
    "/api/v1/files/download/{id}",
    "http://localhost/api/v1/files/download/{id}",           # the request's host
    "https://LOCALHOST:8443/api/v1/files/download/{id}",     # any scheme and port of our host
    "http://localhost:8000/api/v1/files/download/{id}",      # PUBLIC_API_BASE_URL
])
def test_a_download_url_of_someone_elses_upload_is_refused_naming_it(
        client, auth_headers, cast, make_stored_file, spelling):
    own, foreign = make_stored_file(cast.learner), make_stored_file(cast.peer)
    bad = spelling.format(id=foreign.id)
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment,
                      file_urls=[EXTERNAL, download_url(own), bad])
    assert response.status_code == 400
    assert response.get_json() == {"detail": f"{NOT_YOURS}: {bad}"}
    assert stored_file_urls() == []


def test_a_download_url_of_no_file_is_refused_naming_it(client, auth_headers, cast):
    missing = f"/api/v1/files/download/{uuid.uuid4()}"
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=[missing])
    assert response.status_code == 400
    assert response.get_json() == {"detail": f"{NOT_YOURS}: {missing}"}


@pytest.mark.parametrize("spelling", [
    "http://localhost/api/v1/files/other/../download/{id}",  # a server resolves the dot segments
    "http://localhost//api/v1/files/%64ownload/{id}",        # ... and the escapes and double slashes
    "http://localhost/api/v1/files/download/{id}?redirect=https://evil.example",
    "http://localhost/api/v1/files/download/{id}#top",
    "http://localhost/api/v1/files/download/{id}/",
    "http://localhost/api/v1/files/download/urn:uuid:{id}",
    "http://localhost/api/v1/files/download/not-a-uuid",
    "http://localhost/api/v1/files/download",
])
def test_any_other_url_of_the_download_route_is_refused_naming_it(
        client, auth_headers, cast, make_stored_file, spelling):
    bad = spelling.format(id=make_stored_file(cast.learner).id)
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=[bad])
    assert response.status_code == 400
    assert response.get_json() == {"detail": f"{NOT_PLAIN}: {bad}"}


def test_a_link_elsewhere_on_this_apis_host_is_an_ordinary_link(client, auth_headers, cast):
    link = "http://localhost/api/v1/courses"
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=[link])
    assert response.status_code == 201
    assert response.get_json()["file_urls"] == [link]


@pytest.mark.parametrize("value", [
    "http://[",
    "http://exa mple.com",
    "javascript:alert(1)",
    "ftp://x",
    "",
    "/api/v1/users/me",                                      # a path, but not our download path
    "/api/v1/files/download/not-a-uuid",
    "/api/v1/files/download/{own}?redirect=https://evil.example",
    "//files.example.com/plan.pdf",                          # scheme-relative
    "files.example.com/plan.pdf",
    "https:///plan.pdf",                                     # no host
    "https://user:secret@files.example.com/plan.pdf",        # credentials
    "https://files.example.com@evil.example/plan.pdf",
    "https://files.example.com\\@evil.example/plan.pdf",
    "https://files.example.com:99999/plan.pdf",
    "https://files.example.com/plan\u202efdp.exe",           # right-to-left override
    "https://files.example.com/" + "a" * 2023,               # 2049 characters
    None,
    42,
])
def test_a_malformed_file_url_is_422_never_a_500(client, auth_headers, cast, make_stored_file, value):
    if isinstance(value, str):
        value = value.format(own=make_stored_file(cast.learner).id)
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment,
                      file_urls=[value, EXTERNAL])
    assert response.status_code == 422
    [error] = response.get_json()["detail"]
    assert (error["loc"], error["type"]) == (["body", "file_urls", 0], "value_error")
    assert stored_file_urls() == []


def test_the_422_names_the_place_of_each_malformed_url(client, auth_headers, cast):
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment,
                      file_urls=[EXTERNAL, "ftp://x", EXTERNAL, "http://["])
    assert response.status_code == 422
    assert [error["loc"] for error in response.get_json()["detail"]] == [
        ["body", "file_urls", 1], ["body", "file_urls", 3]]


def test_a_url_of_2048_characters_is_accepted(client, auth_headers, cast):
    link = "https://files.example.com/" + "a" * 2022
    assert len(link) == 2048
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=[link])
    assert response.status_code == 201


def test_a_submission_takes_at_most_20_links(client, auth_headers, cast):
    links = [f"https://files.example.com/{n}.pdf" for n in range(21)]
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=links)
    assert response.status_code == 422
    assert [error["loc"] for error in response.get_json()["detail"]] == [["body", "file_urls"]]
    accepted = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=links[:20])
    assert accepted.status_code == 201


# --- file_urls: who may download what -------------------------------------------------------

@pytest.mark.parametrize("spelling", ["/api/v1/files/download/{id}", "http://localhost/api/v1/files/download/{id}"])
@pytest.mark.parametrize(("reader", "status"), [("owner", 200), ("learner", 200), ("stranger", 404), ("peer", 404)])
def test_files_attached_to_a_submission_open_for_the_grading_instructor_only(
        client, auth_headers, cast, make_stored_file, spelling, reader, status):
    attached = make_stored_file(cast.learner)
    get_storage("uploads").save(attached.storage_key, b"%PDF-1.4 the essay", "application/pdf")
    submitted = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment,
                       file_urls=[spelling.format(id=attached.id)])
    assert submitted.status_code == 201

    response = client.get(download_url(attached), headers=auth_headers(getattr(cast, reader)))

    assert response.status_code == status
    if status == 200:
        assert response.data == b"%PDF-1.4 the essay"
    else:
        assert response.get_json() == {"detail": "File not found"}


def test_a_student_of_another_course_cannot_download_an_attached_file(
        client, auth_headers, cast, make_stored_file, make_user, make_enrollment):
    attached = make_stored_file(cast.learner)
    assert submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment,
                  file_urls=[download_url(attached)]).status_code == 201
    elsewhere = make_user("student")
    make_enrollment(elsewhere, cast.other_course)

    response = client.get(download_url(attached), headers=auth_headers(elsewhere))

    assert response.status_code == 404
    assert response.get_json() == {"detail": "File not found"}


def test_a_stored_link_that_merely_contains_a_files_id_grants_nothing(
        client, auth_headers, cast, make_stored_file, make_submission):
    upload = make_stored_file(cast.learner)
    make_submission(cast.assignment, cast.enrollment, file_urls=[
        f"https://files.example.com{download_url(upload)}", f"https://files.example.com/{upload.id}"])

    response = client.get(download_url(upload), headers=auth_headers(cast.owner))

    assert response.status_code == 404
    assert response.get_json() == {"detail": "File not found"}


@pytest.mark.parametrize("link", [
    "https://files.example.com/api/v1/files/download/{id}",  # our download path on another host
    "https://files.example.com/{id}.pdf",
    "https://files.example.com/?file=/api/v1/files/download/{id}",
])
def test_an_external_link_grants_the_grading_instructor_nothing(
        client, auth_headers, cast, make_stored_file, link):
    own, peers = make_stored_file(cast.learner), make_stored_file(cast.peer)
    links = [link.format(id=own.id), link.format(id=peers.id)]
    response = submit(client, auth_headers(cast.learner), cast.assignment, cast.enrollment, file_urls=links)
    assert response.status_code == 201
    assert response.get_json()["file_urls"] == links

    for stored in (own, peers):
        download = client.get(download_url(stored), headers=auth_headers(cast.owner))
        assert download.status_code == 404
        assert download.get_json() == {"detail": "File not found"}


# --- the race -------------------------------------------------------------------------------

@pytest.mark.real_commits
@pytest.mark.postgres
def test_concurrent_submissions_end_in_one_row_and_conflicts(app, auth_headers, cast):
    headers = auth_headers(cast.learner)
    body = {"assignment_id": str(cast.assignment.id), "enrollment_id": str(cast.enrollment.id)}

    responses = run_concurrently(app, [lambda client: client.post(f"{API}/submit", json=body, headers=headers)] * 6)

    assert sorted(response.status_code for response in responses) == [201] + [409] * 5
    assert [response.get_json() for response in responses if response.status_code == 409] == [DUPLICATE] * 5
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 1


# --- reading submissions --------------------------------------------------------------------

@pytest.mark.parametrize("reader", ["learner", "owner", "admin"])
def test_a_submission_is_readable_by_its_student_the_instructor_and_admins(client, auth_headers, cast,
                                                                          make_submission, reader):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = client.get(f"{API}/submissions/{submission.id}", headers=auth_headers(getattr(cast, reader)))
    assert response.status_code == 200
    assert response.get_json()["id"] == str(submission.id)


@pytest.mark.parametrize("reader", ["peer", "stranger", "outsider"])
def test_other_peoples_submissions_are_not_found(client, auth_headers, cast, make_submission, reader):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = client.get(f"{API}/submissions/{submission.id}", headers=auth_headers(getattr(cast, reader)))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Submission not found"}


def test_the_instructor_lists_an_assignments_submissions(client, auth_headers, cast, make_submission):
    make_submission(cast.assignment, cast.enrollment)
    make_submission(cast.assignment, cast.peer_enrollment)
    for reader in (cast.owner, cast.admin):
        response = client.get(f"{API}/submissions/assignment/{cast.assignment.id}", headers=auth_headers(reader))
        assert response.status_code == 200
        body = response.get_json()
        assert (body["total"], body["page"], body["page_size"], len(body["submissions"])) == (2, 1, 100, 2)


def test_students_cannot_list_an_assignments_submissions(client, auth_headers, cast):
    response = client.get(f"{API}/submissions/assignment/{cast.assignment.id}", headers=auth_headers(cast.learner))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Insufficient permissions"}


def test_another_instructor_cannot_list_an_assignments_submissions(client, auth_headers, cast):
    response = client.get(f"{API}/submissions/assignment/{cast.assignment.id}", headers=auth_headers(cast.stranger))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Assignment not found"}


@pytest.mark.parametrize("reader", ["learner", "owner", "admin"])
def test_an_enrollments_submissions_are_listed_for_its_student_the_instructor_and_admins(
        client, auth_headers, cast, make_submission, make_assignment, reader):
    make_submission(cast.assignment, cast.enrollment)
    make_submission(make_assignment(cast.course), cast.enrollment)
    make_submission(cast.assignment, cast.peer_enrollment)
    response = client.get(f"{API}/submissions/enrollment/{cast.enrollment.id}",
                          headers=auth_headers(getattr(cast, reader)))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2
    assert {item["enrollment_id"] for item in body["submissions"]} == {str(cast.enrollment.id)}


@pytest.mark.parametrize("reader", ["peer", "stranger"])
def test_other_peoples_enrollment_submissions_are_not_found(client, auth_headers, cast, reader):
    response = client.get(f"{API}/submissions/enrollment/{cast.enrollment.id}",
                          headers=auth_headers(getattr(cast, reader)))
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Enrollment not found"}


@pytest.mark.parametrize("size", [3, 30])
def test_submission_lists_run_a_fixed_number_of_statements(client, auth_headers, assert_max_queries, cast,
                                                           make_user, make_enrollment, make_assignment,
                                                           make_submission, size):
    for _ in range(size):
        make_submission(cast.assignment, make_enrollment(make_user("student"), cast.course))
        make_submission(make_assignment(cast.course), cast.enrollment)
    headers = auth_headers(cast.owner)
    assignment_url = f"{API}/submissions/assignment/{cast.assignment.id}"
    enrollment_url = f"{API}/submissions/enrollment/{cast.enrollment.id}"
    db.session.expunge_all()  # no object preloaded: a production request starts with an empty session
    with assert_max_queries(4):  # caller, assignment with course, count, page
        by_assignment = client.get(assignment_url, headers=headers)
    db.session.expunge_all()
    with assert_max_queries(4):  # caller, enrollment with course, count, page
        by_enrollment = client.get(enrollment_url, headers=headers)
    assert by_assignment.get_json()["total"] == size
    assert by_enrollment.get_json()["total"] == size


# --- grading --------------------------------------------------------------------------------

def grade(client, headers, submission, **body):
    return client.post(f"{API}/submissions/{submission.id}/grade", json=body, headers=headers)


def test_grading_sets_the_grade_status_time_and_feedback_and_mails_the_student(
        client, auth_headers, cast, make_submission, mail_outbox):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = grade(client, auth_headers(cast.owner), submission, grade=8.5, feedback="Well argued",
                     feedback_attachments=["https://example.com/rubric.pdf"])
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["grade"], body["max_grade"], body["feedback"]) == ("graded", 8.5, 10.0, "Well argued")
    assert body["feedback_attachments"] == ["https://example.com/rubric.pdf"]
    assert body["graded_at"].endswith("Z")

    (message,) = mail_outbox.wait_for(1)
    assert message["To"] == cast.learner.email
    assert message["Subject"] == "Your submission has been graded"
    text = message.get_payload(decode=True).decode()
    assert "Essay on testing" in text
    assert "Grade: 8.5 / 10" in text
    assert "Well argued" in text


@pytest.mark.parametrize("body, message", [
    ({"grade": 10.5}, "Grade must be between 0 and 10"),
    ({"grade": -1}, "Grade must be between 0 and 10"),
    ({"grade": 6, "max_grade": 5}, "Grade must be between 0 and 5"),
    ({"grade": 7.5, "max_grade": 7.25}, "Grade must be between 0 and 7.25"),
])
def test_a_grade_outside_zero_to_max_is_refused(client, auth_headers, cast, make_submission, mail_outbox,
                                                body, message):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = grade(client, auth_headers(cast.owner), submission, **body)
    assert response.status_code == 400
    assert response.get_json() == {"detail": message}
    assert client.get(f"{API}/submissions/{submission.id}",
                      headers=auth_headers(cast.owner)).get_json()["status"] == "submitted"
    assert mail_outbox.messages == []


@pytest.mark.parametrize("body, expected_max", [({"grade": 0}, 10.0), ({"grade": 10}, 10.0),
                                                ({"grade": 15, "max_grade": 20}, 20.0)])
def test_the_bounds_are_inclusive_and_max_grade_overrides_max_points(client, auth_headers, cast, make_submission,
                                                                   body, expected_max):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = grade(client, auth_headers(cast.owner), submission, **body)
    assert response.status_code == 200
    assert response.get_json()["max_grade"] == expected_max


def test_without_max_points_grades_are_out_of_100(client, auth_headers, cast, make_assignment, make_submission):
    submission = make_submission(make_assignment(cast.course, max_points=None), cast.enrollment)
    assert grade(client, auth_headers(cast.owner), submission, grade=101).get_json() == {
        "detail": "Grade must be between 0 and 100"}
    assert grade(client, auth_headers(cast.owner), submission, grade=100).status_code == 200


@pytest.mark.parametrize("body", [{}, {"grade": "ten"}, {"grade": 5, "max_grade": 0}, {"grade": 5, "extra": 1}])
def test_malformed_grades_are_422(client, auth_headers, cast, make_submission, body):
    submission = make_submission(cast.assignment, cast.enrollment)
    assert grade(client, auth_headers(cast.owner), submission, **body).status_code == 422


@pytest.mark.parametrize("caller", ["admin", "learner"])
def test_only_instructors_grade(client, auth_headers, cast, make_submission, caller):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = grade(client, auth_headers(getattr(cast, caller)), submission, grade=5)
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Only instructors can grade submissions"}


def test_another_instructor_cannot_grade(client, auth_headers, cast, make_submission):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = grade(client, auth_headers(cast.stranger), submission, grade=5)
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Submission not found"}


# --- instructor update ----------------------------------------------------------------------

def test_the_instructor_returns_a_submission_with_feedback(client, auth_headers, cast, make_submission):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = client.put(f"{API}/submissions/{submission.id}", headers=auth_headers(cast.owner),
                          json={"status": "returned", "feedback": "Please add sources"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["feedback"], body["content"]) == ("returned", "Please add sources", "My answer")
    assert body["returned_at"].endswith("Z")


def test_an_update_keeps_the_grade_within_bounds(client, auth_headers, cast, make_submission):
    submission = make_submission(cast.assignment, cast.enrollment)
    headers = auth_headers(cast.owner)
    response = client.put(f"{API}/submissions/{submission.id}", json={"grade": 11, "feedback": "Great"},
                          headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Grade must be between 0 and 10"}
    unchanged = client.get(f"{API}/submissions/{submission.id}", headers=headers).get_json()
    assert (unchanged["grade"], unchanged["feedback"]) == (None, None)
    lowered = client.put(f"{API}/submissions/{submission.id}", json={"grade": 4, "max_grade": 5}, headers=headers)
    assert (lowered.status_code, lowered.get_json()["grade"]) == (200, 4.0)
    response = client.put(f"{API}/submissions/{submission.id}", json={"max_grade": 3}, headers=headers)
    assert response.get_json() == {"detail": "Grade must be between 0 and 3"}


@pytest.mark.parametrize("body", [{"status": "lost"}, {"content": "rewritten"}])
def test_invalid_submission_updates_are_422(client, auth_headers, cast, make_submission, body):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = client.put(f"{API}/submissions/{submission.id}", json=body, headers=auth_headers(cast.owner))
    assert response.status_code == 422


def test_another_instructor_cannot_update_a_submission(client, auth_headers, cast, make_submission):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = client.put(f"{API}/submissions/{submission.id}", json={"feedback": "x"},
                          headers=auth_headers(cast.stranger))
    assert response.status_code == 404


def test_a_student_cannot_update_their_submission_through_the_grading_route(client, auth_headers, cast,
                                                                            make_submission):
    submission = make_submission(cast.assignment, cast.enrollment)
    response = client.put(f"{API}/submissions/{submission.id}", json={"feedback": "x"},
                          headers=auth_headers(cast.learner))
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Only instructors can grade submissions"}
