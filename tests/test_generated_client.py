"""A client generated from `/openapi.json` by openapi-python-client drives a learner's journey against
a live server (issue 15, item 8): a change to the document that breaks client authors fails here.

The instructor publishes a course with one lesson; a student registers, logs in, finds it in the
catalog, enrolls, completes the lesson and downloads the certificate, all through the generated
functions and models (named after the operationIds), never through raw HTTP.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers import PASSWORD, free_port

pytestmark = pytest.mark.real_commits

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
# The certificate's `application/pdf` and the data export's `application/zip` bodies are read as the
# binaries they are (the generator knows only `application/octet-stream` as binary).
GENERATOR_CONFIG = {"content_type_overrides": {"application/pdf": "application/octet-stream",
                                             "application/zip": "application/octet-stream"}}


@pytest.fixture
def live_server(make_app):
    application = make_app(ALLOW_PUBLIC_ROLE_REGISTRATION=True)
    server = make_server("127.0.0.1", free_port(), application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield application, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def lms_client(live_server, tmp_path, monkeypatch):
    """The package generated from the live server's document, importable as `lms_client`."""
    application, _base = live_server
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(application.test_client().get("/openapi.json").json))
    config = tmp_path / "generator.json"
    config.write_text(json.dumps(GENERATOR_CONFIG))
    result = subprocess.run([str(GENERATOR), "generate", "--path", str(document), "--config", str(config),
                             "--meta", "none", "--output-path", str(tmp_path / "lms_client")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [module for module in sys.modules if module == "lms_client" or module.startswith("lms_client.")]:
        del sys.modules[name]
    return importlib.import_module("lms_client")


def operation(name: str):
    """`tag.operationFunction`: the generated module of one operation."""
    return importlib.import_module(f"lms_client.api.{name}")


def test_a_generated_client_drives_the_learner_journey(live_server, lms_client):
    _application, base = live_server
    models = importlib.import_module("lms_client.models")
    anonymous = lms_client.Client(base_url=base, raise_on_unexpected_status=True)

    def signed_up(email: str, role) -> object:
        registered = operation("auth.register").sync(client=anonymous, body=models.Register(
            email=email, password=PASSWORD, full_name="Journey Person", role=role))
        assert isinstance(registered, models.AuthResponse), registered
        logged_in = operation("auth.log_in").sync(client=anonymous, body=models.Login(email=email, password=PASSWORD))
        assert isinstance(logged_in, models.AuthResponse), logged_in
        return lms_client.AuthenticatedClient(base_url=base, token=logged_in.tokens.access_token,
                                              raise_on_unexpected_status=True)

    teacher = signed_up("teacher@example.com", models.RegisterRole.INSTRUCTOR)
    course = operation("courses.create_course").sync(client=teacher, body=models.CourseCreate(
        title="Generated journeys"))
    assert isinstance(course, models.Course), course
    lesson = operation("lessons.create_lesson").sync(client=teacher, course_id=course.id, body=models.LessonCreate(
        title="The only lesson", lesson_type=models.LessonCreateLessonType.TEXT))
    assert isinstance(lesson, models.Lesson), lesson
    assert operation("courses.publish_course").sync(client=teacher, course_id=course.id).is_published

    learner = signed_up("learner@example.com", models.RegisterRole.STUDENT)
    catalog = operation("courses.list_courses").sync(client=anonymous)
    assert [item.id for item in catalog.items] == [course.id]
    enrollment = operation("enrollments.enroll").sync(client=learner, body=models.EnrollmentCreate(
        course_id=course.id))
    assert isinstance(enrollment, models.Enrollment), enrollment
    progress = operation("enrollments.complete_lesson").sync(client=learner, enrollment_id=enrollment.id,
                                                             lesson_id=lesson.id)
    assert progress.status == models.LessonProgressStatus.COMPLETED
    assert operation("enrollments.get_enrollment").sync(client=learner, enrollment_id=enrollment.id).status == \
        models.EnrollmentStatus.COMPLETED

    certificates = operation("certificates.list_my_certificates").sync(client=learner)
    assert [certificate.course_id for certificate in certificates.certificates] == [course.id]
    download = operation("certificates.download_certificate").sync_detailed(
        client=learner, certificate_id=certificates.certificates[0].id)
    assert download.status_code == 200
    assert download.parsed.payload.read().startswith(b"%PDF")
