"""An assignment from draft to graded work, through the HTTP API only (after the enrollment)."""

from __future__ import annotations

API = "/api/v1/assignments"


def test_draft_publish_submit_grade_and_read_back(client, auth_headers, make_user, make_course, make_enrollment,
                                                  make_stored_file, mail_outbox):
    teacher, learner = make_user("instructor"), make_user("student", full_name="Lea Learner")
    course = make_course(teacher)
    enrollment = make_enrollment(learner, course)
    teacher_headers, learner_headers = auth_headers(teacher), auth_headers(learner)

    created = client.post(API, json={"course_id": str(course.id), "title": "Lab report", "max_points": 20},
                          headers=teacher_headers)
    assert created.status_code == 201
    assignment_id = created.get_json()["id"]
    assert client.get(f"{API}/course/{course.id}", headers=learner_headers).get_json()["total"] == 0

    published = client.put(f"{API}/{assignment_id}", json={"status": "published", "is_published": True},
                           headers=teacher_headers)
    assert (published.get_json()["status"], published.get_json()["is_published"]) == ("published", True)
    listed = client.get(f"{API}/course/{course.id}", headers=learner_headers).get_json()
    assert [item["id"] for item in listed["assignments"]] == [assignment_id]

    upload = make_stored_file(learner)
    submitted = client.post(f"{API}/submit", headers=learner_headers, json={
        "assignment_id": assignment_id, "enrollment_id": str(enrollment.id), "content": "Results attached",
        "file_urls": [f"/api/v1/files/download/{upload.id}"]})
    assert submitted.status_code == 201
    submission_id = submitted.get_json()["id"]

    queue = client.get(f"{API}/submissions/assignment/{assignment_id}", headers=teacher_headers).get_json()
    assert [item["id"] for item in queue["submissions"]] == [submission_id]

    graded = client.post(f"{API}/submissions/{submission_id}/grade", json={"grade": 17, "feedback": "Solid"},
                         headers=teacher_headers)
    assert graded.status_code == 200

    mine = client.get(f"{API}/submissions/enrollment/{enrollment.id}", headers=learner_headers).get_json()
    (seen,) = mine["submissions"]
    assert (seen["status"], seen["grade"], seen["max_grade"], seen["feedback"]) == ("graded", 17.0, 20.0, "Solid")
    (message,) = mail_outbox.wait_for(1)
    assert message["To"] == learner.email
    assert "Grade: 17 / 20" in message.get_payload(decode=True).decode()
