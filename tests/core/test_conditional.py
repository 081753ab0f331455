"""Conditional requests: every JSON read sends an ETag (304 on If-None-Match); PATCH, PUT and DELETE
honour If-Match with a 412 when the object changed since it was read, so two editors never
overwrite each other silently."""

from __future__ import annotations

import pytest

from lms.core.extensions import db
from lms.courses.models import Course
from tests.helpers import API


def etag_of_read(client, url: str, headers: dict) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"]
    return response.headers["ETag"]


@pytest.fixture
def single_reads(make_user, make_course, make_enrollment, make_assignment, make_submission, make_quiz, admin):
    """Each single-object read of the API, with the headers of a caller who may read it."""
    teacher, learner = make_user("instructor"), make_user("student")
    course = make_course(teacher, lessons=1)
    enrollment = make_enrollment(learner, course)
    assignment = make_assignment(course)
    submission = make_submission(assignment, enrollment)
    quiz = make_quiz(course)
    from tests.helpers import lessons_of

    return [
        (f"/courses/{course.id}", teacher), (f"/courses/slug/{course.slug}", learner),
        (f"/lessons/{lessons_of(course)[0].id}", learner), (f"/enrollments/{enrollment.id}", learner),
        (f"/assignments/{assignment.id}", learner), (f"/assignments/submissions/{submission.id}", teacher),
        (f"/courses/{course.id}/quizzes/{quiz.id}", learner), (f"/users/{learner.id}", admin),
        ("/users/me", learner), ("/auth/me", learner),
    ]


def test_every_single_object_read_sends_an_etag_and_answers_304_while_it_holds(client, auth_headers, single_reads):
    for path, reader in single_reads:
        headers = auth_headers(reader)
        etag = etag_of_read(client, API + path, headers)
        again = client.get(API + path, headers={**headers, "If-None-Match": etag})
        assert (again.status_code, again.get_data(), again.headers["ETag"]) == (304, b"", etag), path


def test_the_document_gives_every_json_read_its_etag_and_every_write_of_a_read_if_match(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            answers = operation["responses"]
            names = {parameter.get("$ref", "").rsplit("/", 1)[-1] for parameter in operation.get("parameters", [])}
            if method == "get" and "application/json" in answers.get("200", {}).get("content", {}):
                assert "ETag" in answers["200"]["headers"] and "304" in answers and "IF_NONE_MATCH" in names, path
            if method in ("patch", "put", "delete") and "get" in item:
                assert "412" in answers and "IF_MATCH" in names, (method, path)
    assert spec["components"]["parameters"]["IF_MATCH"]["required"] is False


def test_two_editors_the_second_with_a_stale_etag_gets_412_and_changes_nothing(client, auth_headers, instructor,
                                                                              make_course):
    course = make_course(instructor, title="Original")
    url, headers = f"{API}/courses/{course.id}", auth_headers(instructor)
    read_by_both = etag_of_read(client, url, headers)

    first = client.patch(url, headers={**headers, "If-Match": read_by_both}, json={"title": "First editor"})
    second = client.patch(url, headers={**headers, "If-Match": read_by_both}, json={"title": "Second editor"})

    assert first.status_code == 200
    assert second.status_code == 412
    assert second.get_json() == {"detail": "The object has changed since it was read (its ETag no longer matches "
                                           "If-Match)"}
    assert second.headers["ETag"] == etag_of_read(client, url, headers)  # the tag to read again with
    db.session.expire_all()
    assert db.session.get(Course, course.id).title == "First editor"


def test_a_current_etag_or_a_star_lets_the_write_through(client, auth_headers, instructor, make_course):
    course = make_course(instructor)
    url, headers = f"{API}/courses/{course.id}", auth_headers(instructor)
    assert client.patch(url, headers={**headers, "If-Match": etag_of_read(client, url, headers)},
                        json={"title": "Current"}).status_code == 200
    assert client.patch(url, headers={**headers, "If-Match": "*"}, json={"title": "Any"}).status_code == 200
    assert client.patch(url, headers=headers, json={"title": "Unconditional"}).status_code == 200


def test_a_stale_delete_is_412_and_deletes_nothing(client, auth_headers, instructor, make_course):
    course = make_course(instructor)
    url, headers = f"{API}/courses/{course.id}", auth_headers(instructor)
    stale = etag_of_read(client, url, headers)
    client.patch(url, headers=headers, json={"title": "Changed meanwhile"})

    assert client.delete(url, headers={**headers, "If-Match": stale}).status_code == 412
    assert client.get(url, headers=headers).status_code == 200
    assert client.delete(url, headers={**headers, "If-Match": etag_of_read(client, url, headers)}).status_code == 204


@pytest.mark.parametrize("write", ["assignment", "submission", "user", "lesson", "quiz", "webhook"])
def test_every_kind_of_write_honours_if_match(client, auth_headers, admin, make_user, make_course, make_enrollment,
                                              make_assignment, make_submission, make_quiz, write):
    from tests.helpers import lessons_of

    teacher, learner = make_user("instructor"), make_user("student")
    course = make_course(teacher, lessons=1)
    if write == "assignment":
        url, method, body, editor = f"/assignments/{make_assignment(course).id}", "put", {"title": "New"}, teacher
    elif write == "submission":
        submission = make_submission(make_assignment(course), make_enrollment(learner, course))
        url, method, body, editor = f"/assignments/submissions/{submission.id}", "put", {"feedback": "Ok"}, teacher
    elif write == "user":
        url, method, body, editor = f"/users/{learner.id}", "patch", {"full_name": "Renamed"}, admin
    elif write == "lesson":
        url, method, body, editor = f"/lessons/{lessons_of(course)[0].id}", "patch", {"title": "New"}, teacher
    elif write == "quiz":
        url, method, body, editor = f"/courses/{course.id}/quizzes/{make_quiz(course).id}", "patch", {"title": "Renamed quiz"}, teacher
    else:
        created = client.post(f"{API}/webhooks", headers=auth_headers(admin), json={
            "url": "https://sis.example.edu/hooks", "events": ["user.created"]}).get_json()
        url, method, body, editor = f"/webhooks/{created['id']}", "patch", {"description": "SIS"}, admin
    headers = auth_headers(editor)
    etag = etag_of_read(client, API + url, headers)

    stale = getattr(client, method)(API + url, headers={**headers, "If-Match": '"not-the-current-tag"'}, json=body)
    fresh = getattr(client, method)(API + url, headers={**headers, "If-Match": etag}, json=body)

    assert (stale.status_code, fresh.status_code) == (412, 200)


def test_a_write_with_no_read_of_its_own_ignores_if_match(client, auth_headers, student, make_user, make_course,
                                                          make_enrollment):
    from tests.helpers import lessons_of

    course = make_course(make_user("instructor"), lessons=1)
    enrollment = make_enrollment(student, course)
    url = f"{API}/enrollments/{enrollment.id}/lessons/{lessons_of(course)[0].id}/progress"
    response = client.put(url, headers={**auth_headers(student), "If-Match": '"anything"'},
                          json={"time_spent_seconds": 5})
    assert response.status_code == 200


def test_a_caller_who_may_not_read_the_object_gets_the_writes_own_refusal(client, auth_headers, instructor,
                                                                         other_instructor, make_course):
    draft = make_course(instructor, published=False)
    url = f"{API}/courses/{draft.id}"
    unconditional = client.patch(url, headers=auth_headers(other_instructor), json={"title": "Hijack"})
    conditional = client.patch(url, headers={**auth_headers(other_instructor), "If-Match": '"stale"'},
                               json={"title": "Hijack"})
    assert conditional.status_code == unconditional.status_code in (403, 404)
    assert client.patch(url, json={"title": "Anonymous"}, headers={"If-Match": '"stale"'}).status_code == 401


def test_a_malformed_id_with_if_match_is_422(client, auth_headers, instructor):
    response = client.patch(f"{API}/courses/not-a-uuid", headers={**auth_headers(instructor), "If-Match": '"x"'},
                            json={"title": "X"})
    assert response.status_code == 422
